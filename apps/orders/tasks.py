"""Thin tasks: primitive arguments, one service each. Names are stable (beat rows, replays)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask

from . import services


@shared_task(base=HubTask, name="orders.push_due")
def push_due(limit: int | None = None) -> int:
    return services.order_push_due(limit=limit)


@shared_task(base=HubTask, name="orders.release_for_sku")
def release_for_sku(channel_code: str, sku: str) -> int:
    return services.orders_release_for_sku(channel_code=channel_code, sku=sku)


@shared_task(base=HubTask, name="orders.cancel")
def cancel(order_id: int) -> str:
    return services.order_cancel(order_id=order_id)


@shared_task(
    bind=True,
    base=HubTask,
    name="orders.acknowledge",
    rate_limit=getattr(settings, "HUB_ORDER_ACK_RATE", "10/s"),
)
def acknowledge(self: HubTask, order_id: int) -> str:
    from .acknowledge import order_acknowledge

    final = self.request.called_directly or self.request.retries >= self.hub_max_attempts - 1
    return order_acknowledge(order_id=order_id, final=final)


@shared_task(base=HubTask, name="orders.push_edit")
def push_edit(order_id: int) -> str:
    from .edits import order_push_edit

    return order_push_edit(order_id=order_id)


@shared_task(base=HubTask, name="orders.retry")
def retry(order_id: int) -> str:
    return services.order_retry(order_id=order_id).state


@periodic_job(
    name="orders.push_sweep",
    every_seconds=30,
    description="Re-ring the order push for due orders and expired leases",
)
def push_sweep() -> int:
    return services.orders_push_sweep()


@periodic_job(
    name="orders.followup_sweep",
    every_seconds=30,
    description="Re-ring cancellations, edits and acknowledgements whose message was lost",
)
def followup_sweep() -> int:
    return services.orders_followup_sweep()


@periodic_job(
    name="orders.idempotency_purge",
    every_seconds=3600,
    description="Delete expired Idempotency-Keys of the order API",
)
def idempotency_purge() -> int:
    from .idempotency import idempotency_keys_purge

    return idempotency_keys_purge()
