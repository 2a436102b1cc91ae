"""Channel configuration, webhook secrets, served warehouses and machine identities (API tokens)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apps.core.crypto import EncryptedTextField


def _default_import_states() -> list[str]:
    return ["paid", "authorized"]


def validate_magento_sources(value: object) -> None:
    """{"<Odoo warehouse id>": "<MSI source code>", ...}: non-empty strings both sides."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
    ):
        raise ValidationError(
            'MSI sources: a JSON object of Odoo warehouse id to MSI source code, e.g. {"1": '
            '"default"}'
        )


class Channel(models.Model):
    class Kind(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        WOOCOMMERCE = "woocommerce", "WooCommerce"
        BIGCOMMERCE = "bigcommerce", "BigCommerce"
        MAGENTO = "magento", "Adobe Commerce / Magento 2"
        B2B_API = "b2b_api", "B2B portal (hub API)"
        STANDARD_WEBHOOKS = "standard_webhooks", "Any Standard Webhooks sender"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused (webhooks answered 503, senders retry)"
        SHADOW = "shadow", "Shadow (recorded, not pushed)"

    class Invoicing(models.TextChoices):
        ON_CONFIRM = "on_confirm", "When the order is confirmed in Odoo (prepaid web orders)"
        ON_DELIVERY = "on_delivery", "Per shipment, for what shipped (B2B terms)"
        NONE = "none", "Never (Odoo's own automation invoices)"

    code = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    api_base_url = models.URLField(
        blank=True,
        default="",
        help_text="Shopify: https://<shop>.myshopify.com; WooCommerce: the site URL; "
        "BigCommerce: https://api.bigcommerce.com/stores/<hash>; "
        "Magento: the store's base URL (the hub calls <base>/rest/<store code>/V1/...)",
    )
    # Credentials for calling the channel's API. Encrypted at rest; never rendered by the admin.
    access_token = EncryptedTextField(
        blank=True,
        default="",
        help_text="Shopify X-Shopify-Access-Token / BigCommerce X-Auth-Token / "
        "Magento integration access token",
    )
    consumer_key = EncryptedTextField(
        blank=True, default="", help_text="WooCommerce ck_… / Magento integration consumer key"
    )
    consumer_secret = EncryptedTextField(
        blank=True, default="", help_text="WooCommerce cs_… / Magento integration consumer secret"
    )
    access_token_secret = EncryptedTextField(
        blank=True,
        default="",
        help_text="Magento integration access token secret (OAuth 1.0a signing only)",
    )

    # Adobe Commerce / Magento 2 (apps/sales_channels/magento.py, docs/channels.md).
    class MagentoAuth(models.TextChoices):
        BEARER = "bearer", "Integration access token as a bearer token"
        OAUTH1 = "oauth1", "OAuth 1.0a request signing (consumer + access token and secrets)"

    magento_store_code = models.CharField(
        max_length=64,
        default="default",
        validators=[RegexValidator(r"^[A-Za-z0-9_]+$", "a Magento store code: letters, digits, _")],
        help_text="Magento store view code in the REST path <base>/rest/<store code>/V1/...",
    )
    magento_auth = models.CharField(
        max_length=8,
        choices=MagentoAuth.choices,
        default=MagentoAuth.BEARER,
        help_text="Bearer needs oauth/consumer/enable_integration_as_bearer=1 on Magento 2.4.4+; "
        "otherwise sign with OAuth 1.0a",
    )
    magento_client_id = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="Adobe I/O Events: the project's client id, checked against each event's "
        "recipient_client_id",
    )
    magento_io_events = models.BooleanField(
        default=False,
        help_text="Adobe Commerce sends Adobe I/O Events to the hub (off: Magento Open Source, "
        "the order poll is the only intake)",
    )
    magento_sources = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_magento_sources],
        help_text=(
            'MSI source code per Odoo warehouse id, e.g. {"1": "default", "2": "eu"}; with '
            "one source the key is free; empty = MSI off (legacy stock items)"
        ),
    )

    pricelist_id = models.PositiveIntegerField(null=True, blank=True)
    stock_buffer = models.PositiveIntegerField(
        default=0, help_text="Units held back from every SKU's published stock"
    )
    low_stock_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Publish stock.threshold_breached when a SKU's available-to-promise falls to "
        "this or below (a SKU's own threshold wins); empty = no alerts",
    )
    allocation_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Share (0..1) of the free stock this channel may sell",
    )
    # Order import rules.
    import_financial_states = models.JSONField(
        default=_default_import_states,
        blank=True,
        help_text='Financial states that import an order, e.g. ["paid", "authorized"]',
    )
    risk_hold_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Hold orders whose total is at or above this amount",
    )
    new_customer_hold_amount = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Hold a new customer's order whose total is at or above this amount",
    )
    # Per-flow switches and cadence (0 seconds = realtime, driven by webhooks and hints).
    orders_enabled = models.BooleanField(default=True)
    orders_interval_seconds = models.PositiveIntegerField(default=0)
    inventory_enabled = models.BooleanField(default=True)
    inventory_interval_seconds = models.PositiveIntegerField(default=300)
    fulfillment_enabled = models.BooleanField(default=True)
    fulfillment_interval_seconds = models.PositiveIntegerField(default=0)
    notify_customer_on_shipment = models.BooleanField(
        default=True,
        help_text="Let the channel e-mail the customer when the hub reports a shipment "
        "(Shopify notifyCustomer; WooCommerce and BigCommerce follow their own store settings)",
    )
    # Returns and refunds (docs/returns.md).
    refund_on_receipt = models.BooleanField(
        default=False,
        help_text="When Odoo receives a return, refund the customer on the channel "
        "(above HUB_REFUND_APPROVAL_ABOVE an Approver decides first)",
    )
    post_credit_notes = models.BooleanField(
        default=True,
        help_text="Post the Odoo credit notes the hub makes for this channel's refunds "
        "(off: they stay draft for accounting to post)",
    )
    refunds_return_goods = models.BooleanField(
        default=False,
        help_text="WooCommerce and BigCommerce refunds do not say whether goods come back: on, "
        "the refunded quantities already shipped are expected back in Odoo (a return picking) "
        "and those not shipped yet are taken off the open order; off, only the money is credited",
    )
    refund_api_refund = models.BooleanField(
        default=True,
        help_text="WooCommerce api_refund: the payment gateway pays the refund "
        "(off: WooCommerce only records it)",
    )
    # Finance (docs/finance.md).
    invoicing = models.CharField(
        max_length=16,
        choices=Invoicing.choices,
        default=Invoicing.NONE,
        help_text="When the hub makes and posts the Odoo customer invoice of this channel's orders",
    )
    register_payments = models.BooleanField(
        default=True,
        help_text="Register the channel's captured payments in Odoo against the invoice "
        "(journal from the payment-method value map); off for B2B, where Odoo owns payment",
    )
    # Migration from a legacy connector (docs/migration.md): how its sale orders are found, when
    # a dual run is clean, and the cutover watermark (moved only by `manage.py channel cutover`).
    legacy_match_field = models.CharField(
        max_length=64,
        default="client_order_ref",
        help_text="The sale.order field where the legacy connector wrote the channel's order: "
        "client_order_ref, origin, or a custom field (x_...)",
    )
    legacy_match_pattern = models.CharField(
        max_length=200,
        default="{number}",
        help_text="What that field holds, with {number}, {external_id} or {po_number}, "
        'e.g. "{number}" or "SHOPIFY-{external_id}"',
    )
    legacy_match_domain = models.JSONField(
        default=list,
        blank=True,
        help_text='Extra Odoo domain that picks this channel\'s legacy orders, e.g. [["team_id", '
        '"=", 5]] (blank: the pattern alone)',
    )
    dual_run_threshold_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="A dual run is clean when every difference class is on fewer than this "
        "percentage of the compared orders",
    )
    cutover_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Cutover watermark: orders created on the channel from then on are the hub's; "
        "older ones stay with the legacy connector (set by manage.py channel cutover)",
    )
    # Catalog publication (docs/catalog.md): Odoo's products to the channel, per channel opt-in.
    products_enabled = models.BooleanField(
        default=False,
        help_text="Publish name, sales description, SKU, barcode, weight, list price, variants "
        "and images of the bound products from Odoo",
    )
    products_create_missing = models.BooleanField(
        default=False,
        help_text="Also create on the channel the Odoo products it does not have yet",
    )
    # Customers (apps/customers, docs/customers.md).
    customers_enabled = models.BooleanField(
        default=True,
        help_text="Consumer accounts created or changed on the channel update the bound Odoo "
        "partner's contact data",
    )

    class PrivacyOdooAction(models.TextChoices):
        INBOX = "inbox", "Open an inbox item (a person anonymises the partner in Odoo)"
        ANONYMISE = "anonymise", "Anonymise the partner in Odoo through the gateway"

    privacy_odoo_action = models.CharField(
        max_length=16,
        choices=PrivacyOdooAction.choices,
        default=PrivacyOdooAction.INBOX,
        help_text="What a redact request does to the customer's Odoo partner",
    )
    prices_enabled = models.BooleanField(default=False)
    prices_interval_seconds = models.PositiveIntegerField(default=3600)
    # Polling backstop (apps/sales_channels/polling.py): webhooks die, this finds what they lost.
    orders_poll_enabled = models.BooleanField(
        default=True,
        help_text="Also fetch recently updated orders through the API (webhook backstop)",
    )
    orders_poll_interval_seconds = models.PositiveIntegerField(
        default=300, help_text="Seconds between two polls of this channel's orders"
    )
    api_rate = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text='Rate limit for this channel\'s API tokens, e.g. "600/min"; blank = default',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(allocation_share__gte=0) & models.Q(allocation_share__lte=1),
                name="channel_allocation_share_0_1",
            )
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def has_webhooks(self) -> bool:
        return self.kind != self.Kind.B2B_API


