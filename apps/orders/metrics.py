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
ACKS = Counter(
    "hub_order_acks_total", "Order acknowledgements on the channel", ["channel", "outcome"]
)  # outcome: done, failed, shadow, rate_limited
PUSH_RPCS = Counter(
    "hub_order_push_rpcs_total", "Odoo RPCs made by order push batches", ["channel"]
)
PUSH_ORDERS = Counter(
    "hub_order_push_orders_total", "Orders in push batches that reached Odoo", ["channel"]
)
PUSH_RPCS_PER_ORDER = Histogram(
    "hub_order_push_rpcs_per_order",
    "Odoo RPCs of one push batch divided by the orders it bound",
    buckets=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 3, 5, 10),
)
