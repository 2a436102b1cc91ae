"""The hourly rollups behind the dashboard and the anomaly job (beat job ``ops.rollup``).

Each run recomputes the current and the previous hour from the hub's own tables with aggregate
queries on indexed timestamps (migrations/0002 adds the indexes), and upserts one ``Rollup`` row
per (signal, scope, hour). Gauges (queue depth, Odoo latency, breaker) are sampled at run time and
kept as the hour's maximum. Signals (scope = channel code unless said otherwise):

- ``orders.received`` / ``orders.pushed``: orders recorded / confirmed in Odoo in the hour;
- ``orders.held`` / ``orders.failed``: orders that moved to held / failed in the hour;
- ``orders.latency_p50`` / ``_p95``: seconds from recording (the webhook) to Odoo confirmation,
  over the orders pushed in the hour;
- ``orders.polled``: orders the poll found that no webhook had delivered (the ledger's
  ``x-hub-source: poll`` events, scanned incrementally by id);
- ``stock.published``, ``stock.latency_p50`` / ``_p95``: SKUs published in the hour, and the
  seconds from their latest stock change to the channel accepting the value;
- ``stock.drift``: mismatches per 100 SKUs checked by the reconciliations of the hour;
- ``channel.api_errors``: inbox items opened for channel credentials or throttling;
- scope "": ``inbox.opened`` / ``inbox.resolved``, ``outbound.attempts`` / ``outbound.errors``
  (partner webhooks), ``odoo.rpc_ms`` and ``odoo.breaker_open``;
- scope = queue name: ``queue.depth``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, F
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.events.models import DeliveryAttempt
from apps.inbox.models import Issue
from apps.inventory.models import ReconciliationRun, SkuStock
from apps.ledger.models import InboundEvent
from apps.orders.models import ChannelOrder, OrderTransition
from apps.sales_channels.models import Channel

from .models import Cursor, Rollup

logger = logging.getLogger(__name__)

HOUR = dt.timedelta(hours=1)
Key = tuple[str, str, dt.datetime]  # signal, scope, hour
COUNT_SIGNALS = ("orders.received", "orders.pushed", "orders.held", "orders.failed")
POLL_SCAN_CHUNK = 5000


def hour_floor(when: dt.datetime) -> dt.datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def _counts(qs: Any, field: str, scope_field: str) -> dict[tuple[str, dt.datetime], int]:
    rows = (
        qs.annotate(h=TruncHour(field))
        .values(scope_field, "h")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    return {(r[scope_field] or "", r["h"]): r["n"] for r in rows}


def _latencies(
    qs: Any, start_field: str, end_field: str, scope_field: str
) -> dict[tuple[str, dt.datetime], list[float]]:
    out: dict[tuple[str, dt.datetime], list[float]] = defaultdict(list)
    for scope, started, ended in qs.values_list(scope_field, start_field, end_field).iterator(
        chunk_size=5000
    ):
        if started is None or ended is None or ended < started:
            continue
        out[(scope or "", hour_floor(ended))].append((ended - started).total_seconds())
    return out


def compute(start: dt.datetime, end: dt.datetime) -> dict[Key, tuple[float, int]]:
    """Every table-derived signal for the hours in [start, end)."""
    values: dict[Key, tuple[float, int]] = {}
    hours = []
    h = start
    while h < end:
        hours.append(h)
        h += HOUR
    codes = list(Channel.objects.values_list("code", flat=True))
    for signal in (*COUNT_SIGNALS, "stock.published", "channel.api_errors"):
        for code in codes:
            for h in hours:
                values[(signal, code, h)] = (0.0, 0)
    for signal in ("inbox.opened", "inbox.resolved", "outbound.attempts", "outbound.errors"):
        for h in hours:
            values[(signal, "", h)] = (0.0, 0)

    def put_counts(signal: str, counts: dict[tuple[str, dt.datetime], int]) -> None:
        for (scope, hour), n in counts.items():
            values[(signal, scope, hour)] = (float(n), n)

    orders = ChannelOrder.objects
    put_counts(
        "orders.received",
        _counts(
            orders.filter(received_at__gte=start, received_at__lt=end),
            "received_at",
            "channel__code",
        ),
    )
    pushed = orders.filter(pushed_at__gte=start, pushed_at__lt=end)
    put_counts("orders.pushed", _counts(pushed, "pushed_at", "channel__code"))
    moves = OrderTransition.objects.filter(at__gte=start, at__lt=end)
    for state in ("held", "failed"):
        rows = (
            moves.filter(to_state=state)
            .exclude(from_state=state)
            .annotate(h=TruncHour("at"))
            .values("order__channel__code", "h")
            .annotate(n=Count("order_id", distinct=True))
            .order_by()
        )
        put_counts(f"orders.{state}", {(r["order__channel__code"], r["h"]): r["n"] for r in rows})
    for (scope, hour), secs in _latencies(
        pushed, "received_at", "pushed_at", "channel__code"
    ).items():
        values[("orders.latency_p50", scope, hour)] = (percentile(secs, 50), len(secs))
        values[("orders.latency_p95", scope, hour)] = (percentile(secs, 95), len(secs))

    published = SkuStock.objects.filter(published_at__gte=start, published_at__lt=end)
    put_counts("stock.published", _counts(published, "published_at", "channel__code"))
    stock_lat = _latencies(
        published.filter(marked_at__isnull=False), "marked_at", "published_at", "channel__code"
    )
    for (scope, hour), secs in stock_lat.items():
        values[("stock.latency_p50", scope, hour)] = (percentile(secs, 50), len(secs))
        values[("stock.latency_p95", scope, hour)] = (percentile(secs, 95), len(secs))
    runs = ReconciliationRun.objects.filter(
        started_at__gte=start, started_at__lt=end, checked__gt=0
    )
    for code, started, checked, mismatches in runs.values_list(
        "channel__code", "started_at", "checked", "mismatches"
    ):
        key = ("stock.drift", code, hour_floor(started))
        drift = 100.0 * mismatches / checked
        values[key] = (max(drift, values.get(key, (0.0, 0))[0]), values.get(key, (0.0, 0))[1] + 1)

    issues = Issue.objects
    put_counts(
        "inbox.opened",
        _hub_counts(issues.filter(first_seen__gte=start, first_seen__lt=end), "first_seen"),
    )
    put_counts(
        "inbox.resolved",
        _hub_counts(issues.filter(resolved_at__gte=start, resolved_at__lt=end), "resolved_at"),
    )
    put_counts(
        "channel.api_errors",
        _counts(
            issues.filter(
                first_seen__gte=start,
                first_seen__lt=end,
                category__in=("channel_auth", "rate_limited"),
            ).exclude(channel_code=""),
            "first_seen",
            "channel_code",
        ),
    )
    attempts = DeliveryAttempt.objects.filter(started_at__gte=start, started_at__lt=end)
    put_counts("outbound.attempts", _hub_counts(attempts, "started_at"))
    put_counts("outbound.errors", _hub_counts(attempts.filter(success=False), "started_at"))
    return values


def _hub_counts(qs: Any, field: str) -> dict[tuple[str, dt.datetime], int]:
    rows = qs.annotate(h=TruncHour(field)).values("h").annotate(n=Count("id")).order_by()
    return {("", r["h"]): r["n"] for r in rows}


def upsert(values: dict[Key, tuple[float, int]]) -> int:
    now = timezone.now()
    rows = [
        Rollup(signal=s, scope=scope, hour=h, value=v, n=n, updated_at=now)
        for (s, scope, h), (v, n) in values.items()
    ]
    Rollup.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["signal", "scope", "hour"],
        update_fields=["value", "n", "updated_at"],
    )
    return len(rows)


def _gauge_max(signal: str, scope: str, hour: dt.datetime, value: float) -> None:
    """Keep the hour's maximum of a sampled gauge."""
    row, created = Rollup.objects.get_or_create(
        signal=signal, scope=scope, hour=hour, defaults={"value": value, "n": 1}
    )
    if not created:
        Rollup.objects.filter(pk=row.pk).update(value=max(row.value, value), n=F("n") + 1)


