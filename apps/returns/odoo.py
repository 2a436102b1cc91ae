"""The Odoo calls of the returns flow, in one place (the gateway's returns.py / accounting.py).

Every call goes through `gateway()` (tests swap it for a fake with the same methods). The calls
this flow relies on, by their agreed names:

- `return_ensure(picking_id, origin, quantities)` -> (return picking, created): found by its
  deterministic origin, else made from the done delivery and left ready to receive;
- `return_receipts_done_since(cursor, limit)` -> a page (`pickings`, `next_cursor`) of validated
  incoming pickings with `return_id` set;
- `invoices_of_orders(order_ids)` -> {sale order id: [invoice dicts]};
- `credit_notes_find(refs)` -> {ref: {id, name, state, amount_total}};
- `credit_note_full(invoice_id, ref, post)` / `credit_note_partial(invoice_id, ref, lines,
  extra_lines, post)` -> (credit note, created), `reversed_entry_id` = the invoice;
- `moves_post(move_ids)`;
- `sale_order_lines_reduce(order_id, quantities)`: lower open lines refunded before shipping.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from apps.odoo.gateway import get_gateway

_override: Any = None


def gateway() -> Any:
    return _override if _override is not None else get_gateway()


def set_gateway(fake: Any) -> None:
    """Tests: use `fake` instead of the real gateway (None restores it)."""
    global _override
    _override = fake


def cents(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def return_origin(channel_code: str, return_id: str) -> str:
    return f"{channel_code}:return:{return_id}"


def refund_ref(channel_code: str, refund_id: str) -> str:
    return f"{channel_code}:refund:{refund_id}"


def posted_invoice(invoices: Any) -> dict[str, Any] | None:
    """The order's posted customer invoice (the first), or None."""
    for inv in invoices or []:
        if not isinstance(inv, Mapping):
            continue
        kind = inv.get("move_type") or "out_invoice"
        if kind == "out_invoice" and inv.get("state") == "posted":
            return dict(inv)
    return None
