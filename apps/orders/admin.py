"""Operator UI for orders: read-only rows, history inline, Approver release and retry actions."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.core.audit import AuditedAdminMixin, audit_record
from apps.core.errors import HubError

from . import services
from .models import ChannelOrder, HoldReason, OrderLine, OrderState, OrderTransition

_Base: Any = type("_OrderAdminBase", (AuditedAdminMixin, admin.ModelAdmin), {})


class OrderLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [
        "position",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "discount",
        "tax",
        "product_id",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransitionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OrderTransition
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_state", "to_state", "actor", "reason"]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChannelOrder)
class ChannelOrderAdmin(_Base):  # type: ignore[misc]
    list_display = [
        "odoo_ref",
        "number",
        "state",
        "hold_reason",
        "odoo_name",
        "total",
        "currency",
        "attempts",
        "updated_at",
    ]
    list_filter = ["state", "hold_reason", "channel"]
    search_fields = ["external_id", "number", "odoo_ref", "odoo_name", "customer_email"]
    inlines = [OrderLineInline, TransitionInline]
    actions = ["release_hold", "retry_failed"]
    exclude = ["payload"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in ChannelOrder._meta.fields if f.name != "payload"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Release credit/risk hold (Approver)", permissions=["release_hold"])
    def release_hold(self, request: HttpRequest, queryset: QuerySet[ChannelOrder]) -> None:
        done = 0
        for order in queryset.filter(
            state=OrderState.HELD, hold_reason__in=[HoldReason.CREDIT, HoldReason.RISK]
        ):
            try:
                services.order_release_hold(order_id=order.pk, actor=f"user:{request.user}")
                audit_record(
                    user=request.user,
                    action="orders.release_hold",
                    obj=order,
                    before={"state": order.state, "hold_reason": order.hold_reason},
                )
                done += 1
            except HubError as exc:
                self.message_user(request, f"{order}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} order(s) released")

    def has_release_hold_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("orders.release_hold"))

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # The inbox's Retry, from the order list: whoever may retry in the inbox.
        return bool(request.user.has_perm("inbox.change_issue"))

    @admin.action(description="Retry failed orders", permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[ChannelOrder]) -> None:
        n = 0
        for order in queryset.filter(state=OrderState.FAILED):
            services.order_retry(order_id=order.pk, actor=f"user:{request.user}")
            audit_record(user=request.user, action="orders.retry", obj=order)
            n += 1
        self.message_user(request, f"{n} order(s) re-judged")
