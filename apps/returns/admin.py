"""Operator UI for returns and refunds: read-only rows with their lines and work rows (the
timeline), and the approval queue (refund requests waiting for an Approver: approve or reject,
with a reason, audited; permission `returns.approve_refund`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.core.audit import AuditedAdminMixin

from .models import (
    ChannelRefund,
    ChannelReturn,
    RefundLine,
    RefundRequest,
    ReturnLine,
    ReturnSync,
)
from .receipts import refund_decide


class _ReadOnly(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


class _Inline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReturnLineInline(_Inline):
    model = ReturnLine
    fields = readonly_fields = ["sku", "quantity", "quantity_received", "reason", "odoo_product_id"]


class RefundLineInline(_Inline):
    model = RefundLine
    fields = readonly_fields = ["sku", "quantity", "amount", "tax", "restock", "external_line_id"]


SYNC_FIELDS = ["action", "state", "attempts", "next_attempt_at", "result", "last_error", "history"]


class ReturnSyncInline(_Inline):
    model = ReturnSync
    fk_name = "ret"
    fields = readonly_fields = SYNC_FIELDS


class RefundSyncInline(_Inline):
    model = ReturnSync
    fk_name = "refund"
    fields = readonly_fields = SYNC_FIELDS


@admin.register(ChannelReturn)
class ChannelReturnAdmin(_ReadOnly):
    list_display = [
        "external_id",
        "channel",
        "order",
        "source",
        "state",
        "odoo_return_picking_name",
        "odoo_credit_note_name",
        "received_at",
        "created_at",
    ]
    list_filter = ["state", "source", "channel"]
    search_fields = [
        "external_id",
        "name",
        "order__number",
        "order__external_id",
        "odoo_return_picking_name",
    ]
    list_select_related = ["channel", "order"]
    inlines = [ReturnLineInline, ReturnSyncInline]


@admin.register(ChannelRefund)
class ChannelRefundAdmin(_ReadOnly):
    list_display = [
        "external_id",
        "channel",
        "order",
        "state",
        "amount",
        "currency",
        "by_hub",
        "odoo_credit_note_name",
        "odoo_credit_note_total",
        "refunded_at",
    ]
    list_filter = ["state", "by_hub", "channel"]
    search_fields = ["external_id", "order__number", "order__external_id", "odoo_credit_note_name"]
    list_select_related = ["channel", "order"]
    inlines = [RefundLineInline, RefundSyncInline]


@admin.register(ReturnSync)
class ReturnSyncAdmin(_ReadOnly):
    list_display = ["id", "action", "state", "ret", "refund", "attempts", "next_attempt_at", "note"]
    list_filter = ["state", "action"]


class AwaitingFilter(admin.SimpleListFilter):
    title = "approval queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting", "waits for an Approver")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "waiting":
            return queryset.filter(state=RefundRequest.State.AWAITING_APPROVAL)
        return queryset


@admin.register(RefundRequest)
class RefundRequestAdmin(_ReadOnly):
    list_display = [
        "id",
        "channel",
        "order",
        "ret",
        "amount",
        "currency",
        "state",
        "decided_by",
        "decided_at",
        "decision_reason",
        "created_at",
    ]
    list_filter = [AwaitingFilter, "state", "channel"]
    list_select_related = ["channel", "order", "ret"]
    actions = ["approve", "reject"]

    def has_approve_refund_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("returns.approve_refund"))

    def _decide(
        self, request: HttpRequest, queryset: QuerySet[RefundRequest], approve: bool
    ) -> HttpResponse | None:
        action = "approve" if approve else "reject"
        rows = list(queryset.filter(state=RefundRequest.State.AWAITING_APPROVAL))
        reason = str(request.POST.get("reason") or "").strip()
        if "decide" not in request.POST or not reason:
            title = "Approve refund(s)" if approve else "Reject refund(s)"
            ctx = {
                **self.admin_site.each_context(request),
                "title": title,
                "requests": rows,
                "action": action,
            }
            return TemplateResponse(request, "admin/returns/decide.html", ctx)
        n = sum(
            refund_decide(req=r, approve=approve, user=request.user, reason=reason) for r in rows
        )
        self.message_user(request, f"{n} refund request(s) {action}d", messages.SUCCESS)
        return None

    @admin.action(description="Approve refund (with a reason)", permissions=["approve_refund"])
    def approve(self, request: HttpRequest, queryset: QuerySet[RefundRequest]) -> Any:
        return self._decide(request, queryset, True)

    @admin.action(description="Reject refund (with a reason)", permissions=["approve_refund"])
    def reject(self, request: HttpRequest, queryset: QuerySet[RefundRequest]) -> Any:
        return self._decide(request, queryset, False)
