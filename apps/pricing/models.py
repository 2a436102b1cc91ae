"""The price engine's cache of what Odoo's pricelist evaluation reads.

Pricelists (header and every rule, as JSON), the variants' price fields, the category tree, the
currencies, and the B2B partners' pricelists. ``PricingState`` holds the refresh cursors (the
newest ``write_date`` seen on products and on template attribute values, whose ``price_extra``
changes bump no product) and a ``generation`` that moves whenever anything cached changed, so
each process rebuilds its in-memory catalog only then (services.catalog()).
"""

from __future__ import annotations

from django.db import models


class CachedPricelist(models.Model):
    odoo_id = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=255, blank=True, default="")
    currency_id = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    # Every rule, the gateway's dicts (PRICELIST_ITEM_FIELDS); item id -> write_date in stamps.
    items = models.JSONField(default=list, blank=True)
    stamps = models.JSONField(default=dict, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["odoo_id"]

    def __str__(self) -> str:
        return f"pricelist {self.odoo_id} {self.name}"


class CachedPriceProduct(models.Model):
    odoo_id = models.PositiveIntegerField(unique=True)
    sku = models.CharField(max_length=255, blank=True, default="")
    tmpl_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    categ_id = models.PositiveIntegerField(null=True, blank=True)
    list_price = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    price_extra = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    standard_price = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    currency_id = models.PositiveIntegerField(null=True, blank=True)
    cost_currency_id = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    write_date = models.CharField(max_length=32, blank=True, default="")
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["odoo_id"]

    def __str__(self) -> str:
        return f"product {self.odoo_id} {self.sku}"


class CachedCategory(models.Model):
    odoo_id = models.PositiveIntegerField(unique=True)
    parent_id = models.PositiveIntegerField(null=True, blank=True)
    complete_name = models.CharField(max_length=512, blank=True, default="")

    class Meta:
        ordering = ["odoo_id"]

    def __str__(self) -> str:
        return self.complete_name


class CachedCurrency(models.Model):
    odoo_id = models.PositiveIntegerField(unique=True)
    name = models.CharField(max_length=16, blank=True, default="")
    rounding = models.DecimalField(max_digits=12, decimal_places=6, default=0.01)

    class Meta:
        ordering = ["odoo_id"]

    def __str__(self) -> str:
        return self.name


class PartnerPricelist(models.Model):
    """A B2B account's Odoo company and the pricelist Odoo reports for it."""

    partner_id = models.PositiveIntegerField(unique=True)
    pricelist_id = models.PositiveIntegerField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["partner_id"]

    def __str__(self) -> str:
        return f"partner {self.partner_id} -> {self.pricelist_id}"


class PricingState(models.Model):
    """One row: refresh cursors and the cache generation."""

    generation = models.PositiveBigIntegerField(default=0)
    company_currency_id = models.PositiveIntegerField(null=True, blank=True)
    products_cursor = models.CharField(max_length=32, blank=True, default="")
    values_cursor = models.CharField(max_length=32, blank=True, default="")
    polled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pricing cache generation {self.generation}"
