"""Cancellations: before the push, in Odoo when nothing was delivered, else an inbox item."""

from __future__ import annotations

from django.db import transaction

from apps.core.errors import DataConflict
from apps.core.queues import sweep_may_ring
from apps.sales_channels.models import Channel

from . import metrics
from .doorbells import ring_task
from .integrations import inbox_report
from .models import ChannelOrder, OrderState
from .transitions import followups_due, order_lease, order_lease_release, order_transition

CANCEL_TASK = "orders.cancel"


def cancel_after_push(*, row: ChannelOrder, actor: str) -> None:
    if row.state == OrderState.PUSHING:
        # The pusher holds the lease; it sees cancel_wanted when it binds the Odoo id.
        return
    if row.state in (OrderState.IN_ODOO, OrderState.PARTIALLY_SHIPPED):
        if order_transition(
            order=row, to=OrderState.CANCEL_REQUESTED, actor=actor, reason="cancelled on channel"
        ):
            order_id = row.pk
            transaction.on_commit(lambda: ring_task(CANCEL_TASK, order_id=order_id))
        return
    if row.state == OrderState.SHIPPED:
        _cancel_after_shipment(row=row)


def _cancel_after_shipment(*, row: ChannelOrder) -> None:
    inbox_report(
        error=DataConflict(
            f"order {row.number or row.external_id} was cancelled on the channel after "
            f"shipment; create a return in Odoo ({row.odoo_name}) and refund on the channel",
            order=row.odoo_ref,
        ),
        key=f"cancel_after_shipment:{row.odoo_ref}",
        row=row,
        channel_code=row.channel.code,
        order_number=row.number,
    )


def order_cancel(*, order_id: int, actor: str = "orders.cancel") -> str:
    """Cancel a cancel_requested order in Odoo when nothing was delivered; else inbox. One run
    at a time per order (a lease): a duplicate message finds it busy and does nothing."""
    row = ChannelOrder.objects.select_related("channel").get(pk=order_id)
    if row.state != OrderState.CANCEL_REQUESTED:
        return row.state
    token = order_lease(order=row)
    if token is None:
        return "busy"
    try:
        return _cancel(row=row, actor=actor)
    finally:
        order_lease_release(order_id=row.pk, token=token)


def _cancel(*, row: ChannelOrder, actor: str) -> str:
    from apps.odoo.gateway import get_gateway

    if row.channel.state == Channel.State.SHADOW or row.odoo_id is None:
        order_transition(order=row, to=OrderState.CANCELLED, actor=actor, reason="no Odoo order")
        return row.state
    gateway = get_gateway()
    # A split order is cancelled as a whole: all its sale orders, or none once one shipped.
    odoo_ids = [int(p["id"]) for p in row.odoo_parts or () if p.get("id")] or [row.odoo_id]
    infos = gateway.sale_orders_read(order_ids=odoo_ids)
    delivered = any(i.get("delivery_status") in ("partial", "full") for i in infos.values())
    if delivered:
        order_transition(
            order=row, to=OrderState.SHIPPED, actor=actor, reason="cancel after shipment"
        )
        _cancel_after_shipment(row=row)
        return row.state
    open_ids = [oid for oid, i in infos.items() if i["state"] != "cancel"]
    if open_ids:
        gateway.sale_orders_cancel(order_ids=open_ids)
    order_transition(order=row, to=OrderState.CANCELLED, actor=actor, reason="cancelled in Odoo")
    metrics.ORDERS.labels(row.channel.code, "cancelled").inc()
    return row.state


def orders_cancel_sweep(*, limit: int = 500) -> int:
    """Ring again the cancellations whose message was lost (a broker outage, a killed worker):
    cancel_requested orders nobody holds and nothing moved for the ring grace."""
    if not sweep_may_ring(CANCEL_TASK):
        return 0
    ids = list(
        followups_due(state=OrderState.CANCEL_REQUESTED).values_list("pk", flat=True)[:limit]
    )
    for order_id in ids:
        ring_task(CANCEL_TASK, order_id=order_id)
    return len(ids)
