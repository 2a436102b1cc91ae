"""Edits after the push against the sandbox Odoo: a status-only update is not an edit; a line or
address edit updates the confirmed order in place, or recreates it (once) when it is locked."""

from __future__ import annotations

from typing import Any

import pytest

from apps.orders.edits import edit_reference, order_push_edit
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.translators import order_from_shopify

from .conftest import shopify_payload
from .helpers import order_lines, sale_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(sandbox_settings: Any, make_channel: Any, bind_all: Any) -> Any:
    channel = make_channel()
    bind_all(channel)
    return channel


def pushed(order_id: int) -> ChannelOrder:
    row = order_ingest(
        order=order_from_shopify(
            shopify_payload(order_id, updated_at="2025-01-14T10:00:00Z"), channel="shop"
        )
    )
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    return row


def edited(order_id: int, **changes: Any) -> dict[str, Any]:
    """Line 0 from 2 to 3 units (totals adjusted), shipped to Boston."""
    payload = shopify_payload(order_id, updated_at="2025-01-14T12:00:00Z", **changes)
    line = payload["line_items"][0]
    line["quantity"] = line["current_quantity"] = 3
    line.pop("price_set", None)
    for key in ("total_price", "subtotal_price", "total_line_items_price"):
        payload.pop(f"{key}_set", None)
    payload["total_price"], payload["subtotal_price"] = "91.74", "81.25"
    payload["total_line_items_price"] = "87.50"
    payload["shipping_address"] = {**payload["shipping_address"], "city": "Boston", "zip": "02108"}
    return payload


def test_status_tags_and_formatting_changes_are_not_edits(shop: Any) -> None:
    from apps.inbox.models import Issue

    row = pushed(21)
    payload = shopify_payload(21, updated_at="2025-01-14T11:00:00Z")
    payload.update(financial_status="paid", fulfillment_status="partial", tags="vip, gift")
    payload["line_items"][0]["fulfillment_status"] = "fulfilled"
    payload["line_items"][0]["title"] = "Renamed in the shop"
    payload["shipping_address"]["city"] = "  new york "  # case and spacing only
    order_ingest(order=order_from_shopify(payload, channel="shop"))
    row.refresh_from_db()
    assert row.edit_payload is None
    assert not Issue.objects.filter(key__startswith="order_edit").exists()
    # a real edit is kept for orders.push_edit
    order_ingest(order=order_from_shopify(edited(21), channel="shop"))
    row.refresh_from_db()
    assert row.edit_payload is not None and row.edit_payload["lines"][0]["qty"] == 3


def test_line_and_address_edit_updates_the_confirmed_order(
    shop: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    row = pushed(22)
    order_ingest(order=order_from_shopify(edited(22), channel="shop"))
    assert order_push_edit(order_id=row.pk) == "updated"
    [so] = sale_orders(sb, "shop:22")
    assert so["id"] == row.odoo_id and so["state"] == "sale"
    qtys = [ln["product_uom_qty"] for ln in order_lines(sb, so["order_line"])]
    assert qtys == [3.0, 1.0, 1.0]
    ship = sb.execute("res.partner", "read", [so["partner_shipping_id"][0]], ["city", "zip"])[0]
    assert (ship["city"], ship["zip"]) == ("Boston", "02108")
    row.refresh_from_db()
    assert row.edit_payload is None and row.lines.get(position=0).quantity == 3
    assert str(row.total) == "91.74"
    # nothing left to do: a redelivered task changes nothing
    assert order_push_edit(order_id=row.pk) == "nothing"


def test_locked_order_is_recreated_once(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    row = pushed(23)
    old_id = row.odoo_id
    sb.execute("sale.order", "action_lock", [old_id])
    order_ingest(order=order_from_shopify(edited(23), channel="shop"))
    pending = ChannelOrder.objects.get(pk=row.pk).edit_payload
    assert order_push_edit(order_id=row.pk) == "recreated"
    row.refresh_from_db()
    new_ref = edit_reference(row=row, data=pending)
    assert row.odoo_ref == new_ref and row.odoo_id != old_id
    # a crash before the row was updated: the retry finds the replacement, creates nothing
    ChannelOrder.objects.filter(pk=row.pk).update(
        odoo_id=old_id, odoo_ref="shop:23", edit_payload=pending
    )
    assert order_push_edit(order_id=row.pk) == "recreated"
    [old] = sale_orders(sb, "shop:23")
    assert old["state"] == "cancel"
    [new] = sale_orders(sb, new_ref)
    assert new["state"] == "sale" and new["id"] == row.odoo_id
    qtys = [ln["product_uom_qty"] for ln in order_lines(sb, new["order_line"])]
    assert qtys == [3.0, 1.0, 1.0]


def test_edit_after_shipment_stays_an_inbox_item(
    shop: Any, sandbox_settings: Any, gateway: Any
) -> None:
    from apps.inbox.models import Issue

    row = pushed(24)
    info = gateway.sale_orders_read(order_ids=[row.odoo_id])[row.odoo_id]
    for picking in info["picking_ids"]:
        gateway.picking_validate(picking_id=picking)
    order_ingest(order=order_from_shopify(edited(24), channel="shop"))
    assert order_push_edit(order_id=row.pk) == "shipped"
    [so] = sale_orders(sandbox_settings, "shop:24")
    assert [ln["product_uom_qty"] for ln in order_lines(sandbox_settings, so["order_line"])][0] == 2
    issue = Issue.objects.get(key="order_edit_after_push:shop:24")
    assert issue.channel_code == "shop" and issue.order_number == row.number
