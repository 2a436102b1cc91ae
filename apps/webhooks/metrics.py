"""Webhook ingress metrics (labels are bounded: the kind comes from a fixed set, never the URL)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

WEBHOOKS = Counter(
    "hub_webhooks_total",
    "Webhook deliveries by sender kind and outcome",
    ["kind", "outcome"],
)

# The backstop (backstop.py): orders the poll read, and topics not delivering to the hub.
ORDER_POLL = Counter(
    "hub_order_poll_total",
    "Orders read by the polling backstop by channel kind and outcome (recorded / duplicate)",
    ["kind", "outcome"],
)
WEBHOOK_SUBSCRIPTIONS_UNHEALTHY = Gauge(
    "hub_webhook_subscriptions_unhealthy",
    "Topics the hub handles that no active subscription delivers to it, at the last check",
    ["channel"],
    multiprocess_mode="mostrecent",
)
