"""Shopify REST/webhook Order JSON → canonical Order.

Amounts come from the `*_set.presentment_money` objects when present (the currency the customer
paid in), else from the shop-currency strings. Code discounts live in per-line
`discount_allocations` (a line's `total_discount` stays "0.00"), taxes in per-line and per-shipping
`tax_lines`; when `taxes_included` is true prices already contain tax.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.core.canonical import (
    Customer,
    DiscountAllocation,
    Money,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    ShippingLine,
    TaxLine,
    Totals,
    money_sum,
    order_reconcile,
    to_decimal,
)
from apps.core.errors import PermanentError

from .common import (
    address,
    iso_utc,
    iso_utc_optional,
    items,
    money,
    obj,
    quantity,
    text,
)


class _Amounts:
    """Reads an amount in the order's chosen currency: `<name>_set` first, then `<name>`."""

    def __init__(self, currency: str, side: str) -> None:
        self.currency = currency
        self.side = side  # "presentment_money" or "shop_money"

    def get(self, d: Mapping[str, Any], name: str, *, where: str, default: Any = None) -> Money:
        amount_set = obj(d.get(f"{name}_set"))
        side = obj(amount_set.get(self.side))
        if side.get("amount") not in (None, ""):
            return money(
                side["amount"],
                text(side.get("currency_code")) or self.currency,
                field_name=f"{where}.{name}_set",
            )
        return money(d.get(name), self.currency, field_name=f"{where}.{name}", default=default)


def _taxes(data: Any, amounts: _Amounts, where: str) -> tuple[TaxLine, ...]:
    out = []
    for i, t in enumerate(items(data)):
        t = obj(t)
        rate = t.get("rate")
        out.append(
            TaxLine(
                title=text(t.get("title")),
                amount=amounts.get(t, "price", where=f"{where}.tax_lines[{i}]"),
                rate=to_decimal(rate, field_name=f"{where}.tax_lines[{i}].rate")
                if rate not in (None, "")
                else None,
            )
        )
    return tuple(out)


def _allocations(
    data: Any, amounts: _Amounts, where: str, applications: list[Any]
) -> tuple[DiscountAllocation, ...]:
    out = []
    for i, a in enumerate(items(data)):
        a = obj(a)
        app: Mapping[str, Any] = {}
        idx = a.get("discount_application_index")
        if isinstance(idx, int) and 0 <= idx < len(applications):
            app = obj(applications[idx])
        out.append(
            DiscountAllocation(
                amount=amounts.get(a, "amount", where=f"{where}.discount_allocations[{i}]"),
                code=text(app.get("code")),
                title=text(app.get("title")) or text(app.get("description")),
            )
        )
    return tuple(out)


