"""Business events out: the outbox, partner endpoints, their messages and every attempt.

- `BusinessEvent` is the outbox: written in the transaction of the change that causes it
  (`publish.event_publish`), never after. Its `id` is the pull API's cursor.
- `WebhookEndpoint` is a partner's receiver: URL, event types, optional channel scope, state.
  `EndpointSecret` holds its signing secrets (encrypted; several valid during a rotation).
- `WebhookMessage` is one event for one endpoint: a work row (state, attempts, due time, lease).
  Its `entity_key` is set only for endpoints that want per-entity order, which the work-row
  claim then enforces (an older unfinished message of the same entity blocks the newer one).
- `DeliveryAttempt` records each HTTP attempt: status, latency, a response excerpt, error class.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.db import models
from django.utils import timezone

from apps.core.crypto import EncryptedTextField
from apps.core.workrow import WorkRow
from apps.sales_channels.models import Channel


def _uid(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def event_uid() -> str:
    return _uid("msg")


def endpoint_uid() -> str:
    return _uid("ep")


class BusinessEvent(models.Model):
    """One business fact, as partners see it. Immutable once written."""

    uid = models.CharField(
        max_length=40,
        unique=True,
        default=event_uid,
        help_text="Sent as webhook-id: the same on every retry and to every endpoint",
    )
    type = models.CharField(max_length=64, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    entity_key = models.CharField(max_length=200, db_index=True)
    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="business_events"
    )
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now, db_index=True)
    payload = models.JSONField()
    # Set when the fan-out created this event's messages; NULL rows are the fan-out's work.
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    # The pull API's cursor: assigned by the (single-flight) fan-out in commit order.
    seq = models.BigIntegerField(null=True, blank=True, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["channel", "seq"], name="event_channel_cursor"),
            models.Index(
                fields=["id"],
                name="event_not_fanned_out",
                condition=models.Q(fanned_out_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.entity_key} ({self.uid})"


class WebhookEndpoint(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused", "paused (messages wait)"
        DISABLED = "disabled", "disabled (no messages)"

    uid = models.CharField(max_length=40, unique=True, default=endpoint_uid)
    url = models.URLField(max_length=1000)
    description = models.CharField(max_length=200, blank=True, default="")
    event_types = models.JSONField(
        default=list, help_text='Event types to receive, e.g. ["order.accepted"]; ["*"] = all'
    )
    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text="Only this channel's events; the owner of a partner's endpoint. Empty = all",
    )
    ordered = models.BooleanField(
        default=False, help_text="Deliver each entity's events one at a time, in order"
    )
    max_in_flight = models.PositiveSmallIntegerField(
        default=4, help_text="Concurrent deliveries to this endpoint (1 when ordered per entity)"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Start of the current run of failures (cleared by any success): auto-disable after 5 days.
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Circuit breaker: no attempt before this time (a 429's Retry-After, or an open breaker).
    blocked_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.uid} → {self.url}"

    def wants(self, event_type: str) -> bool:
        types = self.event_types or []
        return "*" in types or event_type in types


class EndpointSecret(models.Model):
    """A signing secret (`whsec_…`). During a rotation both sign: receivers switch at leisure."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets")
    secret = EncryptedTextField()
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["endpoint", "-valid_from"]

    def __str__(self) -> str:
        return f"secret #{self.pk} of {self.endpoint_id}"

    def is_valid_at(self, when: dt.datetime) -> bool:
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)


class WebhookMessage(WorkRow):
    """One event to one endpoint. States: pending → running → done, or failed when exhausted
    (or when its endpoint is disabled); `ignored` when deleted with its endpoint's backlog."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    event = models.ForeignKey(BusinessEvent, on_delete=models.CASCADE, related_name="messages")
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="message_once_per_endpoint")
        ]
        indexes = [
            models.Index(fields=["endpoint", "state", "next_attempt_at"], name="message_due"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} ({self.event_id} → {self.endpoint_id})"


class DeliveryAttempt(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled"
        MANUAL = "manual", "resend"
        TEST = "test", "test event"

    message = models.ForeignKey(
        WebhookMessage, on_delete=models.CASCADE, related_name="attempts_log"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="attempts_log"
    )
    number = models.PositiveIntegerField()
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULED)
    started_at = models.DateTimeField()
    latency_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    success = models.BooleanField(default=False)
    error_class = models.CharField(max_length=100, blank=True, default="")
    response_excerpt = models.TextField(blank=True, default="", help_text="First 2 KB")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["endpoint", "-id"], name="attempt_endpoint_recent")]

    def __str__(self) -> str:
        return f"attempt {self.number} of message {self.message_id}: {self.status_code}"
