"""Operator UI for channels and tokens. Credentials and secrets are write-only and masked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core.audit import AuditedAdminMixin, audit_record, snapshot

from .models import ApiToken, Channel, ChannelSecret, ChannelSyncState, ChannelWarehouse, Scope
from .services import api_token_create, api_token_revoke, secret_generate
from .subscriptions import report_summary

CREDENTIAL_FIELDS = ("access_token", "consumer_key", "consumer_secret", "access_token_secret")
MAGENTO_DEFAULTED = ("magento_store_code", "magento_auth")
MAGENTO_FIELDS = (
    "magento_store_code",
    "magento_auth",
    "magento_client_id",
    "magento_io_events",
    "magento_sources",
)
MASK = "•••••••• (set)"


class WriteOnlyWidget(forms.PasswordInput):
    """Never renders a value; says whether one is stored."""

    def __init__(self, *args: Any, is_set: bool = False, **kwargs: Any) -> None:
        attrs = kwargs.pop("attrs", {}) or {}
        attrs.setdefault("placeholder", MASK if is_set else "not set")
        attrs.setdefault("autocomplete", "new-password")
        super().__init__(*args, attrs=attrs, render_value=False, **kwargs)


class ChannelForm(forms.ModelForm):  # type: ignore[type-arg]
    """Credentials: blank keeps the stored value; 'clear' empties it; the plaintext never shows."""

    clear_credentials = forms.MultipleChoiceField(
        choices=[(f, f.replace("_", " ")) for f in CREDENTIAL_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick to erase a stored credential.",
    )

    class Meta:
        model = Channel
        fields = (
            "code",
            "name",
            "kind",
            "state",
            "api_base_url",
            *CREDENTIAL_FIELDS,
            "pricelist_id",
            "stock_buffer",
            "allocation_share",
            "import_financial_states",
            "risk_hold_amount",
            "new_customer_hold_amount",
            "orders_enabled",
            "orders_interval_seconds",
            "inventory_enabled",
            "inventory_interval_seconds",
            "fulfillment_enabled",
            "fulfillment_interval_seconds",
            "notify_customer_on_shipment",
            "refund_on_receipt",
            "post_credit_notes",
            "refund_api_refund",
            "refunds_return_goods",
            "invoicing",
            "register_payments",
            "legacy_match_field",
            "legacy_match_pattern",
            "legacy_match_domain",
            "dual_run_threshold_pct",
            "prices_enabled",
            "prices_interval_seconds",
            "orders_poll_enabled",
            "orders_poll_interval_seconds",
            "api_rate",
            *MAGENTO_FIELDS,
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in CREDENTIAL_FIELDS:
            is_set = bool(getattr(self.instance, name, ""))
            self.fields[name] = forms.CharField(
                required=False,
                strip=True,
                widget=WriteOnlyWidget(is_set=is_set),
                help_text=Channel._meta.get_field(name).help_text
                + " — leave blank to keep the stored value.",
            )
            self.initial[name] = ""
        for name in MAGENTO_DEFAULTED:  # other kinds' forms need not carry Magento settings
            if name in self.fields:
                self.fields[name].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in MAGENTO_DEFAULTED:
            if not data.get(name):
                data[name] = (
                    getattr(self.instance, name, "") or Channel._meta.get_field(name).get_default()
                )
        clear = set(data.get("clear_credentials") or ())
        for name in CREDENTIAL_FIELDS:
            if name in clear:
                data[name] = ""
            elif not data.get(name):
                # Blank means "unchanged": put the stored value back before the model is built.
                data[name] = getattr(self.instance, name, "") if self.instance.pk else ""
        return data


class SecretInlineForm(forms.ModelForm):  # type: ignore[type-arg]
    new_secret = forms.CharField(
        required=False,
        widget=WriteOnlyWidget(),
        help_text="New rows: paste the sender's secret, or leave it blank (and fill the note) "
        "to generate one, shown once after saving. Stored secrets cannot be read back.",
    )

    class Meta:
        model = ChannelSecret
        fields = ("valid_from", "valid_until", "note")

    def save(self, commit: bool = True) -> ChannelSecret:
        obj: ChannelSecret = super().save(commit=False)
        new = self.cleaned_data.get("new_secret")
        if new:
            obj.secret = new
        elif not obj.pk:
            channel = self.instance.channel if self.instance.channel_id else None
            kind = channel.kind if channel else Channel.Kind.SHOPIFY
            obj.secret = secret_generate(kind=kind)
            obj._generated = obj.secret  # type: ignore[attr-defined]
        if commit:
            obj.save()
        return obj


class ChannelSecretInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ChannelSecret
    form = SecretInlineForm
    extra = 0
    fields = ("masked", "new_secret", "valid_from", "valid_until", "note", "created_at")
    readonly_fields = ("masked", "created_at")

    @admin.display(description="secret")
    def masked(self, obj: ChannelSecret) -> str:
        return MASK if obj.pk else "—"


class ChannelWarehouseInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ChannelWarehouse
    extra = 0
    fields = ("odoo_warehouse_id", "priority")


@admin.register(Channel)
# Audited like every admin; the audit snapshot masks encrypted fields by their class, so no
# credential reaches the audit log (tests/sales_channels/test_channel_admin_audit.py).
class ChannelAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = ChannelForm
    list_display = (
        "code",
        "name",
        "kind",
        "state",
        "orders_enabled",
        "inventory_enabled",
        "fulfillment_enabled",
        "prices_enabled",
        "updated_at",
    )
    list_filter = ("kind", "state")
    search_fields = ("code", "name", "api_base_url")
    inlines = [ChannelSecretInline, ChannelWarehouseInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "state", "api_base_url")}),
        ("API credentials (write-only)", {"fields": (*CREDENTIAL_FIELDS, "clear_credentials")}),
        ("Stock and prices", {"fields": ("pricelist_id", "stock_buffer", "allocation_share")}),
        (
            "Order import rules",
            {"fields": ("import_financial_states", "risk_hold_amount", "new_customer_hold_amount")},
        ),
        (
            "Flows and cadence (0 s = realtime)",
            {
                "fields": (
                    ("orders_enabled", "orders_interval_seconds"),
                    ("inventory_enabled", "inventory_interval_seconds"),
                    ("fulfillment_enabled", "fulfillment_interval_seconds"),
                    "notify_customer_on_shipment",
                    ("refund_on_receipt", "post_credit_notes", "refund_api_refund"),
                    "refunds_return_goods",
                    ("prices_enabled", "prices_interval_seconds"),
                    "api_rate",
                )
            },
        ),
        (
            "Adobe Commerce / Magento 2 (docs/channels.md, Magento intake)",
            {"fields": MAGENTO_FIELDS, "classes": ("collapse",)},
        ),
        (
            "Finance (docs/finance.md)",
            {"fields": (("invoicing", "register_payments"),)},
        ),
        (
            "Migration from a legacy connector (docs/migration.md)",
            {
                "fields": (
                    ("legacy_match_field", "legacy_match_pattern"),
                    "legacy_match_domain",
                    "dual_run_threshold_pct",
                    "cutover_status",
                )
            },
        ),
        (
            "Polling backstop and webhook subscriptions",
            {
                "fields": (
                    ("orders_poll_enabled", "orders_poll_interval_seconds"),
                    "order_poll_status",
                    "webhook_health",
                )
            },
        ),
    )
    readonly_fields = ("order_poll_status", "webhook_health", "cutover_status")

    @admin.display(description="Cutover")
    def cutover_status(self, obj: Channel) -> str:
        # The moves themselves are the migration app's (manage.py channel cutover); linked by
        # URL name so this app does not import it.
        try:
            url = reverse("admin:migration_cutover_changelist")
        except NoReverseMatch:
            url = ""
        mark = (
            f"hub owns orders created from {obj.cutover_at:%Y-%m-%d %H:%M:%S} UTC"
            if obj.cutover_at
            else "no cutover yet"
        )
        if not url or obj.pk is None:
            return mark
        return format_html(
            '{} (<a href="{}?channel__id__exact={}">cutovers and rollbacks</a>)', mark, url, obj.pk
        )

    @admin.display(description="Last order poll")
    def order_poll_status(self, obj: Channel) -> str:
        state = ChannelSyncState.objects.filter(channel_id=obj.pk).first()
        if state is None or state.orders_polled_at is None:
            return "never polled"
        mark = state.orders_watermark.isoformat() if state.orders_watermark else "-"
        return (
            f"{state.orders_polled_at:%Y-%m-%d %H:%M:%S} UTC: {state.orders_poll_summary} ({mark})"
        )

    @admin.display(description="Webhook subscriptions (last check)")
    def webhook_health(self, obj: Channel) -> str:
        state = ChannelSyncState.objects.filter(channel_id=obj.pk).first()
        if state is None or state.webhooks_checked_at is None:
            return "never checked (manage.py channel webhooks CODE)"
        summary = report_summary(state.webhooks_report)
        return f"{state.webhooks_checked_at:%Y-%m-%d %H:%M:%S} UTC: {summary}"

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for obj in getattr(formset, "new_objects", []):
            generated = getattr(obj, "_generated", None)
            if generated:
                messages.warning(
                    request,
                    f"New webhook secret for {obj.channel.code} (shown once, copy it now): "
                    f"{generated}",
                )


class ApiTokenAddForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiToken
        fields = ("channel", "name", "scopes", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "display_prefix",
        "channel",
        "name",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_at",
    )
    list_filter = ("channel", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "name", "channel__code")
    actions = ["revoke"]

    @admin.display(description="token", ordering="prefix")
    def display_prefix(self, obj: ApiToken) -> str:
        return f"hub_{obj.prefix}_…"

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kw: Any
    ) -> Any:
        if obj is None:
            kw["form"] = ApiTokenAddForm
        return super().get_form(request, obj, change=change, **kw)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("channel", "name", "scopes", "expires_at")
        return (
            "display_prefix",
            "channel",
            "name",
            "scopes",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return (
            "display_prefix",
            "channel",
            "scopes",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "created_at",
        )

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = api_token_create(
            channel=form.cleaned_data["channel"],
            scopes=form.cleaned_data["scopes"],
            name=form.cleaned_data.get("name") or "",
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk = token.pk
        obj.prefix = token.prefix
        messages.warning(request, f"New API token (shown once, copy it now): {raw}")

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            before = snapshot(token)
            revoked = api_token_revoke(prefix=token.prefix)
            audit_record(
                user=request.user,
                action="revoke",
                obj=revoked,
                before=before,
                after=snapshot(revoked),
            )
            count += 1
        messages.info(request, f"{count} token(s) revoked at {timezone.now():%Y-%m-%d %H:%M} UTC")
