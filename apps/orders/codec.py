"""Canonical Order -> the JSON a ChannelOrder keeps (what the push needs, nothing more)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from apps.core.canonical import Address, Customer, Money, Order


def _m(value: Money) -> str:
    return str(value.amount)


def _taxes(taxes: Any) -> list[dict[str, str]]:
    return [{"rate": "" if t.rate is None else str(t.rate), "title": t.title} for t in taxes]


def _address(addr: Address | None) -> dict[str, str] | None:
    return asdict(addr) if addr is not None else None


def _customer(cust: Customer | None) -> dict[str, Any] | None:
    if cust is None:
        return None
    data = asdict(cust)
    data["created_at"] = cust.created_at.isoformat() if cust.created_at else None
    return data


def order_to_json(order: Order) -> dict[str, Any]:
    cur = order.currency
    return {
        "number": order.number,
        "po_number": order.po_number,
        "note": order.note,
        "created_at": order.created_at.isoformat(),
        "currency": cur,
        "taxes_included": order.taxes_included,
        "financial_status": order.financial_status,
        "total": _m(order.totals.total),
        "customer": _customer(order.customer),
        "billing_address": _address(order.billing_address),
        "shipping_address": _address(order.shipping_address),
        "lines": [
            {
                "line_id": ln.external_line_id,
                "sku": ln.sku,
                "name": ln.name,
                "qty": ln.quantity,
                "unit_price": _m(ln.unit_price),
                "subtotal": _m(ln.subtotal),
                "discount": _m(ln.discount_total),
                "tax": _m(ln.tax_total),
                "taxes": _taxes(ln.taxes),
            }
            for ln in order.lines
        ],
        "shipping": [
            {
                "title": s.title,
                "code": s.code,
                "carrier": s.carrier,
                "price": _m(s.price),
                "discount": _m(s.discount_total),
                "taxes": _taxes(s.taxes),
            }
            for s in order.shipping_lines
        ],
        "fees": [
            {"title": f.title, "amount": _m(f.amount), "taxes": _taxes(f.taxes)}
            for f in order.fee_lines
        ],
        "order_discount": str(sum((d.amount.amount for d in order.discounts), Decimal("0"))),
        "cancelled": order.cancelled_at is not None,
    }


def payload_hash(data: dict[str, Any]) -> str:
    raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()


def _amount(value: Any) -> str:
    """ "19.9", "19.90" and "19.900" are one amount."""
    try:
        return str(Decimal(str(value or "0")).quantize(Decimal("0.01")))
    except ArithmeticError:
        return str(value)


def _text(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


_ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "company",
    "line1",
    "line2",
    "city",
    "region_code",
    "postal_code",
    "country_code",
    "phone",
)


def _address_fp(addr: dict[str, Any] | None) -> list[str] | None:
    if not addr:
        return None
    parts = [_text(addr.get(k)) for k in _ADDRESS_KEYS]
    return parts if any(parts) else None


def content_fingerprint(data: dict[str, Any]) -> str:
    """A hash of what an Odoo sale order is built from: lines (SKU, quantity, price, discount,
    tax), shipping, fees, the order discount and the shipping and billing addresses.

    Payment and fulfilment status, tags, notes, names and titles, timestamps and formatting
    (amount precision, whitespace, case, line order) do not change it, so a status-only update
    of an order already in Odoo is not mistaken for an edit.
    """
    lines = sorted(
        (
            str(ln.get("line_id") or ""),
            str(ln.get("sku") or ""),
            int(ln.get("qty") or 0),
            _amount(ln.get("unit_price")),
            _amount(ln.get("discount")),
            _amount(ln.get("tax")),
        )
        for ln in data.get("lines") or ()
    )
    shipping = sorted(
        (
            _text(s.get("code") or s.get("title")),
            _amount(s.get("price")),
            _amount(s.get("discount")),
        )
        for s in data.get("shipping") or ()
    )
    fees = sorted(_amount(f.get("amount")) for f in data.get("fees") or ())
    content = {
        "lines": lines,
        "shipping": shipping,
        "fees": fees,
        "order_discount": _amount(data.get("order_discount")),
        "shipping_address": _address_fp(data.get("shipping_address")),
        "billing_address": _address_fp(data.get("billing_address")),
    }
    raw = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()
