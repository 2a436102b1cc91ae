"""Lookups for people fixing an inbox item in place: products, carriers, taxes, journals.

Odoo calls: product.product: search_read; delivery.carrier: search_read; account.tax:
search_read; account.journal: search_read. Each lookup is ONE call, whatever the number of
search terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import GatewayBase, falsy_none, m2o_id

PRODUCT_SEARCH_FIELDS = ["default_code", "barcode", "name"]


class LookupGateway(GatewayBase):
    def products_search(self, *, terms: Sequence[str], limit: int = 20) -> list[dict[str, Any]]:
        """Products whose code, barcode or name contains any of `terms` (case-insensitive), in
        one ``search_read``: [{id, default_code, barcode, name}]."""
        wanted = [t.strip() for t in terms if t and t.strip()]
        if not wanted:
            return []
        leaves: list[Any] = [
            [field, "ilike", term] for term in wanted for field in PRODUCT_SEARCH_FIELDS
        ]
        domain: list[Any] = ["|"] * (len(leaves) - 1) + leaves
        rows = self.client.call(
            "product.product",
            "search_read",
            [domain],
            {"fields": PRODUCT_SEARCH_FIELDS, "limit": limit, "order": "id"},
        )
        return [
            {
                "id": int(r["id"]),
                "default_code": falsy_none(r.get("default_code")) or "",
                "barcode": falsy_none(r.get("barcode")) or "",
                "name": str(r.get("name") or ""),
            }
            for r in rows
        ]

    def carriers_list(self, *, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.client.call(
            "delivery.carrier",
            "search_read",
            [[["active", "=", True]]],
            {"fields": ["name", "product_id"], "limit": limit, "order": "id"},
        )
        return [
            {
                "id": int(r["id"]),
                "name": str(r.get("name") or ""),
                "product_id": m2o_id(r.get("product_id")),
            }
            for r in rows
        ]

    def taxes_list(self, *, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.client.call(
            "account.tax",
            "search_read",
            [[["type_tax_use", "=", "sale"]]],
            {"fields": ["name", "amount"], "limit": limit, "order": "id"},
        )
        return [
            {"id": int(r["id"]), "name": str(r.get("name") or ""), "amount": r.get("amount")}
            for r in rows
        ]

    def payment_journals_list(self, *, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.client.call(
            "account.journal",
            "search_read",
            [[["type", "in", ["bank", "cash"]]]],
            {"fields": ["name", "code"], "limit": limit, "order": "id"},
        )
        return [
            {"id": int(r["id"]), "name": str(r.get("name") or ""), "code": str(r.get("code") or "")}
            for r in rows
        ]
