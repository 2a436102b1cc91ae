"""BigCommerce REST v2 order + its `/products` (and optionally `/shipping_addresses`, `/coupons`).

BigCommerce webhooks are thin ({scope, data: {type, id}}); the order is fetched afterwards and
arrives as three responses, which is why this translator takes them separately. Money is strings
with 4 decimals, dates RFC 2822. Line `total_ex_tax` is before discounts, `applied_discounts`
carry each line's share; whatever part of `discount_amount + coupon_discount` is not allocated to
lines stays an order-level discount. Handling and gift wrapping become fee lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from apps.core.canonical import (
    Customer,
    DiscountAllocation,
    FeeLine,
    FinancialStatus,
    Money,
    Order,
    OrderDiscount,
    OrderLine,
    ShippingLine,
    TaxLine,
    Totals,
    money_sum,
    order_reconcile,
)
from apps.core.errors import PermanentError

from .common import address, items, money, obj, quantity, rfc2822_utc, text

# status_id → normalised financial status (CHANNELS.md §3.1).
_STATUS = {
    0: FinancialStatus.PENDING,  # Incomplete
    1: FinancialStatus.PENDING,  # Pending
    2: FinancialStatus.PAID,  # Shipped
    3: FinancialStatus.PAID,  # Partially Shipped
    4: FinancialStatus.REFUNDED,
    5: FinancialStatus.VOIDED,  # Cancelled
    6: FinancialStatus.VOIDED,  # Declined
    7: FinancialStatus.PENDING,  # Awaiting Payment
    8: FinancialStatus.PAID,  # Awaiting Pickup
    9: FinancialStatus.PAID,  # Awaiting Shipment
    10: FinancialStatus.PAID,  # Completed
    11: FinancialStatus.PAID,  # Awaiting Fulfillment
    12: FinancialStatus.PENDING,  # Manual Verification Required
    13: FinancialStatus.PAID,  # Disputed
    14: FinancialStatus.PARTIALLY_REFUNDED,
}

_ADDRESS = {
    "line1": "street_1",
    "line2": "street_2",
    "postal": "zip",
    "region": "state",
    "region_code": "state",
    "country": "country_iso2",
}


def _tax(amount: Money, title: str = "") -> tuple[TaxLine, ...]:
    return (TaxLine(title=title, amount=amount),) if amount.amount else ()


def _financial_status(order: Mapping[str, Any]) -> str:
    payment = text(order.get("payment_status")).lower()
    status_id = order.get("status_id")
    status = _STATUS.get(status_id if isinstance(status_id, int) else -1, FinancialStatus.PENDING)
    if status == FinancialStatus.PENDING and payment == "authorized":
        return FinancialStatus.AUTHORIZED
    if status == FinancialStatus.PENDING and payment in ("captured", "paid"):
        return FinancialStatus.PAID
    return status


def order_from_bigcommerce(
    order: Mapping[str, Any],
    *,
    products: Sequence[Mapping[str, Any]],
    channel: str,
    shipping_addresses: Sequence[Mapping[str, Any]] = (),
    coupons: Sequence[Mapping[str, Any]] = (),
) -> Order:
    currency = (
        text(order.get("currency_code")) or text(order.get("default_currency_code"))
    ).upper()
    if not currency:
        raise PermanentError("currency_code is missing", field="currency_code")

    def m(d: Mapping[str, Any], name: str, where: str, default: Any = "0") -> Money:
        return money(d.get(name), currency, field_name=f"{where}.{name}", default=default)

    lines = []
    allocated = Money.zero(currency)
    for i, p in enumerate(products):
        p = obj(p)
        where = f"products[{i}]"
        qty = quantity(p.get("quantity"), field_name=f"{where}.quantity")
        discounts = tuple(
            DiscountAllocation(
                amount=m(obj(d), "amount", f"{where}.applied_discounts[{j}]"),
                code=text(obj(d).get("code")),
                title=text(obj(d).get("name")),
            )
            for j, d in enumerate(items(p.get("applied_discounts")))
        )
        allocated = allocated + money_sum((d.amount for d in discounts), currency)
        lines.append(
            OrderLine(
                external_line_id=text(p.get("id")),
                sku=text(p.get("sku")),
                name=text(p.get("name")),
                quantity=qty,
                unit_price=m(p, "price_ex_tax", where, default=None),
                subtotal=m(p, "total_ex_tax", where, default=None),
                discounts=discounts,
                taxes=_tax(m(p, "total_tax", where)),
                product_external_id=text(p.get("product_id")),
                variant_external_id=text(p.get("variant_id")),
                properties=tuple(
                    (text(obj(o).get("display_name")), text(obj(o).get("display_value")))
                    for o in items(p.get("product_options"))
                ),
            )
        )

    shipping_lines = []
    ship_cost = m(order, "shipping_cost_ex_tax", "order")
    ship_addr = obj(shipping_addresses[0]) if shipping_addresses else {}
    if ship_cost.amount or ship_addr:
        shipping_lines.append(
            ShippingLine(
                title=text(ship_addr.get("shipping_method")) or "Shipping",
                price=ship_cost,
                taxes=_tax(m(order, "shipping_cost_tax", "order")),
                external_id=text(ship_addr.get("id")),
            )
        )
    fees = [
        FeeLine(
            title=title,
            amount=m(order, f"{name}_ex_tax", "order"),
            taxes=_tax(m(order, f"{name}_tax", "order")),
        )
        for name, title in (("handling_cost", "Handling"), ("wrapping_cost", "Gift wrapping"))
        if m(order, f"{name}_ex_tax", "order").amount
    ]
    order_discount = m(order, "discount_amount", "order") + m(order, "coupon_discount", "order")
    unallocated = order_discount - allocated
    billing = obj(order.get("billing_address"))
    customer_id = order.get("customer_id")
    canonical = Order(
        channel=channel,
        external_id=text(order.get("id")),
        number=text(order.get("id")),
        created_at=rfc2822_utc(order.get("date_created"), field_name="date_created"),
        updated_at=rfc2822_utc(order.get("date_modified"), field_name="date_modified")
        if text(order.get("date_modified"))
        else None,
        currency=currency,
        lines=tuple(lines),
        shipping_lines=tuple(shipping_lines),
        fee_lines=tuple(fees),
        discounts=(OrderDiscount(amount=unallocated, title="order discount"),)
        if unallocated.amount > 0
        else (),
        discount_codes=tuple(text(obj(c).get("code")) for c in coupons if text(obj(c).get("code"))),
        totals=Totals(
            subtotal=m(order, "subtotal_ex_tax", "order"),
            discounts=order_discount,
            shipping=ship_cost,
            tax=m(order, "total_tax", "order"),
            total=m(order, "total_inc_tax", "order", default=None),
        ),
        financial_status=_financial_status(order),
        source_status=text(order.get("status")),
        customer=Customer(
            external_id=text(customer_id) if customer_id else "",
            email=text(billing.get("email")),
            first_name=text(billing.get("first_name")),
            last_name=text(billing.get("last_name")),
            phone=text(billing.get("phone")),
            company=text(billing.get("company")),
            is_guest=not customer_id,
        ),
        billing_address=address(billing, **_ADDRESS),
        shipping_address=address(ship_addr, **_ADDRESS) if ship_addr else None,
        note=text(order.get("customer_message")),
        taxes_included=False,
    )
    order_reconcile(order=canonical)
    return canonical
