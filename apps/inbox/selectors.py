"""Inbox reads: open issues, counts for the admin index and /metrics."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Category, Issue, IssueRow, Status


def open_q() -> Q:
    """Open, or snoozed with the snooze over: both need a person's attention now."""
    return Q(status=Status.OPEN) | Q(status=Status.SNOOZED, snoozed_until__lte=timezone.now())


def unresolved_q() -> Q:
    return Q(status__in=(Status.OPEN, Status.SNOOZED))


def open_issue_counts() -> dict[str, int]:
    """Open issues per category, every category present (zeros included), for /metrics."""
    counts = {c.value: 0 for c in Category}
    for row in Issue.objects.filter(open_q()).values("category").annotate(n=Count("pk")):
        counts[row["category"]] = row["n"]
    return counts


def inbox_summary() -> dict[str, Any]:
    """What the admin index shows: open issues per category and the oldest one's age."""
    qs = Issue.objects.filter(open_q())
    per_category = list(
        qs.values("category").annotate(n=Count("pk"), oldest=Min("first_seen")).order_by("-n")
    )
    oldest = qs.aggregate(oldest=Min("first_seen"))["oldest"]
    return {
        "total": sum(r["n"] for r in per_category),
        "per_category": per_category,
        "oldest_age_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
        "oldest": oldest,
    }


def open_issue_object_ids(*, model: type[models.Model]) -> set[str]:
    """Ids (as stored, strings) of `model` rows behind unresolved issues: retention keeps them."""
    ct = ContentType.objects.get_for_model(model)
    ids = IssueRow.objects.filter(
        Q(issue__status__in=(Status.OPEN, Status.SNOOZED)), content_type=ct
    ).values_list("object_id", flat=True)
    return set(ids)
