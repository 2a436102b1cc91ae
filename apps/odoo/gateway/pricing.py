"""Pricing: what the hub's price engine (apps.pricing) reads to evaluate Odoo's pricelists itself,
and the one-product-per-call Odoo price it falls back to.

Odoo calls: product.pricelist: read; product.pricelist.item: search_read;
product.product: read, search_read, fields_get (whether ``currency_id``/``cost_currency_id``
exist), get_contextual_price (one id per call, the context's ``pricelist``/``quantity``/``date``);
product.template.attribute.value: search_read (``price_extra`` changes touch no product
``write_date``); product.category: search_read; res.currency: read; res.company: search_read;
res.partner: read (the version adapter's ``partner_pricelist_fields``:
``property_product_pricelist``, and on 19 ``specific_property_product_pricelist``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from .base import GatewayBase, _unique, chunked, falsy_none, m2o_id

PRICELIST_ITEM_FIELDS = [
    "pricelist_id",
    "applied_on",
    "product_id",
    "product_tmpl_id",
    "categ_id",
    "min_quantity",
    "date_start",
    "date_end",
    "compute_price",
    "fixed_price",
    "percent_price",
    "base",
    "base_pricelist_id",
    "price_discount",
    "price_surcharge",
    "price_round",
    "price_min_margin",
    "price_max_margin",
    "write_date",
]
PRICE_PRODUCT_FIELDS = [
    "default_code",
    "product_tmpl_id",
    "categ_id",
    "list_price",
    "price_extra",
    "standard_price",
    "active",
    "write_date",
]
NO_ARCHIVE_FILTER = {"active_test": False}


def _odoo_moment(moment: dt.datetime) -> str:
    """A UTC moment as Odoo's context ``date`` / domain datetimes: "YYYY-MM-DD HH:MM:SS"."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class PricingGateway(GatewayBase):
    """Pricelists, their rules and the products' price fields, read in batches."""

    def pricelists_read(self, *, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Pricelist headers (archived ones too: a rule may be based on one): id, name,
        currency_id, currency (its code), active."""
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(int(i) for i in ids)):
            rows = self.client.call(
                "product.pricelist",
                "read",
                [part, ["name", "currency_id", "active"]],
                context=NO_ARCHIVE_FILTER,
            )
            for row in rows:
                cur = row.get("currency_id")
                out.append(
                    {
                        "id": row["id"],
                        "name": row.get("name") or "",
                        "currency_id": m2o_id(cur),
                        "active": bool(row.get("active", True)),
                    }
                )
        return out

    def pricelist_items_read(self, *, pricelist_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Every rule of these pricelists, with what the evaluation needs (ONE search_read per
        1,000 pricelists). Many2ones come back as ids, empty values as None."""
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(int(i) for i in pricelist_ids)):
            rows = self.client.call(
                "product.pricelist.item",
                "search_read",
                [[["pricelist_id", "in", part]]],
                {"fields": PRICELIST_ITEM_FIELDS, "order": "id"},
                context=NO_ARCHIVE_FILTER,
            )
            for row in rows:
                item = {k: falsy_none(row.get(k)) for k in PRICELIST_ITEM_FIELDS}
                for key in (
                    "pricelist_id",
                    "product_id",
                    "product_tmpl_id",
                    "categ_id",
                    "base_pricelist_id",
                ):
                    item[key] = m2o_id(row.get(key))
                item["id"] = row["id"]
                out.append(item)
        return out

    def pricelist_items_stamps(self, *, pricelist_ids: Sequence[int]) -> dict[int, dict[str, str]]:
        """pricelist id -> {item id (str): write_date} for these pricelists' rules: a cheap poll
        that also sees created and deleted rules (a delete bumps no write_date anywhere)."""
        out: dict[int, dict[str, str]] = {int(i): {} for i in pricelist_ids}
        for part in chunked(_unique(int(i) for i in pricelist_ids)):
            rows = self.client.call(
                "product.pricelist.item",
                "search_read",
                [[["pricelist_id", "in", part]]],
                {"fields": ["pricelist_id", "write_date"], "order": "id"},
                context=NO_ARCHIVE_FILTER,
            )
            for r in rows:
                pl = m2o_id(r.get("pricelist_id"))
                if pl is not None:
                    out.setdefault(pl, {})[str(r["id"])] = str(r.get("write_date") or "")
        return out

    def price_products_read(self, *, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Variants' price fields (``list_price`` of the template, the variant's
        ``price_extra``, ``standard_price``, category, currencies), archived ones too."""
        extra = sorted(
            self.client.fields_present("product.product", ["currency_id", "cost_currency_id"])
        )
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(int(i) for i in ids)):
            rows = self.client.call(
                "product.product",
                "read",
                [part, PRICE_PRODUCT_FIELDS + extra],
                context=NO_ARCHIVE_FILTER,
            )
            for row in rows:
                out.append(
                    {
                        "id": row["id"],
                        "sku": falsy_none(row.get("default_code")) or "",
                        "tmpl_id": m2o_id(row.get("product_tmpl_id")),
                        "categ_id": m2o_id(row.get("categ_id")),
                        "list_price": row.get("list_price") or 0.0,
                        "price_extra": row.get("price_extra") or 0.0,
                        "standard_price": row.get("standard_price") or 0.0,
                        "currency_id": m2o_id(row.get("currency_id")),
                        "cost_currency_id": m2o_id(row.get("cost_currency_id")),
                        "active": bool(row.get("active", True)),
                        "write_date": str(row.get("write_date") or ""),
                    }
                )
        return out

    def price_products_changed(self, *, ids: Sequence[int], since: str) -> dict[int, str]:
        """product id -> write_date of those of ``ids`` written at or after ``since`` (archived
        too; the same second again, as write_date has microseconds that reads round away)."""
        out: dict[int, str] = {}
        for part in chunked(_unique(int(i) for i in ids)):
            rows = self.client.call(
                "product.product",
                "search_read",
                [[["id", "in", part], ["write_date", ">=", since]]],
                {"fields": ["write_date"], "order": "id"},
                context=NO_ARCHIVE_FILTER,
            )
            out.update({int(r["id"]): str(r.get("write_date") or "") for r in rows})
        return out

    def template_values_changed(self, *, since: str) -> dict[int, str]:
        """template id -> newest write_date of its attribute values (``price_extra``) written at
        or after ``since``: such a change bumps neither the variant nor the template."""
        rows = self.client.call(
            "product.template.attribute.value",
            "search_read",
            [[["write_date", ">=", since]]],
            {"fields": ["product_tmpl_id", "write_date"], "order": "write_date"},
            context=NO_ARCHIVE_FILTER,
        )
        out: dict[int, str] = {}
        for row in rows:
            tmpl = m2o_id(row.get("product_tmpl_id"))
            if tmpl is not None:
                out[tmpl] = max(out.get(tmpl, ""), str(row.get("write_date") or ""))
        return out

    def categories_read(self) -> list[dict[str, Any]]:
        """Every product category: id, parent_id, complete_name (rules of a category apply to
        its children; Odoo orders category rules by complete name)."""
        rows = self.client.call(
            "product.category",
            "search_read",
            [[]],
            {"fields": ["parent_id", "complete_name"], "order": "id"},
        )
        return [
            {
                "id": r["id"],
                "parent_id": m2o_id(r.get("parent_id")),
                "complete_name": str(r.get("complete_name") or ""),
            }
            for r in rows
        ]

    def currencies_read(self, *, ids: Sequence[int]) -> list[dict[str, Any]]:
        """id, name (code), rounding (e.g. 0.01), archived ones too."""
        rows = self.client.call(
            "res.currency",
            "read",
            [_unique(int(i) for i in ids), ["name", "rounding"]],
            context=NO_ARCHIVE_FILTER,
        )
        return [
            {"id": r["id"], "name": r.get("name") or "", "rounding": r.get("rounding") or 0.01}
            for r in rows
        ]

    def company_currency_id(self) -> int | None:
        """The main company's currency: what list and cost prices are in."""
        rows = self.client.call(
            "res.company", "search_read", [[]], {"fields": ["currency_id"], "limit": 1}
        )
        return m2o_id(rows[0].get("currency_id")) if rows else None

    def partner_pricelists(self, *, partner_ids: Sequence[int]) -> dict[int, int | None]:
        """partner id -> its pricelist (``property_product_pricelist``, or the partner's own where
        the version computes none: ``adapter.partner_pricelist``), None when Odoo reports none."""
        adapter = self.client.adapter
        out: dict[int, int | None] = {}
        for part in chunked(_unique(int(i) for i in partner_ids)):
            rows = self.client.call(
                "res.partner",
                "read",
                [part, list(adapter.partner_pricelist_fields)],
                context=NO_ARCHIVE_FILTER,
            )
            out.update({int(r["id"]): m2o_id(adapter.partner_pricelist(r)) for r in rows})
        return out

    def contextual_prices(
        self,
        *,
        pricelist_id: int | None,
        product_ids: Sequence[int],
        quantity: Decimal,
        date: dt.datetime | None = None,
    ) -> dict[int, float]:
        """Odoo's own price of each variant: ONE ``get_contextual_price`` call per product
        (Odoo 17 takes one id per call). The engine's fallback, and the benchmark's baseline."""
        context: dict[str, Any] = {"quantity": float(quantity)}
        if pricelist_id:
            context["pricelist"] = int(pricelist_id)
        if date is not None:
            context["date"] = _odoo_moment(date)
        out: dict[int, float] = {}
        for pid in _unique(int(i) for i in product_ids):
            out[pid] = float(
                self.client.call(
                    "product.product", "get_contextual_price", [[pid]], context=context
                )
            )
        return out
