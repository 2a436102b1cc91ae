"""Shipments: Odoo is the system of record; the channels follow it.

- `Shipment`: one done outgoing Odoo picking of a hub order (unique on the picking id): its
  lines, carrier, tracking numbers and URL, date. A backorder is another picking, so another
  shipment; a later change of the tracking reference on a done picking updates the row and
  queues a tracking update to the channel.
- `ShipmentLine`: SKU and the quantity shipped in this picking (from the moves' `quantity`).
- `ShipmentSync`: the work of telling the channel (a work row): `create` the fulfillment, or
  `tracking` after a change, or `event` for a carrier report. Its `result` keeps what the
  channel answered (its fulfillment / shipment id), so a retry reads before it writes.
- `ShipmentReport`: a carrier's or 3PL's status report (`in_transit`, `out_for_delivery`,
  `delivered`, `failure`) posted to `/api/v1/shipments/{id}/events/`.
- `ShipmentCursor`: the poll's `write_date` cursor in Odoo (one row per Odoo database).
- `PickingHint`: an Odoo "picking done" hint (`POST /webhooks/odoo/<token>/pickings/`), recorded
  before it is answered and read by a task (a work row, re-rung by the ledger's sweeper).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.core.workrow import WorkRow
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel


class Shipment(models.Model):
    order = models.ForeignKey(ChannelOrder, on_delete=models.PROTECT, related_name="shipments")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="shipments")
    odoo_picking_id = models.PositiveIntegerField(unique=True)
    odoo_picking_name = models.CharField(max_length=64)
    odoo_write_date = models.CharField(
        max_length=32, blank=True, default="", help_text="The picking's write_date last seen"
    )
    backorder_of = models.PositiveIntegerField(
        null=True, blank=True, help_text="The Odoo picking this one is the backorder of"
    )
    dropship = models.BooleanField(default=False)
    odoo_carrier = models.CharField(max_length=200, blank=True, default="")
    carrier = models.CharField(
        max_length=200, blank=True, default="", help_text="The carrier as the channel names it"
    )
    tracking_numbers = models.JSONField(default=list, blank=True)
    tracking_url = models.CharField(max_length=1000, blank=True, default="")
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=32,
        blank=True,
        default="dispatched",
        help_text="dispatched, in_transit, out_for_delivery, delivered or failure",
    )
    # The channel's side, kept here because finished sync rows are purged after the retention
    # period (the ledger's purge) while a tracking change or a carrier report may come later.
    channel_result = models.JSONField(
        default=dict, blank=True, help_text="The channel's record of it (fulfillment ids...)"
    )
    channel_sent = models.JSONField(
        default=dict, blank=True, help_text="What the channel was last told (lines, tracking)"
    )
    channel_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "shipped_at", "id"]

    def __str__(self) -> str:
        return f"{self.odoo_picking_name} ({self.order_id})"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    odoo_product_id = models.PositiveIntegerField(null=True, blank=True)
    # The channel's line this quantity belongs to (external line id), when known.
    external_line_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["shipment", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class ShipmentSync(WorkRow):
    class Action(models.TextChoices):
        CREATE = "create", "create the fulfillment"
        TRACKING = "tracking", "update the tracking"
        EVENT = "event", "report a carrier event"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="syncs")
    action = models.CharField(max_length=16, choices=Action.choices)
    # What the action sends (e.g. the tracking numbers of this update, the event's status).
    request = models.JSONField(default=dict, blank=True)
    # What the channel answered: its fulfillment / shipment id, or what shadow mode recorded.
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="shipsync_due")]
        constraints = [
            # A shipment is created on the channel by one row, whatever re-reads happen.
            models.UniqueConstraint(
                fields=["shipment"],
                condition=models.Q(action="create"),
                name="shipsync_one_create",
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.shipment_id} ({self.state})"


class ShipmentReport(models.Model):
    class Status(models.TextChoices):
        IN_TRANSIT = "in_transit"
        OUT_FOR_DELIVERY = "out_for_delivery"
        DELIVERED = "delivered"
        FAILURE = "failure"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="reports")
    status = models.CharField(max_length=32, choices=Status.choices)
    happened_at = models.DateTimeField()
    message = models.CharField(max_length=500, blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    reported_by = models.CharField(max_length=200, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipment", "happened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="shipment_report_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.status} @ {self.happened_at:%Y-%m-%d %H:%M}"


class ShipmentCursor(models.Model):
    """A picking poll's cursor ("<write_date second>|<id>") in ONE Odoo server and database:
    keys "odoo.pickings@<digest>" and "odoo.return_receipts@<digest>" (apps.odoo.cursors)."""

    key = models.CharField(max_length=200, unique=True)
    value = models.CharField(max_length=100, blank=True, default="")
    server = models.CharField(
        max_length=200, blank=True, default="", help_text="The Odoo database and host (db@host)"
    )
    polled_at = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class PickingHint(WorkRow):
    """Picking ids named by one Odoo webhook post; the task reads them from Odoo (the body is a
    hint, never the truth) and records what is done."""

    picking_ids = models.JSONField(default=list)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="pickhint_due")]

    def __str__(self) -> str:
        return f"hint {self.picking_ids} ({self.state})"
