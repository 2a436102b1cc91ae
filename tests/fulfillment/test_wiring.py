"""The shipment flow's wiring: queues, the beat job, the ledger's work kinds and handlers."""

from __future__ import annotations

from apps.core.periodic import REGISTRY
from apps.fulfillment.handlers import fulfillment_event_handle
from apps.fulfillment.models import PickingHint, ShipmentSync
from apps.ledger.registry import handler_for, work_kind_for
from integration_hub.celery import route_task


def queue(name: str) -> str:
    return str(route_task(name, (), {}, {})["queue"])


def test_channel_calls_run_on_channel_io_and_odoo_reads_on_odoo() -> None:
    assert queue("fulfillment.sync") == "channel_io"
    assert queue("fulfillment.poll_odoo") == "odoo"
    assert queue("fulfillment.read_pickings") == "odoo"


def test_the_poll_is_a_beat_job_and_the_rows_are_swept() -> None:
    job = REGISTRY["fulfillment.poll_odoo"]
    assert job.every_seconds == 15.0
    sync = work_kind_for(ShipmentSync)
    hint = work_kind_for(PickingHint)
    assert sync is not None and (sync.task_name, sync.kwarg) == ("fulfillment.sync", "sync_id")
    assert hint is not None and (hint.task_name, hint.kwarg) == (
        "fulfillment.read_pickings",
        "hint_id",
    )


def test_channel_fulfillment_webhooks_are_handled() -> None:
    assert handler_for("fulfillments/create") is fulfillment_event_handle
    assert handler_for("store/shipment/created") is fulfillment_event_handle
