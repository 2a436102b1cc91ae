"""Inventory metrics (Prometheus multiprocess). Publishers and reconciliation update these too.

Stock freshness (the age of the oldest dirty SKU) is not here: it is read from the database at
scrape time by apps.observability (hub_inventory_oldest_dirty_seconds).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CHANNEL_CALLS = Counter(
    "hub_inventory_channel_calls_total",
    "Channel API calls made for inventory",
    ["channel", "outcome"],
)
RATE_LIMITED = Counter(
    "hub_inventory_rate_limited_total",
    "429 / THROTTLED answers from a channel's inventory API",
    ["channel"],
)
DRIFT_RATIO = Gauge(
    "hub_inventory_drift_ratio",
    "Share of checked SKUs whose channel level differed from ATP at the last reconciliation",
    ["channel"],
    multiprocess_mode="mostrecent",
)
PUBLISH_LATENCY = Histogram(
    "hub_inventory_publish_latency_seconds",
    "From a SKU becoming dirty to its value being accepted by the channel",
    ["channel"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 10, 15, 30, 60, 120, 300, 900),
)
SKUS_PUBLISHED = Counter(
    "hub_inventory_skus_total",
    "SKUs checked by publication, by outcome (published, unchanged, failed, stale)",
    ["channel", "outcome"],
)
DIRTY_MARKS = Counter(
    "hub_inventory_dirty_marks_total",
    "Change signals that marked SKUs dirty, by source (poll, odoo_webhook, order, channel, admin)",
    ["source"],
)
