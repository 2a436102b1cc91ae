"""Odoo 17's pricelist evaluation in Decimal: ``product.pricelist._compute_price_rule`` and
``product.pricelist.item._compute_price`` / ``_compute_base_price`` / ``_is_applicable_for``.

Pure: no database, no Odoo. A ``Catalog`` holds what the cache read (pricelists with their
rules, products' price fields, categories, currencies); ``evaluate`` gives one variant's price
for a pricelist, quantity and moment, the rule that applied and until when it holds.

- Rules that may apply (``_get_applicable_rules_domain``): the rule's category is the product's
  or one of its parents, its template and variant are the product's (or empty), and
  ``date_start <= moment <= date_end`` (either may be empty). Order (the model's ``_order``):
  ``applied_on, min_quantity desc, categ_id desc`` (the category's complete name; empty first)
  ``, id desc``. The first rule whose ``min_quantity`` the quantity reaches and whose
  ``applied_on`` target matches wins.
- Price: ``fixed``; ``percentage``: base - base * pct / 100; ``formula``: base less
  ``price_discount`` %, rounded to a multiple of ``price_round`` (half away from zero), plus
  ``price_surcharge``, then at least base + ``price_min_margin`` and at most base +
  ``price_max_margin`` (each only when non-zero).
- Base: ``list_price`` + the variant's ``price_extra``; ``standard_price``; ``pricelist``: the
  other pricelist's price for the same product, quantity and moment (``base_pricelist_id``
  empty: the list price). No rule: the list price + ``price_extra``.
- Currency: a base in another currency than the pricelist's needs Odoo's dated rates, which the
  engine does not hold: ``CannotEvaluate`` (the caller asks Odoo for that product). So does a
  product, pricelist or category the catalog does not have, or a loop of pricelists.

The result is unrounded (Odoo's ``get_contextual_price`` is too); ``round_to`` rounds to the
currency like Odoo's ``float_round`` (half away from zero).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)
MAX_DEPTH = 20
APPLIED_ON = ("0_product_variant", "1_product", "2_product_category", "3_global")


class CannotEvaluate(Exception):
    """The engine cannot price this product locally (the reason says why); ask Odoo."""


def dec(value: object) -> Decimal:
    """An Odoo float (or str/int/Decimal/None/False) as the Decimal of its shortest repr."""
    if value is None or value is False:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def round_to(value: Decimal, rounding: Decimal) -> Decimal:
    """``float_round(value, precision_rounding=rounding)``: half away from zero, to a multiple
    of ``rounding`` (0.01, 0.05, 1, ...), keeping the rounding's exponent."""
    if not rounding:
        return value
    steps = (value / rounding).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return (steps * rounding).quantize(rounding.normalize() if rounding < 1 else Decimal(1))


def odoo_float_to_decimal(value: float, rounding: Decimal) -> Decimal:
    """A float Odoo computed, rounded to the currency as Odoo rounds it (``float_round`` adds
    one unit in the last place before rounding, so 10.454999999999998 is the tie 10.455)."""
    import math

    if not value or not rounding:
        return round_to(ZERO, rounding)
    normalized = value / float(rounding)
    epsilon = 2 ** (math.log(abs(normalized), 2) - 52)
    normalized += math.copysign(epsilon, normalized)
    return round_to(Decimal(round(normalized)) * rounding, rounding)


@dataclass(frozen=True)
class Item:
    id: int
    pricelist_id: int
    applied_on: str
    product_id: int | None
    tmpl_id: int | None
    categ_id: int | None
    min_quantity: Decimal
    date_start: dt.datetime | None  # naive UTC, as Odoo stores them
    date_end: dt.datetime | None
    compute_price: str
    fixed_price: Decimal = ZERO
    percent_price: Decimal = ZERO
    base: str = "list_price"
    base_pricelist_id: int | None = None
    price_discount: Decimal = ZERO
    price_surcharge: Decimal = ZERO
    price_round: Decimal = ZERO
    price_min_margin: Decimal = ZERO
    price_max_margin: Decimal = ZERO


@dataclass(frozen=True)
class Pricelist:
    id: int
    name: str
    currency_id: int | None
    items: tuple[Item, ...]  # in Odoo's order (Catalog sorts them)


@dataclass(frozen=True)
class Product:
    id: int
    sku: str
    tmpl_id: int | None
    categ_id: int | None
    list_price: Decimal
    price_extra: Decimal
    standard_price: Decimal
    currency_id: int | None = None  # None: the company's
    cost_currency_id: int | None = None


@dataclass(frozen=True)
class Category:
    id: int
    parent_id: int | None
    complete_name: str


@dataclass(frozen=True)
class Currency:
    id: int
    name: str
    rounding: Decimal


