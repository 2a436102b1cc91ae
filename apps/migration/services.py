"""The migration app's public surface (docs/migration.md): the dual-run diff and its report,
cutover and rollback, adoption of the legacy connector's orders.

- `rules.py`: the per-channel match rule (field, pattern, domain);
- `compare.py`: one hub order against one legacy sale order, field by field, classified;
- `diff.py`: the batched run over a channel's window, stored as `ShadowDiff`s;
- `reports.py`: rates per class and field, the orders behind a class, CSV, inbox items;
- `cutover.py`: the watermark, the listing of orders in flight, rollback;
- `adopt.py`: binding open legacy sale orders to hub orders.
"""

from __future__ import annotations

from .adopt import AdoptReport, order_adopt, orders_adopt
from .cutover import channel_cutover, channel_rollback, cutover_plan, hub_created
from .diff import diff_run, window_orders
from .reports import diff_csv, diff_report, orders_of_class
from .rules import MatchRule

__all__ = [
    "AdoptReport",
    "MatchRule",
    "channel_cutover",
    "channel_rollback",
    "cutover_plan",
    "diff_csv",
    "diff_report",
    "diff_run",
    "hub_created",
    "order_adopt",
    "orders_adopt",
    "orders_of_class",
    "window_orders",
]
