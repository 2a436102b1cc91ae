"""Field-by-field comparison of what the hub would have sent with the legacy connector's order.

Pure: the hub side is the shadow order (`ChannelOrder.shadow_payload`, the last recorded edit
if any, and the channel order it was built from); the Odoo side is a dict from
`OdooGateway.legacy_orders_find`. Every difference is classified (models.DiffClass).

| class | fields |
|---|---|
| partner | partner.email, partner.company, partner.shipping.* and partner.invoice.* |
|  | (street, city, zip, country) |
| product | line.product (a product on one side only) |
| quantity | line.qty |
| price | line.price_unit (to the cent) |
| discount | line.discount (%; a different split of the same net price is one discount difference) |
| tax | line.tax, shipping.tax (where the hub maps taxes; else Odoo applies the product's) |
| shipping | shipping.price, shipping.product, shipping.carrier, shipping.warehouse |
| total | amount_untaxed (tax-excluded channels), amount_total (to the cent), when no |
|  | line, tax or shipping difference explains them |
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.orders.models import ChannelOrder

from .models import DiffClass

CENT = Decimal("0.01")
ZERO = Decimal("0")
# Fields whose difference moves the order's amounts.
EXPLAINS_TOTAL = frozenset(
    {
        "line.product",
        "line.qty",
        "line.price_unit",
        "line.discount",
        "line.tax",
        "shipping.price",
        "shipping.product",
        "shipping.tax",
    }
)


@dataclass(frozen=True)
class Difference:
    klass: str
    field: str
    hub: str = ""
    odoo: str = ""
    sku: str = ""
    detail: str = ""


def _d(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "", False) else 0))
    except ArithmeticError:
        return ZERO


def _cents(value: Any) -> Decimal:
    return _d(value).quantize(CENT, ROUND_HALF_UP)


def _text(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _taxes(value: Any) -> list[int] | None:
    """[[6, 0, ids]] (what the hub sends) -> sorted ids; None when the hub sends no taxes."""
    if not value:
        return None
    ids: list[int] = []
    for cmd in value:
        if isinstance(cmd, list) and len(cmd) == 3 and cmd[0] == 6:
            ids = [int(i) for i in cmd[2]]
    return sorted(ids)


def hub_sale_order(row: ChannelOrder) -> dict[str, Any] | None:
    """The sale order the hub would have sent: the last recorded edit, else the first push."""
    shadow = row.shadow_payload or {}
    edits = shadow.get("edits") or []
    so = edits[-1] if edits else shadow.get("sale_order")
    return so if isinstance(so, dict) else None


def _net(price: Decimal, discount: Decimal) -> Decimal:
    return (price * (1 - discount / 100)).quantize(CENT, ROUND_HALF_UP)


def _sku(line: dict[str, Any], skus: dict[int, str]) -> str:
    pid = line.get("product_id")
    return skus.get(int(pid), "") if pid else ""


def compare(row: ChannelOrder, odoo: dict[str, Any], skus: dict[int, str]) -> list[Difference]:
    """Every difference between hub order `row` and the legacy order `odoo`.

    `skus`: Odoo product id -> code, for readable differences (the Odoo side's codes, plus any
    the caller knows for the hub side's products).
    """
    so = hub_sale_order(row)
    if so is None:
        return []
    data = row.payload or {}
    n_product_lines = len(data.get("lines") or ())
    hub_lines = list(so.get("lines") or ())
    hub_products, hub_shipping = hub_lines[:n_product_lines], hub_lines[n_product_lines:]
    out: list[Difference] = []
    out += _partner(row, data, odoo)
    ship_products = {int(ln["product_id"]) for ln in hub_shipping if ln.get("product_id")}
    odoo_shipping = [
        ln
        for ln in odoo.get("lines") or ()
        if ln.get("is_delivery") or (ln.get("product_id") in ship_products)
    ]
    odoo_products = [ln for ln in odoo.get("lines") or () if ln not in odoo_shipping]
    out += _lines(hub_products, odoo_products, skus)
    out += _shipping(so, hub_shipping, odoo, odoo_shipping, skus)
    # A total that a line, tax or shipping difference explains is not a cause of its own: the
    # total class is for what nothing else explains (rounding, a fee, a tax computed otherwise).
    if not any(d.field in EXPLAINS_TOTAL for d in out):
        out += _totals(row, data, hub_lines, odoo)
    return out


def _partner(row: ChannelOrder, data: dict[str, Any], odoo: dict[str, Any]) -> list[Difference]:
    out: list[Difference] = []
    partner = odoo.get("partner") or {}
    invoice = odoo.get("invoice") or partner
    shipping = odoo.get("shipping") or partner
    email = _text(row.customer_email)
    odoo_email = _text(partner.get("email") or invoice.get("email"))
    if email and email != odoo_email:
        out.append(Difference(DiffClass.PARTNER, "partner.email", email, odoo_email))
    customer = data.get("customer") or {}
    billing = data.get("billing_address") or {}
    company = _text(customer.get("company") or billing.get("company"))
    if company:
        seen = {
            _text(p.get(k))
            for p in (partner, invoice, shipping)
            for k in ("company", "name")
            if p.get(k)
        }
        if company not in seen:
            odoo_company = partner.get("company") or invoice.get("company") or ""
            out.append(Difference(DiffClass.PARTNER, "partner.company", company, odoo_company))
    for kind, addr, odoo_addr in (
        ("shipping", data.get("shipping_address"), shipping),
        ("invoice", billing, invoice),
    ):
        if not addr:
            continue
        pairs = (
            ("street", addr.get("line1"), odoo_addr.get("street")),
            ("city", addr.get("city"), odoo_addr.get("city")),
            ("zip", addr.get("postal_code"), odoo_addr.get("zip")),
            ("country", addr.get("country_code"), odoo_addr.get("country_code")),
        )
        for name, hub, got in pairs:
            if _text(hub) and _text(hub) != _text(got):
                out.append(
                    Difference(
                        DiffClass.PARTNER, f"partner.{kind}.{name}", str(hub), str(got or "")
                    )
                )
    return out


def _lines(
    hub: list[dict[str, Any]], odoo: list[dict[str, Any]], skus: dict[int, str]
) -> list[Difference]:
    """Lines paired by product, in order; a product on one side only is a product difference."""
    out: list[Difference] = []
    mine: dict[int, list[dict[str, Any]]] = defaultdict(list)
    theirs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ln in hub:
        mine[int(ln.get("product_id") or 0)].append(ln)
    for ln in odoo:
        theirs[int(ln.get("product_id") or 0)].append(ln)
    for pid in dict.fromkeys([*mine, *theirs]):
        a, b = mine.get(pid, []), theirs.get(pid, [])
        sku = skus.get(pid, "") or str(pid)
        for i in range(max(len(a), len(b))):
            h = a[i] if i < len(a) else None
            o = b[i] if i < len(b) else None
            if h is None or o is None:
                qty = (h or o or {}).get("qty")
                out.append(
                    Difference(
                        DiffClass.PRODUCT,
                        "line.product",
                        f"{sku} x {_d(qty).normalize()}" if h else "",
                        f"{sku} x {_d(qty).normalize()}" if o else "",
                        sku,
                        "line only in the hub's order" if h else "line only in Odoo",
                    )
                )
                continue
            out += _pair(h, o, sku)
    return out


def _pair(h: dict[str, Any], o: dict[str, Any], sku: str) -> list[Difference]:
    out: list[Difference] = []
    if _d(h.get("qty")) != _d(o.get("qty")):
        out.append(
            Difference(
                DiffClass.QUANTITY,
                "line.qty",
                str(_d(h.get("qty")).normalize()),
                str(_d(o.get("qty")).normalize()),
                sku,
            )
        )
    hp, op = _cents(h.get("price_unit")), _cents(o.get("price_unit"))
    hd, od = _cents(h.get("discount")), _cents(o.get("discount"))
    if (hp, hd) != (op, od) and _net(hp, hd) == _net(op, od):
        out.append(
            Difference(
                DiffClass.DISCOUNT,
                "line.discount",
                f"{hp} less {hd}%",
                f"{op} less {od}%",
                sku,
                "same net price, expressed differently",
            )
        )
    else:
        if hp != op:
            out.append(Difference(DiffClass.PRICE, "line.price_unit", str(hp), str(op), sku))
        if hd != od:
            out.append(Difference(DiffClass.DISCOUNT, "line.discount", str(hd), str(od), sku))
    want = _taxes(h.get("tax_id"))
    got = sorted(o.get("tax_ids") or [])
    if want is not None and want != got:
        out.append(Difference(DiffClass.TAX, "line.tax", _ids(want), _ids(got), sku))
    return out


def _ids(ids: list[int]) -> str:
    return ",".join(str(i) for i in ids) or "none"


def _shipping(
    so: dict[str, Any],
    hub: list[dict[str, Any]],
    odoo: dict[str, Any],
    odoo_lines: list[dict[str, Any]],
    skus: dict[int, str],
) -> list[Difference]:
    out: list[Difference] = []
    hub_price = sum((_d(ln.get("price_unit")) * _d(ln.get("qty") or 1) for ln in hub), ZERO)
    odoo_price = sum(
        (_d(ln.get("price_unit")) * _d(ln.get("qty")) * (1 - _d(ln.get("discount")) / 100))
        for ln in odoo_lines
    )
    if _cents(hub_price) != _cents(odoo_price):
        out.append(
            Difference(
                DiffClass.SHIPPING,
                "shipping.price",
                str(_cents(hub_price)),
                str(_cents(odoo_price)),
            )
        )
    want = sorted({int(ln["product_id"]) for ln in hub if ln.get("product_id")})
    got = sorted({int(ln["product_id"]) for ln in odoo_lines if ln.get("product_id")})
    if want != got:
        out.append(
            Difference(
                DiffClass.SHIPPING,
                "shipping.product",
                ",".join(skus.get(p) or str(p) for p in want) or "none",
                ",".join(skus.get(p) or str(p) for p in got) or "none",
            )
        )
    hub_carrier = so.get("carrier_id") or None
    if hub_carrier != (odoo.get("carrier_id") or None):
        out.append(
            Difference(
                DiffClass.SHIPPING,
                "shipping.carrier",
                str(hub_carrier or "none"),
                str(odoo.get("carrier") or odoo.get("carrier_id") or "none"),
            )
        )
    if so.get("warehouse_id") and int(so["warehouse_id"]) != (odoo.get("warehouse_id") or 0):
        out.append(
            Difference(
                DiffClass.SHIPPING,
                "shipping.warehouse",
                str(so["warehouse_id"]),
                str(odoo.get("warehouse") or odoo.get("warehouse_id") or "none"),
            )
        )
    hub_taxes = [t for ln in hub if (t := _taxes(ln.get("tax_id"))) is not None]
    if hub_taxes and odoo_lines:
        want_t = sorted({i for t in hub_taxes for i in t})
        got_t = sorted({int(i) for ln in odoo_lines for i in ln.get("tax_ids") or []})
        if want_t != got_t:
            out.append(Difference(DiffClass.TAX, "shipping.tax", _ids(want_t), _ids(got_t)))
    return out


def _totals(
    row: ChannelOrder, data: dict[str, Any], lines: list[dict[str, Any]], odoo: dict[str, Any]
) -> list[Difference]:
    out: list[Difference] = []
    if not data.get("taxes_included"):
        untaxed = sum(
            (
                _d(ln.get("price_unit"))
                * _d(ln.get("qty") or 1)
                * (1 - _d(ln.get("discount")) / 100)
                for ln in lines
            ),
            ZERO,
        )
        got = _cents(odoo.get("amount_untaxed"))
        if abs(_cents(untaxed) - got) > CENT:
            out.append(
                Difference(DiffClass.TOTAL, "amount_untaxed", str(_cents(untaxed)), str(got))
            )
    total, got_total = _cents(row.total), _cents(odoo.get("amount_total"))
    if abs(total - got_total) > CENT:
        out.append(Difference(DiffClass.TOTAL, "amount_total", str(total), str(got_total)))
    return out
