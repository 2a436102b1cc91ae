"""Kernel models: the audit of periodic job runs."""

from __future__ import annotations

from django.db import models


class JobRun(models.Model):
    """One run of a periodic job. Also how readiness knows beat and the workers are alive."""

    class Status(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        FAILED = "failed"

    name = models.CharField(max_length=200, db_index=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    detail = models.TextField(blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["name", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.name} @ {self.started_at:%Y-%m-%d %H:%M:%S} ({self.status})"


from django.conf import settings  # noqa: E402  (appended with AuditEntry)


class AuditEntry(models.Model):
    """Who changed what, when, from what to what, and why (admin actions and inbox operations)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    when = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    content_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.SET_NULL
    )
    object_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    object_repr = models.CharField(max_length=200, blank=True, default="")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-when"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return (
            f"{self.when:%Y-%m-%d %H:%M:%S} {self.user_id or '-'} {self.action} {self.object_repr}"
        )
