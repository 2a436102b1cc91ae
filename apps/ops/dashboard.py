"""What the dashboard shows, read from the rollups, the SLO status, the alerts and the inbox:
small tables (a week of hourly rows), never the order tables."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from apps.inbox.models import Issue, Status
from apps.sales_channels.models import Channel

from .models import Alert, Rollup, SloStatus
from .rollups import HOUR, hour_floor
from .slo import SLOS

ORDER_SIGNALS = ("orders.received", "orders.pushed", "orders.held", "orders.failed")
ORDERS = "admin:orders_channelorder_changelist"
AGE_BUCKETS = (("< 1h", 3600), ("1h-1d", 86400), ("1-7d", 7 * 86400), ("> 7d", None))


def _url(name: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse(name) + (f"?{query}" if query else "")


def context(*, days: int = 7, now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    end = hour_floor(now) + HOUR
    start = end - dt.timedelta(days=days)
    hours = [start + HOUR * k for k in range(days * 24)]
    data: dict[tuple[str, str], dict[dt.datetime, float]] = defaultdict(dict)
    for signal, scope, hour, value in Rollup.objects.filter(
        hour__gte=start, hour__lt=end
    ).values_list("signal", "scope", "hour", "value"):
        data[(signal, scope)][hour] = value

    def line(signal: str, scope: str) -> list[float]:
        d = data.get((signal, scope), {})
        return [d.get(h, 0.0) for h in hours]

    x = [h.isoformat() for h in hours]
    channels = []
    for code, cid in Channel.objects.order_by("code").values_list("code", "pk"):
        ch = str(cid)
        series = {s.split(".")[1]: line(s, code) for s in ORDER_SIGNALS}
        channels.append(
            {
                "code": code,
                "series": series,
                "totals": {k: int(sum(v)) for k, v in series.items()},
                "latency": {
                    "orders_p50": line("orders.latency_p50", code),
                    "orders_p95": line("orders.latency_p95", code),
                    "stock_p50": line("stock.latency_p50", code),
                    "stock_p95": line("stock.latency_p95", code),
                },
                "drift": line("stock.drift", code),
                "api_errors": line("channel.api_errors", code),
                "links": {
                    "orders": _url(ORDERS, channel__id__exact=ch),
                    "held": _url(ORDERS, channel__id__exact=ch, state__exact="held"),
                    "failed": _url(ORDERS, channel__id__exact=ch, state__exact="failed"),
                    "stock": _url("admin:inventory_skustock_changelist", channel__id__exact=ch),
                    "drift": _url(
                        "admin:inventory_reconciliationrun_changelist", channel__id__exact=ch
                    ),
                    "issues": _url(
                        "admin:inbox_issue_changelist", channel_code=code, status__exact="open"
                    ),
                },
            }
        )
    queues = sorted({scope for (signal, scope) in data if signal == "queue.depth"})
    days_x = sorted({h.date() for h in hours})
    per_day: dict[str, dict[dt.date, float]] = {"opened": {}, "resolved": {}}
    for kind in per_day:
        for h, v in data.get((f"inbox.{kind}", ""), {}).items():
            per_day[kind][h.date()] = per_day[kind].get(h.date(), 0.0) + v
    open_issues = Issue.objects.filter(status__in=(Status.OPEN, Status.SNOOZED))
    by_category = list(
        open_issues.values("category")
        .annotate(n=Count("id"), oldest=Min("first_seen"))
        .order_by("-n")
    )
    ages: dict[str, dict[str, int]] = defaultdict(lambda: {b: 0 for b, _ in AGE_BUCKETS})
    for category, first_seen in open_issues.values_list("category", "first_seen")[:5000]:
        age = (now - first_seen).total_seconds()
        for label, limit in AGE_BUCKETS:
            if limit is None or age < limit:
                ages[category][label] += 1
                break
    for row in by_category:
        row["ages"] = [ages[row["category"]][label] for label, _ in AGE_BUCKETS]
    slos = {s.name: s for s in SloStatus.objects.all()}
    slo_rows = [
        {
            "name": slo.name,
            "title": slo.title,
            "status": slos.get(slo.name),
            "threshold": slo.threshold,
            "objective": slo.objective,
            "url": reverse(slo.admin_list),
        }
        for slo in SLOS
    ]
    charts: dict[str, Any] = {
        "x": x,
        "channels": [
            {k: c[k] for k in ("code", "series", "latency", "drift", "api_errors", "links")}
            for c in channels
        ],
        "queues": {q: line("queue.depth", q) for q in queues},
        "odoo_ms": line("odoo.rpc_ms", ""),
        "breaker": line("odoo.breaker_open", ""),
        "outbound": {
            "attempts": line("outbound.attempts", ""),
            "errors": line("outbound.errors", ""),
        },
        "inbox_days": [d.isoformat() for d in days_x],
        "inbox_opened": [per_day["opened"].get(d, 0.0) for d in days_x],
        "inbox_resolved": [per_day["resolved"].get(d, 0.0) for d in days_x],
        "links": {
            "issues": _url("admin:inbox_issue_changelist", status__exact="open"),
            "messages": reverse("admin:events_webhookmessage_changelist"),
            "jobs": reverse("admin:core_jobrun_changelist"),
        },
    }
    return {
        "days": days,
        "since": start,
        "channels": channels,
        "charts": charts,
        "inbox_by_category": by_category,
        "inbox_ages": {k: dict(v) for k, v in ages.items()},
        "age_labels": [b for b, _ in AGE_BUCKETS],
        "slos": slo_rows,
        "alerts": list(Alert.objects.filter(state=Alert.State.OPEN).order_by("-last_seen")[:50]),
        "generated_at": now,
    }
