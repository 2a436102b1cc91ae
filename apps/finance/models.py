"""Finance: invoices, captured payments and payout settlement (docs/finance.md).

- `OrderInvoice`: an Odoo customer invoice the hub made for an order (on confirmation, or one
  per shipment), under a deterministic ref so that a retry finds it instead of making another.
- `ChannelPayment`: money the channel captured for an order (a gateway transaction), unique on
  (channel, transaction id), registered in Odoo against the invoice under the same ref rule.
- `PaymentAccount`: where payouts come from: Shopify Payments through the channel's API, or a
  Stripe account (secret key encrypted at rest) for WooCommerce and BigCommerce stores.
- `Payout` and `PayoutLine`: a payout and its balance transactions, `net` stored exactly as the
  provider gives it; each line matched to hub orders, payments and refunds, or explained.
- `FinanceSync`: a work row for each Odoo write (the invoice of an order or a shipment, a
  payment, the posting of a payout); `result` keeps what was made, so a retry reads first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from apps.core.crypto import EncryptedTextField
from apps.core.workrow import WorkRow
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}
ZERO = Decimal("0.00")


class OrderInvoice(models.Model):
    """An Odoo customer invoice the hub made (or found under its ref) for an order."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(ChannelOrder, on_delete=models.PROTECT, related_name="invoices")
    ref = models.CharField(max_length=320, unique=True, help_text="The Odoo invoice's ref")
    odoo_order_id = models.PositiveIntegerField(help_text="The Odoo sale order it bills")
    shipment_picking_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per-shipment invoicing: the Odoo delivery it bills"
    )
    odoo_id = models.PositiveIntegerField(null=True, blank=True, unique=True)
    odoo_name = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=16, blank=True, default="")
    payment_state = models.CharField(max_length=24, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    amount_total = models.DecimalField(**MONEY, null=True, blank=True)
    amount_residual = models.DecimalField(**MONEY, null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["order", "state"])]

    def __str__(self) -> str:
        return self.odoo_name or self.ref


class ChannelPayment(models.Model):
    """A captured payment (the gateway's transaction), registered in Odoo once."""

    class State(models.TextChoices):
        AWAITING_INVOICE = "awaiting_invoice", "waits for the invoice"
        PENDING = "pending", "to register in Odoo"
        REGISTERED = "registered", "registered in Odoo"
        NOT_REGISTERED = "not_registered", "recorded only (the channel does not register)"
        FAILED = "failed"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="payments")
    order = models.ForeignKey(ChannelOrder, on_delete=models.PROTECT, related_name="payments")
    transaction_id = models.CharField(max_length=255, help_text="The gateway's transaction id")
    gateway = models.CharField(max_length=100, blank=True, default="")
    kind = models.CharField(max_length=16, blank=True, default="sale")
    state = models.CharField(max_length=24, choices=State.choices, default=State.PENDING)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    processed_at = models.DateTimeField()
    odoo_invoice_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_journal_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_payment_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_payment_name = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-processed_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "transaction_id"], name="payment_once")
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["order"])]

    def __str__(self) -> str:
        return f"{self.gateway} {self.transaction_id} {self.amount} {self.currency}"