def order_from_shopify(payload: Mapping[str, Any], *, channel: str) -> Order:
    shop_currency = text(payload.get("currency")).upper()
    currency = text(payload.get("presentment_currency")).upper() or shop_currency
    if not currency:
        raise PermanentError("currency is missing", field="currency")
    side = "presentment_money" if currency != shop_currency else "shop_money"
    amounts = _Amounts(currency, side)
    applications = items(payload.get("discount_applications"))

    lines = []
    for i, li in enumerate(items(payload.get("line_items"))):
        li = obj(li)
        where = f"line_items[{i}]"
        qty = quantity(li.get("quantity"), field_name=f"{where}.quantity")
        unit = amounts.get(li, "price", where=where)
        lines.append(
            OrderLine(
                external_line_id=text(li.get("id")),
                sku=text(li.get("sku")),
                name=text(li.get("name")) or text(li.get("title")),
                quantity=qty,
                unit_price=unit,
                subtotal=(unit * qty),
                discounts=_allocations(
                    li.get("discount_allocations"), amounts, where, applications
                ),
                taxes=_taxes(li.get("tax_lines"), amounts, where),
                product_external_id=text(li.get("product_id")),
                variant_external_id=text(li.get("variant_id")),
                properties=tuple(
                    (text(obj(p).get("name")), text(obj(p).get("value")))
                    for p in items(li.get("properties"))
                ),
            )
        )

    shipping = []
    for i, sl in enumerate(items(payload.get("shipping_lines"))):
        sl = obj(sl)
        where = f"shipping_lines[{i}]"
        shipping.append(
            ShippingLine(
                title=text(sl.get("title")),
                price=amounts.get(sl, "price", where=where),
                code=text(sl.get("code")),
                carrier=text(sl.get("carrier_identifier")) or text(sl.get("source")),
                external_id=text(sl.get("id")),
                discounts=_allocations(
                    sl.get("discount_allocations"), amounts, where, applications
                ),
                taxes=_taxes(sl.get("tax_lines"), amounts, where),
            )
        )

    cust = obj(payload.get("customer"))
    customer = None
    if cust or payload.get("email"):
        customer = Customer(
            external_id=text(cust.get("id")),
            email=text(cust.get("email")) or text(payload.get("email")),
            first_name=text(cust.get("first_name")),
            last_name=text(cust.get("last_name")),
            phone=text(cust.get("phone")) or text(payload.get("phone")),
            is_guest=not cust,
            tax_exempt=bool(cust.get("tax_exempt")),
            created_at=iso_utc_optional(cust.get("created_at"), field_name="customer.created_at"),
        )

    order = Order(
        channel=channel,
        external_id=text(payload.get("id")),
        number=text(payload.get("name")) or text(payload.get("order_number")),
        created_at=iso_utc(payload.get("created_at"), field_name="created_at"),
        updated_at=iso_utc_optional(payload.get("updated_at"), field_name="updated_at"),
        cancelled_at=iso_utc_optional(payload.get("cancelled_at"), field_name="cancelled_at"),
        currency=currency,
        lines=tuple(lines),
        shipping_lines=tuple(shipping),
        totals=Totals(
            subtotal=amounts.get(payload, "subtotal_price", where="order", default="0"),
            discounts=amounts.get(payload, "total_discounts", where="order", default="0"),
            shipping=amounts.get(payload, "total_shipping_price", where="order", default="0")
            if payload.get("total_shipping_price_set")
            else money_sum((s.price for s in shipping), currency),
            tax=amounts.get(payload, "total_tax", where="order", default="0"),
            total=amounts.get(payload, "total_price", where="order"),
        ),
        financial_status=text(payload.get("financial_status")) or "pending",
        source_status=text(payload.get("financial_status")),
        customer=customer,
        billing_address=address(payload.get("billing_address")),
        shipping_address=address(payload.get("shipping_address")),
        discount_codes=tuple(
            text(obj(d).get("code")) for d in items(payload.get("discount_codes"))
        ),
        taxes_included=bool(payload.get("taxes_included")),
        note=text(payload.get("note")),
        attributes=tuple(
            (text(obj(a).get("name")), text(obj(a).get("value")))
            for a in items(payload.get("note_attributes"))
        ),
        po_number=text(payload.get("po_number")),
        tags=tuple(t.strip() for t in text(payload.get("tags")).split(",") if t.strip()),
        refunds=tuple(
            refund_from_shopify(r, currency=currency, side=side)
            for r in items(payload.get("refunds"))
        ),
        shop_currency=shop_currency if shop_currency != currency else "",
        shop_total=_Amounts(shop_currency, "shop_money").get(payload, "total_price", where="order")
        if shop_currency and shop_currency != currency
        else None,
    )
    order_reconcile(order=order)
    return order


def refund_from_shopify(
    payload: Mapping[str, Any], *, currency: str, side: str = "shop_money"
) -> Refund:
    """A Shopify Refund resource (refunds/create webhook, or an order's `refunds[]`)."""
    payload = obj(payload)
    amounts = _Amounts(currency, side)
    paid_back = money_sum(
        (
            amounts.get(obj(t), "amount", where=f"refund.transactions[{i}]")
            for i, t in enumerate(items(payload.get("transactions")))
            if text(obj(t).get("kind")) == "refund" and text(obj(t).get("status")) == "success"
        ),
        currency,
    )
    lines = []
    for i, rl in enumerate(items(payload.get("refund_line_items"))):
        rl = obj(rl)
        item = obj(rl.get("line_item"))
        lines.append(
            RefundLine(
                external_line_id=text(rl.get("line_item_id")),
                quantity=quantity(
                    rl.get("quantity"), field_name=f"refund_line_items[{i}].quantity"
                ),
                sku=text(item.get("sku")),
                # subtotal is a JSON number in Shopify's own fixtures; *_set carries a string.
                amount=amounts.get(rl, "subtotal", where=f"refund_line_items[{i}]", default="0"),
                restock=text(rl.get("restock_type")) in ("return", "cancel", "legacy_restock"),
            )
        )
    return Refund(
        external_id=text(payload.get("id")),
        order_external_id=text(payload.get("order_id")),
        amount=paid_back,
        created_at=iso_utc_optional(payload.get("created_at"), field_name="refund.created_at"),
        reason=text(payload.get("note")),
        lines=tuple(lines),
    )
