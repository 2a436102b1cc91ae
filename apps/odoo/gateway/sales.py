"""Sale orders: find, create (check-before-create), confirm, cancel, read, edit, unlock.

Odoo calls: sale.order: search_read, read, create, write, action_confirm, action_cancel,
action_unlock; sale.order.cancel: create, action_cancel; sale.order.line: search_read;
delivery.carrier: read, search_read (the shipping methods an order can carry).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import OdooPermanentError
from .base import (
    SALE_ORDER_REF_FIELD,
    GatewayBase,
    _action_dict,
    _num,
    _unique,
    chunked,
    falsy_none,
    m2o_id,
)

logger = logging.getLogger(__name__)


class SalesGateway(GatewayBase):
    """Sale orders keyed by the hub's deterministic reference (``SALE_ORDER_REF_FIELD``)."""

    def sale_orders_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ref -> {id, state, name} for orders carrying our deterministic reference.

        Two orders with the same reference (someone duplicated one by hand) resolve to the
        oldest, with a warning, so the answer does not change between calls.
        """
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(r for r in refs if r)):
            rows = self.client.call(
                "sale.order",
                "search_read",
                [[[SALE_ORDER_REF_FIELD, "in", part]]],
                {"fields": [SALE_ORDER_REF_FIELD, "state", "name"], "order": "id"},
            )
            for row in rows:
                ref = row[SALE_ORDER_REF_FIELD]
                if ref in found:
                    logger.warning(
                        "Two Odoo sale orders carry reference %s; using %s", ref, found[ref]["id"]
                    )
                    continue
                found[ref] = {"id": row["id"], "state": row["state"], "name": row["name"]}
        return found

    def _sale_order_vals(self, order: Mapping[str, Any]) -> dict[str, Any]:
        vals: dict[str, Any] = {
            SALE_ORDER_REF_FIELD: order["ref"],
            "partner_id": order["partner_id"],
        }
        for key in (
            "partner_shipping_id",
            "partner_invoice_id",
            "warehouse_id",
            "pricelist_id",
            "client_order_ref",
            "date_order",
            "note",
            "carrier_id",
            "commitment_date",
        ):
            if order.get(key) not in (None, ""):
                vals[key] = order[key]
        lines = []
        for line in order.get("lines", ()):
            lv: dict[str, Any] = {
                "product_id": line["product_id"],
                "product_uom_qty": _num(line["qty"]),
            }
            for key in ("price_unit", "discount", "name"):
                if line.get(key) is not None:
                    lv[key] = _num(line[key])
            if line.get("is_delivery"):
                # The order's shipping line (with carrier_id on the order; needs stock_delivery).
                lv["is_delivery"] = True
            # Taxes as x2many commands ([[6, 0, ids]]), mapped by the caller; absent means
            # Odoo applies the product's own taxes. The field is the version's (tax_ids on 19).
            if line.get("tax_id") is not None:
                lv[self.client.adapter.sale_line_tax_field] = line["tax_id"]
            lines.append([0, 0, lv])
        vals["order_line"] = lines
        return vals

    def sale_orders_create(self, *, orders: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create orders with all their lines in ONE call (per chunk); ids in input order.

        Prefer ``sale_orders_ensure``: this one creates blindly.
        """
        ids: list[int] = []
        for part in chunked(list(orders)):
            vals_list = [self._sale_order_vals(o) for o in part]
            ids += [int(i) for i in self.client.call("sale.order", "create", [vals_list])]
        return ids

    def sale_orders_ensure(
        self, *, orders: Sequence[Mapping[str, Any]], confirm: bool = False
    ) -> dict[str, int]:
        """ref -> Odoo id for every order, creating only the missing ones.

        One search for all references, one create for the missing orders, and with ``confirm``
        one ``action_confirm`` for those still in draft. Running it again after any failure
        (even a create whose response was lost after Odoo committed) finds the committed orders
        and creates nothing twice; a confirm that was lost is completed, not repeated.

        ``orders``: dicts with ``ref`` (the deterministic reference, e.g. "shop-1:1001"),
        ``partner_id``, optional ``partner_shipping_id``, ``partner_invoice_id``,
        ``warehouse_id``, ``pricelist_id``, ``client_order_ref``, ``date_order``, ``note``,
        ``carrier_id`` (a delivery.carrier: Odoo adds no line for it, transcript 13, and the
        delivery picking inherits it), and ``lines`` of {product_id, qty, price_unit?,
        discount?, name?, tax_id?, is_delivery?}.
        """
        refs = [o["ref"] for o in orders]
        if len(set(refs)) != len(refs) or not all(refs):
            raise ValueError("every order needs a distinct, non-empty ref")
        existing = self.sale_orders_find(refs=refs)
        missing = [o for o in orders if o["ref"] not in existing]
        result = {ref: info["id"] for ref, info in existing.items()}
        drafts = ("draft", "sent")
        to_confirm = [info["id"] for info in existing.values() if info["state"] in drafts]
        if missing:
            created = self.sale_orders_create(orders=missing)
            result.update(zip((o["ref"] for o in missing), created, strict=True))
            to_confirm += created
        if confirm and to_confirm:
            self.sale_orders_confirm(order_ids=to_confirm)
        return {o["ref"]: result[o["ref"]] for o in orders}

    def sale_orders_confirm(self, *, order_ids: Sequence[int]) -> None:
        """``action_confirm`` on many draft orders in ONE call (per chunk).

        Odoo refuses the whole call if one order is not a quotation; callers that cannot be
        sure use ``sale_orders_ensure(confirm=True)``, which confirms only drafts.
        """
        for part in chunked(_unique(order_ids)):
            self.client.call("sale.order", "action_confirm", [part])

    def sale_orders_cancel(self, *, order_ids: Sequence[int], use_wizard: bool = False) -> None:
        """Cancel orders. By default in ONE call, skipping the confirmation wizard through the
        ``disable_cancel_warning`` context (transcript 09). ``use_wizard`` drives Odoo's
        ``sale.order.cancel`` wizard instead, one order at a time (Odoo's button requires it)."""
        ids = _unique(order_ids)
        if not use_wizard:
            for part in chunked(ids):
                result = self.client.call(
                    "sale.order", "action_cancel", [part], context={"disable_cancel_warning": True}
                )
                if _action_dict(result):
                    raise OdooPermanentError(
                        "Odoo asked for a wizard despite disable_cancel_warning",
                        model="sale.order",
                        method="action_cancel",
                        action=result.get("res_model"),
                    )
            return
        for oid in ids:
            result = self.client.call("sale.order", "action_cancel", [[oid]])
            action = _action_dict(result)
            if action is None:
                continue  # a draft is cancelled directly
            if action.get("res_model") != "sale.order.cancel":
                raise OdooPermanentError(
                    "Unexpected action from sale.order.action_cancel",
                    model="sale.order",
                    method="action_cancel",
                    action=action.get("res_model"),
                )
            ctx = action.get("context") or {}
            wiz = self.client.call("sale.order.cancel", "create", [{"order_id": oid}], context=ctx)
            self.client.call("sale.order.cancel", "action_cancel", [[wiz]], context=ctx)

    def sale_orders_read(self, *, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> state, name, reference, picking_ids, delivery_status, invoice_status, ..."""
        fields = [
            *self.client.adapter.sale_order_status_fields,
            SALE_ORDER_REF_FIELD,
            "client_order_ref",
            "invoice_ids",
        ]
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(order_ids)):
            for row in self.client.call("sale.order", "read", [part, fields]):
                out[row["id"]] = {
                    "id": row["id"],
                    "name": row["name"],
                    "state": row["state"],
                    "ref": falsy_none(row.get(SALE_ORDER_REF_FIELD)),
                    "client_order_ref": falsy_none(row.get("client_order_ref")),
                    "picking_ids": row.get("picking_ids") or [],
                    "invoice_ids": row.get("invoice_ids") or [],
                    "delivery_status": falsy_none(row.get("delivery_status")),
                    "invoice_status": falsy_none(row.get("invoice_status")),
                    "locked": bool(row.get("locked")) or row["state"] == "done",
                }
        return out

    def sale_orders_totals(self, *, order_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        """id -> {id, name, state, amount_total}: ONE read per chunk (the push binds the names
        and reconciles the totals with the channel's)."""
        out: dict[int, dict[str, Any]] = {}
        for part in chunked(_unique(order_ids)):
            for row in self.client.call(
                "sale.order", "read", [part, ["name", "state", "amount_total"]]
            ):
                out[row["id"]] = {
                    "id": row["id"],
                    "name": row["name"],
                    "state": row["state"],
                    "amount_total": row.get("amount_total"),
                }
        return out

    def sale_order_lines_read(self, *, order_id: int) -> list[dict[str, Any]]:
        """The lines of one order, in id order: id, product_id, qty, qty_delivered, price_unit,
        discount (one search_read)."""
        rows = self.client.call(
            "sale.order.line",
            "search_read",
            [[["order_id", "=", order_id]]],
            {
                "fields": [
                    "product_id",
                    "product_uom_qty",
                    "qty_delivered",
                    "price_unit",
                    "discount",
                ],
                "order": "id",
            },
        )
        return [
            {
                "id": r["id"],
                "product_id": m2o_id(r.get("product_id")),
                "qty": r.get("product_uom_qty") or 0,
                "qty_delivered": r.get("qty_delivered") or 0,
                "price_unit": r.get("price_unit") or 0,
                "discount": r.get("discount") or 0,
            }
            for r in rows
        ]

    def _line_vals(self, line: Mapping[str, Any]) -> dict[str, Any]:
        lv: dict[str, Any] = {"product_uom_qty": _num(line["qty"])}
        for key in ("product_id", "price_unit", "discount", "name"):
            if line.get(key) is not None:
                lv[key] = _num(line[key])
        if line.get("tax_id") is not None:
            lv[self.client.adapter.sale_line_tax_field] = line["tax_id"]
        if line.get("is_delivery"):
            lv["is_delivery"] = True
        return lv

    def sale_order_edit(
        self,
        *,
        order_id: int,
        header: Mapping[str, Any] | None = None,
        update: Mapping[int, Mapping[str, Any]] | None = None,
        create: Sequence[Mapping[str, Any]] = (),
        zero: Sequence[int] = (),
    ) -> None:
        """Edit a confirmed order in ONE write: header fields (partner_shipping_id,
        partner_invoice_id, note, client_order_ref), existing lines by id (qty, price_unit,
        discount, name, tax_id), new lines, and lines set to quantity 0 (Odoo does not let a
        confirmed order's lines be deleted). Odoo adjusts the delivery itself; a locked order
        raises (the caller cancels and recreates instead)."""
        vals: dict[str, Any] = {
            k: v
            for k, v in (header or {}).items()
            if k in ("partner_shipping_id", "partner_invoice_id", "note", "client_order_ref")
            and v not in (None, "")
        }
        commands: list[Any] = [[1, lid, self._line_vals(ln)] for lid, ln in (update or {}).items()]
        commands += [[1, lid, {"product_uom_qty": 0}] for lid in zero]
        commands += [[0, 0, self._line_vals(ln)] for ln in create]
        if commands:
            vals["order_line"] = commands
        if vals:
            self.client.call("sale.order", "write", [[order_id], vals])

    def sale_orders_unlock(self, *, order_ids: Sequence[int]) -> None:
        """``action_unlock`` (a locked order can be neither edited nor cancelled)."""
        for part in chunked(_unique(order_ids)):
            self.client.call("sale.order", "action_unlock", [part])

    def carriers_read(
        self, *, carrier_ids: Sequence[int] | None = None
    ) -> dict[int, dict[str, Any]]:
        """id -> {id, name, product_id, delivery_type, active, company_id} of delivery.carrier
        records: the given ids (archived ones included, absent ones left out) in one ``read``
        per 1,000, or every active carrier in one ``search_read`` when ``carrier_ids`` is None.

        ``product_id`` is the carrier's own delivery product, which the hub puts on the order's
        shipping line. The model comes with stock_delivery (``delivery`` on 16); without it
        Odoo answers "Object delivery.carrier doesn't exist" (an OdooConfigurationError).
        """
        fields = ["name", "product_id", "delivery_type", "active", "company_id"]
        if carrier_ids is None:
            rows = self.client.call(
                "delivery.carrier", "search_read", [[]], {"fields": fields, "order": "id"}
            )
        else:
            rows = []
            for part in chunked(_unique(int(i) for i in carrier_ids)):
                rows += self.client.call("delivery.carrier", "read", [part, fields])
        return {
            int(r["id"]): {
                "id": int(r["id"]),
                "name": r["name"],
                "product_id": m2o_id(r.get("product_id")),
                "delivery_type": falsy_none(r.get("delivery_type")),
                "active": bool(r.get("active")),
                "company_id": m2o_id(r.get("company_id")),
            }
            for r in rows
        }
