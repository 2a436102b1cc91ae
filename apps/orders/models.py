"""Channel orders: one row per (channel, external id), a state machine with history.

The row is also the unit of work for the push (the database is the truth, Celery the doorbell):
`state`, `attempts`, `next_attempt_at`, `lease_until`, `lease_token` and `last_error` say what is
due and who holds it. Every state change is a conditional UPDATE (see services.order_transition)
so two workers can never both move the same order.
"""

from __future__ import annotations

from django.db import models

from apps.sales_channels.models import Channel


class OrderState(models.TextChoices):
    RECEIVED = "received", "Received"
    HELD = "held", "Held"
    READY = "ready", "Ready to push"
    PUSHING = "pushing", "Pushing to Odoo"
    IN_ODOO = "in_odoo", "In Odoo"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    CANCEL_REQUESTED = "cancel_requested", "Cancel requested"
    CANCELLED = "cancelled", "Cancelled"
    FAILED = "failed", "Failed"


class HoldReason(models.TextChoices):
    UNKNOWN_SKU = "unknown_sku", "Unknown SKU"
    CREDIT = "credit", "Credit limit"
    RISK = "risk", "Risk review"
    AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"


# Which moves the state machine allows. A move not listed here is refused by order_transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    OrderState.RECEIVED: frozenset({"held", "ready", "cancelled", "failed"}),
    OrderState.HELD: frozenset({"held", "ready", "cancelled", "failed"}),
    OrderState.READY: frozenset({"held", "pushing", "cancelled", "failed"}),
    # pushing -> ready: a transient failure gives the order back with a due time.
    # pushing -> held: the credit check needs Odoo, so it happens in the push batch.
    OrderState.PUSHING: frozenset({"ready", "in_odoo", "failed", "held"}),
    OrderState.IN_ODOO: frozenset({"partially_shipped", "shipped", "cancel_requested"}),
    OrderState.PARTIALLY_SHIPPED: frozenset({"shipped", "cancel_requested"}),
    OrderState.SHIPPED: frozenset(),
    OrderState.CANCEL_REQUESTED: frozenset({"cancelled", "in_odoo", "shipped"}),
    OrderState.CANCELLED: frozenset(),
    OrderState.FAILED: frozenset({"ready", "held", "cancelled"}),
}
PRE_ODOO_STATES = (OrderState.RECEIVED, OrderState.HELD, OrderState.READY, OrderState.FAILED)


class ChannelOrder(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=255)
    number = models.CharField(max_length=255, blank=True, default="")
    po_number = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=32, choices=OrderState.choices, default=OrderState.RECEIVED)
    hold_reason = models.CharField(
        max_length=32, choices=HoldReason.choices, blank=True, default=""
    )
    hold_detail = models.CharField(max_length=500, blank=True, default="")
    financial_status = models.CharField(max_length=32, blank=True, default="")
    source_status = models.CharField(max_length=64, blank=True, default="")
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    customer_email = models.CharField(max_length=254, blank=True, default="")
    customer_external_id = models.CharField(max_length=255, blank=True, default="")
    # The canonical order as JSON (apps.orders.codec): what the push builds Odoo payloads from.
    payload = models.JSONField(default=dict)
    payload_hash = models.CharField(max_length=64, blank=True, default="")
    # The channel's own version of the order (updated_at, else created_at): an older version
    # never overwrites a newer one, whatever order the deliveries arrive in.
    source_version = models.DateTimeField()
    channel_created_at = models.DateTimeField()
    cancel_wanted = models.BooleanField(default=False)
    # An Approver released a credit or risk hold: the push does not hold the order again.
    hold_approved_by = models.CharField(max_length=200, blank=True, default="")

    # Odoo side. odoo_ref is deterministic ("<channel code>:<external id>") and is what
    # sale_orders_ensure searches before creating, so a lost response never duplicates.
    odoo_ref = models.CharField(max_length=320, unique=True)
    odoo_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_name = models.CharField(max_length=64, blank=True, default="")
    odoo_partner_id = models.PositiveIntegerField(null=True, blank=True)
    odoo_amount_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    shadow_payload = models.JSONField(null=True, blank=True)
    # The warehouse plan of a channel that allows splits, fixed before the first Odoo call so a
    # retry never flips between one order and several: [{ref, warehouse_id, qty: {product: n},
    # id, name}]. More than one part: one sale order per warehouse (odoo_id is the first).
    odoo_parts = models.JSONField(null=True, blank=True)

    # Acknowledgement on the channel (apps.orders.acknowledge): "" (not yet), pending, done,
    # failed (an inbox item says why), shadow (recorded, not sent), skipped (nothing to send).
    ack_state = models.CharField(max_length=16, blank=True, default="")
    ack_at = models.DateTimeField(null=True, blank=True)
    # What was (or, for shadow channels, would have been) sent, per call.
    ack_sent = models.JSONField(null=True, blank=True)
    # An edit made on the channel after the push, waiting for orders.push_edit to apply it in
    # Odoo (the canonical JSON, like `payload`, which keeps what the Odoo order was built from).
    edit_payload = models.JSONField(null=True, blank=True)

    # Work-row bookkeeping for the push.
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    correlation_id = models.CharField(max_length=64, blank=True, default="")

    received_at = models.DateTimeField(auto_now_add=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="channelorder_unique_external"
            )
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["channel", "state"]),
            models.Index(fields=["channel", "updated_at"]),
        ]
        permissions = [("release_hold", "Can release a held order (Approver)")]

    def __str__(self) -> str:
        return f"{self.odoo_ref} [{self.state}]"

    @property
    def entity_key(self) -> str:
        return f"order:{self.odoo_ref}"


class OrderLine(models.Model):
    order = models.ForeignKey(ChannelOrder, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    external_line_id = models.CharField(max_length=255, blank=True, default="")
    sku = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=500, blank=True, default="")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=16, decimal_places=6)
    discount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    tax = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    product_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["order", "position"]
        indexes = [models.Index(fields=["sku"])]

    def __str__(self) -> str:
        return f"{self.sku} x{self.quantity}"


class OrderTransition(models.Model):
    order = models.ForeignKey(ChannelOrder, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_state} -> {self.to_state}"


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` of one channel: the request's hash and, once done, its response."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight", "In flight"
        DONE = "done", "Done"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_FLIGHT)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "key"], name="idempotencykey_unique")
        ]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.key} [{self.state}]"
