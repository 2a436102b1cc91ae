"""Order-flow metrics (prometheus_client multiprocess mode, see apps.core.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from apps.core.metrics import LATENCY_BUCKETS

ORDERS = Counter(
    "hub_orders_total", "Orders by outcome per channel", ["channel", "outcome"]
)  # outcome: received, pushed, held, failed, cancelled
ORDER_TO_ODOO_SECONDS = Histogram(
    "hub_order_to_odoo_seconds",
    "From receipt of an order to its confirmed Odoo sale order",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
PUSH_BATCH_SIZE = Histogram(
    "hub_order_push_batch_size",
    "Orders per push batch",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
