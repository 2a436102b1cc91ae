"""Customer invoices built from sale order lines under the hub's ref (part of the finance flow,
``SettlementGateway``): which lines and quantities an invoice takes, and the ``account.move``
values as ``sale.order._prepare_invoice`` / ``sale.order.line._prepare_invoice_line`` build them.

Odoo calls: account.move: search_read, create, action_post, read; sale.order: read;
sale.order.line: search_read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .accounting import MOVE_FIELDS, _move_dict
from .base import GatewayBase, _unique, chunked, m2o_id

logger = logging.getLogger(__name__)

ORDER_FIELDS = [
    "name",
    "state",
    "partner_id",
    "partner_invoice_id",
    "partner_shipping_id",
    "currency_id",
    "fiscal_position_id",
    "payment_term_id",
    "team_id",
    "user_id",
    "company_id",
]
# is_delivery: the delivery module, which the hub requires (preflight). "product_uom" and
# "tax_id" are canonical keys: read as the version's fields (adapter.sale_line_fields).
ORDER_LINE_FIELDS = [
    "order_id",
    "sequence",
    "name",
    "product_id",
    "product_uom",
    "product_uom_qty",
    "qty_invoiced",
    "price_unit",
    "discount",
    "tax_id",
    "display_type",
    "is_downpayment",
    "is_delivery",
    "product_type",
]
LIVE_ORDER_STATES = ("sale", "done")


def better(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """A live record wins over a cancelled one; otherwise the oldest (first seen) stays."""
    return old is None or (old.get("state") == "cancel" and new.get("state") != "cancel")


class InvoicingGateway(GatewayBase):
    """Customer invoices under the hub's ref, built from sale order lines."""

    # -- invoices ---------------------------------------------------------------------------------

    def invoices_find(self, *, refs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """ref -> customer invoice (``out_invoice``, as ``_move_dict``) whose ``ref`` is exactly
        the hub's; a live one wins over a cancelled one, then the oldest. One search_read per
        1,000 refs (a single ``in`` leaf, no deep domain)."""
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(r for r in refs if r)):
            rows = self.client.call(
                "account.move",
                "search_read",
                [[["move_type", "=", "out_invoice"], ["ref", "in", part]]],
                {"fields": MOVE_FIELDS, "order": "id"},
            )
            for row in rows:
                move = _move_dict(row)
                if better(found.get(move["ref"]), move):
                    found[move["ref"]] = move
        return found

    def invoices_ensure(
        self, *, invoices: Sequence[Mapping[str, Any]], post: bool = True
    ) -> dict[str, tuple[dict[str, Any], bool]]:
        """ref -> (invoice as ``_move_dict``, created), creating the missing customer invoices
        from their orders' lines with ONE ``account.move.create`` per batch.

        Each item: ``ref``, ``order_id``, ``quantities`` ({product_id: qty}, or None for every
        line's not-yet-invoiced quantity), ``include_other_lines`` (with quantities: also the
        order's delivery and service lines still to invoice), ``date`` (invoice date or None).
        Lines carry ``sale_line_ids``, so the order's ``qty_invoiced`` and ``invoice_status``
        follow. An order with nothing left to invoice (or not confirmed, or missing) is left
        out of the answer. Asking for more of a product than the order has left to invoice
        raises ValueError before anything is created. Found invoices are posted when draft and
        ``post``. Calls per batch of up to 1,000: 6 (find, orders, lines, create, post, read);
        1 when every ref is found posted. Keep batches near 200: 1,000 took 147 s on a 2-core
        server (``action_post`` alone 101 s, past the default read timeout; the retry recovers).
        """
        items = list(invoices)
        refs = [i["ref"] for i in items]
        if len(set(refs)) != len(refs) or not all(refs):
            raise ValueError("every invoice needs a distinct, non-empty ref")
        out: dict[str, tuple[dict[str, Any], bool]] = {}
        for part in chunked(items):
            out.update(self._invoices_ensure_part(part, post))
        return {r: out[r] for r in refs if r in out}

    def _invoices_ensure_part(
        self, items: list[Mapping[str, Any]], post: bool
    ) -> dict[str, tuple[dict[str, Any], bool]]:
        found = self.invoices_find(refs=[i["ref"] for i in items])
        missing = [i for i in items if i["ref"] not in found]
        vals_list: list[dict[str, Any]] = []
        new_refs: list[str] = []
        if missing:
            adapter = self.client.adapter
            order_ids = _unique(int(i["order_id"]) for i in missing)
            orders = {
                r["id"]: r
                for r in self.client.call("sale.order", "read", [order_ids, ORDER_FIELDS])
            }
            rows = self.client.call(
                "sale.order.line",
                "search_read",
                [[["order_id", "in", order_ids]]],
                {
                    "fields": adapter.sale_line_fields(ORDER_LINE_FIELDS),
                    "order": "order_id, sequence, id",
                },
            )
            left: dict[int, Decimal] = {}  # sale line -> qty still to invoice (this batch too)
            by_order: dict[int, list[dict[str, Any]]] = {}
            for row in map(adapter.sale_line_canonical, rows):
                if row.get("display_type") or row.get("is_downpayment"):
                    continue
                left[row["id"]] = qty_of(row["product_uom_qty"]) - qty_of(row["qty_invoiced"])
                by_order.setdefault(m2o_id(row["order_id"]) or 0, []).append(row)
            for item in missing:
                order = orders.get(int(item["order_id"]))
                if order is None or order["state"] not in LIVE_ORDER_STATES:
                    logger.warning(
                        "Not invoicing %s: order %s is missing or not confirmed",
                        item["ref"],
                        item["order_id"],
                    )
                    continue
                picked = pick_lines(item, by_order.get(order["id"], []), left)
                if not picked:
                    continue
                vals_list.append(invoice_vals(item, order, picked))
                new_refs.append(item["ref"])
        created: list[int] = []
        if vals_list:
            created = [int(i) for i in self.client.call("account.move", "create", [vals_list])]
        to_post = list(created) if post else []
        if post:
            to_post += [m["id"] for m in found.values() if m["state"] == "draft"]
        if to_post:
            self.client.call("account.move", "action_post", [to_post])
        ids = created + [i for i in to_post if i not in created]  # found, unchanged: as found
        moves: dict[int, dict[str, Any]] = {}
        if ids:
            for row in self.client.call("account.move", "read", [ids, MOVE_FIELDS]):
                moves[row["id"]] = _move_dict(row)
        out: dict[str, tuple[dict[str, Any], bool]] = {}
        for ref, move_id in zip(new_refs, created, strict=True):
            out[ref] = (moves[move_id], True)
        for ref, move in found.items():
            out[ref] = (moves.get(move["id"], move), False)
        return out


