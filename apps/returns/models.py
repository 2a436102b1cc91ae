"""Returns and refunds (docs/returns.md has the ownership rules).

- The channel owns the customer's money in webshop orders: a channel refund is a fact Odoo
  records (a credit note linked to the invoice). Odoo owns stock: goods coming back become an
  Odoo return picking, received when the warehouse validates it. B2B: Odoo owns both.
- `ChannelReturn`: goods expected back (a Shopify return, a refund with restock, a B2B request,
  or a return receipt found in Odoo), unique on (channel, external id), with `ReturnLine`s.
- `ChannelRefund`: money the channel refunded (or the hub refunded through it), unique on
  (channel, external id), with `RefundLine`s, amounts as Decimals to the cent.
- `RefundRequest`: money the hub asks the channel to refund after Odoo received a return
  (`refund_on_receipt`): an approval gate above `HUB_REFUND_APPROVAL_ABOVE`, and a stable
  idempotency key so that no retry ever pays twice.
- `ReturnSync`: a work row for each call that changes something (Odoo return picking, Odoo
  credit note, reducing open order lines, the channel refund); `result` keeps what was made so
  a retry reads before it writes.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone

from apps.core.workrow import WorkRow
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

MONEY: dict[str, Any] = {"max_digits": 14, "decimal_places": 2}


class ChannelReturn(models.Model):
    class Source(models.TextChoices):
        CHANNEL_RETURN = "channel_return", "channel return (Shopify returns)"
        REFUND_RESTOCK = "refund_restock", "channel refund with restock"
        B2B = "b2b", "B2B portal request"
        ODOO = "odoo", "return received in Odoo"

    class State(models.TextChoices):
        REQUESTED = "requested"
        APPROVED = "approved"
        DECLINED = "declined"
        EXPECTED = "expected", "expected in Odoo (return picking ready)"
        RECEIVED = "received"
        REFUNDED = "refunded"
        CREDITED = "credited"
        CANCELLED = "cancelled"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="returns")
    order = models.ForeignKey(ChannelOrder, on_delete=models.PROTECT, related_name="returns")
    external_id = models.CharField(max_length=255, help_text="The channel's return id, or ours")
    name = models.CharField(max_length=255, blank=True, default="")
    source = models.CharField(max_length=32, choices=Source.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    reason = models.CharField(max_length=500, blank=True, default="")
    odoo_delivery_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_return_picking_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    odoo_return_picking_name = models.CharField(max_length=64, blank=True, default="")
    odoo_credit_note_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_credit_note_name = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="return_once")
        ]

    def __str__(self) -> str:
        return f"return {self.name or self.external_id} of {self.order_id}"


class ReturnLine(models.Model):
    ret = models.ForeignKey(ChannelReturn, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=255, blank=True, default="")
    external_line_id = models.CharField(max_length=255, blank=True, default="")
    odoo_product_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["ret", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class ChannelRefund(models.Model):
    class State(models.TextChoices):
        RECORDED = "recorded"
        AWAITING_INVOICE = "awaiting_invoice", "waits for the invoice"
        CREDITED = "credited", "credit note posted"
        MISMATCH = "mismatch", "credit note differs (inbox)"
        FAILED = "failed"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(ChannelOrder, on_delete=models.PROTECT, related_name="refunds")
    external_id = models.CharField(max_length=255, help_text="The channel's refund id")
    ret = models.ForeignKey(
        ChannelReturn, on_delete=models.SET_NULL, null=True, blank=True, related_name="refunds"
    )
    state = models.CharField(max_length=24, choices=State.choices, default=State.RECORDED)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="What the customer got back, tax included")
    shipping_amount = models.DecimalField(**MONEY, default=0)
    tax_amount = models.DecimalField(**MONEY, default=0)
    reason = models.CharField(max_length=500, blank=True, default="")
    refunded_at = models.DateTimeField()
    by_hub = models.BooleanField(default=False, help_text="The hub asked the channel for it")
    odoo_credit_note_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_credit_note_name = models.CharField(max_length=64, blank=True, default="")
    odoo_credit_note_total = models.DecimalField(**MONEY, null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="refund_once")
        ]

    def __str__(self) -> str:
        return f"refund {self.external_id} {self.amount} {self.currency}"


class RefundLine(models.Model):
    class Restock(models.TextChoices):
        RETURN = "return", "goods come back"
        CANCEL = "cancel", "refunded before shipping"
        NO_RESTOCK = "no_restock"

    refund = models.ForeignKey(ChannelRefund, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(**MONEY, help_text="Refunded for this line, tax excluded")
    tax = models.DecimalField(**MONEY, default=0)
    restock = models.CharField(max_length=16, choices=Restock.choices, default=Restock.NO_RESTOCK)
    external_line_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["refund", "id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}: {self.amount}"


class RefundRequest(models.Model):
    """The hub asking the channel to pay back a return Odoo received (refund_on_receipt)."""

    class State(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "waits for an Approver"
        APPROVED = "approved"
        REJECTED = "rejected"
        SENT = "sent", "refunded on the channel"
        FAILED = "failed"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="refund_requests")
    order = models.ForeignKey(
        ChannelOrder, on_delete=models.PROTECT, related_name="refund_requests"
    )
    ret = models.OneToOneField(
        ChannelReturn, on_delete=models.PROTECT, related_name="refund_request"
    )
    state = models.CharField(max_length=24, choices=State.choices)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    lines = models.JSONField(
        default=list, help_text="[{sku, quantity, amount, tax, external_line_id}]"
    )
    # Sent with every money call (Shopify @idempotent, WooCommerce meta_data, a BigCommerce
    # reason): the same request always carries the same key.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    decided_by = models.CharField(max_length=200, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=500, blank=True, default="")
    channel_refund_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_refund", "Can approve or reject a refund request")]

    def __str__(self) -> str:
        return f"refund request {self.amount} {self.currency} ({self.state})"


class ReturnSync(WorkRow):
    class Action(models.TextChoices):
        ODOO_RETURN = "odoo_return", "make the Odoo return picking"
        ODOO_CREDIT = "odoo_credit", "make and post the credit note"
        ODOO_REDUCE = "odoo_reduce", "reduce or cancel open order lines"
        CHANNEL_REFUND = "channel_refund", "refund on the channel"

    action = models.CharField(max_length=24, choices=Action.choices)
    ret = models.ForeignKey(
        ChannelReturn, on_delete=models.CASCADE, null=True, blank=True, related_name="syncs"
    )
    refund = models.ForeignKey(
        ChannelRefund, on_delete=models.CASCADE, null=True, blank=True, related_name="syncs"
    )
    request_row = models.ForeignKey(
        RefundRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="syncs"
    )
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="retsync_due")]

    def __str__(self) -> str:
        return f"{self.action} ({self.state})"
