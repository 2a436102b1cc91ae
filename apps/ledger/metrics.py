"""Ledger metrics (prometheus_client multiprocess mode: gauges declare how to aggregate)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

RERINGS = Counter(
    "hub_ledger_rerings_total", "Rows the sweeper re-enqueued (due or lease expired)", ["kind"]
)
RETRIES = Counter(
    "hub_ledger_retries_total", "Work retries scheduled in the database", ["kind", "reason"]
)
OUTCOMES = Counter("hub_ledger_outcomes_total", "Work outcomes", ["kind", "outcome"])
ENQUEUE_FAILED = Counter(
    "hub_ledger_enqueue_failed_total", "Enqueues that failed (broker down); swept later", ["kind"]
)
OLDEST_PENDING = Gauge(
    "hub_ledger_oldest_pending_seconds",
    "Age of the oldest unfinished row per kind (set by the sweeper)",
    ["kind"],
    multiprocess_mode="mostrecent",
)
