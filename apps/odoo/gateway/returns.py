"""Returns: a return of a done picking through Odoo's return wizard, found again by the hub's
deterministic origin; the return-receipt poll; open order lines lowered before shipping.

Odoo calls: stock.return.picking: create, create_returns (action_create_returns on 18+, and
action_create_returns_all for "everything delivered": client.adapter.return_method and
return_all_method); stock.return.picking.line: search_read, write; stock.picking:
search_read, write (the origin), and those of ``PickingsGateway._with_moves``; sale.order: read;
sale.order.line: read, write (product_uom_qty); with ``validate=True`` also those of
``PickingsGateway.picking_validate``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import OdooPermanentError
from .base import PickingPage, _unique, chunked, m2o_id
from .pickings import PickingsGateway

logger = logging.getLogger(__name__)


class ReturnsGateway(PickingsGateway):
    """Returns build on pickings: a return can be validated like any picking."""

    def return_create(
        self,
        *,
        picking_id: int,
        quantities: Mapping[int, float] | None = None,
        to_refund: bool = True,
        validate: bool = False,
    ) -> int:
        """Create a return of a done picking through Odoo's return wizard (transcript 07).

        ``quantities``: product id -> quantity to return (None: everything delivered; products
        left out are not returned). Returns the return picking id.
        """
        ctx = {"active_id": picking_id, "active_ids": [picking_id], "active_model": "stock.picking"}
        wiz = self.client.call("stock.return.picking", "create", [{}], context=ctx)
        lines = self.client.call(
            "stock.return.picking.line",
            "search_read",
            [[["wizard_id", "=", wiz]]],
            {"fields": ["product_id", "quantity", "to_refund"], "order": "id"},
        )
        by_vals: dict[tuple[float, bool], list[int]] = {}
        remaining = dict(quantities or {})
        for line in lines:
            pid = m2o_id(line["product_id"]) or 0
            qty = float(line["quantity"] or 0)
            if quantities is not None:
                qty = float(remaining.pop(pid, 0.0))
            if qty != float(line["quantity"] or 0) or bool(line["to_refund"]) != to_refund:
                by_vals.setdefault((qty, to_refund), []).append(line["id"])
        if remaining:
            raise OdooPermanentError(
                "Products to return are not on the picking",
                model="stock.return.picking",
                picking_id=picking_id,
                product_ids=sorted(remaining),
            )
        for (qty, refund), line_ids in by_vals.items():
            self.client.call(
                "stock.return.picking.line",
                "write",
                [line_ids, {"quantity": qty, "to_refund": refund}],
            )
        adapter = self.client.adapter
        method = adapter.return_method
        if quantities is None and adapter.return_all_method:
            # 18+: the lines start at 0; this button sets each to what is left to return.
            method = adapter.return_all_method
        action = self.client.call("stock.return.picking", method, [[wiz]], context=ctx)
        if not isinstance(action, dict) or not action.get("res_id"):
            raise OdooPermanentError(
                "The return wizard did not answer with the return picking",
                model="stock.return.picking",
                method=method,
            )
        return_id = int(action["res_id"])
        if validate:
            self.picking_validate(picking_id=return_id, backorder=False)
        return return_id

    # -- the hub's returns: deterministic origin, check-before-create -------------------------

    def returns_find(self, *, origins: Sequence[str]) -> dict[str, dict[str, Any]]:
        """origin -> return picking (the dict of ``_with_moves``) for return pickings
        (``return_id`` set) whose ``origin`` is one of the hub's references, e.g.
        ``shopify:return:123``. Three calls per 1,000 origins.

        Two pickings with one origin (one was duplicated by hand) resolve to a live one over a
        cancelled one, then the oldest, so the answer does not change between calls.
        """
        found: dict[str, dict[str, Any]] = {}
        for part in chunked(_unique(o for o in origins if o)):
            rows = self.client.call(
                "stock.picking",
                "search_read",
                [[["origin", "in", part], ["return_id", "!=", False]]],
                {"fields": self._picking_fields(), "order": "id"},
            )
            for picking in self._with_moves(rows):
                origin = picking["origin"]
                old = found.get(origin)
                if old is None or (old["state"] == "cancel" and picking["state"] != "cancel"):
                    found[origin] = picking
                elif picking["state"] != "cancel":
                    logger.warning(
                        "Two Odoo return pickings carry origin %s; using %s", origin, old["id"]
                    )
        return found

    def return_ensure(
        self,
        *,
        picking_id: int,
        origin: str,
        quantities: Mapping[int, float] | None = None,
        to_refund: bool = True,
    ) -> tuple[dict[str, Any], bool]:
        """The return picking of ``origin``: found, or made from the done delivery
        ``picking_id`` for ``quantities`` (product id -> quantity; None: everything delivered)
        and left ready to receive (Odoo 17 makes it ``assigned``). Returns (picking, created).

        The origin is written right after the wizard made the picking (Odoo's wizard writes
        "Return of <delivery>" and takes no other): a crash in the milliseconds between the two
        calls leaves a return the retry does not find. 8 calls when made, 3 when found.
        """
        found = self.returns_find(origins=[origin]).get(origin)
        if found is not None:
            return found, False
        return_id = self.return_create(
            picking_id=picking_id, quantities=quantities, to_refund=to_refund
        )
        self.client.call("stock.picking", "write", [[return_id], {"origin": origin}])
        [picking] = self.pickings_read(picking_ids=[return_id])
        return picking, True

    def return_receipts_done_since(self, *, cursor: str | None, limit: int = 200) -> PickingPage:
        """Validated return receipts (incoming, ``return_id`` set) after ``cursor``: the
        ``pickings_done_since`` poll and cursor, with ``sale_id``, ``origin``, ``return_of``
        and the moves (SKU, quantity) of each."""
        return self.pickings_done_since(
            cursor=cursor, limit=limit, picking_type_code="incoming", returns_only=True
        )

    # -- lines refunded before shipping ------------------------------------------------------

    def sale_order_lines_reduce(
        self, *, order_id: int, quantities: Mapping[int, float]
    ) -> dict[int, float]:
        """Lower the ordered quantity of open (undelivered) lines of a confirmed order:
        ``quantities`` is product id -> quantity to take off. Returns line id -> new
        ``product_uom_qty``.

        Odoo 17 lowers the delivery's demand with it (sale_stock). A product's quantity is
        taken from its lines with the most open quantity first, never below what was
        delivered; asking for more than is open raises OdooPermanentError and writes nothing.
        A whole order refunded before shipping is ``sale_orders_cancel`` instead. Three calls,
        plus one write per distinct new quantity.
        """
        order = self.client.call("sale.order", "read", [[order_id], ["state", "order_line"]])
        if not order:
            raise OdooPermanentError("Sale order not found", model="sale.order", id=order_id)
        if order[0]["state"] not in ("draft", "sent", "sale"):
            raise OdooPermanentError(
                f"Cannot lower the lines of a {order[0]['state']} sale order",
                model="sale.order",
                id=order_id,
                state=order[0]["state"],
            )
        lines = self.client.call(
            "sale.order.line",
            "read",
            [order[0]["order_line"], ["product_id", "product_uom_qty", "qty_delivered"]],
        )
        new_qty: dict[int, float] = {}
        short: dict[int, float] = {}
        for product_id, wanted in quantities.items():
            left = float(wanted)
            mine = [ln for ln in lines if m2o_id(ln["product_id"]) == int(product_id)]
            mine.sort(key=lambda ln: (-(ln["product_uom_qty"] - ln["qty_delivered"]), ln["id"]))
            for ln in mine:
                open_qty = float(ln["product_uom_qty"]) - float(ln["qty_delivered"] or 0)
                take = min(max(open_qty, 0.0), left)
                if take > 0:
                    new_qty[ln["id"]] = float(ln["product_uom_qty"]) - take
                    left -= take
            if left > 1e-9:
                short[int(product_id)] = left
        if short:
            raise OdooPermanentError(
                "More to take off than is open on the order",
                model="sale.order.line",
                order_id=order_id,
                missing=short,
            )
        by_qty: dict[float, list[int]] = {}
        for line_id, qty in new_qty.items():
            by_qty.setdefault(round(qty, 6), []).append(line_id)
        for qty, line_ids in by_qty.items():
            self.client.call("sale.order.line", "write", [line_ids, {"product_uom_qty": qty}])
        return new_qty
