"""The order flow's business events (apps.events): which state change tells partners what.

Called inside the transaction of the change (transitions.py, intake.py), so the event commits
or rolls back with it. Shadow channels publish nothing (apps.events.publish).

| change                                   | event             |
|------------------------------------------|-------------------|
| a new order recorded                     | `order.accepted`  |
| → held, or held for another reason       | `order.held`      |
| held → ready (SKU mapped, paid, approved) | `order.released`  |
| → in_odoo (sale order confirmed)         | `order.in_odoo`   |
| → cancelled                              | `order.cancelled` |
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.events.publish import event_publish

from .models import ChannelOrder, OrderState

CENT = Decimal("0.01")


def entity_key(row: ChannelOrder) -> str:
    return f"order:{row.odoo_ref}"


def order_ref(row: ChannelOrder) -> dict[str, Any]:
    """Which order, as every event about it names it (shipments, returns, refunds too)."""
    return {
        "external_id": row.external_id,
        "number": row.number or "",
        "reference": row.odoo_ref,
        "odoo_name": row.odoo_name or None,
    }


def order_data(row: ChannelOrder) -> dict[str, Any]:
    """The order as every order.* event carries it: references, state, total, lines."""
    return {
        "channel": row.channel.code,
        "order": {
            **order_ref(row),
            "state": row.state,
            "po_number": row.po_number or "",
            "total": str(Decimal(row.total or 0).quantize(CENT)),
            "currency": row.currency,
            "lines": [{"sku": ln.sku, "quantity": int(ln.quantity)} for ln in row.lines.all()],
        },
    }


def order_accepted(row: ChannelOrder) -> None:
    event_publish(
        type="order.accepted",
        entity_key=entity_key(row),
        channel=row.channel,
        payload=order_data(row),
        occurred_at=row.received_at,
    )


def order_moved(
    *, row: ChannelOrder, frm: str, old_hold_reason: str, actor: str, reason: str
) -> None:
    """After `row` moved from `frm` to `row.state` (its fields already updated)."""
    to = row.state
    if to == OrderState.HELD and (frm != OrderState.HELD or old_hold_reason != row.hold_reason):
        event_publish(
            type="order.held",
            entity_key=entity_key(row),
            channel=row.channel,
            payload={
                **order_data(row),
                "hold": {"reason": row.hold_reason, "detail": row.hold_detail or reason},
            },
        )
    elif frm == OrderState.HELD and to == OrderState.READY:
        event_publish(
            type="order.released",
            entity_key=entity_key(row),
            channel=row.channel,
            payload={**order_data(row), "released_from": old_hold_reason, "released_by": actor},
        )
    elif to == OrderState.IN_ODOO and frm != OrderState.IN_ODOO:
        event_publish(
            type="order.in_odoo",
            entity_key=entity_key(row),
            channel=row.channel,
            payload=order_data(row),
        )
    elif to == OrderState.CANCELLED:
        event_publish(
            type="order.cancelled",
            entity_key=entity_key(row),
            channel=row.channel,
            payload={**order_data(row), "reason": reason},
        )