def sample_gauges(now: dt.datetime | None = None) -> dict[str, Any]:
    """Queue depth per queue, and Odoo's answer time and breaker, sampled now."""
    from apps.core.health import READINESS_CHECKS
    from apps.observability.probes import queue_depths

    hour = hour_floor(now or timezone.now())
    sampled: dict[str, Any] = {}
    try:
        for queue, depth in queue_depths().items():
            _gauge_max("queue.depth", queue, hour, float(depth))
            sampled[f"queue.depth.{queue}"] = depth
    except Exception as exc:  # the broker being down shows in /readyz
        logger.warning("queue depth not sampled: %s", exc)
    check = READINESS_CHECKS.get("odoo")
    if check is not None:
        started = time.perf_counter()
        try:
            result = check.probe()
        except Exception as exc:
            logger.warning("odoo probe failed: %s", exc)
            result = None
        ms = (time.perf_counter() - started) * 1000
        _gauge_max("odoo.rpc_ms", "", hour, ms)
        breaker = (result.detail.get("breaker") if result is not None else "unknown") or ""
        is_open = 1.0 if (result is None or not result.ok or breaker == "open") else 0.0
        _gauge_max("odoo.breaker_open", "", hour, is_open)
        sampled.update({"odoo.rpc_ms": ms, "odoo.breaker": breaker})
    return sampled


