from __future__ import annotations

from django.contrib import admin

from .models import B2BPriceList, CatalogCursor, ImageState, VariantState


@admin.register(VariantState)
class VariantStateAdmin(admin.ModelAdmin):
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
class B2BPriceListAdmin(admin.ModelAdmin):
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
class ImageStateAdmin(admin.ModelAdmin):
    list_display = ("channel", "odoo_template_id", "size", "checksum", "published_checksum")
    readonly_fields = [f.name for f in ImageState._meta.fields]


@admin.register(CatalogCursor)
class CatalogCursorAdmin(admin.ModelAdmin):
    list_display = ("key", "server", "polled_at")
    readonly_fields = ("key", "server", "watermarks", "polled_at")
