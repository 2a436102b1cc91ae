"""Operator UI for finance: invoices and payments (read-only, with their Odoo records), payouts
with their lines (matched or not, and why), the release of a payout with a difference (an
Approver, with a reason, audited; permission `finance.release_payout`), the CSV export of the
payout report, and the payment accounts (integration admins; the Stripe key is write-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from apps.core.audit import AuditedAdminMixin

from .models import ChannelPayment, FinanceSync, OrderInvoice, PaymentAccount, Payout, PayoutLine
from .posting import payout_release
from .reports import payouts_csv


class _ReadOnly(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


@admin.register(OrderInvoice)
class OrderInvoiceAdmin(_ReadOnly):
    list_display = [
        "odoo_name",
        "channel",
        "order",
        "shipment_picking_id",
        "state",
        "payment_state",
        "amount_total",
        "amount_residual",
        "currency",
        "posted_at",
    ]
    list_filter = ["state", "payment_state", "channel"]
    search_fields = ["ref", "odoo_name", "order__number", "order__external_id"]
    list_select_related = ["channel", "order"]


@admin.register(ChannelPayment)
class ChannelPaymentAdmin(_ReadOnly):
    list_display = [
        "transaction_id",
        "channel",
        "order",
        "gateway",
        "amount",
        "currency",
        "state",
        "odoo_payment_name",
        "processed_at",
    ]
    list_filter = ["state", "gateway", "channel"]
    search_fields = ["transaction_id", "order__number", "order__external_id", "odoo_payment_name"]
    list_select_related = ["channel", "order"]


class PayoutLineInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PayoutLine
    extra = 0
    can_delete = False
    fields = readonly_fields = [
        "external_id",
        "type",
        "category",
        "amount",
        "fee",
        "net",
        "order",
        "source_transaction_id",
        "match",
        "reason",
        "suggestions",
    ]
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[PayoutLine]:
        # Unexplained lines first: they are what a person looks at.
        return super().get_queryset(request).select_related("order").order_by("-match", "pk")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payout)
class PayoutAdmin(_ReadOnly):
    list_display = [
        "external_id",
        "account",
        "date",
        "currency",
        "gross",
        "refunds",
        "fees",
        "adjustments",
        "amount",
        "difference",
        "matched",
        "state",
        "odoo_entry_name",
    ]
    list_filter = ["state", "account", "currency"]
    search_fields = ["external_id"]
    list_select_related = ["account"]
    date_hierarchy = "date"
    inlines = [PayoutLineInline]
    actions = ["release", "export_csv"]

    @admin.display(description="matched %")
    def matched(self, obj: Payout) -> str:
        return f"{obj.matched_pct}% ({obj.matched_count}/{obj.line_count})"

    def has_release_payout_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("finance.release_payout"))

    @admin.action(
        description="Release the difference and post (with a reason)",
        permissions=["release_payout"],
    )
    def release(self, request: HttpRequest, queryset: QuerySet[Payout]) -> HttpResponse | None:
        rows = list(queryset.filter(state=Payout.State.DIFFERENCE).select_related("account"))
        reason = str(request.POST.get("reason") or "").strip()
        if "decide" not in request.POST or not reason:
            ctx = {
                **self.admin_site.each_context(request),
                "title": "Release payout difference(s)",
                "payouts": rows,
            }
            return TemplateResponse(request, "admin/finance/release.html", ctx)
        n = 0
        for p in rows:
            try:
                n += payout_release(payout=p, user=request.user, reason=reason)
            except Exception as exc:  # a configuration gap: say it, release the others
                self.message_user(request, f"{p}: {exc}", messages.ERROR)
        self.message_user(request, f"{n} payout(s) released for posting", messages.SUCCESS)
        return None

    @admin.action(description="Export the payout report (CSV)")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Payout]) -> HttpResponse:
        body = payouts_csv(queryset.select_related("account").order_by("date", "pk"))
        resp = HttpResponse(body, content_type="text/csv")
        resp["Content-Disposition"] = 'attachment; filename="payouts.csv"'
        return resp


@admin.register(PayoutLine)
class PayoutLineAdmin(_ReadOnly):
    list_display = ["external_id", "payout", "type", "category", "net", "order", "match", "reason"]
    list_filter = ["match", "category"]
    search_fields = ["external_id", "source_transaction_id", "source_order_id", "reason"]
    list_select_related = ["payout", "order"]


class PaymentAccountForm(forms.ModelForm):  # type: ignore[type-arg]
    secret_key = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Write-only: leave empty to keep the stored key",
    )

    class Meta:
        model = PaymentAccount
        fields = [
            "code",
            "name",
            "provider",
            "channel",
            "api_base_url",
            "secret_key",
            "odoo_journal_id",
            "fee_account_id",
            "adjustment_account_id",
            "enabled",
        ]

    def clean_secret_key(self) -> str:
        value = self.cleaned_data.get("secret_key") or ""
        if not value and self.instance.pk:
            return str(self.instance.secret_key)
        return str(value)


@admin.register(PaymentAccount)
class PaymentAccountAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = PaymentAccountForm
    list_display = [
        "code",
        "provider",
        "channel",
        "odoo_journal_id",
        "enabled",
        "imported_at",
        "import_summary",
    ]
    readonly_fields = ["cursor", "imported_at", "import_summary"]


@admin.register(FinanceSync)
class FinanceSyncAdmin(_ReadOnly):
    list_display = ["pk", "action", "state", "attempts", "order", "invoice", "payment", "payout"]
    list_filter = ["action", "state"]
