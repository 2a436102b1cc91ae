"""Thin tasks: load by id, call the service of the same name."""

from __future__ import annotations

from celery import shared_task

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask

from . import services


@shared_task(base=HubTask, name="ledger.process_event")
def process_event(event_id: int) -> str:
    # Retries are decided by the service and stored as due times in the row, never by raising
    # into HubTask: a duplicate or late message finds the row not claimable and does nothing.
    return services.event_process(event_id=event_id)


@shared_task(base=HubTask, name="ledger.drain_events")
def drain_events() -> int:
    # Rung by the coalesced doorbell after events are recorded (apps/ledger/doorbell.py).
    return services.events_drain()


@periodic_job(
    name="ledger.sweep",
    every_seconds=5,
    description="Re-enqueue ledger rows that are due or whose lease expired",
    time_limit=60,
)
def sweep() -> str:
    return str(services.work_sweep())


@periodic_job(
    name="ledger.purge",
    crontab={"minute": "30", "hour": "2"},
    description="Delete finished work and events older than HUB_RETENTION_DAYS",
    time_limit=1800,
)
def purge() -> str:
    from apps.inbox.services import issues_purge

    return f"{services.events_purge()} {issues_purge()}"
