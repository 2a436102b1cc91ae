"""/healthz (process up), /readyz (dependencies), /metrics (Prometheus exposition)."""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from apps.core.health import run_checks

from .probes import queue_depths


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "pid": os.getpid()})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    ready, report = run_checks()
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": report},
        status=200 if ready else 503,
    )


class _LiveCollector:
    """Values read at scrape time: queue depth from the broker, open issues from the inbox,
    stock freshness from inventory."""

    def collect(self):  # type: ignore[no-untyped-def]
        depth = GaugeMetricFamily("hub_queue_depth", "Messages waiting per queue", labels=["queue"])
        try:
            for queue, n in queue_depths().items():
                depth.add_metric([queue], n)
        except Exception:  # noqa: S110  the broker being down shows in hub_ready, not as a crash
            pass
        yield depth
        issues = GaugeMetricFamily(
            "hub_inbox_open_issues", "Open inbox issues per category", labels=["category"]
        )
        try:
            from apps.inbox.selectors import open_issue_counts

            for category, n in open_issue_counts().items():
                issues.add_metric([category], n)
        except Exception:  # noqa: S110  the database being down shows in /readyz
            pass
        yield issues
        freshness = GaugeMetricFamily(
            "hub_inventory_oldest_dirty_seconds",
            "Stock freshness: age of the oldest SKU waiting for publication, per channel",
            labels=["channel"],
        )
        try:
            from apps.inventory.selectors import oldest_dirty_ages

            for channel, age in oldest_dirty_ages().items():
                freshness.add_metric([channel], age)
        except Exception:  # noqa: S110  the database being down shows in /readyz
            pass
        yield freshness


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(_LiveCollector())  # type: ignore[arg-type]
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
