"""Lifecycle checks that run inside the chaos run: the warehouse ships while the faults hit.

**Fulfilment** (in): for the orders the plan ships (never edited or cancelled), the runner waits
until the order's sale order is confirmed in Odoo, then validates its delivery with a tracking
number, as a warehouse would: all at once, or (a third of them) the first line first and the
rest 10 s later from the backorder. Each validated picking must become exactly one fulfilment on
the Shopify stand-in, and the order ``shipped`` (``partially_shipped`` after the first part).

Returns (one credit note per refund) and payouts (one posting per payout) are not in the run yet
(docs/reliability.md says why).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from .observe import OdooRpc
from .plan import Plan, PlannedOrder

SECOND_PART_AFTER = 10.0


@dataclass
class Shipper:
    plan: Plan
    odoo: OdooRpc
    channel: str
    start: float  # monotonic start of sending
    deadline: float = float("inf")  # seconds after the start
    validated: dict[int, int] = field(default_factory=dict)  # order index -> pickings done
    failures: dict[int, str] = field(default_factory=dict)
    _thread: threading.Thread | None = None

    def run(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="shipper", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def _now(self) -> float:
        return time.monotonic() - self.start

    def _loop(self) -> None:
        queue = sorted(
            ((o.ship_at, o.n, 1) for o in self.plan.orders if o.ship_at is not None),
        )
        while queue:
            at, n, part = queue.pop(0)
            if at > self._now():
                time.sleep(min(at - self._now(), 1.0))
                queue.insert(0, (at, n, part))
                continue
            order = self.plan.orders[n]
            try:
                done = self._ship(order, part)
            except Exception as exc:  # an unexpected Odoo answer: reported, the run fails
                self.failures[n] = f"{type(exc).__name__}: {exc}"
                continue
            if done is None:  # not in Odoo yet: look again in 10 s
                if self._now() > self.deadline:
                    self.failures[n] = "the sale order never became ready to ship"
                else:
                    queue.append((self._now() + 10.0, n, part))
                    queue.sort()
                continue
            self.validated[n] = part
            if part < order.ship_parts:
                queue.append((self._now() + SECOND_PART_AFTER, n, part + 1))
                queue.sort()

    def _ship(self, order: PlannedOrder, part: int) -> bool | None:
        """Validate the order's open delivery (part 1 of 2: its first line only). None when the
        sale order is not confirmed yet."""
        sos = self.odoo.execute(
            "sale.order",
            "search_read",
            [["origin", "=", f"{self.channel}:{order.ref}"], ["state", "=", "sale"]],
            fields=["picking_ids"],
        )
        if not sos or not sos[0]["picking_ids"]:
            return None
        pickings = self.odoo.execute(
            "stock.picking",
            "read",
            sos[0]["picking_ids"],
            ["state", "move_ids", "picking_type_code"],
        )
        open_ = [
            p
            for p in pickings
            if p["state"] not in ("done", "cancel") and p.get("picking_type_code") == "outgoing"
        ]
        if not open_:
            return None
        picking = min(open_, key=lambda p: p["id"])
        moves = self.odoo.execute(
            "stock.move", "read", picking["move_ids"], ["product_id", "product_uom_qty"]
        )
        first_sku_only = order.ship_parts == 2 and part == 1
        first_product = moves[0]["product_id"][0] if moves else None
        for m in moves:
            ship = not first_sku_only or m["product_id"][0] == first_product
            qty = float(m["product_uom_qty"]) if ship else 0.0
            self.odoo.execute("stock.move", "write", [m["id"]], {"quantity": qty, "picked": ship})
        self.odoo.execute(
            "stock.picking",
            "write",
            [picking["id"]],
            {"carrier_tracking_ref": f"CHAOS{order.n}P{part}"},
        )
        self.odoo.execute(
            "stock.picking", "button_validate", [picking["id"]], context={"skip_backorder": True}
        )
        return True