def qty_of(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def pick_lines(
    item: Mapping[str, Any], lines: list[dict[str, Any]], left: dict[int, Decimal]
) -> list[tuple[dict[str, Any], Decimal]]:
    """(sale line, qty) to invoice for one item; takes the quantities out of ``left``."""
    quantities = item.get("quantities")
    picked: list[tuple[dict[str, Any], Decimal]] = []
    if quantities is None:
        for ln in lines:
            if left[ln["id"]] > 0:
                picked.append((ln, left[ln["id"]]))
                left[ln["id"]] = Decimal(0)
    else:
        for product_id, qty in quantities.items():
            want = qty_of(qty)
            for ln in lines:
                if want <= 0:
                    break
                if m2o_id(ln["product_id"]) == int(product_id) and left[ln["id"]] > 0:
                    take = min(want, left[ln["id"]])
                    picked.append((ln, take))
                    want -= take
                    left[ln["id"]] -= take
            if want > 0:
                raise ValueError(
                    f"invoice {item['ref']}: {want} more of product {product_id} than order "
                    f"{item['order_id']} has left to invoice"
                )
        if item.get("include_other_lines"):
            taken = {ln["id"] for ln, _ in picked}
            for ln in lines:
                other = ln.get("is_delivery") or ln.get("product_type") == "service"
                if other and ln["id"] not in taken and left[ln["id"]] > 0:
                    picked.append((ln, left[ln["id"]]))
                    left[ln["id"]] = Decimal(0)
    return picked


def invoice_vals(
    item: Mapping[str, Any],
    order: Mapping[str, Any],
    picked: list[tuple[dict[str, Any], Decimal]],
) -> dict[str, Any]:
    """The ``account.move`` of one invoice, as sale.order._prepare_invoice would build it, with
    the hub's ref."""
    lines = []
    for ln, qty in picked:
        lines.append(
            [
                0,
                0,
                {
                    "sequence": ln.get("sequence") or 10,
                    "name": ln["name"],
                    "product_id": m2o_id(ln["product_id"]),
                    "product_uom_id": m2o_id(ln.get("product_uom")),
                    "quantity": float(qty),
                    "price_unit": ln["price_unit"],
                    "discount": ln.get("discount") or 0.0,
                    "tax_ids": [[6, 0, list(ln.get("tax_id") or [])]],
                    "sale_line_ids": [[6, 0, [ln["id"]]]],
                },
            ]
        )
    vals: dict[str, Any] = {
        "move_type": "out_invoice",
        "ref": item["ref"],
        "partner_id": m2o_id(order["partner_invoice_id"]),
        "partner_shipping_id": m2o_id(order.get("partner_shipping_id")),
        "currency_id": m2o_id(order["currency_id"]),
        "invoice_origin": order["name"],
        "invoice_line_ids": lines,
    }
    for key, field in (
        ("fiscal_position_id", "fiscal_position_id"),
        ("invoice_payment_term_id", "payment_term_id"),
        ("team_id", "team_id"),
        ("invoice_user_id", "user_id"),
        ("company_id", "company_id"),
    ):
        value = m2o_id(order.get(field))
        if value is not None:
            vals[key] = value
    if item.get("date"):
        vals["invoice_date"] = item["date"]
    return vals
