"""Thin tasks: primitive arguments, one service each. Names are stable (beat rows, replays)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask

from . import detection, services


@shared_task(base=HubTask, name="inventory.publish")
def publish(channel_id: int) -> dict[str, int]:
    """Publish the channel's dirty SKUs. Odoo or the channel down: TransientError -> retried
    with backoff by HubTask, rows stay dirty."""
    return services.publish_task_run(channel_id=channel_id)


@periodic_job(
    name="inventory.publish_sweep",
    every_seconds=30,
    description="Ring the stock publication of every channel that still has dirty SKUs",
)
def publish_sweep() -> int:
    return services.publish_sweep()


@periodic_job(
    name="inventory.poll_odoo",
    every_seconds=float(getattr(settings, "HUB_STOCK_POLL_SECONDS", 10)),
    description="Read Odoo stock changes since the watermark and mark their SKUs dirty",
    time_limit=120,
)
def poll_odoo() -> int:
    return detection.stock_poll()
