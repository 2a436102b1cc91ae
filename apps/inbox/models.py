"""The exception inbox: one Issue per cause (fingerprint), with every row it affects."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class Category(models.TextChoices):
    MAPPING_MISSING = "mapping_missing"
    VALIDATION = "validation"
    ODOO_UNAVAILABLE = "odoo_unavailable"
    CHANNEL_AUTH = "channel_auth"
    RATE_LIMITED = "rate_limited"
    DATA_CONFLICT = "data_conflict"
    ANOMALY = "anomaly"
    UNKNOWN = "unknown"


class Severity(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Status(models.TextChoices):
    OPEN = "open"
    SNOOZED = "snoozed"
    IGNORED = "ignored"
    RESOLVED = "resolved"


class Issue(models.Model):
    """Upserted by fingerprint = hash(error class, normalised reason, key)."""

    objects: ClassVar[models.Manager[Issue]] = models.Manager()
    rows: models.Manager[IssueRow]

    fingerprint = models.CharField(max_length=64, unique=True)
    key = models.CharField(max_length=255, blank=True, default="")
    title = models.CharField(max_length=300)
    error_class = models.CharField(max_length=200, blank=True, default="")
    category = models.CharField(
        max_length=32, choices=Category.choices, default=Category.UNKNOWN, db_index=True
    )
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbox_issues",
    )
    occurrences = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now, db_index=True)
    last_seen = models.DateTimeField(default=timezone.now)
    channel_code = models.CharField(max_length=64, blank=True, default="", db_index=True)
    order_number = models.CharField(max_length=128, blank=True, default="", db_index=True)
    sku = models.CharField(max_length=128, blank=True, default="", db_index=True)
    customer = models.CharField(max_length=255, blank=True, default="", db_index=True)
    last_error = models.JSONField(default=dict, blank=True)
    replay_task = models.CharField(max_length=200, blank=True, default="")
    replay_kwargs = models.JSONField(default=dict, blank=True)
    suggested_action = models.CharField(max_length=500, blank=True, default="")
    resolution_note = models.TextField(blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        permissions = [("edit_payload", "Can edit a recorded payload and retry it")]
        indexes = [models.Index(fields=["status", "category"], name="inbox_issue_status_cat")]

    def __str__(self) -> str:
        return f"[{self.category}] {self.title}"


class IssueRow(models.Model):
    """One affected unit of work (an InboundEvent, an order...) and how to replay it."""

    objects: ClassVar[models.Manager[IssueRow]] = models.Manager()
    issue_id: int

    issue = models.ForeignKey(Issue, on_delete=models.CASCADE, related_name="rows")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    row = GenericForeignKey("content_type", "object_id")
    label = models.CharField(max_length=255, blank=True, default="")
    replay_task = models.CharField(max_length=200, blank=True, default="")
    replay_kwargs = models.JSONField(default=dict, blank=True)
    succeeded = models.BooleanField(default=False)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    last_error = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["issue", "content_type", "object_id"], name="inbox_issuerow_unique"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="inbox_row_target")]

    def __str__(self) -> str:
        return self.label or f"{self.content_type.model} #{self.object_id}"