@dataclass(frozen=True)
class Result:
    price: Decimal  # unrounded, in the pricelist's currency
    currency_id: int | None
    item: Item | None
    pricelist_id: int | None  # the pricelist whose rule applied (None: list price)
    valid_until: dt.datetime | None  # the next date boundary of a rule that could apply


@dataclass
class Catalog:
    company_currency_id: int | None
    pricelists: dict[int, Pricelist] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    currencies: dict[int, Currency] = field(default_factory=dict)
    _chains: dict[int | None, tuple[int, ...]] = field(default_factory=dict, repr=False)

    @classmethod
    def build(
        cls,
        *,
        company_currency_id: int | None,
        pricelists: Mapping[int, tuple[str, int | None, list[Item]]],
        products: Mapping[int, Product],
        categories: Mapping[int, Category],
        currencies: Mapping[int, Currency],
    ) -> Catalog:
        cat = cls(
            company_currency_id=company_currency_id,
            products=dict(products),
            categories=dict(categories),
            currencies=dict(currencies),
        )
        for pid, (name, currency_id, items) in pricelists.items():
            cat.pricelists[pid] = Pricelist(pid, name, currency_id, tuple(cat.sort(items)))
        return cat

    def sort(self, items: list[Item]) -> list[Item]:
        """Odoo's ``_order``: applied_on, min_quantity desc, categ_id desc, id desc."""

        def categ_key(it: Item) -> tuple[bool, str]:
            if it.categ_id is None:
                return (True, "")  # NULL first in DESC
            cat = self.categories.get(it.categ_id)
            return (False, cat.complete_name if cat else "")

        out = sorted(items, key=lambda it: it.id, reverse=True)
        out.sort(key=categ_key, reverse=True)
        out.sort(key=lambda it: it.min_quantity, reverse=True)
        out.sort(key=lambda it: it.applied_on)
        return out

    def category_chain(self, categ_id: int | None) -> tuple[int, ...]:
        """The category and its parents, nearest first."""
        found = self._chains.get(categ_id)
        if found is not None:
            return found
        chain: list[int] = []
        current = categ_id
        while current is not None and current not in chain:
            cat = self.categories.get(current)
            if cat is None:
                raise CannotEvaluate(f"category {current} is not in the cache")
            chain.append(current)
            current = cat.parent_id
        self._chains[categ_id] = tuple(chain)
        return self._chains[categ_id]

    def currency_of(self, pricelist_id: int | None) -> int | None:
        if pricelist_id is None:
            return self.company_currency_id
        pl = self.pricelists.get(pricelist_id)
        if pl is None:
            raise CannotEvaluate(f"pricelist {pricelist_id} is not in the cache")
        return pl.currency_id or self.company_currency_id

    def rounding(self, currency_id: int | None) -> Decimal:
        cur = self.currencies.get(currency_id) if currency_id is not None else None
        return cur.rounding if cur else Decimal("0.01")

    def currency_name(self, currency_id: int | None) -> str:
        cur = self.currencies.get(currency_id) if currency_id is not None else None
        return cur.name if cur else ""


def _structural(item: Item, product: Product, chain: tuple[int, ...]) -> bool:
    """The domain's target leaves and ``_is_applicable_for``'s, without quantity and dates."""
    if item.categ_id is not None and item.categ_id not in chain:
        return False
    if item.tmpl_id is not None and item.tmpl_id != product.tmpl_id:
        return False
    if item.product_id is not None and item.product_id != product.id:
        return False
    if item.applied_on == "2_product_category":
        return item.categ_id is not None  # in the chain, checked above
    if item.applied_on == "1_product":
        return item.tmpl_id == product.tmpl_id
    if item.applied_on == "0_product_variant":
        return item.product_id == product.id
    return True


def _in_dates(item: Item, moment: dt.datetime) -> bool:
    return not (
        (item.date_start is not None and item.date_start > moment)
        or (item.date_end is not None and item.date_end < moment)
    )


