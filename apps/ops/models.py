"""Operations: hourly rollups, service-level status, anomaly alerts and orders marked for review.

The dashboard reads these tables only (a few thousand rows for a week), never the order tables,
so it renders in constant time however many orders the hub holds.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone

from apps.orders.models import ChannelOrder


class Rollup(models.Model):
    """One signal for one scope (a channel code, a queue name, or "" for the hub) in one hour.

    Written by the ``ops.rollup`` beat job, which recomputes the current and previous hour each
    run (an idempotent upsert), so a late row is counted on the next run.
    """

    objects: ClassVar[models.Manager[Rollup]] = models.Manager()

    hour = models.DateTimeField()
    scope = models.CharField(max_length=64, blank=True, default="")
    signal = models.CharField(max_length=64)
    value = models.FloatField(default=0.0)
    # How many observations the value stands on (orders for a percentile, samples for a gauge).
    n = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["signal", "scope", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["signal", "scope", "hour"], name="ops_rollup_unique")
        ]
        indexes = [models.Index(fields=["hour"], name="ops_rollup_hour")]

    def __str__(self) -> str:
        return f"{self.signal}@{self.scope or 'hub'} {self.hour:%Y-%m-%d %H}h = {self.value}"


class SloStatus(models.Model):
    """The last evaluation of one service-level objective (apps.ops.slo)."""

    objects: ClassVar[models.Manager[SloStatus]] = models.Manager()

    name = models.CharField(max_length=64, unique=True)
    objective = models.FloatField()
    threshold_seconds = models.FloatField()
    # {"5m": {"good": n, "total": n, "burn": x}, "1h": ..., "6h": ..., "3d": ...}
    windows = models.JSONField(default=dict)
    state = models.CharField(max_length=16, default="ok")  # ok, slow_burn, fast_burn
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name}: {self.state}"


class Alert(models.Model):
    """One anomaly or burn alert. It is the row behind its inbox item: the item resolves itself
    when the alert clears (the signal came back to normal)."""

    class Kind(models.TextChoices):
        SILENCE = "silence", "Channel silent"
        SPIKE = "spike", "Spike"
        FORECAST = "forecast", "Forecast breach"
        SLO_BURN = "slo_burn", "SLO fast burn"
        UNUSUAL_ORDER = "unusual_order", "Unusual order"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    objects: ClassVar[models.Manager[Alert]] = models.Manager()

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    scope = models.CharField(max_length=64, blank=True, default="")
    signal = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    message = models.CharField(max_length=500)
    # The series, the baseline and the threshold that raised it.
    evidence = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        indexes = [models.Index(fields=["state", "kind"], name="ops_alert_state_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.scope}/{self.signal}: {self.message}"


class OrderReview(models.Model):
    """An order the anomaly job found unusual: a person looks at it. The hub never holds it for
    this; the channel's risk-hold rule (apps.orders.holds) may have held it already."""

    objects: ClassVar[models.Manager[OrderReview]] = models.Manager()

    order = models.OneToOneField(ChannelOrder, on_delete=models.CASCADE, related_name="review")
    reasons = models.JSONField(default=list)
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.CharField(max_length=200, blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"review of {self.order_id}: {', '.join(self.reasons)}"


class Cursor(models.Model):
    """A watermark of an incremental scan (the last ledger event or order id looked at)."""

    objects: ClassVar[models.Manager[Cursor]] = models.Manager()

    name = models.CharField(max_length=64, unique=True)
    value = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
