"""Customers: B2B accounts published to channels, consumer account sync state, privacy requests.

None of these rows holds a person's e-mail, name or address: what the hub knows about a person
stays in the rows it came with (orders, events), where a redact request finds and erases it.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.sales_channels.models import Channel


class B2BAccount(models.Model):
    """An Odoo company published to a channel as its B2B account.

    Odoo owns the company, its contacts, credit limit, payment terms and pricelist; the hub
    keeps the channel's ids of what it created (Shopify company and location, BigCommerce
    customer group) and the fingerprint of what it last published, so a run with no change in
    Odoo sends nothing. Contacts map Odoo contact id -> the channel customer id, each also a
    customer ``Binding`` to the company, so orders from them resolve to the company.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="b2b_accounts")
    odoo_partner_id = models.PositiveIntegerField(help_text="The Odoo company (res.partner)")
    name = models.CharField(max_length=255, blank=True, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    external_company_id = models.CharField(max_length=255, blank=True, default="")
    external_location_id = models.CharField(max_length=255, blank=True, default="")
    customer_group_id = models.CharField(max_length=64, blank=True, default="")
    contacts = models.JSONField(default=dict, blank=True)
    pricelist_id = models.PositiveIntegerField(null=True, blank=True)
    published_hash = models.CharField(max_length=64, blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "odoo_partner_id"]
        verbose_name = "B2B account"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "odoo_partner_id"], name="customers_b2b_unique_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}: Odoo company {self.odoo_partner_id} ({self.state})"


class CustomerAccount(models.Model):
    """A consumer account of a channel as last applied to Odoo: the version, never the data."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=255)
    odoo_partner_id = models.PositiveIntegerField(null=True, blank=True)
    source_version = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="customers_account_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.external_id} -> {self.odoo_partner_id}"


class PrivacyRequest(models.Model):
    """One privacy request (a channel's webhook or an operator's command) and what it did.

    ``subject_digest`` is a keyed hash of the customer's e-mail, enough to tell two requests
    about one person apart from others without keeping the address.
    """

    class Kind(models.TextChoices):
        REDACT = "customers/redact", "Customer redact"
        SHOP_REDACT = "shop/redact", "Shop redact"
        DATA_REQUEST = "customers/data_request", "Customer data request"

    class State(models.TextChoices):
        DONE = "done", "Done"
        ODOO_PENDING = "odoo_pending", "Done in the hub; Odoo partner waits for a person"

    channel_code = models.CharField(max_length=64, db_index=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    request_id = models.CharField(max_length=255, blank=True, default="")
    customer_external_id = models.CharField(max_length=255, blank=True, default="")
    subject_digest = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=16, choices=State.choices, default=State.DONE)
    counts = models.JSONField(default=dict, blank=True)
    export_file = models.CharField(max_length=500, blank=True, default="")
    requested_by = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("download_export", "Can download a customer data export")]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel_code} #{self.pk}"
