"""Returns: a return of a done picking through Odoo's return wizard.

Odoo calls: stock.return.picking: create, create_returns (action_create_returns on 18, from
client.adapter.return_method); stock.return.picking.line: search_read, write; with
``validate=True`` also those of ``PickingsGateway.picking_validate``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import OdooPermanentError
from .base import m2o_id
from .pickings import PickingsGateway


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
        method = self.client.adapter.return_method
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
