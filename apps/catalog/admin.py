from __future__ import annotations

from django.contrib import admin

from apps.core.audit import AuditedAdminMixin, ReadOnlyAuditedAdmin

from .models import B2BPriceList, CatalogCursor, ImageState, VariantState


# What the catalog sync keeps about each variant, image and poll is the sync's to write: an
# operator reads it (an empty "add" used to fail on the database, a hand edit went unaudited).
@admin.register(VariantState)
class VariantStateAdmin(ReadOnlyAuditedAdmin):
    list_display = (
        "channel",
        "sku",
        "odoo_product_id",
        "published_price",
        "price_dirty",
        "product_dirty",
        "price_published_at",
        "product_published_at",
    )
    list_filter = ("channel", "price_dirty", "product_dirty")
    search_fields = ("sku", "external_id")
    readonly_fields = [f.name for f in VariantState._meta.fields]


@admin.register(B2BPriceList)
class B2BPriceListAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "channel",
        "target",
        "odoo_partner_id",
        "odoo_pricelist_id",
        "external_pricelist_id",
        "published_at",
    )
    list_filter = ("channel",)
    readonly_fields = (
        "external_catalog_id",
        "external_pricelist_id",
        "odoo_pricelist_id",
        "published",
        "published_at",
        "last_error",
    )


@admin.register(ImageState)
class ImageStateAdmin(ReadOnlyAuditedAdmin):
    list_display = ("channel", "odoo_template_id", "size", "checksum", "published_checksum")
    readonly_fields = [f.name for f in ImageState._meta.fields]


@admin.register(CatalogCursor)
class CatalogCursorAdmin(ReadOnlyAuditedAdmin):
    list_display = ("key", "server", "polled_at")
    readonly_fields = ("key", "server", "watermarks", "polled_at")
