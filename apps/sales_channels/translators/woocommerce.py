"""WooCommerce wc/v3 Order JSON (the `order.*` webhook body) → canonical Order.

Quirks handled here: line `price` is a JSON number (we use the `subtotal`/`total` strings
instead); line amounts are always ex-tax, even when the shop enters prices with tax, so
`taxes_included` is false; dates have no zone, their `_gmt` twins are UTC; a line's discount is
`subtotal - total`; refunds arrive as `order.updated` with a `refunds[]` list of negative totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from apps.core.canonical import (
    Customer,
    DiscountAllocation,
    FeeLine,
    FinancialStatus,
    Money,
    Order,
    OrderLine,
    Refund,
    ShippingLine,
    TaxLine,
    Totals,
    money_sum,
    order_reconcile,
    to_decimal,
)
from apps.core.errors import PermanentError

from .common import address, iso_utc, iso_utc_optional, items, money, obj, quantity, text


def _rates(payload: Mapping[str, Any]) -> dict[str, tuple[str, Decimal | None]]:
    """tax rate id -> (label, rate as a fraction) from the order's `tax_lines`."""
    out: dict[str, tuple[str, Decimal | None]] = {}
    for t in items(payload.get("tax_lines")):
        t = obj(t)
        pct = t.get("rate_percent")
        rate = (
            to_decimal(pct, field_name="tax_lines.rate_percent") / 100
            if pct
            not in (
                None,
                "",
            )
            else None
        )
        out[text(t.get("rate_id"))] = (text(t.get("label")) or text(t.get("rate_code")), rate)
    return out


def _taxes(
    line: Mapping[str, Any],
    total_tax: Money,
    rates: Mapping[str, tuple[str, Decimal | None]],
    where: str,
) -> tuple[TaxLine, ...]:
    entries = [obj(t) for t in items(line.get("taxes")) if text(obj(t).get("total"))]
    if len(entries) > 1:
        return tuple(
            TaxLine(
                title=rates.get(text(t.get("id")), ("", None))[0],
                amount=money(t.get("total"), total_tax.currency, field_name=f"{where}.taxes"),
                rate=rates.get(text(t.get("id")), ("", None))[1],
            )
            for t in entries
        )
    if not total_tax.amount:
        return ()
    # One rate (the common case): the rounded total_tax is authoritative, `taxes[].total` may
    # carry unrounded digits.
    label, rate = rates.get(text(entries[0].get("id")), ("", None)) if entries else ("", None)
    return (TaxLine(title=label, amount=total_tax, rate=rate),)


def _financial_status(payload: Mapping[str, Any]) -> str:
    status = text(payload.get("status"))
    refunded = bool(items(payload.get("refunds")))
    if status == "refunded":
        return FinancialStatus.REFUNDED
    if status in ("cancelled", "failed", "trash"):
        return FinancialStatus.VOIDED
    if status in ("processing", "completed") or text(payload.get("date_paid_gmt")):
        return FinancialStatus.PARTIALLY_REFUNDED if refunded else FinancialStatus.PAID
    if status == "on-hold" and text(payload.get("transaction_id")):
        # A gateway that authorises without capturing parks the order on-hold with a transaction.
        return FinancialStatus.AUTHORIZED
    return FinancialStatus.PENDING


