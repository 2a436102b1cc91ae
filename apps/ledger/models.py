"""The work ledger: inbound events recorded before anything acts on them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.core.workrow import WorkRow, WorkState


class InboundEvent(WorkRow):
    """One delivery from a channel (webhook or API post), stored in the transaction that acks it.

    (channel_code, dedupe_key) is unique: a redelivery of the same event finds the original row
    instead of creating a second unit of work.
    """

    # Every webhook and API post inserts one row here, so each index is paid on the hottest path.
    # Only what the machinery needs is indexed: the dedupe key (unique), due rows, and per-entity
    # order. The inherited single-column indexes and their varchar_pattern_ops twins are dropped;
    # the admin lists newest first by id (monotonic, so the same order as received_at) and
    # filters by channel through the unique index's leading column. Replays by time range scan
    # the channel's rows, which is fine for an operator's one-off command.
    state = models.CharField(max_length=16, choices=WorkState.choices, default=WorkState.PENDING)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    entity_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    channel_code = models.CharField(max_length=64)
    topic = models.CharField(max_length=128)
    dedupe_key = models.CharField(max_length=255)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    payload_hash = models.CharField(max_length=64)
    external_ref = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_code", "dedupe_key"], name="ledger_event_channel_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="ledger_event_due"),
            models.Index(fields=["entity_key", "state"], name="ledger_event_entity"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_code}:{self.topic} #{self.pk} ({self.state})"

    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")
