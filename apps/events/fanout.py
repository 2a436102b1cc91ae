"""The fan-out: each recorded event becomes one message per subscribed endpoint.

Single-flight (a cache lock; the holder loops until nothing is left, then re-checks after
releasing, so a ring that found the lock taken is never lost). Events are taken in id order and
each gets the next `seq`, the pull API's cursor. Why a second number: ids are assigned at
INSERT but become visible at COMMIT, so a cursor on ids could skip an event whose transaction
committed late; `seq` is assigned here, after the commit, in the order events became visible.
Messages are created in the same order, which is what per-entity ordering relies on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from .models import BusinessEvent, WebhookEndpoint, WebhookMessage

logger = logging.getLogger(__name__)

LOCK_KEY = "events:fanout:lock"
LOCK_SECONDS = 120
BATCH = 500
INTERNAL_TYPES = ("hub.ping",)


def _endpoints() -> list[WebhookEndpoint]:
    return list(
        WebhookEndpoint.objects.filter(
            state__in=(WebhookEndpoint.State.ACTIVE, WebhookEndpoint.State.PAUSED)
        )
    )


def matches(endpoint: WebhookEndpoint, event: BusinessEvent) -> bool:
    if event.type in INTERNAL_TYPES or not endpoint.wants(event.type):
        return False
    return endpoint.channel_id is None or endpoint.channel_id == event.channel_id


def message_for(endpoint: WebhookEndpoint, event: BusinessEvent) -> WebhookMessage:
    return WebhookMessage(
        endpoint=endpoint,
        event=event,
        entity_key=f"{endpoint.pk}:{event.entity_key}"[:200] if endpoint.ordered else "",
        created_at=timezone.now(),
    )


def _batch() -> tuple[set[int], int]:
    """Fan out one batch in one transaction: (active endpoints that got messages, events)."""
    touched: set[int] = set()
    with transaction.atomic():
        events = list(
            BusinessEvent.objects.filter(fanned_out_at__isnull=True).order_by("id")[:BATCH]
        )
        if not events:
            return touched, 0
        endpoints = _endpoints()
        top = BusinessEvent.objects.aggregate(m=Max("seq"))["m"] or 0
        messages: list[WebhookMessage] = []
        now = timezone.now()
        for i, event in enumerate(events, start=1):
            event.seq = top + i
            event.fanned_out_at = now
            for ep in endpoints:
                if matches(ep, event):
                    messages.append(message_for(ep, event))
                    if ep.state == WebhookEndpoint.State.ACTIVE:
                        touched.add(ep.pk)
        BusinessEvent.objects.bulk_update(events, ["seq", "fanned_out_at"])
        WebhookMessage.objects.bulk_create(messages, ignore_conflicts=True)
    return touched, len(events)


def _pending() -> bool:
    return BusinessEvent.objects.filter(fanned_out_at__isnull=True).exists()


def fanout_run() -> set[int]:
    """Fan out everything recorded so far. Returns the active endpoints that got messages."""
    touched: set[int] = set()
    while _pending():
        token = uuid.uuid4().hex
        if not cache.add(LOCK_KEY, token, timeout=LOCK_SECONDS):
            return touched  # the holder re-checks after releasing: our events are seen
        try:
            while True:
                try:
                    got, count = _batch()
                except IntegrityError:
                    # A seq clash: another fan-out ran after a lock expiry. Take a new batch.
                    logger.warning("event fan-out: seq clash, retrying")
                    continue
                touched |= got
                if count < BATCH:
                    break
        finally:
            if cache.get(LOCK_KEY) == token:
                cache.delete(LOCK_KEY)
    return touched


def recover_candidates(
    endpoint: WebhookEndpoint, events: Iterable[BusinessEvent]
) -> list[BusinessEvent]:
    return [e for e in events if matches(endpoint, e)]
