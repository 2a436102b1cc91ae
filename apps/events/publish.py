"""Publishing a business event: one INSERT in the caller's transaction (the outbox).

    with transaction.atomic():
        ...change the order...
        event_publish(type="order.held", entity_key=f"order:{ref}", channel=row.channel,
                      payload={...})

The event commits or rolls back with the change. After the commit a coalesced doorbell rings
the fan-out (`events.fanout`), which creates one message per subscribed endpoint; if that ring
is lost, the periodic sweep finds the event by its NULL `fanned_out_at`.

Payloads are checked against the event's JSON Schema. In development and tests
(`HUB_EVENTS_STRICT`, default DEBUG) a mismatch raises, so a drifting publisher fails its tests;
in production it is logged and counted, and the event is still recorded: a partner getting a
slightly wrong payload is better than an order flow that stops.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.sales_channels.models import Channel

from . import metrics
from .catalog import event_type, payload_errors
from .models import BusinessEvent

logger = logging.getLogger(__name__)

FANOUT_TASK = "events.fanout"


class EventSchemaError(ValueError):
    pass


def _strict() -> bool:
    return bool(getattr(settings, "HUB_EVENTS_STRICT", settings.DEBUG))


def event_publish(
    *,
    type: str,
    entity_key: str,
    payload: dict[str, Any],
    channel: Channel | None = None,
    occurred_at: dt.datetime | None = None,
    ring: bool = True,
) -> BusinessEvent | None:
    """Record the event in the current transaction. Returns None for a shadow channel (its
    orders never reach Odoo, so partners are not told about them)."""
    if channel is not None and channel.state == Channel.State.SHADOW:
        return None
    et = event_type(type)
    errors = payload_errors(type, payload)
    if errors:
        metrics.SCHEMA_ERRORS.labels(type).inc()
        if _strict():
            raise EventSchemaError(f"{type} payload breaks its schema: {'; '.join(errors)}")
        logger.error("event %s for %s breaks its schema: %s", type, entity_key, errors)
    now = timezone.now()
    event = BusinessEvent.objects.create(
        type=type,
        version=et.version,
        entity_key=entity_key[:200],
        channel=channel,
        occurred_at=occurred_at or now,
        recorded_at=now,
        payload=payload,
    )
    metrics.PUBLISHED.labels(type).inc()
    if ring:
        transaction.on_commit(fanout_ring)
    return event


def pending_fanout(*, older_than_seconds: float) -> bool:
    """Events the doorbell should have fanned out by now (the sweep's backstop)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return BusinessEvent.objects.filter(fanned_out_at__isnull=True, recorded_at__lt=cutoff).exists()


# --- the coalesced fan-out doorbell ---------------------------------------------------------------

_lock = threading.Lock()
_pending = False


def fanout_ring() -> None:
    """Ask for a fan-out, at most one broker message per window per process.

    A burst of commits (a push batch binds 100 orders) rings once: the first ring of a window
    sends after `HUB_EVENTS_DOORBELL_MS`, later ones in that window add nothing. Correctness
    never depends on it: the periodic sweep fans out anything left behind.
    """
    global _pending
    window = float(getattr(settings, "HUB_EVENTS_DOORBELL_MS", 10)) / 1000.0
    if window <= 0:
        _send_fanout()
        return
    with _lock:
        if _pending:
            return
        _pending = True
    timer = threading.Timer(window, _fire)
    timer.daemon = True
    timer.start()


def _fire() -> None:
    global _pending
    with _lock:
        _pending = False
    _send_fanout()


def _send_fanout() -> None:
    from celery import current_app
    from kombu.exceptions import OperationalError as BrokerError

    try:
        current_app.send_task(FANOUT_TASK)
    except (BrokerError, OSError) as exc:
        logger.warning("could not ring the event fan-out (%s); the sweep will", exc)
