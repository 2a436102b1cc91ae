"""The carrier on the sale order: a channel shipping method mapped to an Odoo delivery.carrier.

Against the sandbox over HTTP. The Shopify fixture's shipping line is code "Standard", title
"Standard Shipping", 5.99.
"""

from __future__ import annotations

from typing import Any

import pytest

from apps.inbox.models import Issue
from apps.mappings.models import ValueMap
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.translators import order_from_shopify

from .conftest import product_ids, shopify_payload
from .helpers import order_lines, sale_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(sandbox_settings: Any, make_channel: Any, bind_all: Any) -> Any:
    channel = make_channel()
    bind_all(channel)
    return channel


def ingest(order_id: int = 1001) -> ChannelOrder:
    return order_ingest(order=order_from_shopify(shopify_payload(order_id), channel="shop"))


def carriers(sb: Any) -> dict[str, dict[str, Any]]:
    rows = sb.execute("delivery.carrier", "search_read", [], fields=["name", "product_id"])
    return {r["name"]: r for r in rows}


def carrier_map(channel: Any, value: str, odoo_value: str, model: str = "delivery.carrier") -> Any:
    return ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.CARRIER,
        channel_value=value,
        odoo_model=model,
        odoo_value=odoo_value,
    )


def shipping_line(sb: Any, so: dict[str, Any]) -> dict[str, Any]:
    rows = sb.execute(
        "sale.order.line",
        "read",
        so["order_line"],
        ["product_id", "price_unit", "is_delivery", "name"],
    )
    return rows[-1]


def test_mapped_carrier_goes_on_the_order_and_its_picking(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    express = carriers(sb)["Express Delivery"]
    # given the channel's shipping method "Standard" mapped to Odoo's "Express Delivery" carrier
    carrier_map(shop, "Standard", str(express["id"]))
    row = ingest()
    # when the order is pushed
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    # then the sale order carries the carrier, and its one shipping line is the hub's: the
    # carrier's own product at the channel's price (Odoo added no line of its own)
    [so] = sale_orders(sb, "shop:1001")
    detail = sb.execute(
        "sale.order", "read", [so["id"]], ["carrier_id", "delivery_set", "picking_ids"]
    )[0]
    assert detail["carrier_id"][0] == express["id"]
    assert detail["delivery_set"] is True
    lines = order_lines(sb, so["order_line"])
    assert len(lines) == 3  # two goods, one shipping
    ship = shipping_line(sb, so)
    assert ship["product_id"][0] == express["product_id"][0]
    assert ship["price_unit"] == 5.99
    assert ship["is_delivery"] is True
    # and the delivery picking inherited the carrier (what the tracking flow reads)
    picking = sb.execute("stock.picking", "read", detail["picking_ids"], ["carrier_id"])[0]
    assert picking["carrier_id"][0] == express["id"]


def test_without_a_carrier_mapping_the_fallback_product_is_used(
    shop: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    ingest()
    assert order_push_due() == 1
    [so] = sale_orders(sb, "shop:1001")
    assert sb.execute("sale.order", "read", [so["id"]], ["carrier_id"])[0]["carrier_id"] is False
    ship = shipping_line(sb, so)
    assert ship["product_id"][0] == product_ids(sb, ["SHIP"])["SHIP"]
    assert ship["is_delivery"] is False


def test_old_product_mappings_keep_working(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    ids = product_ids(sb, ["GIFT-WRAP", "SVC-INSTALL"])
    # given one map by product code (no Odoo model), and one by product id on another method
    carrier_map(shop, "Standard", "GIFT-WRAP", model="")
    carrier_map(shop, "Overnight", str(ids["SVC-INSTALL"]), model="product.product")
    ingest()
    assert order_push_due() == 1
    [so] = sale_orders(sb, "shop:1001")
    ship = shipping_line(sb, so)
    assert ship["product_id"][0] == ids["GIFT-WRAP"]
    assert sb.execute("sale.order", "read", [so["id"]], ["carrier_id"])[0]["carrier_id"] is False


def test_carriers_are_read_once_per_batch(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    carrier_map(shop, "Standard", str(carriers(sb)["Standard Delivery"]["id"]))
    for n in range(6):
        ingest(5000 + n)
    sb.reset_stats()
    assert order_push_due(limit=100) == 6
    calls = dict(sb.stats()["calls"])
    assert calls.get("delivery.carrier.read") == 1
    assert calls.get("sale.order.create") == 1
    found = sb.execute(
        "sale.order", "search_read", [["origin", "=like", "shop:50%"]], fields=["carrier_id"]
    )
    assert len(found) == 6 and {r["carrier_id"][1] for r in found} == {"Standard Delivery"}


def test_missing_fallback_product_names_the_mapping_and_the_setting(
    shop: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    # given an Odoo without the SHIP product (a stock Odoo 17), and no carrier mapping
    sb.execute("product.product", "write", [product_ids(sb, ["SHIP"])["SHIP"]], {"active": False})
    row = ingest()
    # when the order is pushed it fails
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.FAILED
    assert "SHIP" in row.last_error and "Standard Shipping" in row.last_error
    # then the inbox item says which mapping or which setting to add
    issue = Issue.objects.get(key="order_push:shop:1001")
    assert issue.suggested_action == (
        "Map the shipping method 'Standard Shipping' of channel shop to a delivery.carrier "
        "(Mappings → value maps, kind carrier, Odoo model delivery.carrier, Odoo value = the "
        "carrier id) or create a product with code SHIP (HUB_ORDER_SHIPPING_SKU), then Retry all"
    )
    assert issue.last_error["context"]["setting"] == "HUB_ORDER_SHIPPING_SKU"
    # and once the method is mapped to a carrier, a retry goes through
    carrier_map(shop, "Standard", str(carriers(sb)["Standard Delivery"]["id"]))
    from apps.orders.push import order_retry

    order_retry(order_id=row.pk)
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO


def test_mapped_carrier_missing_in_odoo_says_to_fix_the_map(
    shop: Any, sandbox_settings: Any
) -> None:
    carrier_map(shop, "Standard", "999")
    row = ingest()
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.FAILED
    issue = Issue.objects.get(key="order_push:shop:1001")
    assert "delivery.carrier 999" in issue.suggested_action
    assert "fix the value map" in issue.suggested_action
    assert issue.last_error["context"]["missing"] == "carrier"


def test_carrier_mapping_without_stock_delivery_says_to_install_it(
    shop: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    carrier_map(shop, "Standard", str(carriers(sb)["Standard Delivery"]["id"]))
    # given an Odoo without stock_delivery: delivery.carrier is not a model there
    sb.set_faults(
        fail_next=[
            {
                "model": "delivery.carrier",
                "method": "read",
                "error_name": "odoo.exceptions.UserError",
                "message": "Object delivery.carrier doesn't exist",
            }
        ]
    )
    row = ingest()
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.FAILED
    issue = Issue.objects.get(key="order_push:shop:1001")
    assert issue.suggested_action.startswith("Install the Odoo module stock_delivery")
    assert issue.last_error["context"]["missing"] == "carrier_module"
