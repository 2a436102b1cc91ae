"""Small pieces of recording, without Odoo: which order a picking belongs to, lines put on the
order's lines, what counts as a delivery, tracking numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from apps.fulfillment.carriers import tracking_numbers
from apps.fulfillment.progress import Move, allocate, fully_shipped
from apps.fulfillment.record import PickingFacts, orders_for, picking_facts
from apps.orders.models import ChannelOrder
from apps.sales_channels.services import channel_create

from .conftest import make_order

pytestmark = pytest.mark.django_db


def facts(pid: int, *, sale_id: int | None, origin: str) -> PickingFacts:
    return PickingFacts(
        id=pid,
        name=f"WH/OUT/{pid:05d}",
        write_date="2026-12-05 10:00:00",
        sale_id=sale_id,
        origin=origin,
        odoo_carrier="",
        odoo_carrier_id=None,
        tracking_numbers=(),
        tracking_url="",
        shipped_at=dt.datetime(2026, 12, 5, 10, tzinfo=dt.UTC),
        backorder_of=None,
        dropship=False,
        moves=(),
    )


def test_pickings_find_their_order_by_sale_id_part_or_name(db: None) -> None:
    channel, _ = channel_create(code="shop", kind="shopify")
    plain = make_order(channel, "40")  # odoo_id 40, name S40
    split = make_order(channel, "41")
    ChannelOrder.objects.filter(pk=split.pk).update(
        odoo_name="S410, S411",
        odoo_id=410,
        odoo_parts=[{"ref": "shop:41-W1", "id": 410, "name": "S410"}, {"id": 411, "name": "S411"}],
    )
    make_order(channel, "4")  # S4: a prefix of S40 and S410, never taken for them
    found = orders_for(
        [
            facts(1, sale_id=40, origin="S40"),
            facts(2, sale_id=411, origin="S411"),  # the second warehouse's sale order
            facts(3, sale_id=None, origin="S40"),  # no sale_id (a manual delivery)
            facts(4, sale_id=999, origin="S999"),  # not a hub order
        ]
    )
    assert found == {1: plain.pk, 2: split.pk, 3: plain.pk}


def test_a_product_on_two_lines_fills_them_in_order(db: None) -> None:
    channel, _ = channel_create(code="shop", kind="shopify")
    order = make_order(channel, lines=(("RED-A", 2, 11), ("RED-B", 3, 11), ("MUG", 1, 12)))
    lines = list(order.lines.all())
    # the first shipment takes 3 of product 11: line A whole, 1 of line B
    first = allocate([Move(11, "W-RED", 3)], lines, {})
    assert [(a.sku, a.quantity, a.external_line_id) for a in first] == [
        ("RED-A", 2, "L1"),
        ("RED-B", 1, "L2"),
    ]
    # the second takes the other 2 of B, and 1 too many (on the last line), and a product
    # Odoo added keeps Odoo's code
    second = allocate([Move(11, "W-RED", 3), Move(99, "GIFT", 1)], lines, {11: 3})
    assert [(a.sku, a.quantity, a.external_line_id) for a in second] == [
        ("RED-B", 3, "L2"),
        ("GIFT", 1, ""),
    ]
    assert not fully_shipped(lines, {11: 5})
    assert fully_shipped(lines, {11: 5, 12: 1})


@pytest.mark.parametrize(
    ("changes", "recorded"),
    [
        ({}, True),
        ({"state": "assigned"}, False),
        ({"return_of": 3}, False),
        ({"picking_type_code": "incoming"}, False),
        ({"picking_type_code": "internal"}, False),
        ({"picking_type_code": "dropship"}, True),
        ({"picking_type_code": "incoming", "dropship": True}, True),  # Odoo 16's drop-ship
    ],
)
def test_what_counts_as_a_delivery(changes: dict[str, Any], recorded: bool) -> None:
    picking = {
        "id": 9,
        "name": "WH/OUT/00009",
        "state": "done",
        "picking_type_code": "outgoing",
        "write_date": "2026-12-05 10:00:00",
        "date_done": "2026-12-05 10:00:01",
        "moves": [
            {"product_id": 1, "sku": "A", "done": 2.0, "state": "done"},
            {"product_id": 1, "sku": "A", "done": 1.0, "state": "done"},
            {"product_id": 2, "sku": "B", "done": 0.0, "state": "cancel"},
        ],
        **changes,
    }
    f = picking_facts(picking)
    assert (f is not None) == recorded
    if f is not None:
        assert f.moves == (Move(1, "A", 3),)
        assert f.shipped_at == dt.datetime(2026, 12, 5, 10, 0, 1, tzinfo=dt.UTC)
        dropship = changes.get("picking_type_code") == "dropship" or "dropship" in changes
        assert f.dropship == dropship


def test_tracking_numbers_of_several_parcels() -> None:
    assert tracking_numbers("1ZA+1ZB") == ["1ZA", "1ZB"]
    assert tracking_numbers(" 1ZA, 1ZB ;1ZA ") == ["1ZA", "1ZB"]
    assert tracking_numbers(None) == [] and tracking_numbers("") == []
