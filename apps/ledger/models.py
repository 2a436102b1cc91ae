"""The work ledger: inbound events recorded before anything acts on them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.core.workrow import WorkRow


class InboundEvent(WorkRow):
    """One delivery from a channel (webhook or API post), stored in the transaction that acks it.

    (channel_code, dedupe_key) is unique: a redelivery of the same event finds the original row
    instead of creating a second unit of work.
    """

    channel_code = models.CharField(max_length=64)
    topic = models.CharField(max_length=128, db_index=True)
    dedupe_key = models.CharField(max_length=255)
    body = models.BinaryField()
    headers = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    payload_hash = models.CharField(max_length=64)
    external_ref = models.CharField(max_length=255, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_code", "dedupe_key"], name="ledger_event_channel_dedupe"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="ledger_event_due"),
            models.Index(fields=["channel_code", "topic", "received_at"], name="ledger_event_ct"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_code}:{self.topic} #{self.pk} ({self.state})"

    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")
