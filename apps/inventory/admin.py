"""Operator UI: SKU stock (read-only, with "mark dirty" and "publish now"), reconciliation runs."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.audit import AuditedAdminMixin, audit_record
from apps.core.errors import HubError

from .models import ReconciliationRun, SkuStock, StockCursor


class _ReadOnly(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SkuStock)
class SkuStockAdmin(_ReadOnly):
    list_display = [
        "sku",
        "channel",
        "dirty",
        "dirty_since",
        "atp",
        "published_qty",
        "published_at",
        "computed_at",
        "last_error",
    ]
    list_filter = ["dirty", "channel"]
    search_fields = ["sku", "external_id"]
    list_select_related = ["channel"]
    actions = ["mark_dirty", "publish_now"]

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("inventory.view_skustock"))

    @admin.action(description="Mark dirty (publish on the next run)", permissions=["view"])
    def mark_dirty(self, request: HttpRequest, queryset: QuerySet[SkuStock]) -> None:
        from .services import mark_dirty

        n = 0
        for channel_id in set(queryset.values_list("channel_id", flat=True)):
            skus = list(queryset.filter(channel_id=channel_id).values_list("sku", flat=True))
            n += mark_dirty([channel_id], skus, "admin")
        for row in queryset:
            audit_record(user=request.user, action="inventory.mark_dirty", obj=row)
        self.message_user(request, f"{n} SKU(s) marked dirty; publication rung.")

    @admin.action(description="Publish now (force the current ATP)", permissions=["view"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet[SkuStock]) -> None:
        from .services import publish_channel

        for row in queryset:
            audit_record(user=request.user, action="inventory.publish_now", obj=row)
        for channel in {r.channel for r in queryset.select_related("channel")}:
            skus = list(queryset.filter(channel=channel).values_list("sku", flat=True))
            try:
                s = publish_channel(channel, skus=skus, force=True)
            except HubError as exc:
                self.message_user(request, f"{channel.code}: {exc}", level=messages.ERROR)
                continue
            self.message_user(
                request, f"{channel.code}: {s.published} published, {s.failed} failed."
            )


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(_ReadOnly):
    list_display = [
        "channel",
        "started_at",
        "finished_at",
        "state",
        "checked",
        "mismatches",
        "repaired",
        "unknown_skus",
    ]
    list_filter = ["state", "channel"]
    date_hierarchy = "started_at"


@admin.register(StockCursor)
class StockCursorAdmin(_ReadOnly):
    list_display = ["key", "server", "value", "updated_at"]
