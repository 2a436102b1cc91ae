"""Our B2B order API JSON (POST /api/v1/orders by a portal) → canonical Order.

The format is ours, so it is strict: money as decimal strings (numbers are accepted and read
through their repr), an ISO 8601 `created_at` with a zone, and `totals.total` that must add up.

    {"external_id": "PO-7781", "number": "PO-7781", "po_number": "PO-7781",
     "created_at": "2025-01-14T15:04:05Z", "currency": "EUR", "financial_status": "authorized",
     "customer": {"external_id": "ACME", "email": "...", "first_name": "...", "last_name": "...",
                  "company": "...", "vat": "..."},
     "billing_address": {...}, "shipping_address": {...},      # Address field names
     "lines": [{"line_id": "1", "sku": "...", "name": "...", "quantity": 10,
                "unit_price": "25.00", "discount": "5.00", "tax": "3.60", "tax_rate": "0.08"}],
     "shipping": {"title": "...", "price": "5.99", "tax": "0"},
     "totals": {"total": "66.74"}, "note": "...", "attributes": {"cost_center": "..."}}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.core.canonical import (
    Address,
    Customer,
    DiscountAllocation,
    FinancialStatus,
    Money,
    Order,
    OrderLine,
    ShippingLine,
    TaxLine,
    Totals,
    money_sum,
    order_reconcile,
    to_decimal,
)
from apps.core.errors import PermanentError

from .common import iso_utc, items, money, obj, quantity, text

_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "region_code",
    "postal_code",
    "country_code",
    "phone",
    "email",
)


def _address(data: Any) -> Address | None:
    d = obj(data)
    if not d:
        return None
    values = {f: text(d.get(f)) for f in _ADDRESS_FIELDS}
    values["country_code"] = values["country_code"].upper()
    return Address(**values)


def _tax(amount: Money, rate: Any, where: str) -> tuple[TaxLine, ...]:
    if not amount.amount:
        return ()
    return (
        TaxLine(
            title="",
            amount=amount,
            rate=to_decimal(rate, field_name=f"{where}.tax_rate")
            if rate not in (None, "")
            else None,
        ),
    )


def order_from_b2b(payload: Mapping[str, Any], *, channel: str) -> Order:
    currency = text(payload.get("currency")).upper()
    if not currency:
        raise PermanentError("currency is required", field="currency")
    lines = []
    for i, li in enumerate(items(payload.get("lines"))):
        li = obj(li)
        where = f"lines[{i}]"
        qty = quantity(li.get("quantity"), field_name=f"{where}.quantity")
        unit = money(li.get("unit_price"), currency, field_name=f"{where}.unit_price")
        disc = money(li.get("discount"), currency, field_name=f"{where}.discount", default="0")
        lines.append(
            OrderLine(
                external_line_id=text(li.get("line_id")) or str(i + 1),
                sku=text(li.get("sku")),
                name=text(li.get("name")),
                quantity=qty,
                unit_price=unit,
                subtotal=unit * qty,
                discounts=(DiscountAllocation(amount=disc),) if disc.amount else (),
                taxes=_tax(
                    money(li.get("tax"), currency, field_name=f"{where}.tax", default="0"),
                    li.get("tax_rate"),
                    where,
                ),
            )
        )
    if not lines:
        raise PermanentError("an order needs at least one line", field="lines")
    ship = obj(payload.get("shipping"))
    shipping = (
        (
            ShippingLine(
                title=text(ship.get("title")) or "Shipping",
                price=money(ship.get("price"), currency, field_name="shipping.price", default="0"),
                taxes=_tax(
                    money(ship.get("tax"), currency, field_name="shipping.tax", default="0"),
                    ship.get("tax_rate"),
                    "shipping",
                ),
            ),
        )
        if ship
        else ()
    )
    cust = obj(payload.get("customer"))
    totals = obj(payload.get("totals"))
    status = text(payload.get("financial_status")) or FinancialStatus.AUTHORIZED
    if status not in FinancialStatus.ALL:
        raise PermanentError(
            f"financial_status {status!r} is not one of {', '.join(FinancialStatus.ALL)}",
            field="financial_status",
        )
    order = Order(
        channel=channel,
        external_id=text(payload.get("external_id")),
        number=text(payload.get("number")) or text(payload.get("external_id")),
        created_at=iso_utc(payload.get("created_at"), field_name="created_at"),
        currency=currency,
        lines=tuple(lines),
        shipping_lines=shipping,
        totals=Totals(
            subtotal=money_sum((ln.subtotal for ln in lines), currency),
            discounts=money_sum((ln.discount_total for ln in lines), currency),
            shipping=money_sum((s.price for s in shipping), currency),
            tax=money_sum((ln.tax_total for ln in lines), currency),
            total=money(totals.get("total"), currency, field_name="totals.total"),
        ),
        financial_status=status,
        source_status=status,
        customer=Customer(
            external_id=text(cust.get("external_id")),
            email=text(cust.get("email")),
            first_name=text(cust.get("first_name")),
            last_name=text(cust.get("last_name")),
            phone=text(cust.get("phone")),
            company=text(cust.get("company")),
            vat=text(cust.get("vat")),
        )
        if cust
        else None,
        billing_address=_address(payload.get("billing_address")),
        shipping_address=_address(payload.get("shipping_address")),
        note=text(payload.get("note")),
        attributes=tuple((text(k), text(v)) for k, v in obj(payload.get("attributes")).items()),
        po_number=text(payload.get("po_number")),
    )
    if not order.external_id:
        raise PermanentError("external_id is required", field="external_id")
    order_reconcile(order=order)
    return order
