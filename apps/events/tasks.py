"""Thin tasks (queue `events`): fan-out, per-endpoint delivery, the sweep and housekeeping."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask


@shared_task(base=HubTask, name="events.fanout")
def fanout() -> int:
    from .delivery import deliver_ring
    from .fanout import fanout_run

    touched = fanout_run()
    for endpoint_id in sorted(touched):
        deliver_ring(endpoint_id)
    return len(touched)


@shared_task(base=HubTask, name="events.deliver")
def deliver(endpoint_id: int) -> dict[str, int]:
    from .delivery import deliver_endpoint

    return deliver_endpoint(endpoint_id=endpoint_id)


@periodic_job(
    name="events.sweep",
    every_seconds=5,
    description="Fan out events left behind; ring endpoints with due messages or expired leases",
)
def sweep() -> str:
    from .delivery import deliver_ring, lock_key
    from .publish import FANOUT_TASK, pending_fanout
    from .selectors import endpoints_due

    if pending_fanout(older_than_seconds=2.0):
        from celery import current_app

        current_app.send_task(FANOUT_TASK)
    rung = 0
    for endpoint_id in endpoints_due():
        if cache.get(lock_key(endpoint_id)) is None:
            deliver_ring(endpoint_id)
            rung += 1
    return f"rang {rung} endpoints"


@periodic_job(
    name="events.maintain",
    every_seconds=3600,
    description="Disable endpoints failing for 5 days (inbox item); purge events past retention",
)
def maintain() -> str:
    from .services import endpoints_auto_disable, events_purge

    disabled = endpoints_auto_disable()
    purged = events_purge()
    return f"disabled {len(disabled)}, purged {purged}"
