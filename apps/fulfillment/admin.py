"""Operator UI for shipments: read-only rows with lines, syncs and carrier reports inline; the
action "Retry sync" (audited) sends a failed or skipped channel sync again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core import workrow
from apps.core.audit import AuditedAdminMixin, audit_record
from apps.core.workrow import WorkState

from .models import Shipment, ShipmentCursor, ShipmentLine, ShipmentReport, ShipmentSync
from .sync import sync_ring

RETRYABLE = (WorkState.FAILED, WorkState.IGNORED)


class _ReadOnly(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _Inline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(_Inline):
    model = ShipmentLine
    fields = readonly_fields = ["sku", "quantity", "external_line_id", "odoo_product_id"]


class SyncInline(_Inline):
    model = ShipmentSync
    fields = readonly_fields = [
        "action",
        "state",
        "attempts",
        "next_attempt_at",
        "result",
        "last_error",
        "note",
        "updated_at",
    ]


class ReportInline(_Inline):
    model = ShipmentReport
    fields = readonly_fields = [
        "status",
        "happened_at",
        "message",
        "location",
        "reported_by",
        "idempotency_key",
        "created_at",
    ]


def _retry(request: HttpRequest, rows: list[ShipmentSync]) -> int:
    """Make each failed or skipped sync pending again and ring it after commit (audited)."""
    n = 0
    with transaction.atomic():
        for row in rows:
            if row.state not in RETRYABLE or not workrow.requeue(ShipmentSync, pk=row.pk):
                continue
            audit_record(
                user=request.user,
                action="fulfillment.retry_sync",
                obj=row,
                before={"state": row.state, "last_error": row.last_error},
                reason=f"{row.action} of {row.shipment}",
            )
            pk = row.pk
            transaction.on_commit(lambda pk=pk: sync_ring(pk))  # type: ignore[misc]
            n += 1
    return n


class _RetryMixin:
    def has_retry_sync_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("fulfillment.change_shipmentsync"))


@admin.register(Shipment)
class ShipmentAdmin(_RetryMixin, _ReadOnly):
    list_display = [
        "odoo_picking_name",
        "order",
        "channel",
        "status",
        "carrier",
        "tracking",
        "channel_sync",
        "shipped_at",
        "delivered_at",
    ]
    list_filter = ["status", "channel", "dropship"]
    search_fields = [
        "odoo_picking_name",
        "order__number",
        "order__external_id",
        "order__odoo_ref",
        "order__odoo_name",
    ]
    list_select_related = ["order", "channel"]
    inlines = [LineInline, SyncInline, ReportInline]
    actions = ["retry_sync"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Shipment._meta.fields]

    @admin.display(description="tracking")
    def tracking(self, obj: Shipment) -> str:
        return ", ".join(obj.tracking_numbers or []) or "—"

    @admin.display(description="channel sync")
    def channel_sync(self, obj: Shipment) -> str:
        row = obj.syncs.filter(action=ShipmentSync.Action.CREATE).first()
        return row.state if row else "—"

    @admin.action(description="Retry sync (failed or skipped)", permissions=["retry_sync"])
    def retry_sync(self, request: HttpRequest, queryset: QuerySet[Shipment]) -> None:
        rows = list(
            ShipmentSync.objects.filter(shipment__in=queryset, state__in=RETRYABLE)
            .select_related("shipment")
            .order_by("pk")
        )
        self.message_user(request, f"{_retry(request, rows)} sync(s) queued again")


@admin.register(ShipmentSync)
class ShipmentSyncAdmin(_RetryMixin, _ReadOnly):
    list_display = ["id", "shipment", "action", "state", "attempts", "next_attempt_at", "note"]
    list_filter = ["state", "action", "shipment__channel"]
    search_fields = ["shipment__odoo_picking_name", "shipment__order__number"]
    list_select_related = ["shipment"]
    actions = ["retry_sync"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ShipmentSync._meta.fields]

    @admin.action(description="Retry sync (failed or skipped)", permissions=["retry_sync"])
    def retry_sync(self, request: HttpRequest, queryset: QuerySet[ShipmentSync]) -> None:
        rows = list(queryset.select_related("shipment").order_by("pk"))
        self.message_user(request, f"{_retry(request, rows)} sync(s) queued again")


@admin.register(ShipmentCursor)
class ShipmentCursorAdmin(_ReadOnly):
    list_display = ["key", "server", "value", "polled_at", "summary"]
