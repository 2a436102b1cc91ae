"""The order flow's public surface: what other apps, tasks, the admin and the API call.

The flow itself lives in modules named after what they decide (docs/architecture.md has the
map from each question to its module):

- `intake.py`: validation and the upsert of a channel order (per-entity order, versions);
- `holds.py`: unknown-SKU, payment, risk and credit holds, and their release;
- `customers.py`: the Odoo partner of an order and the B2B ship-to;
- `warehouses.py`: warehouse choice and the split plan;
- `odoo_values.py`: sale order values (line prices, discounts, taxes, shipping);
- `push.py`: claim, batch, push, retry and shadow;
- `cancel.py`, `edits.py`: changes that arrive after the push;
- `transitions.py`: the state machine; `doorbells.py`: ringing the tasks.
"""

from __future__ import annotations

from .cancel import order_cancel
from .doorbells import push_due_ring
from .edits import edit_after_shipment, orders_followup_sweep
from .holds import order_release_hold, orders_release_for_sku
from .intake import order_ingest, order_upsert, order_validate
from .push import order_push_due, order_retry, orders_push_sweep
from .transitions import odoo_reference, order_note, order_shipment_recorded, order_transition

__all__ = [
    "edit_after_shipment",
    "odoo_reference",
    "order_cancel",
    "order_ingest",
    "order_note",
    "order_push_due",
    "order_release_hold",
    "order_retry",
    "order_shipment_recorded",
    "order_transition",
    "order_upsert",
    "order_validate",
    "orders_followup_sweep",
    "orders_push_sweep",
    "orders_release_for_sku",
    "push_due_ring",
]
