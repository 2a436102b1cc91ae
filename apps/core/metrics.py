"""Metric definitions shared by every process.

prometheus_client runs in multiprocess mode (see integration_hub/__init__.py): each process writes
its samples to files under PROMETHEUS_MULTIPROC_DIR and /metrics aggregates them. Apps import the
metric they update from here, so names and labels are defined once.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HTTP_REQUESTS = Counter(
    "hub_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "hub_http_request_seconds", "HTTP request latency", ["method", "route"], buckets=LATENCY_BUCKETS
)
TASKS = Counter("hub_tasks_total", "Celery task executions", ["task", "queue", "outcome"])
TASK_LATENCY = Histogram(
    "hub_task_seconds", "Celery task run time", ["task", "queue"], buckets=LATENCY_BUCKETS
)
TASK_RETRIES = Counter("hub_task_retries_total", "Task retries", ["task", "queue", "reason"])
PERIODIC_SKIPPED = Counter(
    "hub_periodic_skipped_total", "Periodic runs skipped because the period was taken", ["job"]
)
ODOO_RPC = Counter("hub_odoo_rpc_total", "Odoo RPC calls", ["model", "method", "outcome"])
ODOO_RPC_LATENCY = Histogram(
    "hub_odoo_rpc_seconds", "Odoo RPC latency", ["model", "method"], buckets=LATENCY_BUCKETS
)
ODOO_BREAKER_OPEN = Gauge(
    "hub_odoo_breaker_open",
    "1 while the Odoo circuit breaker is open",
    ["connection"],
    multiprocess_mode="max",
)
ODOO_TRANSPORT = Gauge(
    "hub_odoo_transport",
    "1 for the transport (jsonrpc or json2) the Odoo client chose at login",
    ["connection", "transport"],
    multiprocess_mode="max",
)
