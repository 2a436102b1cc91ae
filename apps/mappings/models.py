"""Bindings (channel record ↔ Odoo record) and value maps (channel vocabulary → Odoo values)."""

from __future__ import annotations

from django.db import models

from apps.sales_channels.models import Channel


class Binding(models.Model):
    """One channel record bound to one Odoo record (OCA connector's "binding").

    Unique per (channel, kind, external_id): binding the same channel record twice is refused by
    the database, so concurrent imports cannot create duplicates.
    """

    class Kind(models.TextChoices):
        PRODUCT = "product", "Product (variant)"
        CUSTOMER = "customer", "Customer"
        ORDER = "order", "Order"
        WAREHOUSE = "warehouse", "Warehouse / location"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="bindings")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    external_id = models.CharField(max_length=255, help_text="The channel's id for the record")
    external_code = models.CharField(
        max_length=255, blank=True, default="", help_text="SKU, email or number, for people"
    )
    odoo_model = models.CharField(max_length=128)
    odoo_id = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "kind", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind", "external_id"], name="binding_unique_external"
            )
        ]
        indexes = [
            models.Index(fields=["channel", "kind", "external_code"]),
            models.Index(fields=["odoo_model", "odoo_id"]),
        ]

    def __str__(self) -> str:
        return (
            f"{self.channel_id}:{self.kind}:{self.external_id} → {self.odoo_model},{self.odoo_id}"
        )


class ValueMap(models.Model):
    """A channel value translated to an Odoo value (a status, carrier, journal, tax, warehouse)."""

    class Kind(models.TextChoices):
        ORDER_STATUS = "order_status", "Order status"
        CARRIER = "carrier", "Carrier"
        PAYMENT_METHOD = "payment_method", "Payment method → journal"
        TAX = "tax", "Tax"
        LOCATION = "location", "Location → warehouse"
        # Outbound (shipments): channel_value = the carrier as the channel writes it (Shopify's
        # supported name, e.g. "UPS"; BigCommerce's shipping_provider; WooCommerce's provider),
        # odoo_value = the delivery.carrier id or name it stands for.
        TRACKING_COMPANY = "tracking_company", "Tracking company ← Odoo carrier"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="value_maps")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel_value = models.CharField(max_length=255)
    odoo_model = models.CharField(max_length=128, blank=True, default="")
    odoo_value = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "kind", "channel_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "kind", "channel_value"], name="valuemap_unique_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.kind}:{self.channel_value} → {self.odoo_value}"
