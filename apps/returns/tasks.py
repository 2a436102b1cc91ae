"""Thin tasks. Routing (settings.HUB_TASK_ROUTES): `returns.sync` and `returns.poll_odoo` on
`odoo`, `returns.refund` (money calls to a channel) on `channel_io`, the rest on `batch`."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask

from . import receipts, sync


@shared_task(base=HubTask, name="returns.sync")
def sync_return(sync_id: int) -> str:
    return sync.return_sync_run(sync_id=sync_id)


@shared_task(base=HubTask, name="returns.refund")
def refund_on_channel(sync_id: int) -> str:
    return sync.return_sync_run(sync_id=sync_id)


@periodic_job(
    name="returns.poll_odoo",
    every_seconds=float(getattr(settings, "HUB_RETURN_POLL_SECONDS", 30)),
    description="Read validated return receipts in Odoo since the cursor and record them",
    time_limit=240,
)
def poll_odoo() -> str:
    return str(receipts.receipts_poll())


@periodic_job(
    name="returns.apply_awaiting",
    every_seconds=600.0,
    description="Channel refunds waiting for their invoice: try the credit note again",
    time_limit=240,
)
def apply_awaiting() -> str:
    return f"{receipts.awaiting_apply()} refund(s) re-checked"
