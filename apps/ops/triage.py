"""Assistive triage: resolved items like this one, what fixed them, and incident summaries.

Nothing here acts: it reads the inbox, the audit log and the orders, and ranks or counts.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections import Counter, defaultdict
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Min, Q
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.inbox.models import Issue, IssueRow, Status
from apps.inbox.services import normalise_reason
from apps.orders.models import ChannelOrder, OrderState

ACTION_LABELS = {
    "inbox.retry_all": "Retry all",
    "inbox.retry": "Retry a row",
    "inbox.resolve": "Resolve by hand",
    "inbox.ignore": "Ignore",
    "inbox.edit_payload": "Edit payload, then retry",
    "ops.fix_and_retry": "Map it here, then retry all",
    "ops.order_reviewed": "Review the order",
}
AUTO = "Resolved on its own (the rows went through)"


def family(key: str) -> str:
    """``sku:ABC-1@shop`` -> ``sku``; ``order_push:shop:1001`` -> ``order_push``."""
    return key.split(":", 1)[0].split("@", 1)[0]


def similarity(a: Issue, b: Issue) -> float:
    """Same fingerprint family first (category, error class, key family), then error text and
    context (channel, SKU)."""
    score = 0.0
    if a.category == b.category:
        score += 0.2
    if a.error_class == b.error_class:
        score += 0.2
    if family(a.key) == family(b.key):
        score += 0.2
    text = difflib.SequenceMatcher(
        None, normalise_reason(a.title), normalise_reason(b.title)
    ).ratio()
    score += 0.3 * text
    if a.channel_code and a.channel_code == b.channel_code:
        score += 0.05
    if a.sku and a.sku == b.sku:
        score += 0.05
    return round(score, 3)


def _how_resolved(issue_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    ct = ContentType.objects.get_for_model(Issue)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = (
        AuditEntry.objects.filter(content_type=ct, object_id__in=[str(i) for i in issue_ids])
        .exclude(action__in=("inbox.assign", "inbox.snooze"))
        .select_related("user")
        .order_by("when")
    )
    for e in rows:
        out[int(e.object_id)].append(
            {"action": e.action, "by": e.user.get_username() if e.user else "hub", "when": e.when}
        )
    # fixes are audited on the binding / value map, with the issue in `after`
    for e in AuditEntry.objects.filter(action="ops.fix_and_retry").select_related("user"):
        target = (e.after or {}).get("issue")
        if target in issue_ids:
            out[int(target)].append(
                {
                    "action": e.action,
                    "by": e.user.get_username() if e.user else "hub",
                    "when": e.when,
                }
            )
    return out


def similar_resolved(issue: Issue, *, limit: int = 5, pool: int = 500) -> dict[str, Any]:
    """The resolved (or ignored) items most like `issue`, how each was resolved and by whom,
    and the actions ranked by how often they resolved a similar item."""
    candidates = list(
        Issue.objects.filter(status__in=(Status.RESOLVED, Status.IGNORED))
        .exclude(pk=issue.pk)
        .filter(Q(category=issue.category) | Q(error_class=issue.error_class))
        .order_by("-last_seen")[:pool]
    )
    scored = sorted(
        ((similarity(issue, c), c) for c in candidates), key=lambda t: (-t[0], -t[1].pk)
    )
    top = [(s, c) for s, c in scored if s >= 0.45][:limit]
    history = _how_resolved([c.pk for _, c in top])
    items = []
    worked: Counter[str] = Counter()
    people: dict[str, set[str]] = defaultdict(set)
    for score, c in top:
        actions = history.get(c.pk, [])
        decisive = [a for a in actions if a["action"] in ACTION_LABELS]
        if decisive:
            label = ACTION_LABELS[decisive[-1]["action"]]
            who = decisive[-1]["by"]
        else:
            label, who = (AUTO, "hub") if c.status == Status.RESOLVED else ("Ignore", "?")
        worked[label] += 1
        people[label].add(who)
        items.append(
            {
                "issue": c,
                "score": score,
                "how": label,
                "by": who,
                "resolved_at": c.resolved_at,
                "note": c.resolution_note,
            }
        )
    ranked = [
        {"action": label, "times": n, "by": sorted(people[label])}
        for label, n in worked.most_common()
    ]
    return {"items": items, "actions": ranked}


# --- incident summaries ----------------------------------------------------------------------


def incidents(
    *, window_hours: int = 6, min_items: int = 2, now: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """Open items sharing a cause in the window (same category and error class, several
    items): one summary each, built from the data."""
    now = now or timezone.now()
    since = now - dt.timedelta(hours=window_hours)
    groups = (
        Issue.objects.filter(status__in=(Status.OPEN, Status.SNOOZED), last_seen__gte=since)
        .values("category", "error_class")
        .annotate(first=Min("first_seen"))
        .order_by("first")
    )
    out = []
    for g in groups:
        issues = list(
            Issue.objects.filter(
                status__in=(Status.OPEN, Status.SNOOZED),
                last_seen__gte=since,
                category=g["category"],
                error_class=g["error_class"],
            )
        )
        rows = IssueRow.objects.filter(issue__in=issues, succeeded=False)
        if len(issues) < min_items and rows.count() < 5:
            continue
        out.append(summarise(issues, now=now))
    return out


def summarise(issues: list[Issue], *, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    order_ct = ContentType.objects.get_for_model(ChannelOrder)
    rows = IssueRow.objects.filter(issue__in=issues, succeeded=False)
    order_ids = [
        int(i) for i in rows.filter(content_type=order_ct).values_list("object_id", flat=True)
    ]
    orders = ChannelOrder.objects.filter(pk__in=order_ids).select_related("channel")
    channels = sorted(
        {i.channel_code for i in issues if i.channel_code} | {o.channel.code for o in orders}
    )
    retrying = [o for o in orders if o.state == OrderState.READY and o.attempts > 0]
    waiting = [o for o in orders if o.state in (OrderState.FAILED, OrderState.HELD)]
    oldest = min((i.first_seen for i in issues), default=now)
    numbers = sorted(
        {o.number or o.external_id for o in orders}
        | {i.order_number for i in issues if i.order_number}
    )
    category = issues[0].category if issues else ""
    self_healing = category in ("odoo_unavailable", "rate_limited")
    return {
        "cause": f"{category}: {issues[0].title}" if issues else "",
        "category": category,
        "items": len(issues),
        "issue_ids": [i.pk for i in issues],
        "channels": channels,
        "orders": len(numbers),
        "order_numbers": numbers[:20],
        "rows": rows.count(),
        "oldest_delay_seconds": (now - oldest).total_seconds(),
        "retrying_on_its_own": len(retrying)
        if not self_healing
        else max(len(retrying), rows.count()),
        "needs_a_person": len(waiting),
        "first_seen": oldest.isoformat(),
    }


def incident_for(issue: Issue) -> dict[str, Any] | None:
    for inc in incidents():
        if issue.pk in inc["issue_ids"]:
            return inc
    return None
