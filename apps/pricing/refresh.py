"""Filling and refreshing the price engine's cache from Odoo (through PricingGateway).

- ``ensure``: what a quote needs and the cache lacks (a pricelist and the pricelists its rules
  are based on, products, a partner's pricelist), read once.
- ``refresh``: the beat job (every HUB_PRICES_POLL_SECONDS). Per poll, in batches: the rules'
  ids and write dates of every cached pricelist (ONE search_read; a changed, added or deleted rule
  re-reads that pricelist's rules), the pricelist headers, the products written since the cursor
  and those whose template attribute values changed (``price_extra`` bumps no product), the
  category tree, the currencies, the tracked partners' pricelists. Anything that changed moves
  ``PricingState.generation``; each process then rebuilds its in-memory catalog.

The product cursors are re-read from ``HUB_PRICES_POLL_OVERLAP_SECONDS`` (default 5) before
their watermark: Odoo's ``write_date`` has whole seconds over RPC and is stamped at transaction
start. The first poll (no cursor yet) re-reads every cached product once, since a quote may have
cached them (``ensure``) before any poll ran, and starts the cursors from what it read. (Before,
such a first poll left the cursor empty, and every later poll skipped the products: a product
moved into a rule's category kept its old price.)

What is tracked: every cached pricelist and product, each channel's pricelist, the products
bound on channels, and the Odoo companies of customer bindings on B2B channels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.mappings.models import Binding
from apps.odoo.gateway import OdooGateway
from apps.sales_channels.models import Channel

from .models import (
    CachedCategory,
    CachedCurrency,
    CachedPricelist,
    CachedPriceProduct,
    PartnerPricelist,
    PricingState,
)

PRODUCT_MODEL = "product.product"
_FMT = "%Y-%m-%d %H:%M:%S"


def state() -> PricingState:
    row, _ = PricingState.objects.get_or_create(pk=1)
    return row


def bump() -> None:
    state()
    PricingState.objects.filter(pk=1).update(generation=F("generation") + 1)


def _minus(mark: str, seconds: float) -> str:
    """A watermark moved ``seconds`` back (Odoo stamps ``write_date`` at transaction start, so a
    long transaction commits rows "in the past")."""
    try:
        when = dt.datetime.strptime(mark[:19], _FMT)
    except ValueError:
        return mark
    return (when - dt.timedelta(seconds=seconds)).strftime(_FMT)


def _dec(value: Any) -> Decimal:
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value or 0))


# --- writers -----------------------------------------------------------------------------------


def _store_products(rows: list[dict[str, Any]]) -> bool:
    changed = False
    now = timezone.now()
    existing = {
        p.odoo_id: p for p in CachedPriceProduct.objects.filter(odoo_id__in=[r["id"] for r in rows])
    }
    for r in rows:
        vals = {
            "sku": r["sku"],
            "tmpl_id": r["tmpl_id"],
            "categ_id": r["categ_id"],
            "list_price": _dec(r["list_price"]),
            "price_extra": _dec(r["price_extra"]),
            "standard_price": _dec(r["standard_price"]),
            "currency_id": r["currency_id"],
            "cost_currency_id": r["cost_currency_id"],
            "active": r["active"],
            "write_date": r["write_date"],
        }
        old = existing.get(r["id"])
        if old is not None and all(getattr(old, k) == v for k, v in vals.items()):
            continue
        CachedPriceProduct.objects.update_or_create(
            odoo_id=r["id"], defaults={**vals, "refreshed_at": now}
        )
        changed = True
    return changed


def _pricelist_closure(gw: OdooGateway, wanted: Iterable[int]) -> bool:
    """Read the pricelists not cached yet, and those their rules are based on."""
    changed = False
    todo = {int(i) for i in wanted if i}
    seen: set[int] = set()
    while todo:
        cached = set(
            CachedPricelist.objects.filter(odoo_id__in=todo).values_list("odoo_id", flat=True)
        )
        missing = sorted(todo - cached)
        seen |= todo
        if missing:
            _load_pricelists(gw, missing)
            changed = True
        bases: set[int] = set()
        for items in CachedPricelist.objects.filter(odoo_id__in=todo).values_list(
            "items", flat=True
        ):
            bases |= {int(i["base_pricelist_id"]) for i in items if i.get("base_pricelist_id")}
        todo = bases - seen
    return changed


def _load_pricelists(
    gw: OdooGateway, ids: list[int], headers: list[dict[str, Any]] | None = None
) -> None:
    headers = headers if headers is not None else gw.pricelists_read(ids=ids)
    items = gw.pricelist_items_read(pricelist_ids=ids)
    by_pl: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for item in items:
        by_pl.setdefault(int(item["pricelist_id"]), []).append(item)
    now = timezone.now()
    for h in headers:
        rules = by_pl.get(h["id"], [])
        CachedPricelist.objects.update_or_create(
            odoo_id=h["id"],
            defaults={
                "name": h["name"],
                "currency_id": h["currency_id"],
                "active": h["active"],
                "items": rules,
                "stamps": {str(r["id"]): str(r.get("write_date") or "") for r in rules},
                "refreshed_at": now,
            },
        )
    _ensure_currencies(gw, [h["currency_id"] for h in headers if h["currency_id"]])


def _ensure_currencies(gw: OdooGateway, ids: Iterable[int], *, force: bool = False) -> bool:
    wanted = {int(i) for i in ids if i}
    if not force:
        wanted -= set(CachedCurrency.objects.values_list("odoo_id", flat=True))
    if not wanted:
        return False
    changed = False
    for row in gw.currencies_read(ids=sorted(wanted)):
        vals = {"name": row["name"], "rounding": _dec(row["rounding"])}
        old = CachedCurrency.objects.filter(odoo_id=row["id"]).first()
        if old is None or old.name != vals["name"] or old.rounding != vals["rounding"]:
            CachedCurrency.objects.update_or_create(odoo_id=row["id"], defaults=vals)
            changed = True
    return changed


def _refresh_categories(gw: OdooGateway) -> bool:
    rows = gw.categories_read()
    now = {(r["id"], r["parent_id"], r["complete_name"]) for r in rows}
    before = set(CachedCategory.objects.values_list("odoo_id", "parent_id", "complete_name"))
    if now == before:
        return False
    with transaction.atomic():
        CachedCategory.objects.exclude(odoo_id__in=[r["id"] for r in rows]).delete()
        for r in rows:
            CachedCategory.objects.update_or_create(
                odoo_id=r["id"],
                defaults={"parent_id": r["parent_id"], "complete_name": r["complete_name"]},
            )
    return True


def _ensure_company(gw: OdooGateway) -> bool:
    st = state()
    if st.company_currency_id:
        return False
    currency = gw.company_currency_id()
    PricingState.objects.filter(pk=1).update(company_currency_id=currency)
    if currency:
        _ensure_currencies(gw, [currency])
    return True


def _store_partners(found: dict[int, int | None]) -> bool:
    changed = False
    now = timezone.now()
    existing = dict(
        PartnerPricelist.objects.filter(partner_id__in=list(found)).values_list(
            "partner_id", "pricelist_id"
        )
    )
    for pid, pl in found.items():
        if pid in existing and existing[pid] == pl:
            continue
        PartnerPricelist.objects.update_or_create(
            partner_id=pid, defaults={"pricelist_id": pl, "refreshed_at": now}
        )
        changed = True
    return changed


# --- entry points ------------------------------------------------------------------------------


def ensure(
    gw: OdooGateway,
    *,
    pricelist_ids: Iterable[int] = (),
    product_ids: Iterable[int] = (),
    partner_ids: Iterable[int] = (),
) -> bool:
    """Read what the cache lacks; True when something was added (the generation moved)."""
    changed = _ensure_company(gw)
    if not CachedCategory.objects.exists():
        changed |= _refresh_categories(gw)
    partners = {int(p) for p in partner_ids}
    if partners:
        known = set(
            PartnerPricelist.objects.filter(partner_id__in=partners).values_list(
                "partner_id", flat=True
            )
        )
        if partners - known:
            changed |= _store_partners(gw.partner_pricelists(partner_ids=sorted(partners - known)))
        own = PartnerPricelist.objects.filter(partner_id__in=partners, pricelist_id__isnull=False)
        pricelist_ids = [
            *pricelist_ids,
            *(int(p) for p in own.values_list("pricelist_id", flat=True) if p),
        ]
    changed |= _pricelist_closure(gw, pricelist_ids)
    wanted = {int(p) for p in product_ids}
    if wanted:
        known = set(
            CachedPriceProduct.objects.filter(odoo_id__in=wanted).values_list("odoo_id", flat=True)
        )
        if wanted - known:
            rows = gw.price_products_read(ids=sorted(wanted - known))
            changed |= _store_products(rows)
            currencies = {r["currency_id"] for r in rows} | {r["cost_currency_id"] for r in rows}
            _ensure_currencies(gw, [c for c in currencies if c])
    if changed:
        bump()
    return changed


def tracked() -> tuple[set[int], set[int], set[int]]:
    """(pricelists, products, partners) the refresh keeps current."""
    pricelists = set(CachedPricelist.objects.values_list("odoo_id", flat=True))
    pricelists |= {
        int(p)
        for p in Channel.objects.filter(pricelist_id__isnull=False).values_list(
            "pricelist_id", flat=True
        )
        if p
    }
    products = set(CachedPriceProduct.objects.values_list("odoo_id", flat=True))
    products |= set(
        Binding.objects.filter(kind=Binding.Kind.PRODUCT, odoo_model=PRODUCT_MODEL).values_list(
            "odoo_id", flat=True
        )
    )
    partners = set(PartnerPricelist.objects.values_list("partner_id", flat=True))
    partners |= set(
        Binding.objects.filter(
            kind=Binding.Kind.CUSTOMER,
            odoo_model="res.partner",
            channel__kind=Channel.Kind.B2B_API,
        ).values_list("odoo_id", flat=True)
    )
    return pricelists, products, partners


def refresh(gw: OdooGateway) -> dict[str, int]:
    """One poll: re-read what changed in Odoo; returns counts of what changed."""
    st = state()
    changed = _ensure_company(gw)
    counts = {"pricelists": 0, "products": 0, "partners": 0, "categories": 0}
    pricelists, products, partners = tracked()

    if partners:
        found = gw.partner_pricelists(partner_ids=sorted(partners))
        if _store_partners(found):
            counts["partners"] = 1
            changed = True
        pricelists |= {p for p in found.values() if p}

    if _refresh_categories(gw):
        counts["categories"] = 1
        changed = True

    if pricelists:
        changed |= _pricelist_closure(gw, pricelists)
        pricelists = set(CachedPricelist.objects.values_list("odoo_id", flat=True))
        headers = {h["id"]: h for h in gw.pricelists_read(ids=sorted(pricelists))}
        stamps = gw.pricelist_items_stamps(pricelist_ids=sorted(pricelists))
        stale = []
        for row in CachedPricelist.objects.all():
            h = headers.get(row.odoo_id)
            if h is None:
                continue
            moved = (h["name"], h["currency_id"], h["active"]) != (
                row.name,
                row.currency_id,
                row.active,
            )
            if moved or stamps.get(row.odoo_id, {}) != row.stamps:
                stale.append(row.odoo_id)
        if stale:
            _load_pricelists(gw, stale, [headers[i] for i in stale])
            _pricelist_closure(gw, stale)
            counts["pricelists"] = len(stale)
            changed = True

    if products:
        known = set(CachedPriceProduct.objects.values_list("odoo_id", flat=True))
        reread = set(products - known)
        newest_p, newest_v = st.products_cursor, st.values_cursor
        overlap = float(getattr(settings, "HUB_PRICES_POLL_OVERLAP_SECONDS", 5))
        if not st.products_cursor:
            # The first poll: products a quote cached before it (``ensure``) may have changed
            # since; re-read them all once, and start the cursors at what they hold.
            reread |= known
        else:
            seen = gw.price_products_changed(
                ids=sorted(known), since=_minus(st.products_cursor, overlap)
            )
            reread |= set(seen)
            newest_p = max([newest_p, *seen.values()])
        if st.values_cursor:
            templates = gw.template_values_changed(since=_minus(st.values_cursor, overlap))
            if templates:
                reread |= set(
                    CachedPriceProduct.objects.filter(tmpl_id__in=list(templates)).values_list(
                        "odoo_id", flat=True
                    )
                )
                newest_v = max([newest_v, *templates.values()])
        if reread:
            rows = gw.price_products_read(ids=sorted(reread))
            if _store_products(rows):
                counts["products"] = len(rows)
                changed = True
            currencies = {r["currency_id"] for r in rows} | {r["cost_currency_id"] for r in rows}
            _ensure_currencies(gw, [c for c in currencies if c])
            newest_p = max([newest_p, *(r["write_date"] for r in rows)])
        # The first poll starts the attribute values' cursor at the newest product write read.
        PricingState.objects.filter(pk=1).update(
            products_cursor=newest_p[:19], values_cursor=(newest_v or newest_p)[:19]
        )
    if changed:
        bump()
    PricingState.objects.filter(pk=1).update(polled_at=timezone.now())
    return counts
