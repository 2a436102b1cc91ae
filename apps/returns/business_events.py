"""The returns flow's business events, published inside the transaction of the change.

| change                                                    | event              |
|-----------------------------------------------------------|--------------------|
| goods will come back (refund restock, B2B request, ...)   | `return.requested` |
| Odoo validated a return receipt of a hub order            | `return.received`  |
| a channel refund recorded (by the channel or by the hub)  | `refund.created`   |
"""

from __future__ import annotations

from typing import Any

from apps.events.publish import event_publish
from apps.orders.business_events import entity_key, order_ref

from .models import ChannelRefund, ChannelReturn


def _lines(rows: Any, attr: str = "quantity") -> list[dict[str, Any]]:
    return [{"sku": ln.sku, "quantity": int(getattr(ln, attr))} for ln in rows]


def return_requested(*, ret: ChannelReturn) -> None:
    order = ret.order
    event_publish(
        type="return.requested",
        entity_key=entity_key(order),
        channel=ret.channel,
        payload={
            "channel": ret.channel.code,
            "order": order_ref(order),
            "return": {
                "id": ret.external_id,
                "source": ret.source,
                "odoo_picking": ret.odoo_return_picking_name or None,
                "lines": _lines(ret.lines.all()),
                "reason": ret.reason,
            },
        },
    )


def return_received(*, ret: ChannelReturn) -> None:
    order = ret.order
    assert ret.received_at is not None
    event_publish(
        type="return.received",
        entity_key=entity_key(order),
        channel=ret.channel,
        occurred_at=ret.received_at,
        payload={
            "channel": ret.channel.code,
            "order": order_ref(order),
            "return": {
                "odoo_picking": ret.odoo_return_picking_name or str(ret.odoo_return_picking_id),
                "lines": _lines(ret.lines.all(), "quantity_received"),
                "received_at": ret.received_at.isoformat().replace("+00:00", "Z"),
            },
        },
    )


def refund_created(*, refund: ChannelRefund) -> None:
    order = refund.order
    event_publish(
        type="refund.created",
        entity_key=entity_key(order),
        channel=refund.channel,
        occurred_at=refund.refunded_at,
        payload={
            "channel": refund.channel.code,
            "order": order_ref(order),
            "refund": {
                "channel_refund_id": refund.external_id,
                "amount": f"{refund.amount:.2f}",
                "currency": refund.currency.upper(),
                "odoo_credit_note": refund.odoo_credit_note_name or None,
                "lines": _lines(refund.lines.all()),
            },
        },
    )
