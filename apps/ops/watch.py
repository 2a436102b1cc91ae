"""The anomaly and SLO job (beat job ``ops.watch``): burn rates, seasonal anomalies on the
rollups, and unusual orders. Each finding is one alert (apps.ops.alerts); an alert not found
again on a later run clears itself."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.orders.models import ChannelOrder, OrderLine
from apps.sales_channels.models import Channel

from . import anomaly, slo
from .alerts import clear_alert, open_keys, raise_alert
from .metrics import UNUSUAL_ORDERS
from .models import Alert, Cursor, OrderReview
from .rollups import HOUR, hour_floor, series

logger = logging.getLogger(__name__)

SPIKE_SIGNALS = ("orders.failed", "orders.held", "orders.latency_p95", "stock.drift")
FORECAST_SIGNALS = {
    "orders.latency_p95": "HUB_SLO_ORDER_TO_ODOO_SECONDS",
    "stock.latency_p95": "HUB_SLO_STOCK_TO_CHANNEL_SECONDS",
    "queue.depth": "HUB_OPS_QUEUE_DEPTH_MAX",
}


def alert_key(finding: anomaly.Finding) -> str:
    return f"{finding.kind}:{finding.signal}@{finding.scope or 'hub'}"


def find_anomalies(now: dt.datetime | None = None) -> list[anomaly.Finding]:
    """Run every detector on the last complete hour of every channel's (and queue's) series."""
    now = now or timezone.now()
    hour = hour_floor(now) - HOUR
    weeks = int(settings.HUB_OPS_BASELINE_WEEKS)
    since = hour - anomaly.WEEK * weeks - HOUR * 8
    codes = list(Channel.objects.exclude(state="paused").values_list("code", flat=True))
    findings: list[anomaly.Finding] = []
    received = series("orders.received", scopes=codes, since=since)
    polled = series("orders.polled", scopes=codes, since=hour)
    for code in codes:
        found = anomaly.detect_silence(
            received.get(code, {}),
            hour,
            scope=code,
            weeks=weeks,
            min_expected=float(settings.HUB_OPS_SILENCE_MIN_EXPECTED),
            polled=polled.get(code, {}).get(hour, 0.0),
        )
        if found:
            findings.append(found)
    for signal in SPIKE_SIGNALS:
        for code, data in series(signal, scopes=codes, since=since).items():
            found = anomaly.detect_spike(
                data,
                hour,
                scope=code,
                signal=signal,
                weeks=weeks,
                sigmas=float(settings.HUB_OPS_SPIKE_SIGMAS),
            )
            if found:
                findings.append(found)
    for signal, setting in FORECAST_SIGNALS.items():
        threshold = float(getattr(settings, setting))
        for scope, data in series(signal, since=hour - HOUR * 8).items():
            found = anomaly.detect_forecast_breach(
                data, hour, scope=scope, signal=signal, threshold=threshold
            )
            if found:
                findings.append(found)
    return findings


def apply_findings(findings: Iterable[anomaly.Finding], kinds: Iterable[str]) -> dict[str, int]:
    """Raise an alert per finding; clear the open alerts of `kinds` not found this time."""
    raised: set[str] = set()
    for f in findings:
        key = alert_key(f)
        raise_alert(
            key=key,
            kind=f.kind,
            scope=f.scope,
            signal=f.signal,
            message=f.message,
            evidence=f.evidence,
        )
        raised.add(key)
    cleared = 0
    for kind in kinds:
        for key in open_keys(kind) - raised:
            cleared += clear_alert(key=key)
    return {"raised": len(raised), "cleared": cleared}


def watch_slos(now: dt.datetime | None = None) -> dict[str, str]:
    states: dict[str, str] = {}
    for status in slo.evaluate_all(now):
        states[status.name] = status.state
        key = f"slo:{status.name}"
        if status.state == "fast_burn":
            w = status.windows
            raise_alert(
                key=key,
                kind=Alert.Kind.SLO_BURN,
                scope="",
                signal=status.name,
                message=(
                    f"SLO {status.name} burning its error budget fast: {w['1h']['burn']}x "
                    f"over 1h, {w['5m']['burn']}x over 5m (objective {status.objective:.2%} "
                    f"within {status.threshold_seconds:g}s)"
                ),
                evidence={
                    "series": w,
                    "baseline": {"objective": status.objective},
                    "threshold": {"fast_burn": float(settings.HUB_SLO_FAST_BURN)},
                },
            )
        else:
            clear_alert(key=key)
    return states


# --- unusual orders ---------------------------------------------------------------------------


def _order_reasons(order: ChannelOrder, sigmas: float) -> tuple[list[str], dict[str, Any]]:
    reasons: list[str] = []
    evidence: dict[str, Any] = {}
    customer = order.customer_email or order.customer_external_id
    previous = ChannelOrder.objects.filter(channel_id=order.channel_id, id__lt=order.pk)
    history: list[Decimal] = []
    if customer:
        field = "customer_email" if order.customer_email else "customer_external_id"
        history = list(
            previous.filter(**{field: customer})
            .order_by("-id")
            .values_list("total", flat=True)[:50]
        )
        found = anomaly.robust_outlier(
            float(order.total), [float(t) for t in history], sigmas=sigmas
        )
        if found:
            reasons.append("total_vs_customer")
            evidence["total_vs_customer"] = found
    for line in OrderLine.objects.filter(order=order).exclude(sku=""):
        qtys = list(
            OrderLine.objects.filter(
                sku=line.sku, order__channel_id=order.channel_id, order_id__lt=order.pk
            )
            .order_by("-id")
            .values_list("quantity", flat=True)[:200]
        )
        found = anomaly.robust_outlier(
            float(line.quantity), [float(q) for q in qtys], sigmas=sigmas
        )
        if found:
            reasons.append("quantity_vs_sku")
            evidence.setdefault("quantity_vs_sku", {})[line.sku] = found
    limit = Decimal(str(settings.HUB_OPS_NEW_B2B_TOTAL))
    is_b2b = order.channel.kind == "b2b_api" or bool(order.po_number)
    if is_b2b and customer and not history and order.total >= limit:
        reasons.append("new_customer_large_b2b")
        evidence["new_customer_large_b2b"] = {"total": str(order.total), "threshold": str(limit)}
    return reasons, evidence


def watch_orders(max_orders: int = 5000) -> int:
    """Look at the orders recorded since the last run (by id) and mark the unusual ones."""
    cursor, created = Cursor.objects.get_or_create(name="orders.unusual")
    if created:
        # First run: start from now, not from the whole history.
        last = ChannelOrder.objects.order_by("-id").values_list("id", flat=True).first() or 0
        Cursor.objects.filter(pk=cursor.pk).update(value=last)
        return 0
    sigmas = float(settings.HUB_OPS_UNUSUAL_SIGMAS)
    marked = 0
    last = cursor.value
    for order in (
        ChannelOrder.objects.filter(pk__gt=cursor.value)
        .select_related("channel")
        .order_by("pk")[:max_orders]
    ):
        last = order.pk
        reasons, evidence = _order_reasons(order, sigmas)
        if not reasons:
            continue
        review, made = OrderReview.objects.get_or_create(
            order=order, defaults={"reasons": reasons, "evidence": evidence}
        )
        if not made:
            continue
        marked += 1
        for reason in reasons:
            UNUSUAL_ORDERS.labels(reason).inc()
        raise_alert(
            key=f"unusual:{order.odoo_ref}",
            kind=Alert.Kind.UNUSUAL_ORDER,
            scope=order.channel.code,
            signal="order",
            message=(
                f"Order {order.number or order.external_id} of {order.channel.code} looks "
                f"unusual ({', '.join(reasons)}): review it"
            ),
            evidence={"series": evidence, "baseline": {}, "threshold": {"sigmas": sigmas}},
            order_number=order.number,
            row=review,
        )
    Cursor.objects.filter(pk=cursor.pk).update(value=last)
    return marked


def review_done(*, review: OrderReview, user: Any) -> None:
    """A person looked at the order: the review and its alert close (audited)."""
    from apps.core.audit import audit_record

    review.reviewed_by = getattr(user, "username", "") or str(user or "")
    review.reviewed_at = timezone.now()
    review.save(update_fields=["reviewed_by", "reviewed_at"])
    audit_record(
        user=user, action="ops.order_reviewed", obj=review, reason=",".join(review.reasons)
    )
    clear_alert(key=f"unusual:{review.order.odoo_ref}", row=review)


def watch(now: dt.datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"slos": watch_slos(now)}
    out["anomalies"] = apply_findings(
        find_anomalies(now), (Alert.Kind.SILENCE, Alert.Kind.SPIKE, Alert.Kind.FORECAST)
    )
    out["unusual_orders"] = watch_orders()
    return out
