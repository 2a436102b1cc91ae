"""The price engine's API for the rest of the hub: ``prices_for`` and ``channel_pricelist``.

Prices come from the cache (models.py) evaluated by rules.py, with no Odoo call when the cache
holds the pricelist, its base pricelists and the products. What the cache lacks is read once
(refresh.ensure). A product the engine cannot price locally (rules.CannotEvaluate: another
currency, a base it does not model) is priced by Odoo's ``get_contextual_price``, one call per
such product, and says so (``source="odoo"``).

The in-memory catalog is rebuilt when ``PricingState.generation`` moved (one indexed query per
call checks it).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.odoo.gateway import OdooGateway, get_gateway

from . import refresh
from .models import (
    CachedCategory,
    CachedCurrency,
    CachedPricelist,
    CachedPriceProduct,
    PartnerPricelist,
    PricingState,
)
from .rules import (
    CannotEvaluate,
    Catalog,
    Category,
    Currency,
    Item,
    Product,
    dec,
    describe,
    evaluate,
    odoo_float_to_decimal,
    round_to,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Quote:
    sku: str
    product_id: int
    quantity: Decimal
    unit_price: Decimal  # to the currency's rounding
    currency: str
    rule: str  # "pricelist 3 item 17: 10% off category All / Saleable"; "list price"
    valid_until: dt.datetime | None
    source: str  # "engine" | "odoo" (fallback)


def channel_pricelist(channel: Any) -> int | None:
    """The channel's Odoo pricelist (``Channel.pricelist_id``); None = the list price."""
    value = getattr(channel, "pricelist_id", None)
    return int(value) if value else None


# --- the in-memory catalog ---------------------------------------------------------------------

_lock = threading.Lock()
_compiled: tuple[int, Catalog] | None = None


def _generation() -> int:
    row = PricingState.objects.filter(pk=1).values_list("generation", flat=True).first()
    return int(row or 0)


