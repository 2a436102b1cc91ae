"""Adobe Commerce / Magento 2 REST order (`GET /V1/orders/{id}`, or an item of the orders search)
→ canonical Order (CHANNELS.md 4.4).

- Money arrives as JSON numbers in REST (`25`, `66.74`) and as strings in event payloads and
  some extensions (`"25.0000"`): both are read exactly (Decimal, never float arithmetic).
- Dates are `YYYY-MM-DD HH:MM:SS` in UTC without a zone marker.
- A configurable product appears twice: the parent line (type `configurable`, the child's SKU,
  the price, tax and discount) and the child line (type `simple`, price 0, `parent_item_id`).
  One canonical line is made from the parent (its `item_id` is what `/V1/order/{id}/ship`
  takes); the child only contributes its product id as the variant. Children of other parents
  (bundles) are kept when they carry money and the parent is kept only when it does
  (UNCONFIRMED against a live bundle order: the totals check catches a misreading).
- `discount_amount` is negative on the order and positive on lines; the order's discount minus
  the lines' and the shipping's discounts is an order-level discount (its sign is read
  tolerantly: a positive order value is taken as the same discount).
- Shipping (address, `method` `<carrier>_<method>`) comes from
  `extension_attributes.shipping_assignments[0].shipping`; amounts from the order.
- Customers: `customer_is_guest` / a null `customer_id` make a guest; `customer_group_id`
  goes to the attributes. An Adobe Commerce B2B order
  (`extension_attributes.company_order_attributes.company_id`, field name UNCONFIRMED on a live
  B2B store) is the company's: the customer key is `company:<id>`, the partner a company named
  after it, so a customer binding `company:<id>` → the Odoo company puts every buyer's order
  on that company. `payment.po_number` is the PO number.
- Gift cards, store credit and reward points (Adobe Commerce) reduce `grand_total` without
  being discounts; they are order-level deductions here, so the totals reconcile.
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
    OrderDiscount,
    OrderLine,
    ShippingLine,
    TaxLine,
    Totals,
    money_sum,
    order_reconcile,
    to_decimal,
)
from apps.core.errors import PermanentError

from .common import iso_utc, iso_utc_optional, items, money, obj, quantity, text

# Adobe Commerce amounts that lower grand_total but are not discounts (positive numbers).
_DEDUCTIONS = (
    ("gift_cards_amount", "gift card"),
    ("customer_balance_amount", "store credit"),
    ("reward_currency_amount", "reward points"),
)


def _address(data: Any) -> Address | None:
    d = obj(data)
    if not d:
        return None
    street = d.get("street")
    lines = [text(s) for s in street] if isinstance(street, list) else [text(street)]
    return Address(
        first_name=text(d.get("firstname")),
        last_name=text(d.get("lastname")),
        company=text(d.get("company")),
        line1=lines[0] if lines else "",
        line2=", ".join(s for s in lines[1:] if s),
        city=text(d.get("city")),
        region=text(d.get("region")),
        region_code=text(d.get("region_code")),
        postal_code=text(d.get("postcode")),
        country_code=text(d.get("country_id")).upper(),
        phone=text(d.get("telephone")),
        email=text(d.get("email")),
    )


def _flag(value: Any) -> bool:
    return text(value).lower() in ("1", "true", "yes")


def _financial_status(order: Mapping[str, Any], m: Any) -> str:
    state = text(order.get("state")).lower()
    total = m(order, "grand_total")
    refunded = m(order, "total_refunded")
    paid = m(order, "total_paid")
    if state == "canceled":
        return FinancialStatus.VOIDED
    if state == "closed" or (refunded.amount and refunded.amount >= total.amount > 0):
        return FinancialStatus.REFUNDED
    if refunded.amount > 0:
        return FinancialStatus.PARTIALLY_REFUNDED
    if paid.amount >= total.amount or state in ("processing", "complete"):
        return FinancialStatus.PAID
    if paid.amount > 0:
        return FinancialStatus.PARTIALLY_PAID
    payment = obj(order.get("payment"))
    if m(payment, "amount_authorized").amount > 0:
        return FinancialStatus.AUTHORIZED
    return FinancialStatus.PENDING


def _sellable_lines(raw: list[Mapping[str, Any]]) -> list[tuple[Mapping[str, Any], str]]:
    """(line, sellable product id) for every line that is one thing the customer bought: the
    simple product's id (a configurable parent line: its child's, the SKU's own product)."""
    by_id = {text(ln.get("item_id")): ln for ln in raw}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for ln in raw:
        if _parent_id(ln) in by_id:
            children.setdefault(_parent_id(ln), []).append(ln)
    out: list[tuple[Mapping[str, Any], str]] = []
    for ln in raw:
        item_id = text(ln.get("item_id"))
        parent = by_id.get(_parent_id(ln) or "-")
        kids = children.get(item_id, [])
        if parent is not None:
            if text(parent.get("product_type")) == "configurable" or not _has_money(ln):
                continue  # the parent line is the sellable one
            out.append((ln, text(ln.get("product_id"))))
        elif text(ln.get("product_type")) == "configurable":
            out.append((ln, text(kids[0].get("product_id")) if kids else ""))
        elif kids and not _has_money(ln):
            continue  # a bundle whose children carry the prices
        else:
            out.append((ln, text(ln.get("product_id"))))
    return out


