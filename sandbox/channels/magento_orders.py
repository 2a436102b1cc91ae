"""Magento stand-in: orders in REST format (``build_order``) and ``searchCriteria`` (``search``).

``POST /__standin__/orders`` takes::

    {"entity_id"?, "increment_id"?, "state": "processing", "status": "processing",
     "currency": "USD", "created_at_ts"?, "updated_at_ts"?,
     "customer": {"id": 7, "email", "firstname", "lastname", "group_id": 1}   # absent = guest
     "company": {"id": 3, "name": "Acme Corp"},                                 # B2B, optional
     "lines": [{"sku": "TSHIRT-BLU-M", "qty": 2, "price": "25.00", "discount": "5.00",
                "tax_percent": "8", "tax_amount"?, "parent": "TSHIRT" | false}],
     "coupon_code"?, "discount_description"?,
     "shipping_amount": "5.99", "shipping_tax": "0", "shipping_discount": "0",
     "shipping_method": "flatrate_flatrate", "shipping_description": "Flat Rate - Fixed",
     "billing_address"?: {...}, "shipping_address"?: {...}, "payment"?: {"method", "po_number"},
     "io_event": true, "event_code"?}

A line whose SKU belongs to a stand-in product group becomes a configurable parent line plus
its simple child line (``"parent": false`` keeps it simple; ``"parent": "SKU"`` names the
parent). Tax is ``round((row_total - discount) * tax_percent / 100, 2)`` unless given.
"""

from __future__ import annotations

import fnmatch
import time
from decimal import Decimal
from typing import Any

from .base import Request
from .magento import Magento, cents, dec, mdate, num, parent_sku

ZERO = (Decimal(0), Decimal(0), Decimal(0), Decimal(0))
CONDITIONS = {
    "eq",
    "neq",
    "gt",
    "gteq",
    "lt",
    "lteq",
    "in",
    "nin",
    "like",
    "nlike",
    "null",
    "notnull",
    "from",
    "to",
    "finset",
}


def twins(**amounts: Decimal) -> dict[str, Any]:
    """Each amount as a JSON number with its ``base_*`` twin (base currency = order currency)."""
    out: dict[str, Any] = {}
    for name, value in amounts.items():
        out[name] = out[f"base_{name}"] = num(value)
    return out


def _address(kind: str, oid: int, given: dict[str, Any], email: str) -> dict[str, Any]:
    base = {
        "address_type": kind,
        "city": "Austin",
        "company": "",
        "country_id": "US",
        "email": email,
        "entity_id": oid * 10 + (1 if kind == "billing" else 2),
        "firstname": "Maria",
        "lastname": "Lopez",
        "parent_id": oid,
        "postcode": "78701",
        "region": "Texas",
        "region_code": "TX",
        "region_id": 57,
        "street": ["1 Main Street"],
        "telephone": "+1 512 555 0100",
    }
    base.update(given)
    return base


def _line(
    oid: int,
    item_id: int,
    sku: str,
    name: str,
    product_id: int,
    ptype: str,
    qty: int,
    amounts: tuple[Decimal, Decimal, Decimal, Decimal],  # price, discount, tax, tax percent
    now: str,
) -> dict[str, Any]:
    price, discount, tax, tax_percent = amounts
    row = price * qty
    return {
        "item_id": item_id,
        "order_id": oid,
        "quote_item_id": item_id + 500,
        "store_id": 1,
        "created_at": now,
        "updated_at": now,
        "sku": sku,
        "name": name,
        "product_id": product_id,
        "product_type": ptype,
        "is_virtual": 0,
        "qty_ordered": qty,
        "qty_invoiced": 0,
        "qty_shipped": 0,
        "qty_refunded": 0,
        "qty_canceled": 0,
        **twins(
            price=price,
            original_price=price,
            price_incl_tax=cents(price + (tax / qty if qty else 0)),
            row_total=row,
            row_total_incl_tax=row + tax,
            tax_amount=tax,
            discount_amount=discount,
        ),
        "tax_percent": num(tax_percent),
        "discount_percent": 0,
        "weight": 1,
        "row_weight": qty,
        "free_shipping": 0,
        "no_discount": 0,
    }


