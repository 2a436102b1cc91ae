"""The triage UI: one row per cause, the affected rows, and the actions that fix them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from apps.core.audit import AuditedAdminMixin
from apps.core.models import AuditEntry

from . import services
from .models import Issue, IssueRow, Status
from .panels import render_panels

SNOOZES = {"1h": 3600, "1d": 86400}

# The admin index shows open issues per category and the oldest age (see the template).
admin.site.index_template = "inbox/admin_index.html"


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    BUCKETS = {
        "lt1h": (None, timedelta(hours=1)),
        "1h-1d": (timedelta(hours=1), timedelta(days=1)),
        "1d-7d": (timedelta(days=1), timedelta(days=7)),
        "gt7d": (timedelta(days=7), None),
    }

    def lookups(self, request, model_admin):
        return [
            ("lt1h", "under 1 hour"),
            ("1h-1d", "1 hour to 1 day"),
            ("1d-7d", "1 to 7 days"),
            ("gt7d", "over 7 days"),
        ]

    def queryset(self, request, queryset):
        bucket = self.BUCKETS.get(self.value() or "")
        if bucket is None:
            return queryset
        now = timezone.now()
        older, younger = bucket
        if older is not None:
            queryset = queryset.filter(first_seen__lte=now - older)
        if younger is not None:
            queryset = queryset.filter(first_seen__gt=now - younger)
        return queryset


class IssueRowInline(admin.TabularInline):
    model = IssueRow
    extra = 0
    can_delete = False
    fields = ("label", "succeeded", "occurrences", "last_seen", "replay_task")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


def _admin_url(row) -> str:
    if row is None:
        return ""
    try:
        return reverse(f"admin:{row._meta.app_label}_{row._meta.model_name}_change", args=[row.pk])
    except NoReverseMatch:
        return ""


def _pretty(body: bytes | memoryview | str) -> str:
    text = bytes(body).decode("utf-8", errors="replace") if not isinstance(body, str) else body
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text


@admin.register(Issue)
class IssueAdmin(AuditedAdminMixin, admin.ModelAdmin):
    change_form_template = "inbox/issue_change_form.html"
    list_display = (
        "title",
        "category",
        "status",
        "channel_code",
        "occurrences",
        "row_count",
        "age",
        "owner",
        "last_seen",
    )
    list_filter = ("channel_code", "category", "status", "owner", AgeFilter)
    search_fields = ("order_number", "sku", "customer", "title", "key", "rows__label")
    list_select_related = ("owner",)
    actions = ("action_retry_all", "action_assign_to_me", "action_snooze_1h", "action_resolve")
    readonly_fields = (
        "title",
        "category",
        "severity",
        "status",
        "owner",
        "snoozed_until",
        "occurrences",
        "first_seen",
        "last_seen",
        "channel_code",
        "order_number",
        "sku",
        "customer",
        "key",
        "suggested_action",
        "error_pretty",
        "replay_task",
        "replay_kwargs",
        "resolution_note",
        "resolved_at",
        "fingerprint",
    )
    fieldsets = (
        (None, {"fields": ("title", "suggested_action", "category", "severity", "status")}),
        (
            "Business context",
            {"fields": ("channel_code", "order_number", "sku", "customer", "key")},
        ),
        (
            "Triage",
            {
                "fields": (
                    "owner",
                    "snoozed_until",
                    "occurrences",
                    "first_seen",
                    "last_seen",
                    "resolution_note",
                    "resolved_at",
                )
            },
        ),
        ("Error", {"fields": ("error_pretty", "replay_task", "replay_kwargs", "fingerprint")}),
    )
    inlines = (IssueRowInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_rows=Count("rows"))

    @admin.display(description="rows", ordering="_rows")
    def row_count(self, obj):
        return getattr(obj, "_rows", None)

    @admin.display(description="age", ordering="first_seen")
    def age(self, obj):
        return timesince(obj.first_seen)

    @admin.display(description="error")
    def error_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.last_error, indent=2, default=str))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    # --- detail page ----------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        issue = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if issue is not None:
            extra.update(
                show_save=False,
                show_save_and_continue=False,
                show_save_and_add_another=False,
                affected=self._affected(issue),
                can_edit_payload=request.user.has_perm("inbox.edit_payload"),
                can_act=self.has_change_permission(request, issue),
                users=get_user_model().objects.filter(is_staff=True, is_active=True),
                snoozes=list(SNOOZES),
                panels=render_panels(issue, request),
            )
        return super().change_view(request, object_id, form_url, extra)

    def _affected(self, issue: Issue) -> list[dict[str, Any]]:
        out = []
        for issue_row in issue.rows.select_related("content_type")[:200]:
            row = issue_row.row
            out.append(
                {
                    "issue_row": issue_row,
                    "row": row,
                    "payload": _pretty(row.body)
                    if row is not None and hasattr(row, "body")
                    else "",
                    "history": getattr(row, "history", None) or [],
                    "effects": getattr(row, "effects", None) or [],
                    "state": getattr(row, "state", ""),
                    "attempts": getattr(row, "attempts", ""),
                    "url": _admin_url(row),
                }
            )
        return out

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/retry-all/", wrap(self.retry_all_view), name="inbox_issue_retry_all"),
            path(
                "<int:pk>/rows/<int:row_pk>/retry/",
                wrap(self.retry_row_view),
                name="inbox_issue_retry_row",
            ),
            path(
                "<int:pk>/rows/<int:row_pk>/payload/",
                wrap(self.edit_payload_view),
                name="inbox_issue_edit_payload",
            ),
            path("<int:pk>/ignore/", wrap(self.ignore_view), name="inbox_issue_ignore"),
            path("<int:pk>/assign/", wrap(self.assign_view), name="inbox_issue_assign"),
            path("<int:pk>/snooze/", wrap(self.snooze_view), name="inbox_issue_snooze"),
            path("<int:pk>/resolve/", wrap(self.resolve_view), name="inbox_issue_resolve"),
            *super().get_urls(),
        ]

    def _issue_for_action(self, request, pk: int) -> Issue:
        issue = get_object_or_404(Issue, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, issue):
            raise PermissionDenied
        return issue

    def _back(self, issue: Issue) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:inbox_issue_change", args=[issue.pk]))

    def retry_all_view(self, request, pk):
        issue = self._issue_for_action(request, pk)
        n = services.issue_retry_all(issue=issue, user=request.user)
        self.message_user(request, f"Retrying {n} row(s).", messages.SUCCESS)
        return self._back(issue)

    def retry_row_view(self, request, pk, row_pk):
        issue = self._issue_for_action(request, pk)
        issue_row = get_object_or_404(IssueRow, pk=row_pk, issue=issue)
        if services.issue_row_retry(issue_row=issue_row, user=request.user):
            self.message_user(request, f"Retrying {issue_row.label}.", messages.SUCCESS)
        else:
            self.message_user(request, "That row is running right now.", messages.WARNING)
        return self._back(issue)

    def ignore_view(self, request, pk):
        issue = self._issue_for_action(request, pk)
        try:
            services.issue_ignore(
                issue=issue, user=request.user, reason=request.POST.get("reason", "")
            )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
        return self._back(issue)

    def assign_view(self, request, pk):
        issue = self._issue_for_action(request, pk)
        owner_id = request.POST.get("owner") or ""
        owner = get_user_model().objects.filter(pk=owner_id).first() if owner_id else None
        services.issue_assign(issue=issue, user=request.user, owner=owner)
        return self._back(issue)

    def snooze_view(self, request, pk):
        issue = self._issue_for_action(request, pk)
        seconds = SNOOZES.get(request.POST.get("for", ""), SNOOZES["1h"])
        services.issue_snooze(issue=issue, user=request.user, seconds=seconds)
        return self._back(issue)

    def resolve_view(self, request, pk):
        issue = self._issue_for_action(request, pk)
        services.issue_resolve(issue=issue, user=request.user, note=request.POST.get("note", ""))
        return self._back(issue)

    def edit_payload_view(self, request, pk, row_pk):
        issue = get_object_or_404(Issue, pk=pk)
        issue_row = get_object_or_404(IssueRow, pk=row_pk, issue=issue)
        if not request.user.has_perm("inbox.edit_payload"):
            raise PermissionDenied
        row = issue_row.row
        if row is None or not hasattr(row, "body"):
            raise PermissionDenied
        error = ""
        body = _pretty(row.body)
        if request.method == "POST":
            body = request.POST.get("body", "")
            try:
                services.issue_row_payload_edit(issue_row=issue_row, user=request.user, body=body)
            except ValidationError as exc:
                error = "; ".join(exc.messages)
            else:
                self.message_user(request, "Payload saved; retrying.", messages.SUCCESS)
                return self._back(issue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Edit payload of {issue_row.label}",
            "issue": issue,
            "issue_row": issue_row,
            "body": body,
            "error": error,
        }
        return TemplateResponse(request, "inbox/edit_payload.html", context)

    # --- bulk actions on the list ---------------------------------------------------------

    @admin.action(description="Retry all rows of the selected issues", permissions=["change"])
    def action_retry_all(self, request, queryset):
        n = sum(services.issue_retry_all(issue=i, user=request.user) for i in queryset)
        self.message_user(request, f"Retrying {n} row(s).", messages.SUCCESS)

    @admin.action(description="Assign to me", permissions=["change"])
    def action_assign_to_me(self, request, queryset):
        for issue in queryset:
            services.issue_assign(issue=issue, user=request.user, owner=request.user)

    @admin.action(description="Snooze for 1 hour", permissions=["change"])
    def action_snooze_1h(self, request, queryset):
        for issue in queryset:
            services.issue_snooze(issue=issue, user=request.user, seconds=SNOOZES["1h"])

    @admin.action(description="Resolve", permissions=["change"])
    def action_resolve(self, request, queryset):
        for issue in queryset.filter(~Q(status=Status.RESOLVED)):
            services.issue_resolve(issue=issue, user=request.user)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("when", "user", "action", "content_type", "object_repr", "reason")
    list_filter = ("action", "content_type")
    search_fields = ("object_repr", "object_id", "reason", "user__username")
    date_hierarchy = "when"
    readonly_fields = (
        "when",
        "user",
        "action",
        "content_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "reason",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
