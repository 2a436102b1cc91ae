"""Sale orders another connector made: found by its own match field, read for the dual-run diff
and for adoption (docs/migration.md). Nothing here writes to Odoo.

Odoo calls: sale.order: search_read, fields_get (through client.fields_present, once per
process); sale.order.line: search_read; res.partner: read; product.product: read; res.country:
read.

A legacy connector leaves no hub reference in ``origin``; each channel says where it wrote the
channel's order instead (``client_order_ref``, ``origin`` or a custom ``x_`` field) and the
domain that picks its orders. ``legacy_orders_find`` reads a batch of candidates with ONE
search, ``legacy_orders_search`` pages through a window by id (for the orders the hub does not
know: "extra in Odoo", and adoption), and ``legacy_orders_details`` adds lines, partners and
SKUs in three more calls for any number of orders (two once SKUs and countries are known).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..errors import OdooConfigurationError
from .accounting import money
from .base import GatewayBase, _unique, chunked, falsy_none, m2o_id

_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ORDER_FIELDS = [
    "name",
    "state",
    "origin",
    "client_order_ref",
    "partner_id",
    "partner_shipping_id",
    "partner_invoice_id",
    "warehouse_id",
    "amount_untaxed",
    "amount_tax",
    "amount_total",
    "currency_id",
    "date_order",
    "create_date",
]
# stock_delivery adds the carrier; sale_stock the delivery status.
_OPTIONAL_ORDER_FIELDS = ["carrier_id", "delivery_status"]
_LINE_FIELDS = [
    "order_id",
    "product_id",
    "name",
    "product_uom_qty",
    "price_unit",
    "discount",
    "tax_id",
    "price_subtotal",
    "display_type",
]
_OPTIONAL_LINE_FIELDS = ["is_delivery"]
_PARTNER_FIELDS = [
    "name",
    "email",
    "is_company",
    "parent_id",
    "street",
    "street2",
    "city",
    "zip",
    "country_id",
]
OPEN_STATES = ("draft", "sent", "sale")


def _name(value: Any) -> str:
    return str(value[1]) if isinstance(value, list) and len(value) > 1 else ""


class MigrationGateway(GatewayBase):
    """Read-only access to a legacy connector's sale orders."""

    def _match_field(self, field: str) -> str:
        """The match field, checked once: a plain field name that sale.order has."""
        if not _FIELD.match(field or ""):
            raise OdooConfigurationError(
                f"{field!r} is not an Odoo field name", model="sale.order", field=field
            )
        if field not in ("client_order_ref", "origin", "name") and not self.client.fields_present(
            "sale.order", [field]
        ):
            raise OdooConfigurationError(
                f"sale.order has no field {field!r} (the legacy match field)",
                model="sale.order",
                field=field,
            )
        return field

    def _order_fields(self, field: str) -> list[str]:
        present = self.client.fields_present("sale.order", _OPTIONAL_ORDER_FIELDS)
        extra = [f for f in _OPTIONAL_ORDER_FIELDS if f in present]
        return _unique([*_ORDER_FIELDS, *extra, field])

    @staticmethod
    def _order_dict(row: Mapping[str, Any], field: str) -> dict[str, Any]:
        return {
            "id": int(row["id"]),
            "name": row.get("name") or "",
            "state": row.get("state") or "",
            "match": falsy_none(row.get(field)),
            "origin": falsy_none(row.get("origin")),
            "client_order_ref": falsy_none(row.get("client_order_ref")),
            "partner_id": m2o_id(row.get("partner_id")),
            "partner_shipping_id": m2o_id(row.get("partner_shipping_id")),
            "partner_invoice_id": m2o_id(row.get("partner_invoice_id")),
            "warehouse_id": m2o_id(row.get("warehouse_id")),
            "warehouse": _name(row.get("warehouse_id")),
            "carrier_id": m2o_id(row.get("carrier_id")),
            "carrier": _name(row.get("carrier_id")),
            "currency": _name(row.get("currency_id")),
            "amount_untaxed": money(row.get("amount_untaxed")),
            "amount_tax": money(row.get("amount_tax")),
            "amount_total": money(row.get("amount_total")),
            "date_order": str(row.get("date_order") or "")[:19],
            "create_date": str(row.get("create_date") or "")[:19],
            "delivery_status": falsy_none(row.get("delivery_status")),
        }

    def legacy_orders_find(
        self,
        *,
        field: str,
        values: Sequence[str],
        domain: Sequence[Any] = (),
        details: bool = True,
    ) -> dict[str, list[dict[str, Any]]]:
        """value -> the sale orders whose ``field`` equals it, oldest first (a value the legacy
        connector wrote twice gives two orders; the caller decides). ONE ``search_read`` per
        1,000 values, ``domain`` (the channel's extra domain) and-ed to it; with ``details``,
        lines, partners and SKUs as ``legacy_orders_details``."""
        field = self._match_field(field)
        found: dict[str, list[dict[str, Any]]] = {}
        orders: list[dict[str, Any]] = []
        for part in chunked(_unique(str(v) for v in values if v)):
            rows = self.client.call(
                "sale.order",
                "search_read",
                [[[field, "in", part], *[list(leaf) for leaf in domain]]],
                {"fields": self._order_fields(field), "order": "id"},
            )
            for row in rows:
                order = self._order_dict(row, field)
                found.setdefault(str(order["match"]), []).append(order)
                orders.append(order)
        if details and orders:
            self.legacy_orders_details(orders=orders)
        return found

    def legacy_orders_search(
        self,
        *,
        field: str,
        like: str,
        domain: Sequence[Any] = (),
        since: str | None = None,
        until: str | None = None,
        open_only: bool = False,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Headers of the sale orders whose ``field`` is ``=like`` ``like`` (the match pattern
        with ``%`` for the channel's number), in id order after ``after_id``: one page of at
        most ``limit`` per call. ``since`` / ``until`` bound ``date_order`` ("YYYY-MM-DD
        HH:MM:SS", UTC); ``open_only`` keeps quotations and confirmed orders (not cancelled,
        not locked as done)."""
        field = self._match_field(field)
        leaves: list[Any] = [[field, "=like", like], ["id", ">", int(after_id)]]
        if since:
            leaves.append(["date_order", ">=", since])
        if until:
            leaves.append(["date_order", "<", until])
        if open_only:
            leaves.append(["state", "in", list(OPEN_STATES)])
        rows = self.client.call(
            "sale.order",
            "search_read",
            [[*leaves, *[list(leaf) for leaf in domain]]],
            {"fields": self._order_fields(field), "order": "id", "limit": int(limit)},
        )
        return [self._order_dict(r, field) for r in rows]

    def legacy_orders_details(self, *, orders: Iterable[dict[str, Any]]) -> None:
        """Fill ``lines``, ``partner``, ``shipping`` and ``invoice`` of each order dict in place:
        one ``sale.order.line.search_read`` and one ``res.partner.read`` per 1,000 orders, one
        ``product.product.read`` for SKUs and one ``res.country.read`` for country codes not
        seen by this gateway yet.

        A line: id, product_id, sku, name, qty, price_unit, discount (Decimal), tax_ids
        (sorted), subtotal (Decimal), is_delivery. Section and note lines are left out.
        A partner: id, name, email, company (its own name for a company, else its parent's),
        street, street2, city, zip, country_code.
        """
        orders = list(orders)
        by_id = {o["id"]: o for o in orders}
        for o in orders:
            o["lines"] = []
        present = self.client.fields_present("sale.order.line", _OPTIONAL_LINE_FIELDS)
        adapter = self.client.adapter
        line_fields = adapter.sale_line_fields(_LINE_FIELDS)
        line_fields += [f for f in _OPTIONAL_LINE_FIELDS if f in present]
        lines: list[dict[str, Any]] = []
        for part in chunked(list(by_id)):
            lines += self.client.call(
                "sale.order.line",
                "search_read",
                [[["order_id", "in", part]]],
                {"fields": line_fields, "order": "order_id, sequence, id"},
            )
        products = self._product_codes(
            [pid for ln in lines if (pid := m2o_id(ln.get("product_id")))]
        )
        for ln in map(adapter.sale_line_canonical, lines):
            if ln.get("display_type"):
                continue
            order = by_id.get(m2o_id(ln.get("order_id")) or 0)
            if order is None:
                continue
            pid = m2o_id(ln.get("product_id"))
            order["lines"].append(
                {
                    "id": int(ln["id"]),
                    "product_id": pid,
                    "sku": products.get(pid or 0, ""),
                    "name": ln.get("name") or "",
                    "qty": money(ln.get("product_uom_qty")),
                    "price_unit": money(ln.get("price_unit")),
                    "discount": money(ln.get("discount")),
                    "tax_ids": sorted(int(t) for t in ln.get("tax_id") or []),
                    "subtotal": money(ln.get("price_subtotal")),
                    "is_delivery": bool(ln.get("is_delivery")),
                }
            )
        partner_ids = _unique(
            pid
            for o in orders
            for key in ("partner_id", "partner_shipping_id", "partner_invoice_id")
            if (pid := o.get(key))
        )
        partners = self._partners(partner_ids)
        for o in orders:
            o["partner"] = partners.get(o.get("partner_id") or 0)
            o["shipping"] = partners.get(o.get("partner_shipping_id") or 0) or o["partner"]
            o["invoice"] = partners.get(o.get("partner_invoice_id") or 0) or o["partner"]

    def _product_codes(self, product_ids: Sequence[int]) -> dict[int, str]:
        cache: dict[int, str] = self.__dict__.setdefault("_product_codes_cache", {})
        missing = [p for p in _unique(product_ids) if p not in cache]
        for part in chunked(missing):
            for row in self.client.call("product.product", "read", [part, ["default_code"]]):
                cache[int(row["id"])] = falsy_none(row.get("default_code")) or ""
        return cache

    def _partners(self, partner_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for part in chunked(list(partner_ids)):
            rows += self.client.call("res.partner", "read", [part, _PARTNER_FIELDS])
        parents = {m2o_id(r.get("parent_id")): _name(r.get("parent_id")) for r in rows}
        codes = self._country_codes([c for r in rows if (c := m2o_id(r.get("country_id")))])
        out: dict[int, dict[str, Any]] = {}
        for r in rows:
            parent = m2o_id(r.get("parent_id"))
            out[int(r["id"])] = {
                "id": int(r["id"]),
                "name": falsy_none(r.get("name")) or "",
                "email": falsy_none(r.get("email")) or "",
                "company": (r.get("name") or "")
                if r.get("is_company")
                else (parents.get(parent, "") if parent else ""),
                "street": falsy_none(r.get("street")) or "",
                "street2": falsy_none(r.get("street2")) or "",
                "city": falsy_none(r.get("city")) or "",
                "zip": falsy_none(r.get("zip")) or "",
                "country_code": codes.get(m2o_id(r.get("country_id")) or 0, ""),
            }
        return out

    def _country_codes(self, country_ids: Sequence[int]) -> dict[int, str]:
        cache: dict[int, str] = self.__dict__.setdefault("_country_codes_cache", {})
        missing = [c for c in _unique(country_ids) if c not in cache]
        if missing:
            for row in self.client.call("res.country", "read", [missing, ["code"]]):
                cache[int(row["id"])] = str(row.get("code") or "").upper()
        return cache