def build_order(platform: Magento, oid: int, data: dict[str, Any]) -> dict[str, Any]:
    st = platform.store
    created = float(data.get("created_at_ts") or time.time())
    updated = float(data.get("updated_at_ts") or created)
    now = mdate(created)
    currency = str(data.get("currency") or "USD")
    customer = data.get("customer") or None
    email = str((customer or {}).get("email") or data.get("email") or "maria@example.com")
    lines: list[dict[str, Any]] = []
    item_id = oid * 100
    subtotal = disc_total = tax_total = Decimal(0)
    qty_total = 0
    for given in data.get("lines") or []:
        sku = str(given.get("sku") or "")
        item = st.items.get(sku)
        qty = int(given.get("qty") or given.get("quantity") or 1)
        price = dec(
            given.get("price") if given.get("price") is not None else (item.price if item else "0")
        )
        discount = dec(given.get("discount"))
        tax_percent = dec(given.get("tax_percent"))
        tax = (
            dec(given["tax_amount"])
            if given.get("tax_amount") is not None
            else cents((price * qty - discount) * tax_percent / 100)
        )
        name = str(given.get("name") or (item.name if item else sku))
        parent = given.get("parent")
        product = st.products.get(item.product_id) if item else None
        if parent is None and product is not None and product.has_variants:
            parent = parent_sku(product.group)
        item_id += 1
        variant = item.variant_id if item else 0
        amounts = (price, discount, tax, tax_percent)
        if parent:
            parent_id = product.id if product is not None else item_id + 10_000
            parent_name = product.name if product is not None else str(parent)
            head = _line(
                oid, item_id, sku, parent_name, parent_id, "configurable", qty, amounts, now
            )
            item_id += 1
            child = _line(oid, item_id, sku, name, variant, "simple", qty, ZERO, now)
            child["parent_item_id"] = head["item_id"]
            child["parent_item"] = dict(head)
            lines += [head, child]
        else:
            lines.append(_line(oid, item_id, sku, name, variant, "simple", qty, amounts, now))
        subtotal += price * qty
        disc_total += discount
        tax_total += tax
        qty_total += qty
    ship = dec(data.get("shipping_amount"))
    ship_tax = dec(data.get("shipping_tax"))
    ship_disc = dec(data.get("shipping_discount"))
    discount = -(disc_total + ship_disc)
    tax_total += ship_tax
    grand = subtotal + discount + ship + tax_total
    state = str(data.get("state") or "processing")
    paid = grand if state in ("processing", "complete") else Decimal(0)
    billing = _address("billing", oid, dict(data.get("billing_address") or {}), email)
    shipping = _address("shipping", oid, dict(data.get("shipping_address") or {}), email)
    method = str(data.get("shipping_method") or "flatrate_flatrate")
    company = data.get("company") or None
    money = {
        "subtotal": subtotal,
        "subtotal_incl_tax": subtotal + tax_total - ship_tax,
        "discount_amount": discount,
        "shipping_amount": ship,
        "shipping_incl_tax": ship + ship_tax,
        "shipping_tax_amount": ship_tax,
        "shipping_discount_amount": ship_disc,
        "tax_amount": tax_total,
        "grand_total": grand,
        "total_paid": paid,
        "total_invoiced": paid,
        "total_refunded": Decimal(0),
        "total_due": grand - paid,
    }
    order: dict[str, Any] = {
        "entity_id": oid,
        "increment_id": str(data.get("increment_id") or f"{oid:09d}"),
        "quote_id": oid + 900,
        "store_id": 1,
        "protect_code": f"{oid:06x}",
        "state": state,
        "status": str(data.get("status") or state),
        "created_at": now,
        "updated_at": mdate(updated),
        "base_currency_code": currency,
        "order_currency_code": currency,
        "global_currency_code": currency,
        "store_currency_code": currency,
        "base_to_global_rate": 1,
        "base_to_order_rate": 1,
        "coupon_code": data.get("coupon_code"),
        "discount_description": data.get("discount_description") or data.get("coupon_code"),
        "applied_rule_ids": "1" if discount else None,
        "customer_email": email,
        "customer_firstname": str((customer or {}).get("firstname") or billing["firstname"]),
        "customer_lastname": str((customer or {}).get("lastname") or billing["lastname"]),
        "customer_group_id": int((customer or {}).get("group_id") or (1 if customer else 0)),
        "customer_is_guest": 0 if customer else 1,
        "customer_note_notify": 1,
        "shipping_description": str(data.get("shipping_description") or "Flat Rate - Fixed"),
        "total_item_count": len([ln for ln in lines if "parent_item_id" not in ln]),
        "total_qty_ordered": qty_total,
        "weight": qty_total,
        "billing_address": billing,
        "items": lines,
        "payment": {
            "entity_id": oid,
            "parent_id": oid,
            "method": str((data.get("payment") or {}).get("method") or "checkmo"),
            "po_number": (data.get("payment") or {}).get("po_number"),
            **twins(amount_ordered=grand, amount_paid=paid, shipping_amount=ship),
            "additional_information": [],
            "account_status": None,
            "cc_last4": None,
        },
        "status_histories": [],
        "extension_attributes": {
            "shipping_assignments": [
                {
                    "shipping": {
                        "address": shipping,
                        "method": method,
                        "total": twins(
                            shipping_amount=ship,
                            shipping_incl_tax=ship + ship_tax,
                            shipping_tax_amount=ship_tax,
                            shipping_discount_amount=ship_disc,
                        ),
                    },
                    "items": [dict(ln) for ln in lines],
                }
            ],
            "payment_additional_info": [],
            "applied_taxes": [],
            "item_applied_taxes": [],
            "converting_from_quote": True,
        },
        "_modified": updated,
        "_shipments": [],
        "_creditmemos": [],
    }
    if customer:
        order["customer_id"] = int(customer.get("id") or 1)
    else:
        order["customer_id"] = None
    if company:
        order["extension_attributes"]["company_order_attributes"] = {
            "order_id": oid,
            "company_id": int(company.get("id") or 1),
            "company_name": str(company.get("name") or ""),
        }
    order.update(twins(**money))
    return order


