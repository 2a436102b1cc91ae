"""Operator UI: B2B accounts (add an Odoo company to a channel, publish now), consumer account
sync rows (read-only) and privacy requests (read-only; the export of a data request is
downloaded from its page by a user with ``customers.download_export``, and the download is
audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.audit import AuditedAdminMixin, audit_record
from apps.core.errors import HubError

from .models import B2BAccount, CustomerAccount, PrivacyRequest
from .privacy import export_dir


class _ReadOnly(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(B2BAccount)
class B2BAccountAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("channel", "odoo_partner_id", "name", "state", "published_at")
    list_filter = ("channel", "state")
    search_fields = ("name", "odoo_partner_id", "external_company_id")
    readonly_fields = (
        "name",
        "state",
        "external_company_id",
        "external_location_id",
        "customer_group_id",
        "contacts",
        "pricelist_id",
        "published_hash",
        "published_at",
        "last_error",
    )
    actions = ("publish_now",)

    # Pushes companies to the channels: the Integration admin's (change), not every viewer's.
    @admin.action(
        description="Publish the selected accounts now (their channels)", permissions=["change"]
    )
    def publish_now(self, request: HttpRequest, queryset: QuerySet[B2BAccount]) -> None:
        from .b2b import accounts_publish

        for channel in {row.channel for row in queryset.select_related("channel")}:
            try:
                report = accounts_publish(channel, force=True)
            except HubError as exc:  # Odoo or the channel down: say so, not a server error
                self.message_user(request, f"{channel.code}: {exc}", messages.ERROR)
                continue
            audit_record(
                user=request.user, action="b2b_publish", obj=channel, after=report.__dict__
            )
            self.message_user(
                request,
                f"{channel.code}: {report.published} published, {report.failed} failed",
                messages.WARNING if report.failed else messages.SUCCESS,
            )


@admin.register(CustomerAccount)
class CustomerAccountAdmin(_ReadOnly):
    list_display = ("channel", "external_id", "odoo_partner_id", "source_version", "outcome")
    list_filter = ("channel",)
    search_fields = ("external_id",)


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(_ReadOnly):
    list_display = (
        "created_at",
        "channel_code",
        "kind",
        "customer_external_id",
        "state",
        "export_link",
    )
    list_filter = ("channel_code", "kind", "state")
    readonly_fields = ("export_link",)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/export/",
                self.admin_site.admin_view(self.export_download),
                name="customers_privacyrequest_export",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Export")
    def export_link(self, obj: PrivacyRequest) -> str:
        if not obj.export_file:
            return "-"
        url = reverse("admin:customers_privacyrequest_export", args=[obj.pk])
        return format_html('<a href="{}">download</a>', url)

    def export_download(self, request: HttpRequest, pk: int) -> FileResponse:
        if not request.user.has_perm("customers.download_export"):
            raise PermissionDenied
        row = PrivacyRequest.objects.filter(pk=pk).exclude(export_file="").first()
        if row is None:
            raise Http404("no export")
        path_ = (export_dir() / row.export_file).resolve()
        if export_dir().resolve() not in path_.parents or not path_.exists():
            raise Http404("no export")
        audit_record(user=request.user, action="privacy_export_download", obj=row)
        return FileResponse(
            path_.open("rb"), as_attachment=True, filename=f"customer-data-{row.pk}.json"
        )
