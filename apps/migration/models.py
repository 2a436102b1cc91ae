"""Migration from a legacy connector (docs/migration.md).

- `DiffRun`: one run of the dual-run diff of a channel (its window, counts, RPCs, verdict).
- `ShadowDiff`: the latest comparison of one hub order (what the hub would have sent) with the
  sale order the legacy connector made, or of one legacy order the hub does not know (extra).
- `ShadowDifference`: one classified difference of a comparison (class, field, both values).
- `Cutover`: a cutover or a rollback of a channel, with the listing it printed.
- `Adoption`: an Odoo sale order of the legacy connector bound to a hub order.
"""

from __future__ import annotations

from django.db import models

from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel


class DiffClass(models.TextChoices):
    MISSING = "missing", "Missing in Odoo"
    EXTRA = "extra", "Extra in Odoo"
    PRODUCT = "product", "Product"
    QUANTITY = "quantity", "Quantity"
    PRICE = "price", "Unit price"
    DISCOUNT = "discount", "Discount"
    TAX = "tax", "Tax"
    SHIPPING = "shipping", "Shipping, carrier, warehouse"
    PARTNER = "partner", "Partner"
    TOTAL = "total", "Total"


class DiffRun(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    compared = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    different = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    extra = models.PositiveIntegerField(default=0)
    not_compared = models.PositiveIntegerField(default=0)
    rpcs = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    is_clean = models.BooleanField("clean", null=True)
    # The window's report when the run finished (reports.diff_report).
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "dual-run diff"

    def __str__(self) -> str:
        return f"diff of {self.channel_id} at {self.started_at:%Y-%m-%d %H:%M}"


class ShadowDiff(models.Model):
    class Outcome(models.TextChoices):
        MATCH = "match", "Same"
        DIFFERENT = "different", "Different"
        MISSING = "missing", "Missing in Odoo"
        EXTRA = "extra", "Extra in Odoo"
        NOT_COMPARED = "not_compared", "Not compared"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    # None for an order the legacy connector made that the hub never received (extra).
    order = models.ForeignKey(
        ChannelOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    run = models.ForeignKey(DiffRun, null=True, on_delete=models.SET_NULL, related_name="diffs")
    key = models.CharField(max_length=255, blank=True, default="")
    number = models.CharField(max_length=255, blank=True, default="")
    odoo_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_name = models.CharField(max_length=64, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    classes = models.JSONField(default=list, blank=True)
    detail = models.CharField(max_length=500, blank=True, default="")
    # When the order was made on the channel (for an extra: Odoo's date_order): the window.
    created_at = models.DateTimeField()
    compared_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "shadow diff"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "order"],
                condition=models.Q(order__isnull=False),
                name="shadowdiff_one_per_order",
            ),
            models.UniqueConstraint(
                fields=["channel", "odoo_id"],
                condition=models.Q(order__isnull=True),
                name="shadowdiff_one_per_extra",
            ),
        ]
        indexes = [models.Index(fields=["channel", "created_at"])]

    def __str__(self) -> str:
        return f"{self.number or self.odoo_name or self.key}: {self.outcome}"


class ShadowDifference(models.Model):
    diff = models.ForeignKey(ShadowDiff, on_delete=models.CASCADE, related_name="items")
    klass = models.CharField("class", max_length=16, choices=DiffClass.choices)
    field = models.CharField(max_length=64)
    hub = models.CharField(max_length=500, blank=True, default="")
    odoo = models.CharField(max_length=500, blank=True, default="")
    sku = models.CharField(max_length=255, blank=True, default="")
    detail = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["diff", "id"]
        indexes = [models.Index(fields=["klass"])]

    def __str__(self) -> str:
        return f"{self.klass} {self.field}: hub {self.hub!r}, Odoo {self.odoo!r}"


class Cutover(models.Model):
    class Action(models.TextChoices):
        CUTOVER = "cutover", "Cutover (shadow → active)"
        ROLLBACK = "rollback", "Rollback (active → shadow)"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="cutovers")
    action = models.CharField(max_length=16, choices=Action.choices)
    watermark = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True, default="")
    reason = models.CharField(max_length=1000, blank=True, default="")
    performed_at = models.DateTimeField(auto_now_add=True)
    # {"orders": [...in flight, with owner and action...], "hub_created": [...]} (cutover.py)
    report = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-performed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} of {self.channel_id} at {self.watermark or self.performed_at}"


class Adoption(models.Model):
    """A legacy connector's sale order taken over by the hub (adopt.py): one per hub order."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField(ChannelOrder, on_delete=models.CASCADE, related_name="+")
    odoo_id = models.PositiveIntegerField(unique=True)
    odoo_name = models.CharField(max_length=64, blank=True, default="")
    key = models.CharField(max_length=255, blank=True, default="")
    actor = models.CharField(max_length=200, blank=True, default="")
    adopted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-adopted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.odoo_name or self.odoo_id} → {self.order_id}"