# -- searchCriteria -------------------------------------------------------------------------------
def _criteria(req: Request) -> tuple[list[list[tuple[str, str, str]]], list[tuple[str, str]]]:
    groups: dict[int, dict[int, dict[str, str]]] = {}
    sorts: dict[int, dict[str, str]] = {}
    for key, values in req.query.items():
        parts = key.replace("]", "").split("[")
        if parts[:2] == ["searchCriteria", "filter_groups"] and len(parts) == 6:
            g, f = int(parts[2]), int(parts[4])
            groups.setdefault(g, {}).setdefault(f, {})[parts[5]] = values[-1]
        elif parts[:2] == ["searchCriteria", "sortOrders"] and len(parts) == 4:
            sorts.setdefault(int(parts[2]), {})[parts[3]] = values[-1]
    filters = []
    for g in sorted(groups):
        group = []
        for f in sorted(groups[g]):
            spec = groups[g][f]
            cond = spec.get("condition_type") or "eq"
            if cond not in CONDITIONS:
                raise ValueError(f'Invalid condition type "{cond}".')
            group.append((spec.get("field", ""), spec.get("value", ""), cond))
        filters.append(group)
    order = [
        (sorts[n].get("field", ""), (sorts[n].get("direction") or "ASC").upper())
        for n in sorted(sorts)
    ]
    return filters, order


def _key(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return (0, "")
    try:
        return (1, Decimal(str(value)))
    except ArithmeticError:
        return (2, str(value))


def _match(row: dict[str, Any], field: str, value: str, cond: str) -> bool:
    have = row.get(field)
    if cond == "null":
        return have is None
    if cond == "notnull":
        return have is not None
    if cond in ("in", "nin"):
        wanted = {v.strip() for v in value.split(",")}
        return (str(have) in wanted) == (cond == "in")
    if cond in ("like", "nlike"):
        hit = fnmatch.fnmatchcase(str(have or ""), value.replace("%", "*").replace("_", "?"))
        return hit == (cond == "like")
    if have is None:
        return False
    a, b = _key(have), _key(value)
    if a[0] != b[0]:
        a, b = (2, str(have)), (2, value)
    if cond == "finset":
        return value in str(have).split(",")
    return {
        "eq": a == b,
        "neq": a != b,
        "gt": a > b,
        "gteq": a >= b,
        "from": a >= b,
        "lt": a < b,
        "lteq": a <= b,
        "to": a <= b,
    }[cond]


def search(rows: list[dict[str, Any]], req: Request) -> dict[str, Any]:
    """Filter (groups AND, filters of one group OR), sort (no implicit tie-breaker besides
    the stand-in's id order), page (a page past the end answers the last page)."""
    filters, order = _criteria(req)
    hits = [r for r in rows if all(any(_match(r, *f) for f in group) for group in filters)]
    for field, direction in reversed(order):
        hits.sort(key=lambda r: _key(r.get(field)), reverse=direction == "DESC")
    size_raw, page_raw = req.arg("searchCriteria[pageSize]"), req.arg("searchCriteria[currentPage]")
    total = len(hits)
    page_size = int(size_raw) if size_raw else 0
    page = int(page_raw) if page_raw else 1
    chunk = hits
    if page_size > 0:
        last = max(1, -(-total // page_size))
        page = min(max(page, 1), last)
        chunk = hits[(page - 1) * page_size : page * page_size]
    criteria: dict[str, Any] = {
        "filter_groups": [
            {"filters": [{"field": f, "value": v, "condition_type": c} for f, v, c in group]}
            for group in filters
        ]
    }
    if order:
        criteria["sort_orders"] = [{"field": f, "direction": d} for f, d in order]
    if page_size:
        criteria["page_size"] = page_size
        criteria["current_page"] = page
    return {"items": chunk, "search_criteria": criteria, "total_count": total}