def _next_boundary(
    pricelist: Pricelist, product: Product, chain: tuple[int, ...], moment: dt.datetime
) -> dt.datetime | None:
    """The earliest date at which a rule that targets this product starts or stops applying."""
    found: dt.datetime | None = None
    for item in pricelist.items:
        if not _structural(item, product, chain):
            continue
        for edge in (item.date_start, item.date_end):
            if edge is not None and edge > moment and (found is None or edge < found):
                found = edge
    return found


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def evaluate(
    catalog: Catalog,
    pricelist_id: int | None,
    product_id: int,
    quantity: Decimal,
    moment: dt.datetime,
    _depth: int = 0,
) -> Result:
    """One variant's price under ``pricelist_id`` (None: the list price) at ``quantity`` and
    ``moment`` (naive UTC). Raises ``CannotEvaluate`` rather than guess."""
    if _depth > MAX_DEPTH:
        raise CannotEvaluate("pricelists based on each other in a loop")
    product = catalog.products.get(product_id)
    if product is None:
        raise CannotEvaluate(f"product {product_id} is not in the cache")
    currency = catalog.currency_of(pricelist_id)
    if pricelist_id is None:
        listed = _base(catalog, None, product, quantity, moment, currency, _depth)
        return Result(listed.price, currency, None, None, listed.valid_until)
    pricelist = catalog.pricelists[pricelist_id]
    chain = catalog.category_chain(product.categ_id)
    rule: Item | None = None
    for item in pricelist.items:
        if not _in_dates(item, moment) or not _structural(item, product, chain):
            continue
        if item.min_quantity and quantity < item.min_quantity:
            continue
        rule = item
        break
    until = _next_boundary(pricelist, product, chain, moment)
    if rule is None or rule.compute_price not in ("fixed", "percentage", "formula"):
        base = _base(catalog, rule, product, quantity, moment, currency, _depth)
        return Result(base.price, currency, None, None, _earliest(until, base.valid_until))
    if rule.compute_price == "fixed":
        return Result(rule.fixed_price, currency, rule, pricelist_id, until)
    base = _base(catalog, rule, product, quantity, moment, currency, _depth)
    until = _earliest(until, base.valid_until)
    if rule.compute_price == "percentage":
        price = base.price - base.price * (rule.percent_price / HUNDRED)
        return Result(price, currency, rule, pricelist_id, until)
    limit = base.price
    price = base.price - base.price * (rule.price_discount / HUNDRED)
    if rule.price_round:
        price = round_to(price, rule.price_round)
    if rule.price_surcharge:
        price += rule.price_surcharge
    if rule.price_min_margin:
        price = max(price, limit + rule.price_min_margin)
    if rule.price_max_margin:
        price = min(price, limit + rule.price_max_margin)
    return Result(price, currency, rule, pricelist_id, until)


@dataclass(frozen=True)
class _Base:
    price: Decimal
    valid_until: dt.datetime | None


def _base(
    catalog: Catalog,
    rule: Item | None,
    product: Product,
    quantity: Decimal,
    moment: dt.datetime,
    currency: int | None,
    depth: int,
) -> _Base:
    base = rule.base if rule is not None else "list_price"
    until: dt.datetime | None = None
    if base == "pricelist" and rule is not None and rule.base_pricelist_id:
        other = evaluate(catalog, rule.base_pricelist_id, product.id, quantity, moment, depth + 1)
        price, source, until = other.price, other.currency_id, other.valid_until
    elif base == "standard_price":
        price = product.standard_price
        source = product.cost_currency_id or catalog.company_currency_id
    elif base in ("list_price", "pricelist"):
        price = product.list_price + product.price_extra
        source = product.currency_id or catalog.company_currency_id
    else:
        raise CannotEvaluate(f"a rule based on {base!r}")
    if source != currency:
        raise CannotEvaluate(
            f"currency conversion {catalog.currency_name(source) or source} to "
            f"{catalog.currency_name(currency) or currency} needs Odoo's rates"
        )
    return _Base(price, until)


def describe(catalog: Catalog, result: Result) -> str:
    """The rule that applied, for people: "pricelist 3 item 17: 10% off category All /
    Saleable from 10 units"; "list price"."""
    item = result.item
    if item is None:
        return "list price"
    if item.applied_on == "0_product_variant":
        product = catalog.products.get(item.product_id or 0)
        target = f"variant {product.sku or item.product_id}" if product else "variant"
    elif item.applied_on == "1_product":
        target = f"product template {item.tmpl_id}"
    elif item.applied_on == "2_product_category":
        cat = catalog.categories.get(item.categ_id or 0)
        target = f"category {cat.complete_name if cat else item.categ_id}"
    else:
        target = "all products"
    if item.compute_price == "fixed":
        what = f"fixed {item.fixed_price} on {target}"
    elif item.compute_price == "percentage":
        what = f"{item.percent_price.normalize():f}% off {target}"
    else:
        base = {"list_price": "list price", "standard_price": "cost"}.get(item.base, "")
        if item.base == "pricelist":
            base = f"pricelist {item.base_pricelist_id}" if item.base_pricelist_id else "list price"
        parts = [f"formula on {base}"]
        if item.price_discount:
            parts.append(f"-{item.price_discount.normalize():f}%")
        if item.price_round:
            parts.append(f"rounded to {item.price_round.normalize():f}")
        if item.price_surcharge:
            parts.append(f"+{item.price_surcharge.normalize():f}")
        if item.price_min_margin:
            parts.append(f"margin >= {item.price_min_margin.normalize():f}")
        if item.price_max_margin:
            parts.append(f"margin <= {item.price_max_margin.normalize():f}")
        what = " ".join(parts) + f" for {target}"
    if item.min_quantity:
        what += f" from {item.min_quantity.normalize():f} units"
    return f"pricelist {item.pricelist_id} item {item.id}: {what}"
