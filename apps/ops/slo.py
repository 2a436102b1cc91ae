"""Service-level objectives, declared per business flow, with multi-window burn rates.

An SLO says "this share of events happen within this many seconds" (thresholds and objectives
in settings). The burn rate over a window is the share of bad events divided by the error
budget (1 - objective): 1 spends the budget exactly over the SLO period, 14.4 spends a 30-day
budget in two days. Alerting follows the SRE workbook's multi-window rule: a **fast burn** is
the 1 h and the 5 min windows both at or above ``HUB_SLO_FAST_BURN`` (the short window makes the
alert stop soon after the cause is gone); a **slow burn** is 6 h and 30 min at or above
``HUB_SLO_SLOW_BURN``. A fast burn opens an inbox item (apps.ops.alerts); both are exported as
``hub_slo_burn_rate{slo,window}`` and shown on the dashboard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from apps.events.models import DeliveryAttempt
from apps.inventory.models import SkuStock
from apps.orders.models import ChannelOrder, OrderState

from . import metrics
from .models import SloStatus

WINDOWS: dict[str, dt.timedelta] = {
    "5m": dt.timedelta(minutes=5),
    "30m": dt.timedelta(minutes=30),
    "1h": dt.timedelta(hours=1),
    "6h": dt.timedelta(hours=6),
    "3d": dt.timedelta(days=3),
}

Measure = Callable[[dt.datetime, dt.datetime, float], tuple[int, int]]


def _orders_to_odoo(start: dt.datetime, end: dt.datetime, limit: float) -> tuple[int, int]:
    """Orders whose deadline (recorded + threshold) fell in the window: good if confirmed in
    Odoo by then. Held and cancelled orders wait for a business reason and are left out."""
    t = dt.timedelta(seconds=limit)
    qs = ChannelOrder.objects.filter(received_at__gt=start - t, received_at__lte=end - t).exclude(
        Q(pushed_at__isnull=True) & Q(state__in=(OrderState.HELD, OrderState.CANCELLED))
    )
    agg = qs.aggregate(
        total=Count("id"), good=Count("id", filter=Q(pushed_at__lte=F("received_at") + t))
    )
    return int(agg["good"]), int(agg["total"])


def _stock_to_channel(start: dt.datetime, end: dt.datetime, limit: float) -> tuple[int, int]:
    """SKUs published in the window, good if within the threshold of their latest change; a SKU
    still waiting longer than the threshold counts as one bad event."""
    t = dt.timedelta(seconds=limit)
    agg = SkuStock.objects.filter(
        published_at__gt=start, published_at__lte=end, marked_at__isnull=False
    ).aggregate(total=Count("id"), good=Count("id", filter=Q(published_at__lte=F("marked_at") + t)))
    late = SkuStock.objects.filter(dirty=True, dirty_since__lt=end - t).count()
    return int(agg["good"]), int(agg["total"]) + late


def _outbound(start: dt.datetime, end: dt.datetime, limit: float) -> tuple[int, int]:
    """Partner webhook deliveries: good if accepted within the threshold."""
    agg = DeliveryAttempt.objects.filter(started_at__gt=start, started_at__lte=end).aggregate(
        total=Count("id"),
        good=Count("id", filter=Q(success=True, latency_ms__lte=int(limit * 1000))),
    )
    return int(agg["good"]), int(agg["total"])


@dataclass(frozen=True)
class Slo:
    name: str
    title: str
    threshold_setting: str
    objective_setting: str
    measure: Measure
    admin_list: str  # the admin list behind it

    @property
    def threshold(self) -> float:
        return float(getattr(settings, self.threshold_setting))

    @property
    def objective(self) -> float:
        return float(getattr(settings, self.objective_setting))


SLOS: tuple[Slo, ...] = (
    Slo(
        "orders_to_odoo",
        "Orders confirmed in Odoo",
        "HUB_SLO_ORDER_TO_ODOO_SECONDS",
        "HUB_SLO_ORDER_TO_ODOO_OBJECTIVE",
        _orders_to_odoo,
        "admin:orders_channelorder_changelist",
    ),
    Slo(
        "stock_to_channel",
        "Stock changes on the channel",
        "HUB_SLO_STOCK_TO_CHANNEL_SECONDS",
        "HUB_SLO_STOCK_TO_CHANNEL_OBJECTIVE",
        _stock_to_channel,
        "admin:inventory_skustock_changelist",
    ),
    Slo(
        "outbound_delivery",
        "Partner webhooks accepted",
        "HUB_SLO_OUTBOUND_SECONDS",
        "HUB_SLO_OUTBOUND_OBJECTIVE",
        _outbound,
        "admin:events_webhookmessage_changelist",
    ),
)


def burn_rate(good: int, total: int, objective: float) -> float:
    if total <= 0:
        return 0.0
    budget = max(1.0 - objective, 1e-9)
    return round((1.0 - good / total) / budget, 4)


def classify(burns: dict[str, float]) -> str:
    fast, slow = float(settings.HUB_SLO_FAST_BURN), float(settings.HUB_SLO_SLOW_BURN)
    if burns.get("1h", 0) >= fast and burns.get("5m", 0) >= fast:
        return "fast_burn"
    if burns.get("6h", 0) >= slow and burns.get("30m", 0) >= slow:
        return "slow_burn"
    return "ok"


def evaluate(slo: Slo, now: dt.datetime | None = None) -> SloStatus:
    now = now or timezone.now()
    windows: dict[str, Any] = {}
    for label, span in WINDOWS.items():
        good, total = slo.measure(now - span, now, slo.threshold)
        burn = burn_rate(good, total, slo.objective)
        windows[label] = {"good": good, "total": total, "burn": burn}
        metrics.SLO_BURN.labels(slo.name, label).set(burn)
        metrics.SLO_GOOD_RATIO.labels(slo.name, label).set(good / total if total else 1.0)
    state = classify({k: v["burn"] for k, v in windows.items()})
    status, _ = SloStatus.objects.update_or_create(
        name=slo.name,
        defaults={
            "objective": slo.objective,
            "threshold_seconds": slo.threshold,
            "windows": windows,
            "state": state,
            "computed_at": now,
        },
    )
    return status


def evaluate_all(now: dt.datetime | None = None) -> list[SloStatus]:
    return [evaluate(slo, now) for slo in SLOS]
