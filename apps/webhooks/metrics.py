"""Webhook ingress metrics (labels are bounded: the kind comes from a fixed set, never the URL)."""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOKS = Counter(
    "hub_webhooks_total",
    "Webhook deliveries by sender kind and outcome",
    ["kind", "outcome"],
)