def order_from_woocommerce(payload: Mapping[str, Any], *, channel: str) -> Order:
    currency = text(payload.get("currency")).upper()
    if not currency:
        raise PermanentError("currency is missing", field="currency")
    rates = _rates(payload)
    coupons = [text(obj(c).get("code")) for c in items(payload.get("coupon_lines"))]
    single_code = coupons[0] if len(coupons) == 1 else ""

    lines = []
    for i, li in enumerate(items(payload.get("line_items"))):
        li = obj(li)
        where = f"line_items[{i}]"
        qty = quantity(li.get("quantity"), field_name=f"{where}.quantity")
        subtotal = money(li.get("subtotal"), currency, field_name=f"{where}.subtotal")
        total = money(li.get("total"), currency, field_name=f"{where}.total")
        discount = subtotal - total
        total_tax = money(
            li.get("total_tax"), currency, field_name=f"{where}.total_tax", default="0"
        )
        lines.append(
            OrderLine(
                external_line_id=text(li.get("id")),
                sku=text(li.get("sku")),
                name=text(li.get("name")),
                quantity=qty,
                unit_price=Money(subtotal.amount / qty, currency) if qty else subtotal,
                subtotal=subtotal,
                discounts=(DiscountAllocation(amount=discount, code=single_code),)
                if discount.amount
                else (),
                taxes=_taxes(li, total_tax, rates, where),
                product_external_id=text(li.get("product_id")),
                variant_external_id=text(li.get("variation_id")) if li.get("variation_id") else "",
                properties=tuple(
                    (
                        text(obj(m).get("display_key")) or text(obj(m).get("key")),
                        text(obj(m).get("display_value")) or text(obj(m).get("value")),
                    )
                    for m in items(li.get("meta_data"))
                    if not text(obj(m).get("key")).startswith("_")
                    and not isinstance(obj(m).get("value"), (dict, list))
                ),
            )
        )

    shipping = []
    for i, sl in enumerate(items(payload.get("shipping_lines"))):
        sl = obj(sl)
        where = f"shipping_lines[{i}]"
        tax = money(sl.get("total_tax"), currency, field_name=f"{where}.total_tax", default="0")
        shipping.append(
            ShippingLine(
                title=text(sl.get("method_title")),
                price=money(sl.get("total"), currency, field_name=f"{where}.total"),
                code=text(sl.get("method_id")),
                external_id=text(sl.get("id")),
                taxes=_taxes(sl, tax, rates, where),
            )
        )

    fees = []
    for i, fl in enumerate(items(payload.get("fee_lines"))):
        fl = obj(fl)
        where = f"fee_lines[{i}]"
        tax = money(fl.get("total_tax"), currency, field_name=f"{where}.total_tax", default="0")
        fees.append(
            FeeLine(
                title=text(fl.get("name")),
                amount=money(fl.get("total"), currency, field_name=f"{where}.total"),
                taxes=_taxes(fl, tax, rates, where),
                external_id=text(fl.get("id")),
            )
        )

    billing = obj(payload.get("billing"))
    customer_id = payload.get("customer_id")
    customer = Customer(
        external_id=text(customer_id) if customer_id else "",
        email=text(billing.get("email")),
        first_name=text(billing.get("first_name")),
        last_name=text(billing.get("last_name")),
        phone=text(billing.get("phone")),
        company=text(billing.get("company")),
        is_guest=not customer_id,
    )
    addr = {
        "line1": "address_1",
        "line2": "address_2",
        "postal": "postcode",
        "region": "state",
        "region_code": "state",
        "country": "country",
    }
    meta = {
        text(obj(m).get("key")): obj(m).get("value")
        for m in items(payload.get("meta_data"))
        if isinstance(obj(m).get("value"), (str, int))
    }
    created = payload.get("date_created_gmt")
    order = Order(
        channel=channel,
        external_id=text(payload.get("id")),
        number=text(payload.get("number")) or text(payload.get("id")),
        created_at=iso_utc(created, field_name="date_created_gmt", assume_utc=True)
        if text(created)
        else iso_utc(payload.get("date_created"), field_name="date_created"),
        updated_at=iso_utc_optional(
            payload.get("date_modified_gmt"), field_name="date_modified_gmt", assume_utc=True
        ),
        currency=currency,
        lines=tuple(lines),
        shipping_lines=tuple(shipping),
        fee_lines=tuple(fees),
        totals=Totals(
            subtotal=money_sum((ln.subtotal for ln in lines), currency),
            discounts=money(
                payload.get("discount_total"), currency, field_name="discount_total", default="0"
            ),
            shipping=money(
                payload.get("shipping_total"), currency, field_name="shipping_total", default="0"
            ),
            tax=money(payload.get("total_tax"), currency, field_name="total_tax", default="0"),
            total=money(payload.get("total"), currency, field_name="total"),
        ),
        financial_status=_financial_status(payload),
        source_status=text(payload.get("status")),
        customer=customer if (customer.email or customer.external_id) else None,
        billing_address=address(billing, **addr),
        shipping_address=address(payload.get("shipping"), **addr),
        discount_codes=tuple(c for c in coupons if c),
        taxes_included=False,
        note=text(payload.get("customer_note")),
        attributes=tuple((k, text(v)) for k, v in meta.items() if k and not k.startswith("_")),
        po_number=text(meta.get("po_number") or meta.get("_po_number")),
        refunds=tuple(
            Refund(
                external_id=text(obj(r).get("id")),
                order_external_id=text(payload.get("id")),
                amount=Money(
                    abs(money(obj(r).get("total"), currency, field_name="refunds.total").amount),
                    currency,
                ),
                reason=text(obj(r).get("reason")),
            )
            for r in items(payload.get("refunds"))
        ),
    )
    order_reconcile(order=order)
    return order
