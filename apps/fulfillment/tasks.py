"""Thin tasks: primitive arguments, one service each. Names are stable (beat rows, replays).

Routing (settings.HUB_TASK_ROUTES): `fulfillment.sync` on `channel_io` (channel calls),
`fulfillment.poll_odoo` and `fulfillment.read_pickings` on `odoo` (Odoo reads).
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask

from . import detection, sync


@shared_task(base=HubTask, name="fulfillment.sync")
def sync_shipment(sync_id: int) -> str:
    # Retries are due times in the row (the service decides), never raised into HubTask: a
    # duplicate or late message finds the row not claimable and does nothing.
    return sync.shipment_sync_run(sync_id=sync_id)


@shared_task(base=HubTask, name="fulfillment.read_pickings")
def read_pickings(hint_id: int) -> str:
    return detection.picking_hints_process(hint_id=hint_id)


@periodic_job(
    name="fulfillment.poll_odoo",
    every_seconds=float(getattr(settings, "HUB_SHIPMENT_POLL_SECONDS", 15)),
    description="Read done deliveries in Odoo since the cursor and record them as shipments",
    time_limit=240,
)
def poll_odoo() -> str:
    return str(detection.shipments_poll())
