"""Shipment metrics (prometheus_client multiprocess mode, see apps.core.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from apps.core.metrics import LATENCY_BUCKETS

SHIPMENTS = Counter(
    "hub_shipments_total", "Done Odoo deliveries recorded, per channel", ["channel", "outcome"]
)  # outcome: recorded, tracking_changed
SYNCS = Counter(
    "hub_shipment_syncs_total",
    "Shipment syncs to the channel by outcome",
    ["channel", "action", "outcome"],
)  # outcome: done, found_existing, skipped, shadow, ignored, retry, failed, paused
CHANNEL_CALLS = Counter(
    "hub_shipment_channel_calls_total", "Channel API calls made by shipment syncs", ["channel"]
)
TO_CHANNEL_SECONDS = Histogram(
    "hub_shipment_to_channel_seconds",
    "From the delivery's date_done in Odoo to the channel accepting the fulfillment",
    ["channel"],
    buckets=LATENCY_BUCKETS,
)
POLL_PICKINGS = Counter(
    "hub_shipment_pickings_read_total",
    "Done pickings read from Odoo, by source and what they were",
    ["source", "outcome"],
)  # source: poll, hint; outcome: new, tracking, seen, unchanged, not_hub, skipped