class PaymentAccount(models.Model):
    class Provider(models.TextChoices):
        SHOPIFY_PAYMENTS = "shopify_payments", "Shopify Payments (the channel's API)"
        STRIPE = "stripe", "Stripe"

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    provider = models.CharField(max_length=32, choices=Provider.choices)
    channel = models.ForeignKey(
        Channel,
        on_delete=models.PROTECT,
        related_name="payment_accounts",
        help_text="The store whose orders this account's payouts settle",
    )
    api_base_url = models.URLField(
        blank=True, default="", help_text="Stripe: https://api.stripe.com (default)"
    )
    secret_key = EncryptedTextField(blank=True, default="", help_text="Stripe sk_… / rk_…")
    odoo_journal_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The Odoo bank journal the payouts arrive on"
    )
    fee_account_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="Odoo account for provider fees (e.g. 620000 Bank Fees)"
    )
    adjustment_account_id = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Odoo account for released differences (adjustments, reserves, chargebacks)",
    )
    enabled = models.BooleanField(default=True)
    cursor = models.CharField(max_length=200, blank=True, default="")
    imported_at = models.DateTimeField(null=True, blank=True)
    import_summary = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Payout(models.Model):
    class State(models.TextChoices):
        IMPORTED = "imported"
        MATCHED = "matched", "matched: every line explained"
        DIFFERENCE = "difference", "difference (inbox)"
        RELEASED = "released", "difference released by an Approver"
        POSTED = "posted", "posted in Odoo"
        FAILED = "failed"

    account = models.ForeignKey(PaymentAccount, on_delete=models.PROTECT, related_name="payouts")
    external_id = models.CharField(max_length=255)
    status = models.CharField(max_length=32, blank=True, default="", help_text="The provider's")
    date = models.DateField()
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="Net paid to the bank, as the provider says")
    summary = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IMPORTED)
    gross = models.DecimalField(**MONEY, default=ZERO)
    refunds = models.DecimalField(**MONEY, default=ZERO)
    fees = models.DecimalField(**MONEY, default=ZERO)
    adjustments = models.DecimalField(**MONEY, default=ZERO)
    line_count = models.PositiveIntegerField(default=0)
    matched_count = models.PositiveIntegerField(default=0)
    difference = models.DecimalField(
        **MONEY, default=ZERO, help_text="Net minus gross, refunds, fees and adjustments"
    )
    released_by = models.CharField(max_length=200, blank=True, default="")
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=500, blank=True, default="")
    odoo_statement_line_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_entry_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_entry_name = models.CharField(max_length=64, blank=True, default="")
    posted_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "external_id"], name="payout_once")
        ]
        indexes = [models.Index(fields=["state", "date"])]
        permissions = [("release_payout", "Can release a payout with a difference")]

    def __str__(self) -> str:
        return f"payout {self.external_id} {self.amount} {self.currency}"

    @property
    def matched_pct(self) -> Decimal:
        if not self.line_count:
            return Decimal("100.0")
        return (Decimal(100) * self.matched_count / self.line_count).quantize(Decimal("0.1"))


class PayoutLine(models.Model):
    """One balance transaction of a payout."""

    class Match(models.TextChoices):
        PENDING = "pending"
        MATCHED = "matched"
        UNEXPLAINED = "unexplained"
        IGNORED = "ignored", "ignored (the payout's own transfer row)"

    payout = models.ForeignKey(Payout, on_delete=models.CASCADE, related_name="lines")
    external_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100, help_text="The provider's type, kept as given")
    category = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    fee = models.DecimalField(**MONEY, default=ZERO)
    net = models.DecimalField(**MONEY)
    processed_at = models.DateTimeField(null=True, blank=True)
    source_order_id = models.CharField(max_length=255, blank=True, default="")
    source_order_number = models.CharField(max_length=255, blank=True, default="")
    source_transaction_id = models.CharField(max_length=255, blank=True, default="")
    order = models.ForeignKey(
        ChannelOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    payment = models.ForeignKey(
        ChannelPayment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    refund = models.ForeignKey(
        "returns.ChannelRefund",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    match = models.CharField(max_length=16, choices=Match.choices, default=Match.PENDING)
    reason = models.CharField(max_length=500, blank=True, default="")
    suggestions = models.JSONField(default=list, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["payout", "id"]
        constraints = [
            models.UniqueConstraint(fields=["payout", "external_id"], name="payout_line_once")
        ]
        indexes = [models.Index(fields=["payout", "match"])]

    def __str__(self) -> str:
        return f"{self.type} {self.external_id} {self.net} {self.currency}"


class FinanceSync(WorkRow):
    class Action(models.TextChoices):
        CAPTURE = "capture", "read the order's captured payments from the channel"
        INVOICE = "invoice", "make and post the Odoo invoice"
        PAYMENT = "payment", "register the payment in Odoo"
        POST_PAYOUT = "post_payout", "post the payout in Odoo"

    action = models.CharField(max_length=16, choices=Action.choices)
    order = models.ForeignKey(
        ChannelOrder, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    invoice = models.ForeignKey(
        OrderInvoice, on_delete=models.CASCADE, null=True, blank=True, related_name="syncs"
    )
    payment = models.ForeignKey(
        ChannelPayment, on_delete=models.CASCADE, null=True, blank=True, related_name="syncs"
    )
    payout = models.ForeignKey(
        Payout, on_delete=models.CASCADE, null=True, blank=True, related_name="syncs"
    )
    request = models.JSONField(default=dict, blank=True, help_text="capture: the order as sent")
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["action", "state", "next_attempt_at"], name="finsync_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"], condition=models.Q(action="invoice"), name="finsync_invoice"
            ),
            models.UniqueConstraint(
                fields=["payment"], condition=models.Q(action="payment"), name="finsync_payment"
            ),
            models.UniqueConstraint(
                fields=["payout"], condition=models.Q(action="post_payout"), name="finsync_payout"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.state})"
