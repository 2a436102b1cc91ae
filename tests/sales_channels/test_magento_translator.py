"""Magento REST orders (composed from CHANNELS.md 4.4's field notes, the shared scenario:
2 × T-shirt as a configurable product, 1 × mug, WELCOME10, 8 % tax, 5.99 shipping = 66.74)
→ canonical orders whose totals reconcile to the cent."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from apps.core.canonical import FinancialStatus
from apps.core.errors import PermanentError
from apps.sales_channels.translators import order_from_magento
from tests.fixtures.channels import channel_data

MONEY_KEYS = ("amount", "total", "price", "tax", "discount", "subtotal", "due", "paid")


def rest_order() -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(channel_data("magento_order.json"))
    return data


def as_strings(value: Any, key: str = "") -> Any:
    """The same order as event payloads and some extensions carry it: every number a string
    with four decimals ("25.0000"), quantities "2.0000", ids "1042"."""
    if isinstance(value, dict):
        return {k: as_strings(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [as_strings(v, key) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) or (
        isinstance(value, int) and (any(m in key for m in MONEY_KEYS) or key.startswith("qty_"))
    ):
        return f"{Decimal(repr(value)):.4f}"
    if isinstance(value, int):
        return str(value)
    return value


def d(text: str) -> Decimal:
    return Decimal(text)


@pytest.mark.parametrize("shape", ["numbers", "strings"])
def test_scenario_configurable_product_discount_and_shipping(shape: str) -> None:
    payload = rest_order() if shape == "numbers" else as_strings(rest_order())
    order = order_from_magento(payload, channel="mg")
    # one line per thing bought: the configurable parent, not its zero-priced child
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [
        ("TSHIRT-BLU-M", 2),
        ("MUG-WHT-11OZ", 1),
    ]
    tshirt, mug = order.lines
    assert tshirt.external_line_id == "3001"  # the parent item: what /V1/order/{id}/ship takes
    assert (tshirt.product_external_id, tshirt.variant_external_id) == ("410", "412")
    assert (mug.product_external_id, mug.variant_external_id) == ("520", "520")
    assert tshirt.unit_price.amount == d("25") and tshirt.subtotal.amount == d("50")
    assert tshirt.discount_total.amount == d("5") and mug.discount_total.amount == d("1.25")
    assert tshirt.discounts[0].code == "WELCOME10"
    assert tshirt.tax_total.amount == d("3.6") and tshirt.taxes[0].rate == d("0.08")
    assert mug.tax_total.amount == d("0.9")
    # the order's -6.25 is the lines' 5.00 + 1.25: nothing left at order level
    assert order.discounts == ()
    assert order.totals.discounts.amount == d("6.25")
    [ship] = order.shipping_lines
    assert (ship.title, ship.code, ship.carrier) == (
        "Flat Rate - Fixed",
        "flatrate_flatrate",
        "flatrate",
    )
    assert ship.price.amount == d("5.99") and ship.taxes == ()
    assert order.shipping_address is not None
    assert order.shipping_address.line1 == "1100 E 6th St"
    assert order.billing_address is not None
    assert (order.billing_address.line1, order.billing_address.line2) == (
        "500 Congress Ave",
        "Suite 200",
    )
    assert order.billing_address.region_code == "TX" and order.billing_address.country_code == "US"
    # totals to the cent
    assert order.totals.total.amount == d("66.74")
    assert order.computed_total().cents().amount == d("66.74")
    assert order.tax_total().amount == d("4.5")
    assert order.number == "000001042" and order.external_id == "1042"
    assert order.created_at == dt.datetime(2025, 1, 14, 15, 4, 5, tzinfo=dt.UTC)
    assert order.updated_at == dt.datetime(2025, 1, 14, 15, 6, 41, tzinfo=dt.UTC)
    assert order.financial_status == FinancialStatus.PAID
    assert order.discount_codes == ("WELCOME10",)
    assert order.taxes_included is False


def test_registered_customer_and_group() -> None:
    order = order_from_magento(rest_order(), channel="mg")
    assert order.customer is not None
    assert (order.customer.external_id, order.customer.is_guest) == ("87", False)
    assert (order.customer.first_name, order.customer.last_name) == ("Maria", "Lopez")
    assert order.customer.email == "maria.lopez@example.com"
    assert ("customer_group_id", "1") in order.attributes
    assert ("increment_id", "000001042") in order.attributes


@pytest.mark.parametrize("guest_flag", [1, "1", True])
def test_guest_customer(guest_flag: Any) -> None:
    payload = rest_order()
    payload.update(customer_id=None, customer_is_guest=guest_flag, customer_group_id=0)
    order = order_from_magento(payload, channel="mg")
    assert order.customer is not None
    assert order.customer.is_guest is True and order.customer.external_id == ""
    assert order.customer.email == "maria.lopez@example.com"
    assert ("customer_group_id", "0") in order.attributes


def test_company_account_order_belongs_to_the_company() -> None:
    payload = rest_order()
    payload["customer_group_id"] = 4
    payload["payment"]["method"] = "purchaseorder"
    payload["payment"]["po_number"] = "PO-7781"
    payload["extension_attributes"]["company_order_attributes"] = {
        "order_id": 1042,
        "company_id": 12,
        "company_name": "Acme Distribution LLC",
    }
    order = order_from_magento(payload, channel="mg")
    assert order.customer is not None
    # the key a customer binding maps to the Odoo company; the buyer is kept as attributes
    assert order.customer.external_id == "company:12"
    assert order.customer.company == "Acme Distribution LLC"
    assert (order.customer.first_name, order.customer.last_name) == ("", "")
    assert order.customer.is_guest is False
    assert order.po_number == "PO-7781"
    assert ("company_id", "12") in order.attributes
    assert ("buyer_customer_id", "87") in order.attributes
    assert ("customer_group_id", "4") in order.attributes


def test_order_level_discount_not_on_lines_and_shipping_discount() -> None:
    payload = rest_order()
    # a cart rule of 2.00 on shipping and 3.00 the store applied without line allocation
    payload["shipping_discount_amount"] = 2
    payload["discount_amount"] = -(6.25 + 2 + 3)
    payload["grand_total"] = round(66.74 - 5, 2)
    order = order_from_magento(payload, channel="mg")
    [ship] = order.shipping_lines
    assert ship.discount_total.amount == d("2")
    [rest] = order.discounts
    assert rest.amount.amount == d("3") and rest.code == "WELCOME10"
    assert order.computed_total().cents().amount == d("61.74")


def test_a_positive_order_discount_is_read_as_the_same_discount() -> None:
    payload = rest_order()
    payload["discount_amount"] = 6.25  # some extensions write it unsigned (tolerated)
    assert order_from_magento(payload, channel="mg").totals.discounts.amount == d("6.25")


def test_taxed_shipping_and_hidden_tax_compensation() -> None:
    payload = as_strings(rest_order())
    payload["shipping_tax_amount"] = "0.4800"
    payload["tax_amount"] = "4.9800"
    payload["items"][0]["discount_tax_compensation_amount"] = "0.0100"
    payload["grand_total"] = "67.2300"
    order = order_from_magento(payload, channel="mg")
    assert order.shipping_lines[0].tax_total.amount == d("0.48")
    assert order.lines[0].tax_total.amount == d("3.61")
    assert order.computed_total().cents().amount == d("67.23")


def test_gift_card_and_store_credit_lower_the_total() -> None:
    payload = rest_order()
    payload.update(gift_cards_amount=10, customer_balance_amount=6.74, grand_total=50)
    order = order_from_magento(payload, channel="mg")
    assert [(x.title, x.amount.amount) for x in order.discounts] == [
        ("gift card", d("10")),
        ("store credit", d("6.74")),
    ]
    assert order.computed_total().cents().amount == d("50.00")


def test_bundle_children_carry_the_prices() -> None:
    payload = rest_order()
    parent = copy.deepcopy(payload["items"][2])
    parent.update(
        item_id=3010,
        sku="GIFT-BOX",
        product_type="bundle",
        price=0,
        row_total=0,
        tax_amount=0,
        discount_amount=0,
        qty_ordered=1,
        product_id=600,
    )
    payload["items"][2]["parent_item_id"] = 3010
    payload["items"].insert(2, parent)
    order = order_from_magento(payload, channel="mg")
    assert [ln.sku for ln in order.lines] == ["TSHIRT-BLU-M", "MUG-WHT-11OZ"]
    assert order.computed_total().cents().amount == d("66.74")


@pytest.mark.parametrize(
    ("state", "changes", "expected"),
    [
        ("new", {"total_paid": 0, "total_invoiced": 0}, FinancialStatus.PENDING),
        (
            "payment_review",
            {"total_paid": 0, "payment": {"amount_authorized": 66.74}},
            FinancialStatus.AUTHORIZED,
        ),
        ("canceled", {}, FinancialStatus.VOIDED),
        ("closed", {"total_refunded": 66.74}, FinancialStatus.REFUNDED),
        ("processing", {"total_refunded": 12.5}, FinancialStatus.PARTIALLY_REFUNDED),
        ("complete", {}, FinancialStatus.PAID),
    ],
)
def test_financial_status(state: str, changes: dict[str, Any], expected: str) -> None:
    payload = rest_order()
    payload["state"] = state
    for key, value in changes.items():
        if isinstance(value, dict):
            payload[key].update(value)
        else:
            payload[key] = value
    order = order_from_magento(payload, channel="mg")
    assert order.financial_status == expected
    assert (order.cancelled_at is not None) == (state == "canceled")


def test_totals_that_do_not_reconcile_name_the_difference() -> None:
    payload = rest_order()
    payload["grand_total"] = 70
    with pytest.raises(PermanentError) as err:
        order_from_magento(payload, channel="mg")
    assert "difference 3.26 USD" in str(err.value)
    assert err.value.context["order_number"] == "000001042"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("order_currency_code", "", "order_currency_code is missing"),
        ("created_at", "14/01/2025", "created_at"),
        ("grand_total", None, "grand_total is missing"),
    ],
)
def test_bad_input_is_a_permanent_error(field: str, value: Any, message: str) -> None:
    payload = rest_order()
    payload[field] = value
    if field == "order_currency_code":
        payload["base_currency_code"] = ""
    with pytest.raises(PermanentError, match=message):
        order_from_magento(payload, channel="mg")


def test_fractional_quantity_is_refused() -> None:
    payload = rest_order()
    payload["items"][2]["qty_ordered"] = 1.5
    with pytest.raises(PermanentError, match="not a whole quantity"):
        order_from_magento(payload, channel="mg")


def test_virtual_order_without_shipping_assignments() -> None:
    payload = rest_order()
    payload["extension_attributes"] = {}
    payload.update(shipping_amount=0, grand_total=60.75, shipping_description=None)
    order = order_from_magento(payload, channel="mg")
    assert order.shipping_lines == () and order.shipping_address is None
    assert order.computed_total().cents().amount == d("60.75")
