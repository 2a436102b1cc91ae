"""Raising and clearing alerts: one Alert row, one inbox item (category ``anomaly``) with the
evidence, a metric and an outbound ``ops.alert`` event. An alert whose signal is back to normal
clears, and its inbox item resolves itself (the Alert is the item's affected row)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import HubError
from apps.events.publish import event_publish
from apps.inbox.services import issue_report, issue_row_succeeded
from apps.sales_channels.models import Channel

from . import metrics
from .models import Alert

logger = logging.getLogger(__name__)


class AnomalyDetected(HubError):
    category = "anomaly"


def _publish(alert: Alert, status: str) -> None:
    channel = Channel.objects.filter(code=alert.scope).first() if alert.scope else None
    event_publish(
        type="ops.alert",
        entity_key=f"alert:{alert.key}"[:200],
        channel=channel,
        payload={
            "key": alert.key,
            "kind": alert.kind,
            "status": status,
            "scope": alert.scope,
            "signal": alert.signal,
            "message": alert.message,
            "evidence": alert.evidence,
            "opened_at": alert.opened_at.isoformat(),
        },
    )


def raise_alert(
    *,
    key: str,
    kind: str,
    scope: str,
    signal: str,
    message: str,
    evidence: dict[str, Any],
    order_number: str = "",
    row: Any = None,
) -> Alert:
    """Open (or refresh) the alert `key` and its inbox item."""
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key).first()
        opened = alert is None or alert.state != Alert.State.OPEN
        if alert is None:
            alert = Alert(key=key, opened_at=now)
        elif opened:
            alert.opened_at = now
            alert.resolved_at = None
        alert.kind, alert.scope, alert.signal = kind, scope, signal
        alert.state, alert.message, alert.evidence, alert.last_seen = (
            Alert.State.OPEN,
            message[:500],
            evidence,
            now,
        )
        alert.save()
        if opened:
            error = AnomalyDetected(message, kind=kind, signal=signal, scope=scope, **evidence)
            issue_report(
                error=error,
                key=f"anomaly:{key}"[:255],
                row=row if row is not None else alert,
                channel_code=scope if Channel.objects.filter(code=scope).exists() else "",
                order_number=order_number,
            )
            _publish(alert, "opened")
            metrics.ALERTS.labels(kind, "opened").inc()
            logger.warning("ops alert %s: %s", key, message)
    _gauge()
    return alert


def clear_alert(*, key: str, row: Any = None) -> bool:
    """The signal is back to normal: resolve the alert and its inbox item."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(key=key, state=Alert.State.OPEN).first()
        if alert is None:
            return False
        alert.state = Alert.State.RESOLVED
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["state", "resolved_at"])
        issue_row_succeeded(row=row if row is not None else alert)
        _publish(alert, "resolved")
        metrics.ALERTS.labels(alert.kind, "resolved").inc()
    _gauge()
    return True


def open_keys(kind: str) -> set[str]:
    return set(
        Alert.objects.filter(kind=kind, state=Alert.State.OPEN).values_list("key", flat=True)
    )


def _gauge() -> None:
    counts = dict.fromkeys(Alert.Kind.values, 0)
    for kind in Alert.objects.filter(state=Alert.State.OPEN).values_list("kind", flat=True):
        counts[kind] += 1
    for kind, n in counts.items():
        metrics.ALERTS_OPEN.labels(kind).set(n)
