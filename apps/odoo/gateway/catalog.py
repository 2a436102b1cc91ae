"""Catalog: products, and stock (levels, quants, warehouses, changes, the stock webhook).

Odoo calls: product.product: search_read, read, create; stock.quant: search_read;
stock.move: search_read; stock.warehouse: search; and the stock webhook rule through
automation.py (ir.model, ir.model.fields, base.automation, ir.actions.server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .automation import AutomationGateway
from .base import (
    ProductLookup,
    StockChanges,
    StockLevel,
    _num,
    _second,
    _unique,
    chunked,
    falsy_none,
    m2o_id,
)


class CatalogGateway(AutomationGateway):
    """Products by SKU (check-before-create) and stock as Odoo computes it."""

    # --- products ------------------------------------------------------------------------------
    def products_ids(self, *, skus: Sequence[str], by: str = "default_code") -> ProductLookup:
        """sku -> product.product id for many SKUs; one call per 1,000 SKUs.

        ``by``: "default_code", "barcode" or "either" (default_code wins over barcode).
        """
        if by not in ("default_code", "barcode", "either"):
            raise ValueError(f"unknown lookup field {by!r}")
        wanted = _unique(s for s in skus if s)
        ids: dict[str, int] = {}
        for part in chunked(wanted):
            if by == "either":
                domain: list[Any] = ["|", ["default_code", "in", part], ["barcode", "in", part]]
            else:
                domain = [[by, "in", part]]
            rows = self.client.call(
                "product.product",
                "search_read",
                [domain],
                {"fields": ["default_code", "barcode"], "order": "id"},
            )
            by_barcode: dict[str, int] = {}
            for row in rows:
                code, barcode = falsy_none(row.get("default_code")), falsy_none(row.get("barcode"))
                if by in ("default_code", "either") and code in part:
                    ids.setdefault(code, row["id"])
                if by in ("barcode", "either") and barcode in part:
                    by_barcode.setdefault(barcode, row["id"])
            for sku, pid in by_barcode.items():
                ids.setdefault(sku, pid)
        return ProductLookup(ids=ids, unknown=[s for s in wanted if s not in ids])

    def products_create(self, *, products: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create products in one call per chunk. Keys: sku, name, list_price, standard_price,
        barcode, invoice_policy, storable (default True)."""
        ids: list[int] = []
        for part in chunked(list(products)):
            vals_list = []
            for p in part:
                vals: dict[str, Any] = {"name": p["name"], "default_code": p["sku"]}
                if p.get("storable", True):
                    vals.update(self.client.adapter.product_storable_vals())
                for key in ("list_price", "standard_price", "barcode", "invoice_policy"):
                    if p.get(key) is not None:
                        vals[key] = _num(p[key])
                vals_list.append(vals)
            ids += [int(i) for i in self.client.call("product.product", "create", [vals_list])]
        return ids

    def products_ensure(self, *, products: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """sku -> id, creating only the SKUs Odoo does not have (check-before-create)."""
        found = self.products_ids(skus=[p["sku"] for p in products])
        missing = [p for p in products if p["sku"] in set(found.unknown)]
        missing = list({p["sku"]: p for p in missing}.values())
        if missing:
            created = self.products_create(products=missing)
            found.ids.update(zip((p["sku"] for p in missing), created, strict=True))
        return found.ids

    # --- stock ---------------------------------------------------------------------------------
    def stock_levels(
        self, *, product_ids: Sequence[int], warehouse_ids: Sequence[int]
    ) -> dict[int, dict[int, StockLevel]]:
        """warehouse id -> product id -> quantities; one read per warehouse per 1,000 products.

        The quantity fields are computed per the ``warehouse`` context (transcript 03).
        """
        out: dict[int, dict[int, StockLevel]] = {}
        pids = _unique(product_ids)
        for wh in _unique(warehouse_ids):
            levels = out.setdefault(wh, {})
            for part in chunked(pids):
                rows = self.client.call(
                    "product.product",
                    "read",
                    [part, ["qty_available", "free_qty", "virtual_available"]],
                    context={"warehouse": wh},
                )
                for row in rows:
                    levels[row["id"]] = StockLevel(
                        qty_available=float(row["qty_available"] or 0),
                        free_qty=float(row["free_qty"] or 0),
                        virtual_available=float(row["virtual_available"] or 0),
                    )
        return out

    def stock_quants(
        self, *, product_ids: Sequence[int], location_ids: Sequence[int] | None = None
    ) -> list[dict[str, Any]]:
        """Quants in internal locations (optionally under ``location_ids``), by location."""
        fields = ["product_id", "location_id", "quantity", "reserved_quantity"]
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(product_ids)):
            domain: list[Any] = [["product_id", "in", part], ["location_id.usage", "=", "internal"]]
            if location_ids:
                domain.append(["location_id", "child_of", list(location_ids)])
            rows = self.client.call(
                "stock.quant", "search_read", [domain], {"fields": fields, "order": "id"}
            )
            for r in rows:
                qty, reserved = float(r["quantity"] or 0), float(r["reserved_quantity"] or 0)
                out.append(
                    {
                        "id": r["id"],
                        "product_id": m2o_id(r["product_id"]),
                        "location_id": m2o_id(r["location_id"]),
                        "quantity": qty,
                        "reserved_quantity": reserved,
                        "available_quantity": qty - reserved,
                    }
                )
        return out

    def warehouses_ids(self) -> list[int]:
        """Every active warehouse (ATP of a channel that names none sums over all of them)."""
        return [int(i) for i in self.client.call("stock.warehouse", "search", [[]])]

    def stock_changed_since(self, *, since: str, limit: int = 20000) -> StockChanges:
        """Products whose quants, or done moves, were written at or after ``since``.

        Two calls whatever the number of changes (quants, then done moves), each reading only
        ``product_id`` and ``write_date``. ``since`` is an Odoo datetime second
        ("YYYY-MM-DD HH:MM:SS"); callers pass their watermark minus an overlap and deduplicate,
        because Odoo stamps write_date when a transaction starts, so a row can become visible
        after newer ones. A full page returns ``more=True`` and a watermark of its last second,
        so the next call continues from there.
        """
        product_ids: set[int] = set()
        newest = since
        more = False
        for model, domain in (
            ("stock.quant", [["write_date", ">=", since]]),
            ("stock.move", [["state", "=", "done"], ["write_date", ">=", since]]),
        ):
            rows = self.client.call(
                model,
                "search_read",
                [domain],
                {
                    "fields": ["product_id", "write_date"],
                    "order": "write_date asc, id asc",
                    "limit": limit,
                },
            )
            for row in rows:
                pid = m2o_id(row.get("product_id"))
                if pid:
                    product_ids.add(pid)
            if rows:
                newest = max(newest, _second(rows[-1]["write_date"]))
            more = more or len(rows) >= limit
        return StockChanges(product_ids=sorted(product_ids), watermark=newest, more=more)

    def stock_webhook_ensure(
        self,
        *,
        name: str,
        url: str,
        model: str = "stock.quant",
        trigger_fields: Sequence[str] = ("quantity", "reserved_quantity"),
        sent_fields: Sequence[str] = ("quantity", "reserved_quantity", "product_id", "location_id"),
    ) -> tuple[int, bool]:
        """Install (or find) the base.automation rule that POSTs changed quants to ``url``.

        The payload follows transcript 12 (Odoo 17 "Send Webhook Notification" server action).
        Idempotent (see ``AutomationGateway.webhook_rule_ensure``). Returns (automation id,
        created).
        """
        return self.webhook_rule_ensure(
            name=name,
            url=url,
            model=model,
            trigger_fields=trigger_fields,
            sent_fields=sent_fields,
            module_hint="Inventory (stock)",
        )
