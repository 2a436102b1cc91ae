"""What the hub knows about each bound variant's catalog and price publication.

- ``VariantState``: one row per channel and product binding: dirty flags set by the Odoo poll,
  the last price the channel accepted and the fingerprint of the last content it accepted.
  A run sends only variants whose computed price or content differs from these.
- ``ImageState``: per channel and Odoo template, the image's size (read with ``bin_size``) and
  checksum as last seen, and the checksum last published: an image is downloaded only when its
  size changed, and sent only when its checksum did.
- ``CatalogImage``: image bytes by checksum, served to the channels at
  ``/catalog/images/<checksum>`` (platforms fetch images from a URL).
- ``B2BPriceList``: a B2B account's price list on the channel (Shopify catalog + price list for
  a company location; BigCommerce price list assigned to a customer group), published from the
  Odoo pricelist of the account's company, with the prices the channel last accepted.
- ``CatalogCursor``: the poll's ``write_date`` watermarks, one row per Odoo server and database.
- ``ChannelCatalogRun``: when each channel's prices and products were last published (cadence).
"""

from __future__ import annotations

from django.db import models

from apps.mappings.models import Binding
from apps.sales_channels.models import Channel


class VariantState(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    binding = models.ForeignKey(Binding, on_delete=models.CASCADE, related_name="+")
    sku = models.CharField(max_length=255)
    odoo_product_id = models.PositiveIntegerField()
    external_id = models.CharField(max_length=255)
    price_dirty = models.BooleanField(default=True)
    product_dirty = models.BooleanField(default=True)
    marked_at = models.DateTimeField(null=True, blank=True)
    published_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    price_published_at = models.DateTimeField(null=True, blank=True)
    published_fingerprint = models.CharField(max_length=64, blank=True, default="")
    product_published_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "binding"], name="catalog_variant_unique")
        ]
        indexes = [
            models.Index(fields=["channel", "price_dirty"]),
            models.Index(fields=["channel", "product_dirty"]),
            models.Index(fields=["odoo_product_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.sku}"


class ImageState(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    odoo_template_id = models.PositiveIntegerField()
    size = models.CharField(max_length=64, blank=True, default="")
    checksum = models.CharField(max_length=64, blank=True, default="")
    published_checksum = models.CharField(max_length=64, blank=True, default="")
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "odoo_template_id"], name="catalog_image_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}:template {self.odoo_template_id}"


class CatalogImage(models.Model):
    checksum = models.CharField(max_length=64, primary_key=True)
    content_type = models.CharField(max_length=64, default="image/png")
    content = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.checksum


class B2BPriceList(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    odoo_partner_id = models.PositiveIntegerField(help_text="The account's Odoo company")
    target = models.CharField(
        max_length=255,
        help_text="Shopify: the company location gid; BigCommerce: the customer group id",
    )
    odoo_pricelist_id = models.PositiveIntegerField(null=True, blank=True)
    external_catalog_id = models.CharField(max_length=255, blank=True, default="")
    external_pricelist_id = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    # external variant id -> {"price": "12.50", "breaks": [["10", "11.00"], ...]}
    published = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["channel", "target"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "target"], name="catalog_b2b_unique")
        ]
        verbose_name = "B2B price list"

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.target}"


class CatalogCursor(models.Model):
    key = models.CharField(max_length=128, unique=True)
    server = models.CharField(max_length=255, blank=True, default="")
    watermarks = models.JSONField(default=dict, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class ChannelCatalogRun(models.Model):
    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="+")
    prices_run_at = models.DateTimeField(null=True, blank=True)
    products_run_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"catalog runs of {self.channel_id}"
