"""Warehouse split against the sandbox: an order no single warehouse can fill becomes one sale
order per warehouse when the channel allows it, and a retry keeps the same plan."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.core.canonical import Money
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_cancel, order_ingest, order_push_due
from apps.sales_channels.translators import order_from_b2b

from .conftest import b2b_payload, bind, product_ids
from .helpers import order_lines, sale_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def whs(sandbox_settings: Any, make_channel: Any) -> dict[str, int]:
    sb = sandbox_settings
    found = {
        w["code"]: w["id"]
        for w in sb.execute("stock.warehouse", "search_read", [], fields=["code"])
    }
    # WH has lamps (SKU-003), WH2 none; speakers; SKU-015 is stocked only in WH2 (18 units)
    channel = make_channel(code="wh", kind="b2b_api", warehouse_ids=[found["WH"], found["WH2"]])
    ids = product_ids(sb, ["SKU-015", "SKU-003"])
    bind(channel, "SPEAKER", ids["SKU-015"])
    bind(channel, "LAMP", ids["SKU-003"])
    return found


def ingest(ext: str) -> ChannelOrder:
    lines = [
        {"sku": "LAMP", "quantity": 1, "unit_price": "10.00"},
        {"sku": "SPEAKER", "quantity": 5, "unit_price": "10.00"},
    ]
    total = Money.of("60.00", "USD")
    payload = b2b_payload(ext, lines=lines, shipping={}, totals={"total": str(total.amount)})
    return order_ingest(order=order_from_b2b(payload, channel="wh"))


def test_order_split_across_two_warehouses(
    whs: dict[str, int], sandbox_settings: Any, settings: SettingsWrapper
) -> None:
    sb = sandbox_settings
    settings.HUB_ORDER_SPLIT_CHANNELS = ["wh"]
    row = ingest("S1")
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    first = sale_orders(sb, f"wh:S1-W{whs['WH']}")
    second = sale_orders(sb, f"wh:S1-W{whs['WH2']}")
    assert len(first) == len(second) == 1 and sale_orders(sb, "wh:S1") == []
    assert first[0]["warehouse_id"][0] == whs["WH"]
    assert second[0]["warehouse_id"][0] == whs["WH2"]
    ids = product_ids(sb, ["SKU-015", "SKU-003"])
    got = [
        [(ln["product_id"][0], ln["product_uom_qty"]) for ln in order_lines(sb, so["order_line"])]
        for so in (first[0], second[0])
    ]
    assert got == [[(ids["SKU-003"], 1.0)], [(ids["SKU-015"], 5.0)]]
    assert row.odoo_id == first[0]["id"]
    assert [p["id"] for p in row.odoo_parts] == [first[0]["id"], second[0]["id"]]
    assert row.odoo_amount_total == first[0]["amount_total"] + second[0]["amount_total"]
    # a cancellation on the channel cancels both
    ChannelOrder.objects.filter(pk=row.pk).update(state=OrderState.CANCEL_REQUESTED)
    assert order_cancel(order_id=row.pk) == OrderState.CANCELLED
    assert {so["state"] for so in sale_orders(sb, f"wh:S1-W{whs['WH']}")} == {"cancel"}
    assert {so["state"] for so in sale_orders(sb, f"wh:S1-W{whs['WH2']}")} == {"cancel"}


def test_without_the_switch_the_order_is_backordered_in_the_preferred_warehouse(
    whs: dict[str, int], sandbox_settings: Any
) -> None:
    row = ingest("S2")
    order_push_due()
    row.refresh_from_db()
    [so] = sale_orders(sandbox_settings, "wh:S2")
    assert so["warehouse_id"][0] == whs["WH"] and row.odoo_parts is None


def test_a_retry_keeps_the_stored_plan(
    whs: dict[str, int], sandbox_settings: Any, settings: SettingsWrapper
) -> None:
    sb = sandbox_settings
    settings.HUB_ORDER_SPLIT_CHANNELS = ["wh"]
    row = ingest("S3")
    # Odoo drops the response after committing the sale orders (the first push creates the
    # customer and the second its ship-to address, whose responses are dropped too): the plan
    # was stored before
    for _ in range(3):
        sb.set_faults(drop_after_commit=1)
        ChannelOrder.objects.filter(pk=row.pk).update(next_attempt_at=None)
        order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.READY and len(row.odoo_parts) == 2
    # meanwhile WH receives speakers: a fresh decision would not split any more
    loc = sb.execute("stock.warehouse", "read", [whs["WH"]], ["lot_stock_id"])[0]["lot_stock_id"]
    speaker = product_ids(sb, ["SKU-015"])["SKU-015"]
    sb.execute(
        "stock.quant",
        "create",
        {"product_id": speaker, "location_id": loc[0], "inventory_quantity_auto_apply": 50},
        context={"inventory_mode": True},
    )
    ChannelOrder.objects.filter(pk=row.pk).update(next_attempt_at=None)
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    assert sale_orders(sb, "wh:S3") == []
    assert len(sale_orders(sb, f"wh:S3-W{whs['WH']}")) == 1
    assert len(sale_orders(sb, f"wh:S3-W{whs['WH2']}")) == 1
