"""The shipment flow's business events (apps.events), published inside the transaction that
records the change, so the event commits or rolls back with it. Shadow channels publish
nothing (apps.events.publish).

| change                                          | event                 |
|-------------------------------------------------|-----------------------|
| a done Odoo delivery recorded as a `Shipment`   | `shipment.dispatched` |
| a carrier or 3PL reported `delivered`           | `delivery.confirmed`  |

Both belong to the order's entity (`order:<reference>`), so a partner that asked for per-entity
order sees an order's events in the order they happened.
"""

from __future__ import annotations

from typing import Any

from apps.events.publish import event_publish
from apps.orders.business_events import entity_key, order_ref
from apps.orders.models import ChannelOrder

from .models import Shipment


def _iso(value: Any) -> str:
    return str(value.isoformat()).replace("+00:00", "Z")


def shipment_dispatched(*, shipment: Shipment, order: ChannelOrder, partial: bool) -> None:
    event_publish(
        type="shipment.dispatched",
        entity_key=entity_key(order),
        channel=order.channel,
        occurred_at=shipment.shipped_at,
        payload={
            "channel": order.channel.code,
            "order": order_ref(order),
            "shipment": {
                "odoo_picking": shipment.odoo_picking_name,
                "carrier": shipment.carrier or shipment.odoo_carrier or None,
                "tracking_numbers": list(shipment.tracking_numbers),
                "tracking_urls": [shipment.tracking_url] if shipment.tracking_url else [],
                "lines": [
                    {"sku": ln.sku, "quantity": int(ln.quantity)} for ln in shipment.lines.all()
                ],
                "partial": partial,
                "shipped_at": _iso(shipment.shipped_at),
            },
        },
    )


def delivery_confirmed(*, shipment: Shipment, order: ChannelOrder) -> None:
    assert shipment.delivered_at is not None
    event_publish(
        type="delivery.confirmed",
        entity_key=entity_key(order),
        channel=order.channel,
        occurred_at=shipment.delivered_at,
        payload={
            "channel": order.channel.code,
            "order": order_ref(order),
            "shipment": {
                "odoo_picking": shipment.odoo_picking_name,
                "tracking_numbers": list(shipment.tracking_numbers),
                "delivered_at": _iso(shipment.delivered_at),
            },
        },
    )