class ChannelSecret(models.Model):
    """A webhook signing secret. Several may be valid at once: rotation never drops a delivery."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="secrets")
    secret = EncryptedTextField()
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "-valid_from"]
        indexes = [models.Index(fields=["channel", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.channel_id} secret #{self.pk}"

    def is_valid_at(self, when: dt.datetime) -> bool:
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)


class ChannelWarehouse(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="warehouses")
    odoo_warehouse_id = models.PositiveIntegerField()
    priority = models.PositiveSmallIntegerField(
        default=10, help_text="Lower ships first when several warehouses have stock"
    )

    class Meta:
        ordering = ["channel", "priority", "odoo_warehouse_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "odoo_warehouse_id"], name="channel_warehouse_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} → warehouse {self.odoo_warehouse_id} (p{self.priority})"


class Scope(models.TextChoices):
    ORDERS_WRITE = "orders:write"
    ORDERS_READ = "orders:read"
    INVENTORY_READ = "inventory:read"
    PRICES_READ = "prices:read"
    RETURNS_WRITE = "returns:write"
    EVENTS_READ = "events:read"
    EVENTS_MANAGE = "events:manage"
    SHIPMENTS_WRITE = "shipments:write"


class ApiToken(models.Model):
    """A machine identity for one channel: `hub_<prefix>_<secret>`, stored as SHA-256 only."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=200, blank=True, default="")
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "-created_at"]

    def __str__(self) -> str:
        return f"hub_{self.prefix}_… ({self.channel_id})"

    def is_usable_at(self, when: dt.datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or when < self.expires_at)


class ChannelSyncState(models.Model):
    """What the hub's own background checks know about a channel: the order poll's watermark
    and the last webhook-subscription check. Kept off `Channel` so that an operator saving the
    channel form never writes back a stale watermark."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="sync_state")
    # The newest order `updated_at` (platform clock) recorded by the poll; only ever advanced,
    # and only in the transaction that recorded the page it comes from.
    orders_watermark = models.DateTimeField(null=True, blank=True)
    orders_polled_at = models.DateTimeField(null=True, blank=True)
    orders_poll_summary = models.CharField(max_length=300, blank=True, default="")
    webhooks_checked_at = models.DateTimeField(null=True, blank=True)
    webhooks_report = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "channel sync state"

    def __str__(self) -> str:
        return f"sync state of {self.channel_id}"