def scan_polled(limit_chunks: int = 200) -> int:
    """Add the ledger events recorded by the order poll since the last scan (by id) to
    ``orders.polled``: orders the webhooks never delivered."""
    cursor, _ = Cursor.objects.get_or_create(name="ledger.polled")
    seen = 0
    bump: dict[tuple[str, dt.datetime], int] = defaultdict(int)
    last = cursor.value
    for _ in range(limit_chunks):
        rows = list(
            InboundEvent.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "channel_code", "received_at", "headers")[:POLL_SCAN_CHUNK]
        )
        if not rows:
            break
        for _pk, code, received, headers in rows:
            if isinstance(headers, dict) and headers.get("x-hub-source") == "poll":
                bump[(code, hour_floor(received))] += 1
        last = rows[-1][0]
        seen += len(rows)
    for (code, hour), n in bump.items():
        row, created = Rollup.objects.get_or_create(
            signal="orders.polled", scope=code, hour=hour, defaults={"value": n, "n": n}
        )
        if not created:
            Rollup.objects.filter(pk=row.pk).update(value=F("value") + n, n=F("n") + n)
    Cursor.objects.filter(pk=cursor.pk).update(value=last)
    return seen


def rollup(*, hours: int = 2, now: dt.datetime | None = None, gauges: bool = True) -> int:
    """Recompute the last `hours` hours (the current one included) and sample the gauges."""
    now = now or timezone.now()
    end = hour_floor(now) + HOUR
    start = end - HOUR * hours
    written = upsert(compute(start, end))
    scan_polled()
    if gauges:
        sample_gauges(now)
    return written


def series(
    signal: str, *, scopes: Iterable[str] | None = None, since: dt.datetime
) -> dict[str, dict[dt.datetime, float]]:
    """scope -> {hour: value} for one signal since `since`."""
    qs = Rollup.objects.filter(signal=signal, hour__gte=since)
    if scopes is not None:
        qs = qs.filter(scope__in=list(scopes))
    out: dict[str, dict[dt.datetime, float]] = defaultdict(dict)
    for scope, hour, value in qs.values_list("scope", "hour", "value"):
        out[scope][hour] = value
    return out
