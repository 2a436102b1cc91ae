"""Alerts and orders marked for review, in the admin (the dashboard links here)."""

from __future__ import annotations

from django.contrib import admin, messages

from apps.core.audit import AuditedAdminMixin

from .models import Alert, OrderReview
from .watch import review_done


@admin.register(Alert)
class AlertAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("kind", "scope", "signal", "state", "message", "opened_at", "last_seen")
    list_filter = ("kind", "state", "scope")
    search_fields = ("key", "message")
    readonly_fields = [f.name for f in Alert._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(OrderReview)
class OrderReviewAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("order", "reasons", "created_at", "reviewed_by", "reviewed_at")
    list_filter = ("reviewed_at",)
    search_fields = ("order__number", "order__external_id")
    readonly_fields = ("order", "reasons", "evidence", "created_at", "reviewed_by", "reviewed_at")
    actions = ("mark_reviewed",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Mark reviewed (closes the alert)", permissions=["change"])
    def mark_reviewed(self, request, queryset):  # type: ignore[no-untyped-def]
        n = 0
        for review in queryset.filter(reviewed_at__isnull=True).select_related("order"):
            review_done(review=review, user=request.user)
            n += 1
        self.message_user(request, f"{n} order(s) reviewed.", messages.SUCCESS)
