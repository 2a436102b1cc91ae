"""Pickings: the done-pickings poll, reading pickings with their moves, validation, and the
shipment hint (an automation rule that POSTs a picking when it is done).

Odoo calls: stock.picking: search_read, read, write, button_validate, fields_get (through
client.fields_present); stock.move: search_read, write, fields_get; product.product: read;
stock.backorder.confirmation: create, process, process_cancel_backorder;
stock.immediate.transfer (Odoo 16): create, process; the shipment webhook rule through
automation.py (ir.model, ir.model.fields, base.automation, ir.actions.server).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import OdooConfigurationError, OdooPermanentError
from .automation import AutomationGateway
from .base import (
    PickingPage,
    ValidateResult,
    _action_dict,
    _after_cursor,
    _next_second,
    _second,
    _unique,
    chunked,
    falsy_none,
    m2o_id,
)

# Delivery types the shipment poll reads: "dropship" exists only with stock_dropshipping (17+);
# searching for it without the module is harmless (checked on a real 17).
SHIPPING_TYPE_CODES = ("outgoing", "dropship")
# The field filter of the shipment hint rule (a Python-literal domain, as Odoo stores it).
SHIPMENT_WEBHOOK_DOMAIN = (
    "[('state', '=', 'done'), ('picking_type_code', 'in', ['outgoing', 'dropship'])]"
)
SHIPMENT_WEBHOOK_TRIGGERS = ("state", "carrier_tracking_ref")
SHIPMENT_WEBHOOK_FIELDS = ("id", "name", "state", "carrier_tracking_ref", "write_date")
# Read when the installed modules have them (stock_delivery; 17's related usages on moves).
_OPTIONAL_PICKING_FIELDS = ("carrier_id", "carrier_tracking_ref", "carrier_tracking_url")
_OPTIONAL_MOVE_FIELDS = ("location_usage", "location_dest_usage")


class PickingsGateway(AutomationGateway):
    """Deliveries (and receipts) as plain dicts with their moves; validation without wizards."""

    def _has_tracking(self) -> bool:
        return self.client.has_field("stock.picking", "carrier_tracking_ref")

    def pickings_done_since(
        self,
        *,
        cursor: str | None,
        limit: int = 200,
        picking_type_code: str | Sequence[str] = SHIPPING_TYPE_CODES,
        returns_only: bool = False,
    ) -> PickingPage:
        """Done pickings after ``cursor``, with their moves, carrier and tracking reference.

        ``picking_type_code``: one code or several; by default deliveries and (where the
        stock_dropshipping module is installed) drop-ship transfers. Each picking is the dict
        described in ``_with_moves``. ``returns_only``: only returns (``return_id`` set), as
        the return-receipt poll reads them (``ReturnsGateway.return_receipts_done_since``).

        Three calls per page whatever its size (pickings, their moves, the moves' SKUs), one
        more when a whole page shares one second of ``write_date``. ``cursor`` is opaque
        ("<write_date second>|<id>": everything written in earlier seconds, and the pickings of
        that second up to that id, were seen); it only moves forward, so pages never repeat or
        skip a record that was already visible.

        Odoo keeps ``write_date`` to the microsecond but sends (and so the hub only ever sees)
        whole seconds, and it orders by the microseconds: a page is therefore cut only at a
        second boundary, or, when one second fills a page, continued by id inside that second.
        Odoo stamps write_date at transaction start, so a long transaction can commit a row "in
        the past": callers that need every row re-read the last minutes now and then by passing
        an older cursor (e.g. "<write_date - 5 min>|0") and deduplicate by picking id and
        write_date.
        """
        if limit <= 0:
            raise ValueError("limit must be positive")
        codes = (
            [picking_type_code] if isinstance(picking_type_code, str) else list(picking_type_code)
        )
        base: list[Any] = [["state", "=", "done"], ["picking_type_code", "in", codes]]
        if returns_only:
            base.append(["return_id", "!=", False])
        domain = base + (_after_cursor(cursor) if cursor else [])
        fields = self._picking_fields()
        rows = self.client.call(
            "stock.picking",
            "search_read",
            [domain],
            {"fields": fields, "order": "write_date asc, id asc", "limit": limit},
        )
        if not rows:
            return PickingPage(pickings=[], next_cursor=cursor)
        last_second = _second(rows[-1]["write_date"])
        if len(rows) < limit:
            # Everything visible now: the page ends after the last row of its last second.
            top = max(r["id"] for r in rows if _second(r["write_date"]) == last_second)
            next_cursor = f"{last_second}|{top}"
        else:
            earlier = [r for r in rows if _second(r["write_date"]) < last_second]
            if earlier:
                # The last second may go on past the page: leave it whole to the next page.
                rows, next_cursor = earlier, f"{last_second}|0"
            else:
                # One second fills the page: go through it by id (the order Odoo cannot give).
                rows = self.client.call(
                    "stock.picking",
                    "search_read",
                    [[*domain, ["write_date", "<", _next_second(last_second)]]],
                    {"fields": fields, "order": "id asc", "limit": limit},
                )
                if not rows:  # changed under us since the first read: try again next poll
                    return PickingPage(pickings=[], next_cursor=cursor)
                next_cursor = f"{last_second}|{rows[-1]['id']}"
        return PickingPage(pickings=self._with_moves(rows), next_cursor=next_cursor)

    def pickings_read(self, *, picking_ids: Sequence[int]) -> list[dict[str, Any]]:
        """Pickings by id (e.g. the ones a webhook hint named) with their moves, in three calls
        per 1,000 pickings, like the poll; ids Odoo does not have are left out (``read`` of a
        missing id returns nothing, transcript 10)."""
        out: list[dict[str, Any]] = []
        for part in chunked(_unique(picking_ids)):
            rows = self.client.call("stock.picking", "read", [part, self._picking_fields()])
            out += self._with_moves(rows)
        return out

    def _picking_fields(self) -> list[str]:
        fields = [
            "name",
            "state",
            "origin",
            "sale_id",
            "partner_id",
            "picking_type_code",
            "date_done",
            "write_date",
            "backorder_id",
            "return_id",
            "move_ids",
        ]
        present = self.client.fields_present("stock.picking", _OPTIONAL_PICKING_FIELDS)
        return fields + [f for f in _OPTIONAL_PICKING_FIELDS if f in present]

    def _with_moves(self, pickings: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pickings as the hub uses them: two more calls for any number of pickings (their
        moves, the moves' SKUs), never one per picking.

        Per picking: ``id``, ``name``, ``state``, ``origin`` (the sale order's name),
        ``sale_id``, ``partner_id``, ``picking_type_code`` ("outgoing", "incoming", "internal",
        "dropship"), ``date_done``, ``write_date`` (whole seconds), ``backorder_of`` (the
        picking this one is the backorder of), ``return_of``, ``carrier_id`` and ``carrier``
        (its name), ``tracking_ref`` (``carrier_tracking_ref``, None without stock_delivery),
        ``tracking_url`` (computed by the carrier; None for fixed-price carriers),
        ``dropship`` (a drop-ship transfer: type "dropship", or every move from a vendor
        location straight to a customer) and ``moves``: ``move_id``, ``product_id``, ``sku``
        (the product's ``default_code``), ``demand``, ``quantity`` (17/18 ``quantity``, 16
        ``quantity_done``), ``done`` (the quantity when the move is done, else 0), ``state``,
        ``sale_line_id``. Moves that Odoo moved to a backorder belong to the backorder.
        """
        adapter = self.client.adapter
        optional = self.client.fields_present("stock.move", _OPTIONAL_MOVE_FIELDS)
        move_fields = [
            "picking_id",
            "product_id",
            "product_uom_qty",
            "state",
            "sale_line_id",
            *adapter.move_fields(),
            *[f for f in _OPTIONAL_MOVE_FIELDS if f in optional],
        ]
        moves: list[dict[str, Any]] = []
        for part in chunked([p["id"] for p in pickings]):
            moves += self.client.call(
                "stock.move",
                "search_read",
                [[["picking_id", "in", part]]],
                {"fields": move_fields, "order": "id"},
            )
        skus: dict[int, str | None] = {}
        product_ids = [p for p in _unique(m2o_id(m["product_id"]) for m in moves) if p]
        for part in chunked(product_ids):
            for row in self.client.call("product.product", "read", [part, ["default_code"]]):
                skus[row["id"]] = falsy_none(row["default_code"])
        by_picking: dict[int, list[dict[str, Any]]] = {}
        vendor_to_customer: dict[int, bool] = {}
        for m in moves:
            pid = m2o_id(m["product_id"]) or 0
            picking_id = m2o_id(m["picking_id"]) or 0
            by_picking.setdefault(picking_id, []).append(
                {
                    "move_id": m["id"],
                    "product_id": pid,
                    "sku": skus.get(pid),
                    "demand": float(m["product_uom_qty"] or 0),
                    # Reserved (16: not read) before validation; done after it.
                    "quantity": adapter.move_done_quantity(m),
                    "done": adapter.move_done_quantity(m) if m["state"] == "done" else 0.0,
                    "state": m["state"],
                    "sale_line_id": m2o_id(m.get("sale_line_id")),
                }
            )
            direct = m.get("location_usage") == "supplier" and (
                m.get("location_dest_usage") == "customer"
            )
            vendor_to_customer[picking_id] = vendor_to_customer.get(picking_id, True) and direct
        out = []
        for p in pickings:
            carrier = p.get("carrier_id")
            code = falsy_none(p.get("picking_type_code"))
            out.append(
                {
                    "id": p["id"],
                    "name": p["name"],
                    "state": p["state"],
                    "origin": falsy_none(p["origin"]),
                    "sale_id": m2o_id(p["sale_id"]),
                    "partner_id": m2o_id(p["partner_id"]),
                    "picking_type_code": code,
                    "date_done": falsy_none(p["date_done"]),
                    "write_date": p["write_date"],
                    "backorder_of": m2o_id(p["backorder_id"]),
                    "return_of": m2o_id(p["return_id"]),
                    "carrier_id": m2o_id(carrier),
                    "carrier": carrier[1] if isinstance(carrier, list) else None,
                    "tracking_ref": falsy_none(p.get("carrier_tracking_ref")),
                    "tracking_url": falsy_none(p.get("carrier_tracking_url")) or None,
                    "dropship": code == "dropship" or vendor_to_customer.get(p["id"], False),
                    "moves": by_picking.get(p["id"], []),
                }
            )
        return out

    def picking_validate(
        self,
        *,
        picking_id: int,
        quantities: Mapping[int, float] | None = None,
        backorder: bool = True,
        tracking_ref: str | None = None,
        carrier_id: int | None = None,
    ) -> ValidateResult:
        """Validate a picking, optionally partially (``quantities``: move id -> done qty).

        ``backorder`` decides what happens to the rest of a partial delivery: a backorder
        picking, or nothing. Both go through the context shortcuts of transcript 06b, so there
        is no wizard round trip; if Odoo still answers with a wizard (an "always ask" picking
        type, or 16's immediate-transfer wizard) it is processed the same way.
        """
        adapter = self.client.adapter
        by_qty: dict[float, list[int]] = {}
        for move_id, qty in (quantities or {}).items():
            by_qty.setdefault(float(qty), []).append(int(move_id))
        for qty, move_ids in by_qty.items():  # one write per distinct quantity, not per move
            self.client.call("stock.move", "write", [move_ids, adapter.move_done_vals(qty)])
        if tracking_ref is not None or carrier_id is not None:
            if not self._has_tracking():
                raise OdooConfigurationError(
                    f"Tracking numbers need the Odoo module {adapter.tracking_module}",
                    model="stock.picking",
                    field="carrier_tracking_ref",
                )
            vals: dict[str, Any] = {}
            if tracking_ref is not None:
                vals["carrier_tracking_ref"] = tracking_ref
            if carrier_id is not None:
                vals["carrier_id"] = carrier_id
            self.client.call("stock.picking", "write", [[picking_id], vals])
        ctx: dict[str, Any] = {"skip_backorder": True}
        if not backorder:
            ctx["picking_ids_not_to_backorder"] = [picking_id]
        result = self.client.call("stock.picking", "button_validate", [[picking_id]], context=ctx)
        action = _action_dict(result)
        if action is not None:
            self._process_validate_wizard(action, backorder=backorder)
        row = self.client.call("stock.picking", "read", [[picking_id], ["state", "backorder_ids"]])
        if not row:
            raise OdooPermanentError("Picking vanished", model="stock.picking", id=picking_id)
        return ValidateResult(picking_id, row[0]["state"], list(row[0]["backorder_ids"] or []))

    def _process_validate_wizard(self, action: dict[str, Any], *, backorder: bool) -> None:
        model, ctx = action.get("res_model"), action.get("context") or {}
        if model == "stock.backorder.confirmation":
            method = "process" if backorder else "process_cancel_backorder"
        elif model == "stock.immediate.transfer":  # Odoo 16, nothing marked done
            method = "process"
        else:
            raise OdooPermanentError(
                f"button_validate asks for {model}, which the hub does not handle",
                model="stock.picking",
                method="button_validate",
                action=model,
            )
        # The wizard must be created AND run with the action's context (transcript 06).
        wiz = self.client.call(str(model), "create", [{}], context=ctx)
        result = self.client.call(str(model), method, [[wiz]], context=ctx)
        nested = _action_dict(result)
        if nested is not None and nested.get("res_model") == "stock.backorder.confirmation":
            self._process_validate_wizard(nested, backorder=backorder)

    def picking_webhook_ensure(self, *, name: str, url: str) -> tuple[int, bool]:
        """Install (or find by ``name``) the shipment hint: an automation rule on stock.picking
        that POSTs ``id, name, state, carrier_tracking_ref, write_date`` to ``url`` when a
        delivery (or drop-ship) reaches done, and again when the tracking reference of a done
        one changes. Needs base_automation and stock_delivery. Returns (id, created)."""
        return self.webhook_rule_ensure(
            name=name,
            url=url,
            model="stock.picking",
            trigger_fields=SHIPMENT_WEBHOOK_TRIGGERS,
            sent_fields=SHIPMENT_WEBHOOK_FIELDS,
            filter_domain=SHIPMENT_WEBHOOK_DOMAIN,
            module_hint=self.client.adapter.tracking_module,
        )
