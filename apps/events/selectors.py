"""Reads: the pull API's page of events, the endpoints with due work."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.workrow import claimable_q
from apps.sales_channels.models import Channel

from .models import BusinessEvent, WebhookEndpoint, WebhookMessage

HIDDEN_TYPES = ("hub.ping",)


def events_page(
    *, channel: Channel, after: int, types: Sequence[str] = (), limit: int = 100
) -> list[BusinessEvent]:
    """A channel's events after the cursor, in the order partners must read them (`seq`).

    Only fanned-out events have a seq, so an event whose transaction committed late is never
    skipped: it gets a seq after everything already visible.
    """
    qs: QuerySet[BusinessEvent] = (
        BusinessEvent.objects.filter(channel=channel, seq__gt=after)
        .exclude(type__in=HIDDEN_TYPES)
        .select_related("channel")
        .order_by("seq")
    )
    if types:
        qs = qs.filter(type__in=list(types))
    return list(qs[:limit])


def endpoints_due() -> list[int]:
    """Active endpoints not blocked that have a message a run could claim now (due, or its
    lease expired, and not waiting behind an older message of its entity)."""
    now = timezone.now()
    ready = WebhookEndpoint.objects.filter(state=WebhookEndpoint.State.ACTIVE).filter(
        Q(blocked_until__isnull=True) | Q(blocked_until__lte=now)
    )
    return sorted(
        set(
            WebhookMessage.objects.filter(claimable_q(WebhookMessage, now), endpoint__in=ready)
            .values_list("endpoint_id", flat=True)
            .distinct()
        )
    )
