"""Channel order JSON → canonical Order, with totals reconciled to the cent."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.core.canonical import Money
from apps.core.errors import PermanentError
from apps.sales_channels.translators import (
    order_from_b2b,
    order_from_bigcommerce,
    order_from_shopify,
    order_from_woocommerce,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "channels"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def usd(value: str) -> Money:
    return Money(Decimal(value), "USD")


def test_shopify_scenario_allocates_the_code_discount_to_lines() -> None:
    # given the CHANNELS.md scenario as a Shopify orders/create body
    payload = load("shopify_order.json")
    # when
    order = order_from_shopify(payload, channel="demo-shopify")
    # then
    assert order.external_id == "5912345678901"
    assert order.number == "#1042"
    assert order.created_at == dt.datetime(2025, 1, 14, 15, 4, 5, tzinfo=dt.UTC)
    assert order.currency == "USD"
    tshirt, mug = order.lines
    assert (tshirt.sku, tshirt.quantity, tshirt.unit_price) == ("TSHIRT-BLU-M", 2, usd("25.00"))
    assert tshirt.discount_total == usd("5.00") and tshirt.discounts[0].code == "WELCOME10"
    assert mug.discount_total == usd("1.25")
    assert tshirt.taxes[0].rate == Decimal("0.08") and tshirt.tax_total == usd("3.60")
    assert order.shipping_lines[0].price == usd("5.99")
    assert order.totals.total == usd("66.74")
    assert order.computed_total().cents() == usd("66.74")
    assert order.discount_codes == ("WELCOME10",)
    assert order.customer is not None and order.customer.email == "maria.lopez@example.com"
    assert order.shipping_address is not None and order.shipping_address.country_code == "US"
    assert order.attributes == (("delivery_window", "after 5pm"),)
    assert tshirt.properties == (("Gift message", "Feliz cumpleaños"),)
    assert order.financial_status == "paid"
    assert order.tags == ("vip", "newsletter")


def test_shopify_presentment_currency_several_taxes_taxed_shipping_free_line() -> None:
    # given an order charged in EUR in a USD shop, GST+PST on lines and on shipping, a free gift,
    # unicode names, no customer, no billing address and no note
    payload = load("shopify_order_presentment_multitax.json")
    # when
    order = order_from_shopify(payload, channel="demo-shopify")
    # then amounts are the presentment (customer) ones
    assert order.currency == "EUR"
    assert order.totals.total == Money(Decimal("79.49"), "EUR")
    assert order.shop_currency == "USD" and order.shop_total == usd("85.85")
    hoodie, mug, gift = order.lines
    assert [t.title for t in hoodie.taxes] == ["GST", "PST"]
    assert mug.name == "Café Crème — Tasse ☕" and mug.subtotal == Money(Decimal("29.97"), "EUR")
    assert gift.sku == "STICKER-ÜBER" and gift.subtotal.amount == 0 and gift.taxes == ()
    assert order.shipping_lines[0].tax_total == Money(Decimal("0.96"), "EUR")
    assert order.tax_total() == Money(Decimal("8.52"), "EUR")
    assert order.customer is None and order.billing_address is None and order.note == ""
    assert order.shipping_address is not None and order.shipping_address.first_name == "Zoë"
    assert order.financial_status == "authorized"


def test_shopify_taxes_included_are_not_added_twice() -> None:
    # given prices that contain VAT (a typical EU shop)
    payload = load("shopify_order.json")
    payload["taxes_included"] = True
    payload["total_price"] = "62.24"
    payload["total_price_set"] = {
        "shop_money": {"amount": "62.24", "currency_code": "USD"},
        "presentment_money": {"amount": "62.24", "currency_code": "USD"},
    }
    # when / then lines - discounts + shipping = total, tax inside
    order = order_from_shopify(payload, channel="s")
    assert order.taxes_included and order.totals.total == usd("62.24")


def test_shopify_mismatched_total_names_the_difference() -> None:
    # given a total one cent off
    payload = load("shopify_order.json")
    payload["total_price"] = "66.75"
    payload["total_price_set"]["shop_money"]["amount"] = "66.75"
    payload["total_price_set"]["presentment_money"]["amount"] = "66.75"
    # when / then
    with pytest.raises(PermanentError) as info:
        order_from_shopify(payload, channel="demo-shopify")
    err = info.value
    assert "66.75" in err.message and "66.74" in err.message and "0.01" in err.message
    assert err.context["difference"] == "0.01"
    assert err.context["reported_total"] == "66.75"
    assert err.context["computed_total"] == "66.74"
    assert err.context["external_id"] == "5912345678901"


def test_shopify_missing_optional_fields() -> None:
    # given a minimal body: no customer, addresses, shipping, discounts, taxes, note or tags
    payload = {
        "id": 1,
        "name": "#1001",
        "created_at": "2025-01-14T10:04:05Z",
        "currency": "USD",
        "financial_status": "paid",
        "total_price": "12.50",
        "line_items": [
            {"id": 9, "sku": "MUG-WHT-11OZ", "title": "Mug", "quantity": 1, "price": "12.50"}
        ],
    }
    # when
    order = order_from_shopify(payload, channel="s")
    # then
    assert order.customer is None and order.shipping_lines == () and order.discount_codes == ()
    assert order.lines[0].name == "Mug"


def test_woocommerce_scenario() -> None:
    # given the scenario as a WooCommerce order.updated body (line price is a JSON number)
    payload = load("woocommerce_order.json")
    # when
    order = order_from_woocommerce(payload, channel="demo-woo")
    # then
    assert order.created_at == dt.datetime(2025, 1, 14, 15, 4, 5, tzinfo=dt.UTC)
    assert order.updated_at == dt.datetime(2025, 1, 14, 15, 5, 11, tzinfo=dt.UTC)
    tshirt, mug = order.lines
    assert tshirt.subtotal == usd("50.00") and tshirt.discount_total == usd("5.00")
    assert tshirt.unit_price == usd("25.00")
    assert tshirt.discounts[0].code == "welcome10"
    assert tshirt.taxes[0].amount == usd("3.60") and tshirt.taxes[0].rate == Decimal("0.08")
    assert tshirt.taxes[0].title == "State Tax"
    assert tshirt.variant_external_id == "95" and mug.variant_external_id == ""
    assert ("Color", "Blue") in tshirt.properties
    assert mug.name == "Mug 11oz – white"
    assert order.totals.total == usd("66.74")
    assert order.financial_status == "paid"
    assert order.customer is not None and order.customer.external_id == "26"
    assert order.attributes == (("delivery_window", "after 5pm"),)  # _private meta hidden


def test_woocommerce_refund_arrives_as_order_updated() -> None:
    # given the same order after a partial refund (WooCommerce keeps `total`, adds refunds[])
    payload = load("woocommerce_order.json")
    payload["refunds"] = [{"id": 801, "reason": "damaged mug", "total": "-12.15"}]
    # when
    order = order_from_woocommerce(payload, channel="demo-woo")
    # then
    assert order.financial_status == "partially_refunded"
    assert order.refunds[0].amount == usd("12.15") and order.refunds[0].reason == "damaged mug"
    assert order.totals.total == usd("66.74")


def test_woocommerce_fee_and_taxed_shipping() -> None:
    # given taxed shipping and a fee
    payload = copy.deepcopy(load("woocommerce_order.json"))
    payload["shipping_lines"][0].update(total_tax="0.48", taxes=[{"id": 75, "total": "0.4792"}])
    payload["fee_lines"] = [
        {
            "id": 9,
            "name": "Gift wrap",
            "total": "2.00",
            "total_tax": "0.16",
            "taxes": [{"id": 75, "total": "0.16"}],
        }
    ]
    payload["total"] = "69.38"
    # when
    order = order_from_woocommerce(payload, channel="demo-woo")
    # then
    assert order.shipping_lines[0].tax_total == usd("0.48")
    assert order.fee_lines[0].amount == usd("2.00")
    assert order.computed_total() == usd("69.38")


def test_woocommerce_mismatched_total() -> None:
    payload = load("woocommerce_order.json")
    payload["total"] = "60.00"
    with pytest.raises(PermanentError) as info:
        order_from_woocommerce(payload, channel="demo-woo")
    assert info.value.context["difference"] == "-6.74"


def test_bigcommerce_order_with_products() -> None:
    # given the v2 order and its /products, /shipping_addresses and /coupons responses
    data = load("bigcommerce_order.json")
    # when
    order = order_from_bigcommerce(
        data["order"],
        products=data["products"],
        shipping_addresses=data["shipping_addresses"],
        coupons=data["coupons"],
        channel="demo-bc",
    )
    # then
    assert order.created_at == dt.datetime(2025, 1, 14, 15, 4, 5, tzinfo=dt.UTC)
    assert order.totals.total.cents() == usd("66.74")
    tshirt, mug = order.lines
    assert tshirt.external_line_id == "101"  # the order product id, needed for shipments
    assert tshirt.discount_total.cents() == usd("5.00") and mug.tax_total.cents() == usd("0.90")
    assert order.discounts == ()  # everything was allocated to lines
    assert order.discount_codes == ("WELCOME10",)
    assert order.shipping_lines[0].title == "Flat Rate"
    assert order.financial_status == "paid"
    assert order.note == "Leave with the doorman"


def test_bigcommerce_unallocated_manual_discount_is_an_order_discount() -> None:
    data = load("bigcommerce_order.json")
    data["order"]["discount_amount"] = "2.0000"
    data["order"]["total_inc_tax"] = "64.7400"
    order = order_from_bigcommerce(data["order"], products=data["products"], channel="demo-bc")
    assert order.discounts[0].amount.cents() == usd("2.00")
    assert order.shipping_lines[0].title == "Shipping"


def test_bigcommerce_mismatched_total() -> None:
    data = load("bigcommerce_order.json")
    data["order"]["total_inc_tax"] = "67.7400"
    with pytest.raises(PermanentError, match="difference 1.00 USD"):
        order_from_bigcommerce(data["order"], products=data["products"], channel="demo-bc")


def test_b2b_order() -> None:
    order = order_from_b2b(load("b2b_order.json"), channel="demo-b2b")
    assert order.po_number == "PO-7781" and order.totals.total == usd("66.74")
    assert order.customer is not None and order.customer.vat == "US-12-3456789"
    assert order.billing_address is not None and order.billing_address.country_code == "US"
    assert order.attributes == (("cost_center", "CC-220"),)


def test_b2b_refuses_bad_input() -> None:
    payload = load("b2b_order.json")
    payload["lines"][0]["quantity"] = 2.5
    with pytest.raises(PermanentError, match="whole quantity"):
        order_from_b2b(payload, channel="demo-b2b")
    payload = load("b2b_order.json")
    payload["created_at"] = "2025-01-14T15:04:05"
    with pytest.raises(PermanentError, match="no time zone"):
        order_from_b2b(payload, channel="demo-b2b")
