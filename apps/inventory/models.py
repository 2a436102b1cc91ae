"""Stock state per (channel, SKU), the poll watermark, and reconciliation runs.

`SkuStock` is the coalescing point: any number of change signals for one (channel, SKU) set the
same `dirty` flag, and one publication clears it. `published_qty` is the last value the channel
accepted from us, so only changes are sent, and a channel webhook carrying that same value is
recognised as our own echo.
"""

from __future__ import annotations

from django.db import models

from apps.sales_channels.models import Channel


class StockCursor(models.Model):
    """A watermark of the Odoo stock poll ("YYYY-MM-DD HH:MM:SS" of the newest write seen), one
    per Odoo server and database (key "odoo.stock@<digest>", apps.odoo.cursors)."""

    key = models.CharField(max_length=100, unique=True)
    value = models.CharField(max_length=100)
    server = models.CharField(
        max_length=200, blank=True, default="", help_text="The Odoo database and host (db@host)"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class SkuStock(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="sku_stock")
    sku = models.CharField(max_length=255)
    odoo_product_id = models.PositiveIntegerField()
    external_id = models.CharField(max_length=255, help_text="The product binding's external id")
    dirty = models.BooleanField(default=False)
    dirty_since = models.DateTimeField(null=True, blank=True)
    # The last time anything marked the row dirty (also while it already was). A publication
    # clears `dirty` only on rows not marked again since it read them, so a change that lands
    # while a publication runs is never lost.
    marked_at = models.DateTimeField(null=True, blank=True)
    atp = models.IntegerField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    published_qty = models.IntegerField(
        null=True, blank=True, help_text="Last value the channel accepted from the hub"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    low_stock_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="This SKU's low-stock threshold on this channel (else the channel's)",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "sku"]
        verbose_name = "SKU stock"
        verbose_name_plural = "SKU stock"
        constraints = [
            models.UniqueConstraint(fields=["channel", "sku"], name="skustock_unique_channel_sku")
        ]
        indexes = [
            models.Index(fields=["channel", "dirty"]),
            models.Index(fields=["odoo_product_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.sku}{' (dirty)' if self.dirty else ''}"


class ReconciliationRun(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="reconciliations")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    checked = models.PositiveIntegerField(default=0)
    mismatches = models.PositiveIntegerField(default=0)
    repaired = models.PositiveIntegerField(default=0)
    unknown_skus = models.PositiveIntegerField(default=0)
    # [{sku, external_id, channel_qty, atp, action}]
    details = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["channel", "started_at"])]

    def __str__(self) -> str:
        return f"{self.channel_id} reconciliation {self.started_at:%Y-%m-%d %H:%M} [{self.state}]"
