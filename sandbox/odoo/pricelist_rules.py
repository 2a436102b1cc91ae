"""Odoo 17's pricelist evaluation, as ``product.pricelist._compute_price_rule`` does it.

In floats, like Odoo (so the sandbox shows the same float artefacts), for one product.product:

- the applicable rules: the pricelist's items whose category is the product's or a parent of it,
  whose template/variant is the product's (or empty), whose ``date_start``/``date_end`` enclose
  the date; ordered ``applied_on, min_quantity desc, categ_id desc`` (the category's complete
  name) ``, id desc``; the first whose ``min_quantity`` the quantity reaches and whose
  ``applied_on`` matches (``_is_applicable_for``) wins;
- its price (``_compute_price``): ``fixed``; ``percentage`` of the base; ``formula``: the base
  less ``price_discount`` %, rounded to a multiple of ``price_round`` (``float_round``
  HALF-UP), plus ``price_surcharge``, held within ``price_min_margin``/``price_max_margin`` of
  the base;
- the base (``_compute_base_price``): ``list_price`` plus the variant's ``price_extra``,
  ``standard_price``, or another pricelist's price for the same product, quantity and date
  (when ``base_pricelist_id`` is empty, the list price), converted to the pricelist's currency
  with the currencies' rates when they differ;
- no rule (or no pricelist): the list price plus ``price_extra``.

The context's ``pricelist``, ``quantity`` and ``date`` drive ``get_contextual_price``
(pricing.py). Variants' ``price_extra`` comes from ``product.template.attribute.value``
(registered here when the schema does not define it), through the variant's
``product_template_attribute_value_ids``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from .orm import COMPUTES, PRE_CREATE, PRE_WRITE, Env, compute, hook
from .schema import COMMON_FIELDS, REGISTRY, Model, char, computed, flt, m2m, m2o

PTAV = "product.template.attribute.value"

# Variants and their value extras, unless the schema already has them.
if PTAV not in REGISTRY:
    REGISTRY[PTAV] = Model(
        PTAV,
        "Product Template Attribute Value",
        {
            **COMMON_FIELDS,
            "name": char("Value"),
            "product_tmpl_id": m2o("product.template", "Product Template"),
            "price_extra": flt("Value Price Extra"),
        },
    )
_variant_fields = REGISTRY["product.product"].fields
_variant_fields.setdefault("product_template_attribute_value_ids", m2m(PTAV, "Attribute Values"))
_variant_fields.setdefault("price_extra", computed("float", "Variant Price Extra"))
# List and cost prices are in the company's currency (related fields in Odoo).
for _fname, _label in (("currency_id", "Currency"), ("cost_currency_id", "Cost Currency")):
    _variant_fields.setdefault(_fname, computed("many2one", _label, comodel="res.currency"))


def float_round(value: float, rounding: float) -> float:
    """``odoo.tools.float_round(value, precision_rounding=rounding)``, HALF-UP."""
    if not rounding or not value:
        return 0.0
    normalized = value / rounding
    epsilon = 2 ** (math.log(abs(normalized), 2) - 52)
    normalized += math.copysign(epsilon, normalized)
    return round(normalized) * rounding


def price_extra(env: Env, product: dict[str, Any]) -> float:
    total = 0.0
    for vid in product.get("product_template_attribute_value_ids") or []:
        value = env.rec(PTAV, vid)
        if value is not None:
            total += float(value.get("price_extra") or 0.0)
    return total


@compute("product.product", "price_extra")
def _c_price_extra(env: Env, rec: dict[str, Any]) -> float:
    return price_extra(env, rec)


@compute("product.product", "lst_price")
def _c_lst_price(env: Env, rec: dict[str, Any]) -> float:
    return float(rec.get("list_price") or 0.0) + price_extra(env, rec)


@compute("product.product", "currency_id", "cost_currency_id")
def _c_currency(env: Env, rec: dict[str, Any]) -> int:
    return _company_currency(env)


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    text = str(value).strip().replace("T", " ")[:19]
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _category_chain(env: Env, categ_id: int | None) -> list[int]:
    """The category and its parents, nearest first."""
    chain: list[int] = []
    while categ_id and categ_id not in chain:
        chain.append(categ_id)
        rec = env.rec("product.category", categ_id)
        categ_id = rec.get("parent_id") if rec else None
    return chain


def _complete_name(env: Env, categ_id: int | None) -> str:
    fn = COMPUTES.get(("product.category", "complete_name"))
    rec = env.rec("product.category", categ_id) if categ_id else None
    if rec is None:
        return ""
    return str(fn(env, rec)) if fn else str(rec.get("name") or "")


def applicable_rules(
    env: Env, pricelist_id: int, product: dict[str, Any], when: datetime
) -> list[dict[str, Any]]:
    """``_get_applicable_rules``: the domain, then Odoo's item order."""
    parents = set(_category_chain(env, product.get("categ_id")))
    rules = []
    for iid in env.s.referencing("product.pricelist.item", "pricelist_id", pricelist_id):
        item = env.table("product.pricelist.item")[iid]
        if item.get("categ_id") and item["categ_id"] not in parents:
            continue
        if item.get("product_tmpl_id") and item["product_tmpl_id"] != product.get(
            "product_tmpl_id"
        ):
            continue
        if item.get("product_id") and item["product_id"] != product["id"]:
            continue
        start, end = _parse(item.get("date_start")), _parse(item.get("date_end"))
        if (start and start > when) or (end and end < when):
            continue
        rules.append(item)
    names = {r["id"]: _complete_name(env, r.get("categ_id")) for r in rules}
    # id desc, then categ_id desc (NULLs first, as PostgreSQL sorts them in DESC), then
    # min_quantity desc, then applied_on: stable sorts from the last key to the first.
    rules.sort(key=lambda r: r["id"], reverse=True)
    rules.sort(key=lambda r: (r.get("categ_id") is None, names[r["id"]]), reverse=True)
    rules.sort(key=lambda r: float(r.get("min_quantity") or 0.0), reverse=True)
    rules.sort(key=lambda r: r.get("applied_on") or "3_global")
    return rules


