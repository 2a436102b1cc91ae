"""Business-event metrics (prometheus_client multiprocess mode, see apps.core.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from apps.core.metrics import LATENCY_BUCKETS

PUBLISHED = Counter("hub_events_published_total", "Business events recorded", ["type"])
SCHEMA_ERRORS = Counter(
    "hub_events_schema_errors_total", "Events whose payload broke their schema", ["type"]
)
DELIVERIES = Counter(
    "hub_webhook_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"]
)  # outcome: success, http_error, timeout, connect, refused_address, gone, throttled
DELIVERY_SECONDS = Histogram(
    "hub_webhook_delivery_seconds", "One delivery attempt's HTTP time", buckets=LATENCY_BUCKETS
)
COMMIT_TO_DELIVERY_SECONDS = Histogram(
    "hub_webhook_commit_to_delivery_seconds",
    "From the event's commit to its first successful delivery",
    buckets=LATENCY_BUCKETS,
)
ENDPOINTS_DISABLED = Counter(
    "hub_webhook_endpoints_disabled_total", "Endpoints disabled automatically", ["reason"]
)
