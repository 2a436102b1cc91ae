"""Operations metrics (Prometheus): SLO burn rates, alerts raised, anomaly job outcomes."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SLO_BURN = Gauge(
    "hub_slo_burn_rate",
    "Error-budget burn rate of a service-level objective over a window (1 = on budget)",
    ["slo", "window"],
    multiprocess_mode="mostrecent",
)
SLO_GOOD_RATIO = Gauge(
    "hub_slo_good_ratio",
    "Share of events within the SLO threshold over a window",
    ["slo", "window"],
    multiprocess_mode="mostrecent",
)
ALERTS = Counter("hub_ops_alerts_total", "Anomaly and burn alerts", ["kind", "transition"])
ALERTS_OPEN = Gauge(
    "hub_ops_alerts_open", "Open alerts per kind", ["kind"], multiprocess_mode="mostrecent"
)
UNUSUAL_ORDERS = Counter("hub_ops_unusual_orders_total", "Orders marked for review", ["reason"])