def _parent_id(line: Mapping[str, Any]) -> str:
    return text(line.get("parent_item_id")) or text(obj(line.get("parent_item")).get("item_id"))


def _has_money(line: Mapping[str, Any]) -> bool:
    for name in ("row_total", "price", "tax_amount", "discount_amount"):
        value = line.get(name)
        if value not in (None, "") and to_decimal(value, field_name=name) != 0:
            return True
    return False


def order_from_magento(order: Mapping[str, Any], *, channel: str) -> Order:
    currency = text(order.get("order_currency_code") or order.get("base_currency_code")).upper()
    if not currency:
        raise PermanentError("order_currency_code is missing", field="order_currency_code")

    def m(d: Mapping[str, Any], name: str, where: str = "order", default: Any = "0") -> Money:
        return money(d.get(name), currency, field_name=f"{where}.{name}", default=default)

    coupon = text(order.get("coupon_code"))
    raw = [obj(ln) for ln in items(order.get("items"))]
    lines = []
    for i, (ln, variant) in enumerate(_sellable_lines(raw)):
        where = f"items[{i}]"
        qty = quantity(ln.get("qty_ordered"), field_name=f"{where}.qty_ordered")
        discount = m(ln, "discount_amount", where)
        discount = Money(abs(discount.amount), currency)
        rate = ln.get("tax_percent")
        taxes = []
        tax = m(ln, "tax_amount", where)
        if tax.amount:
            pct = to_decimal(rate, field_name=f"{where}.tax_percent") if rate else None
            taxes.append(TaxLine(title="tax", amount=tax, rate=pct / 100 if pct else None))
        hidden = m(ln, "discount_tax_compensation_amount", where)
        if hidden.amount:
            taxes.append(TaxLine(title="discount tax compensation", amount=hidden))
        unit = m(ln, "price", where, default=None)
        lines.append(
            OrderLine(
                external_line_id=text(ln.get("item_id")),
                sku=text(ln.get("sku")),
                name=text(ln.get("name")),
                quantity=qty,
                unit_price=unit,
                subtotal=m(ln, "row_total", where, default=None)
                if text(ln.get("row_total"))
                else unit * qty,
                discounts=(DiscountAllocation(amount=discount, code=coupon),)
                if discount.amount
                else (),
                taxes=tuple(taxes),
                product_external_id=text(ln.get("product_id")),
                variant_external_id=variant,
            )
        )

    extension = obj(order.get("extension_attributes"))
    assignment = obj((items(extension.get("shipping_assignments")) or [{}])[0])
    shipping = obj(assignment.get("shipping"))
    ship_price = m(order, "shipping_amount")
    ship_discount = Money(abs(m(order, "shipping_discount_amount").amount), currency)
    ship_tax = m(order, "shipping_tax_amount")
    hidden_ship = m(order, "shipping_discount_tax_compensation_amount")
    method = text(shipping.get("method"))
    shipping_lines = []
    if ship_price.amount or method:
        shipping_lines.append(
            ShippingLine(
                title=text(order.get("shipping_description")) or method or "Shipping",
                price=ship_price,
                code=method,
                carrier=method.split("_", 1)[0] if method else "",
                discounts=(DiscountAllocation(amount=ship_discount, code=coupon),)
                if ship_discount.amount
                else (),
                taxes=tuple(
                    TaxLine(title=title, amount=amount)
                    for title, amount in (("tax", ship_tax), ("compensation", hidden_ship))
                    if amount.amount
                ),
            )
        )

    order_discount = Money(abs(m(order, "discount_amount").amount), currency)
    allocated = money_sum((ln.discount_total for ln in lines), currency) + ship_discount
    discounts = []
    rest = order_discount - allocated
    if rest.amount > 0:
        discounts.append(
            OrderDiscount(
                amount=rest, code=coupon, title=text(order.get("discount_description")) or coupon
            )
        )
    for name, title in _DEDUCTIONS:
        amount = Money(abs(m(order, name).amount), currency)
        if amount.amount:
            discounts.append(OrderDiscount(amount=amount, title=title))

    company = obj(extension.get("company_order_attributes"))
    company_id = text(company.get("company_id"))
    billing = obj(order.get("billing_address"))
    guest = _flag(order.get("customer_is_guest")) or not text(order.get("customer_id"))
    company_name = text(company.get("company_name")) or (
        text(billing.get("company")) if company_id else ""
    )
    customer = Customer(
        external_id=f"company:{company_id}"
        if company_id
        else ("" if guest else text(order.get("customer_id"))),
        email=text(order.get("customer_email")) or text(billing.get("email")),
        # A company account's orders belong to the company: the buyer's name is not the partner's.
        first_name="" if company_id else text(order.get("customer_firstname")),
        last_name="" if company_id else text(order.get("customer_lastname")),
        phone=text(billing.get("telephone")),
        company=company_name or text(billing.get("company")),
        vat=text(order.get("customer_taxvat")),
        is_guest=guest and not company_id,
    )
    attributes = [("increment_id", text(order.get("increment_id")))]
    for name in ("customer_group_id", "store_id"):
        if text(order.get(name)):
            attributes.append((name, text(order.get(name))))
    if company_id:
        attributes += [("company_id", company_id), ("buyer_email", customer.email)]
        if text(order.get("customer_id")):
            attributes.append(("buyer_customer_id", text(order.get("customer_id"))))
    state = text(order.get("state")).lower()
    base_currency = text(order.get("base_currency_code")).upper()
    other_base = base_currency not in ("", currency)
    updated = iso_utc_optional(order.get("updated_at"), field_name="updated_at", assume_utc=True)
    canonical = Order(
        channel=channel,
        external_id=text(order.get("entity_id")),
        number=text(order.get("increment_id")) or text(order.get("entity_id")),
        created_at=iso_utc(order.get("created_at"), field_name="created_at", assume_utc=True),
        updated_at=updated,
        cancelled_at=updated if state == "canceled" else None,
        currency=currency,
        lines=tuple(lines),
        shipping_lines=tuple(shipping_lines),
        discounts=tuple(discounts),
        discount_codes=(coupon,) if coupon else (),
        totals=Totals(
            subtotal=m(order, "subtotal"),
            discounts=order_discount,
            shipping=ship_price,
            tax=m(order, "tax_amount"),
            total=m(order, "grand_total", default=None),
        ),
        financial_status=_financial_status(order, m),
        source_status=text(order.get("status")),
        customer=customer,
        billing_address=_address(billing),
        shipping_address=_address(shipping.get("address")),
        note=text(order.get("customer_note")),
        attributes=tuple(attributes),
        po_number=text(obj(order.get("payment")).get("po_number")),
        shop_currency=base_currency if other_base else "",
        shop_total=Money.of(order.get("base_grand_total"), base_currency, field_name="base")
        if other_base and text(order.get("base_grand_total"))
        else None,
        taxes_included=False,
    )
    order_reconcile(order=canonical)
    return canonical