def _is_applicable_for(env: Env, item: dict[str, Any], product: dict[str, Any], qty: float) -> bool:
    min_qty = float(item.get("min_quantity") or 0.0)
    if min_qty and qty < min_qty:
        return False
    applied = item.get("applied_on") or "3_global"
    if applied == "2_product_category":
        return bool(item.get("categ_id")) and item["categ_id"] in _category_chain(
            env, product.get("categ_id")
        )
    if applied == "1_product":
        return item.get("product_tmpl_id") == product.get("product_tmpl_id")
    if applied == "0_product_variant":
        return item.get("product_id") == product["id"]
    return True


def _currency_of(env: Env, pricelist_id: int | None) -> int:
    pl = env.rec("product.pricelist", pricelist_id) if pricelist_id else None
    if pl and pl.get("currency_id"):
        return int(pl["currency_id"])
    company = env.rec("res.company", 1)
    return int((company or {}).get("currency_id") or 1)


def _company_currency(env: Env) -> int:
    return _currency_of(env, None)


def _convert(env: Env, amount: float, src: int, dst: int) -> float:
    """``res.currency._convert(..., round=False)`` with each currency's current rate."""
    if src == dst or not amount:
        return amount
    src_rate = float((env.rec("res.currency", src) or {}).get("rate") or 1.0)
    dst_rate = float((env.rec("res.currency", dst) or {}).get("rate") or 1.0)
    return amount * (dst_rate / src_rate)


def _base_price(
    env: Env,
    item: dict[str, Any] | None,
    product: dict[str, Any],
    qty: float,
    when: datetime,
    currency: int,
    depth: int,
) -> float:
    base = (item or {}).get("base") or "list_price"
    if base == "pricelist" and item and item.get("base_pricelist_id"):
        other = int(item["base_pricelist_id"])
        src = _currency_of(env, other)
        price = compute_price(env, other, product, qty, when, depth + 1)[0]
    elif base == "standard_price":
        src = _company_currency(env)
        price = float(product.get("standard_price") or 0.0)
    else:
        src = _company_currency(env)
        price = float(product.get("list_price") or 0.0) + price_extra(env, product)
    return _convert(env, price, src, currency)


def compute_price(
    env: Env,
    pricelist_id: int | None,
    product: dict[str, Any],
    qty: float,
    when: datetime,
    depth: int = 0,
) -> tuple[float, int | None]:
    """(price in the pricelist's currency, the item that applied or None)."""
    if depth > 20:  # Odoo refuses a pricelist based on itself; a longer loop would recurse
        raise RecursionError("pricelist base loop")
    currency = _currency_of(env, pricelist_id)
    rule = None
    if pricelist_id:
        for item in applicable_rules(env, pricelist_id, product, when):
            if _is_applicable_for(env, item, product, qty):
                rule = item
                break
    kind = (rule or {}).get("compute_price")
    if rule is None or kind not in ("fixed", "percentage", "formula"):
        return _base_price(env, rule, product, qty, when, currency, depth), None
    if kind == "fixed":
        return float(rule.get("fixed_price") or 0.0), rule["id"]
    base = _base_price(env, rule, product, qty, when, currency, depth)
    if kind == "percentage":
        pct = float(rule.get("percent_price") or 0.0)
        return (base - (base * (pct / 100))) or 0.0, rule["id"]
    limit = base
    price = (base - (base * (float(rule.get("price_discount") or 0.0) / 100))) or 0.0
    if rule.get("price_round"):
        price = float_round(price, float(rule["price_round"]))
    if rule.get("price_surcharge"):
        price += float(rule["price_surcharge"])
    if rule.get("price_min_margin"):
        price = max(price, limit + float(rule["price_min_margin"]))
    if rule.get("price_max_margin"):
        price = min(price, limit + float(rule["price_max_margin"]))
    return price, rule["id"]


def contextual_price(
    env: Env, pricelist_id: int | None, product_id: int, qty: float, date: Any = None
) -> float:
    """``get_contextual_price`` for one variant: the context's pricelist, quantity and date."""
    product = env.must("product.product", product_id)
    when = _parse(date) or datetime.now(UTC).replace(tzinfo=None)
    return compute_price(env, pricelist_id or None, product, qty, when)[0]


# Odoo's create()/write() keep an item's targets consistent with its applied_on.
_CLEARS = {
    "3_global": ("product_id", "product_tmpl_id", "categ_id"),
    "2_product_category": ("product_id", "product_tmpl_id"),
    "1_product": ("product_id", "categ_id"),
    "0_product_variant": ("categ_id",),
}


def _consistent(vals: dict[str, Any]) -> dict[str, Any]:
    for fname in _CLEARS.get(vals.get("applied_on") or "", ()):
        vals[fname] = False
    return vals


_prev_create = PRE_CREATE.get("product.pricelist.item")
_prev_write = PRE_WRITE.get("product.pricelist.item")


@hook(PRE_CREATE, "product.pricelist.item")
def _pre_item_create(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    vals = _consistent(dict(vals))
    return _prev_create(env, vals) if _prev_create else vals


@hook(PRE_WRITE, "product.pricelist.item")
def _pre_item_write(env: Env, ids: list[int], vals: dict[str, Any]) -> dict[str, Any]:
    vals = _consistent(dict(vals))
    return _prev_write(env, ids, vals) if _prev_write else vals