def _moment(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S")


def _item(raw: dict[str, Any]) -> Item:
    return Item(
        id=int(raw["id"]),
        pricelist_id=int(raw["pricelist_id"]),
        applied_on=str(raw.get("applied_on") or "3_global"),
        product_id=raw.get("product_id"),
        tmpl_id=raw.get("product_tmpl_id"),
        categ_id=raw.get("categ_id"),
        min_quantity=dec(raw.get("min_quantity")),
        date_start=_moment(raw.get("date_start")),
        date_end=_moment(raw.get("date_end")),
        compute_price=str(raw.get("compute_price") or "fixed"),
        fixed_price=dec(raw.get("fixed_price")),
        percent_price=dec(raw.get("percent_price")),
        base=str(raw.get("base") or "list_price"),
        base_pricelist_id=raw.get("base_pricelist_id"),
        price_discount=dec(raw.get("price_discount")),
        price_surcharge=dec(raw.get("price_surcharge")),
        price_round=dec(raw.get("price_round")),
        price_min_margin=dec(raw.get("price_min_margin")),
        price_max_margin=dec(raw.get("price_max_margin")),
    )


def _build() -> Catalog:
    st = refresh.state()
    return Catalog.build(
        company_currency_id=st.company_currency_id,
        pricelists={
            p.odoo_id: (p.name, p.currency_id, [_item(i) for i in p.items])
            for p in CachedPricelist.objects.all()
        },
        products={
            p.odoo_id: Product(
                id=p.odoo_id,
                sku=p.sku,
                tmpl_id=p.tmpl_id,
                categ_id=p.categ_id,
                list_price=p.list_price,
                price_extra=p.price_extra,
                standard_price=p.standard_price,
                currency_id=p.currency_id,
                cost_currency_id=p.cost_currency_id,
            )
            for p in CachedPriceProduct.objects.all()
        },
        categories={
            c.odoo_id: Category(c.odoo_id, c.parent_id, c.complete_name)
            for c in CachedCategory.objects.all()
        },
        currencies={
            c.odoo_id: Currency(c.odoo_id, c.name, c.rounding.normalize())
            for c in CachedCurrency.objects.all()
        },
    )


def catalog() -> Catalog:
    """This process's catalog, rebuilt from the cache when its generation moved."""
    global _compiled
    gen = _generation()
    current = _compiled
    if current is not None and current[0] == gen:
        return current[1]
    with _lock:
        if _compiled is None or _compiled[0] != gen:
            _compiled = (gen, _build())
        return _compiled[1]


def forget() -> None:
    """Drop this process's catalog (tests)."""
    global _compiled
    _compiled = None


# --- quotes ------------------------------------------------------------------------------------


def _as_moment(date: dt.date | dt.datetime | None) -> dt.datetime:
    """Naive UTC, as Odoo compares rule dates. A date is its midnight (as Odoo reads a context
    ``date`` of "YYYY-MM-DD")."""
    if date is None:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    if isinstance(date, dt.datetime):
        if date.tzinfo is not None:
            date = date.astimezone(dt.UTC).replace(tzinfo=None)
        return date.replace(microsecond=0)
    return dt.datetime.combine(date, dt.time.min)


def partner_pricelist(partner_id: int, gw: OdooGateway | None = None) -> int | None:
    """The pricelist Odoo reports for this partner (cached; read once when unknown)."""
    row = PartnerPricelist.objects.filter(partner_id=partner_id).first()
    if row is None:
        refresh.ensure(gw or get_gateway(), partner_ids=[partner_id])
        row = PartnerPricelist.objects.filter(partner_id=partner_id).first()
    return row.pricelist_id if row else None


def _missing(cat: Catalog, pricelist_id: int | None, product_ids: Sequence[int]) -> bool:
    if any(pid not in cat.products for pid in product_ids):
        return True
    todo = [pricelist_id] if pricelist_id else []
    seen: set[int] = set()
    while todo:
        pl = todo.pop()
        if pl in seen:
            continue
        seen.add(pl)
        found = cat.pricelists.get(pl)
        if found is None:
            return True
        todo += [i.base_pricelist_id for i in found.items if i.base_pricelist_id]
    return False


def prices_for(
    *,
    pricelist_id: int | None,
    product_ids: Sequence[int],
    quantity: Decimal = Decimal(1),
    date: dt.date | dt.datetime | None = None,
    partner_id: int | None = None,
    gateway: OdooGateway | None = None,
) -> dict[int, Quote]:
    """Unit prices of these variants at ``quantity`` on ``date`` (None: now).

    ``partner_id``: an Odoo partner (a B2B account's company) whose pricelist wins over
    ``pricelist_id`` when Odoo reports one. Products Odoo does not know are left out.
    """
    quantity = Decimal(quantity)
    if partner_id:
        pricelist_id = partner_pricelist(partner_id, gateway) or pricelist_id
    ids = list(dict.fromkeys(int(p) for p in product_ids))
    cat = catalog()
    if _missing(cat, pricelist_id, ids):
        gw = gateway or get_gateway()
        refresh.ensure(gw, pricelist_ids=[pricelist_id] if pricelist_id else [], product_ids=ids)
        cat = catalog()
    moment = _as_moment(date)
    out: dict[int, Quote] = {}
    fallback: dict[int, str] = {}
    described: dict[tuple[int | None, int | None], str] = {}
    for pid in ids:
        product = cat.products.get(pid)
        if product is None:
            continue
        try:
            result = evaluate(cat, pricelist_id, pid, quantity, moment)
        except CannotEvaluate as exc:
            fallback[pid] = str(exc)
            continue
        out[pid] = Quote(
            sku=product.sku,
            product_id=pid,
            quantity=quantity,
            unit_price=round_to(result.price, cat.rounding(result.currency_id)),
            currency=cat.currency_name(result.currency_id),
            rule=_described(described, cat, result),
            valid_until=(result.valid_until.replace(tzinfo=dt.UTC) if result.valid_until else None),
            source="engine",
        )
    if fallback:
        out.update(_odoo_quotes(cat, pricelist_id, fallback, quantity, moment, gateway))
    return out


def _described(memo: dict[tuple[int | None, int | None], str], cat: Catalog, result: Any) -> str:
    key = (result.pricelist_id, result.item.id if result.item else None)
    if key not in memo:
        memo[key] = describe(cat, result)
    return memo[key]


def _odoo_quotes(
    cat: Catalog,
    pricelist_id: int | None,
    reasons: dict[int, str],
    quantity: Decimal,
    moment: dt.datetime,
    gateway: OdooGateway | None,
) -> dict[int, Quote]:
    """Odoo's own price for the products the engine cannot evaluate (one call each)."""
    gw = gateway or get_gateway()
    logger.info(
        "Pricing %d product(s) through Odoo: %s", len(reasons), sorted(set(reasons.values()))
    )
    prices = gw.contextual_prices(
        pricelist_id=pricelist_id, product_ids=list(reasons), quantity=quantity, date=moment
    )
    try:
        currency = cat.currency_of(pricelist_id)
    except CannotEvaluate:
        currency = cat.company_currency_id
    rounding = cat.rounding(currency)
    return {
        pid: Quote(
            sku=cat.products[pid].sku,
            product_id=pid,
            quantity=quantity,
            unit_price=odoo_float_to_decimal(price, rounding),
            currency=cat.currency_name(currency),
            rule=f"Odoo get_contextual_price ({reasons[pid]})",
            valid_until=None,
            source="odoo",
        )
        for pid, price in prices.items()
    }
