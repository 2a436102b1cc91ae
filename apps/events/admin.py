"""Operator UI for partner webhooks: endpoints (health, test, state, secrets, recovery), their
messages with every delivery attempt, and the business events (read-only).

Every change goes through `services`, which audits it (apps.core.audit) with the operator as
the user; the admin adds no second audit row for the same change. A signing secret is shown
once, in a message, when it is created or rotated; it is never rendered anywhere else.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.core.audit import AuditedAdminMixin
from apps.core.errors import HubError

from . import services
from .catalog import event_types
from .fanout import INTERNAL_TYPES
from .models import BusinessEvent, DeliveryAttempt, WebhookEndpoint, WebhookMessage

SHOWN_ONCE = "shown once, copy it now"


def _type_choices() -> list[tuple[str, str]]:
    return [("*", "* (every type, including future ones)")] + [
        (name, name) for name in sorted(event_types()) if name not in INTERNAL_TYPES
    ]


def _pretty(value: Any) -> str:
    return format_html(
        "<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    )


def _outcome_text(outcome: Any) -> str:
    if outcome.success:
        return f"HTTP {outcome.status} in {outcome.latency_ms} ms"
    why = outcome.error_class or f"HTTP {outcome.status}"
    return f"{why} after {outcome.latency_ms} ms {outcome.excerpt[:200]}".strip()


# --- endpoints ------------------------------------------------------------------------------------


class EndpointForm(forms.ModelForm):  # type: ignore[type-arg]
    """Checks the URL and the types exactly as `services.endpoint_create` / `endpoint_update`
    will, so their refusals show on the form instead of failing the save."""

    url = forms.URLField(
        max_length=1000,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"class": "vURLField"}),
        help_text="The partner's receiver; https in production, never a private address.",
    )
    event_types = forms.MultipleChoiceField(
        choices=_type_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="What this endpoint receives; * means every type, also ones added later.",
    )
    max_in_flight = forms.IntegerField(
        min_value=1,
        max_value=16,
        initial=4,
        help_text="Concurrent deliveries to this endpoint (1 to 16).",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "channel", "event_types", "ordered", "max_in_flight")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        adding = self.instance.pk is None
        checks = (
            ("url", services._check_url),
            ("event_types", services._check_types),
        )
        for name, check in checks:
            if name not in data or not (adding or name in self.changed_data):
                continue
            try:
                data[name] = check(data[name])
            except services.EndpointInvalid as exc:
                self.add_error(exc.context.get("field") or name, exc.message)
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = EndpointForm
    list_display = (
        "uid",
        "state",
        "channel",
        "url",
        "types",
        "success_24h",
        "backlog",
        "last_error_short",
        "failing_since",
    )
    list_filter = ("state", "channel")
    list_select_related = ("channel",)
    search_fields = ("uid", "url", "description", "channel__code")
    actions = (
        "send_test_event",
        "enable",
        "pause",
        "disable",
        "rotate_secret",
        "recover_since",
    )
    health_fields = (
        "uid",
        "state",
        "disabled_reason",
        "disabled_at",
        "success_24h",
        "backlog",
        "last_success_at",
        "last_error",
        "failing_since",
        "consecutive_failures",
        "blocked_until",
        "signing_secrets",
        "messages_link",
        "created_by",
        "created_at",
        "updated_at",
    )

    # --- what is shown -----------------------------------------------------------------------

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        editable = ("url", "description", "event_types", "ordered", "max_in_flight")
        if obj is None:
            return ((None, {"fields": ("url", "description", "channel", *editable[2:])}),)
        return (
            (None, {"fields": ("channel", *editable)}),
            (
                "Health and state (change the state with the list's actions)",
                {"fields": self.health_fields},
            ),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("channel", *self.health_fields)

    def _stats(self, obj: WebhookEndpoint) -> dict[str, Any]:
        cached: dict[str, Any] | None = getattr(obj, "_admin_stats", None)
        if cached is None:
            cached = services.endpoint_stats(obj)
            obj._admin_stats = cached  # type: ignore[attr-defined]
        return cached

    @admin.display(description="event types")
    def types(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.event_types or [])

    @admin.display(description="success (24 h)")
    def success_24h(self, obj: WebhookEndpoint) -> str:
        stats = self._stats(obj)
        if stats["success_rate"] is None:
            return "no attempts"
        return f"{stats['success_rate']:.1%} of {stats['attempts']}"

    @admin.display(description="backlog")
    def backlog(self, obj: WebhookEndpoint) -> int:
        return int(self._stats(obj)["backlog"])

    @admin.display(description="last error", ordering="last_error")
    def last_error_short(self, obj: WebhookEndpoint) -> str:
        text = obj.last_error or ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="signing secrets")
    def signing_secrets(self, obj: WebhookEndpoint) -> str:
        now = timezone.now()
        rows = obj.secrets.only("endpoint_id", "valid_from", "valid_until")  # not decrypted
        valid = [s for s in rows if s.is_valid_at(now)]
        ending = [s.valid_until for s in valid if s.valid_until is not None]
        text = f"{len(valid)} valid (never shown again; rotate to get a new one)"
        if ending:
            text += f"; the previous one signs until {min(ending):%Y-%m-%d %H:%M} UTC"
        return text

    @admin.display(description="messages")
    def messages_link(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:events_webhookmessage_changelist")
        query = urlencode({"endpoint__id__exact": obj.pk})
        return format_html('<a href="{}?{}">this endpoint\'s messages</a>', url, query)

    # --- saving through the services -----------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            ep, secret = services.endpoint_create(
                url=data["url"],
                event_types=data["event_types"],
                channel=data.get("channel"),
                ordered=data.get("ordered", False),
                description=data.get("description") or "",
                max_in_flight=data.get("max_in_flight") or 4,
                actor=request.user,
            )
            for field in WebhookEndpoint._meta.concrete_fields:
                setattr(obj, field.attname, getattr(ep, field.attname))
            obj._state.adding = False
            obj._state.db = ep._state.db
            messages.warning(request, f"Signing secret of {ep.uid} ({SHOWN_ONCE}): {secret}")
            return
        changes = {k: data[k] for k in form.changed_data if k in services.UPDATABLE}
        if changes:
            services.endpoint_update(endpoint=obj, actor=request.user, **changes)
        obj.refresh_from_db()

    # The services audited the change (with before and after); Django's own history still gets
    # its LogEntry, but the mixin's second audit row for the same change is left out.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_addition(self, request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        return admin.ModelAdmin.log_change(self, request, obj, message)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A summary instead of Django's list of every related row: an endpoint's messages and
        attempts go with it (they have no delete permission of their own to ask for), and
        there can be many thousands of them."""
        endpoints = list(objs)
        pks = [ep.pk for ep in endpoints]
        n_messages = WebhookMessage.objects.filter(endpoint_id__in=pks).count()
        n_attempts = DeliveryAttempt.objects.filter(endpoint_id__in=pks).count()
        summary = [
            format_html(
                '<a href="{}">{}</a> ({}): its secrets, messages and delivery attempts',
                reverse("admin:events_webhookendpoint_change", args=[ep.pk]),
                ep.uid,
                ep.url,
            )
            for ep in endpoints
        ]
        counts = {
            WebhookEndpoint._meta.verbose_name_plural: len(endpoints),
            WebhookMessage._meta.verbose_name_plural: n_messages,
            DeliveryAttempt._meta.verbose_name_plural: n_attempts,
        }
        perms_needed = set()
        if not self.has_delete_permission(request):
            perms_needed.add(WebhookEndpoint._meta.verbose_name)
        return summary, counts, perms_needed, []

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        services.endpoint_delete(endpoint=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for ep in queryset:
            services.endpoint_delete(endpoint=ep, actor=request.user)

    # --- actions -------------------------------------------------------------------------------

    @admin.action(description="Send test event", permissions=["change"])
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for ep in queryset:
            try:
                outcome = services.endpoint_send_test(endpoint=ep, actor=request.user)
            except (HubError, ValueError) as exc:
                self.message_user(request, f"{ep.uid}: test event not sent: {exc}", messages.ERROR)
                continue
            if outcome.success:
                self.message_user(
                    request,
                    f"Test event delivered to {ep.url}: {_outcome_text(outcome)}",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"Test event to {ep.url} failed: {_outcome_text(outcome)}",
                    messages.ERROR,
                )

    @admin.action(description="Enable", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        n = 0
        for ep in queryset:
            services.endpoint_enable(endpoint=ep, actor=request.user)
            n += 1
        self.message_user(
            request,
            f"{n} endpoint(s) enabled. What they missed while disabled is not sent by itself: "
            "use “Recover since…”.",
            messages.SUCCESS,
        )

    @admin.action(description="Pause (messages wait)", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        n = 0
        for ep in queryset:
            services.endpoint_pause(endpoint=ep, actor=request.user)
            n += 1
        self.message_user(request, f"{n} endpoint(s) paused; their messages wait.")

    @admin.action(description="Disable (no messages)", permissions=["change"])
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        n = failed = 0
        for ep in queryset:
            failed += services.endpoint_disable(
                endpoint=ep, reason=f"disabled by {request.user} in the admin", actor=request.user
            )
            n += 1
        self.message_user(
            request,
            f"{n} endpoint(s) disabled; {failed} waiting message(s) failed (recoverable).",
            messages.WARNING,
        )

    @admin.action(description="Rotate secret", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for ep in queryset:
            secret = services.endpoint_secret_rotate(endpoint=ep, actor=request.user)
            messages.warning(
                request,
                f"New signing secret of {ep.uid} ({SHOWN_ONCE}; the old one keeps signing for "
                f"24 hours): {secret}",
            )

    @admin.action(description="Recover since…", permissions=["change"])
    def recover_since(
        self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]
    ) -> TemplateResponse | None:
        """An intermediate page: pick a time, see the dry-run counts, then confirm."""
        endpoints = list(queryset.select_related("channel").order_by("id"))
        if "_confirm" in request.POST:
            confirm = RecoverConfirmForm(request.POST)
            if confirm.is_valid():
                self._recover(request, endpoints, confirm.cleaned_data["counted_since"])
                return None
        form = RecoverForm(request.POST if "_count" in request.POST else None)
        counts = None
        since = None
        if form.is_bound and form.is_valid():
            since = form.cleaned_data["since"]
            counts = [
                (
                    ep,
                    services.endpoint_recover(
                        endpoint=ep, since=since, actor=request.user, dry_run=True
                    ),
                )
                for ep in endpoints
            ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Recover what failed or was missed",
            "endpoints": endpoints,
            "form": form,
            "counts": counts,
            "since": since,
            "counted_since": since.isoformat() if since else "",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "disabled": [ep for ep in endpoints if ep.state == WebhookEndpoint.State.DISABLED],
        }
        return TemplateResponse(request, "events/recover.html", context)

    def _recover(
        self, request: HttpRequest, endpoints: list[WebhookEndpoint], since: dt.datetime
    ) -> None:
        for ep in endpoints:
            try:
                result = services.endpoint_recover(endpoint=ep, since=since, actor=request.user)
            except HubError as exc:
                self.message_user(request, f"{ep.uid}: {exc}", messages.WARNING)
                continue
            self.message_user(
                request,
                f"{ep.uid}: {result.requeued} failed message(s) sent again and "
                f"{result.created} missed event(s) queued since {since:%Y-%m-%d %H:%M} UTC.",
                messages.SUCCESS,
            )


class RecoverForm(forms.Form):
    since = forms.DateTimeField(
        label="Since (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Events recorded since then.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["since"].initial = (timezone.now() - dt.timedelta(hours=24)).replace(
            second=0, microsecond=0
        )


class RecoverConfirmForm(forms.Form):
    counted_since = forms.DateTimeField(widget=forms.HiddenInput)


# --- messages and their attempts ------------------------------------------------------------------


class DeliveryAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeliveryAttempt
    fk_name = "message"
    extra = 0
    can_delete = False
    ordering = ("id",)
    fields = (
        "number",
        "trigger",
        "started_at",
        "latency_ms",
        "status_code",
        "success",
        "error_class",
        "response_excerpt",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookMessage)
class WebhookMessageAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "event_type",
        "entity",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "endpoint", "event__type")
    list_select_related = ("event", "endpoint")
    search_fields = ("event__uid", "event__entity_key", "endpoint__uid", "endpoint__url")
    inlines = (DeliveryAttemptInline,)
    actions = ("resend",)
    fields = (
        "event_link",
        "event_type",
        "entity",
        "endpoint",
        "state",
        "attempts",
        "last_status",
        "next_attempt_at",
        "delivered_at",
        "last_error_pretty",
        "created_at",
        "updated_at",
        "payload",
    )
    readonly_fields = fields

    @admin.display(description="event type", ordering="event__type")
    def event_type(self, obj: WebhookMessage) -> str:
        return obj.event.type

    @admin.display(description="entity", ordering="event__entity_key")
    def entity(self, obj: WebhookMessage) -> str:
        return obj.event.entity_key

    @admin.display(description="event")
    def event_link(self, obj: WebhookMessage) -> str:
        url = reverse("admin:events_businessevent_change", args=[obj.event_id])
        return format_html('<a href="{}">{}</a>', url, obj.event.uid)

    @admin.display(description="last error")
    def last_error_pretty(self, obj: WebhookMessage) -> str:
        return _pretty(obj.last_error) if obj.last_error else "—"

    @admin.display(description="payload (data)")
    def payload(self, obj: WebhookMessage) -> str:
        return _pretty(obj.event.payload)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("events.change_webhookmessage"))

    @admin.action(description="Resend", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookMessage]) -> None:
        for msg in queryset.select_related("endpoint"):
            try:
                outcome = services.message_resend(message=msg, actor=request.user)
            except ValueError as exc:
                self.message_user(request, f"Message {msg.pk}: {exc}", messages.WARNING)
                continue
            level = messages.SUCCESS if outcome.success else messages.ERROR
            verb = "delivered" if outcome.success else "failed"
            self.message_user(
                request,
                f"Message {msg.pk} to {msg.endpoint.url} {verb}: {_outcome_text(outcome)}",
                level,
            )


# --- business events ------------------------------------------------------------------------------


@admin.register(BusinessEvent)
class BusinessEventAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("seq", "type", "entity_key", "channel", "occurred_at", "recorded_at", "uid")
    list_filter = ("type", "channel")
    list_select_related = ("channel",)
    search_fields = ("uid", "entity_key")
    ordering = ("-id",)
    fields = (
        "uid",
        "type",
        "version",
        "entity_key",
        "channel",
        "occurred_at",
        "recorded_at",
        "seq",
        "fanned_out_at",
        "payload_pretty",
    )
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_pretty(self, obj: BusinessEvent) -> str:
        return _pretty(obj.payload)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
