"""Bindings and value maps in the admin, with CSV import (preview first) and export."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.core.audit import AuditedAdminMixin, audit_record
from apps.sales_channels.models import Channel

from .models import Binding, ValueMap
from .services import CSV_COLUMNS, mappings_export_rows, mappings_import_csv

MAX_CSV_BYTES = 5 * 1024 * 1024


class CsvImportForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.all(), to_field_name="code")
    file = forms.FileField(required=False, help_text=f"Columns: {', '.join(CSV_COLUMNS)}")
    # Carries the uploaded text from the preview to the confirmation, so the file is not re-sent.
    text = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_CSV_BYTES:
                raise forms.ValidationError("the file is larger than 5 MB")
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("the file is not UTF-8 text")
        if not data.get("text"):
            raise forms.ValidationError("choose a CSV file")
        return data


class CsvAdminMixin:
    """Adds "Import CSV" (dry-run preview, then confirm) and an "Export CSV" action."""

    change_list_template = "admin/mappings/change_list_csv.html"

    def get_urls(self) -> list[Any]:
        urls = super().get_urls()  # type: ignore[misc]
        info = self.model._meta.app_label, self.model._meta.model_name  # type: ignore[attr-defined]
        return [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv),  # type: ignore[attr-defined]
                name="{}_{}_import_csv".format(*info),
            ),
            *urls,
        ]

    def import_csv(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            return HttpResponse(status=403)
        form = CsvImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            channel = form.cleaned_data["channel"]
            confirm = "confirm" in request.POST
            report = mappings_import_csv(
                channel=channel, text=form.cleaned_data["text"], dry_run=not confirm
            )
            if confirm and report.ok:
                audit_record(
                    user=request.user,
                    action="mappings_import",
                    obj=channel,
                    after={"summary": report.summary(), "changes": report.changes[:500]},
                )
                messages.success(request, f"{channel.code}: {report.summary()}")
                opts = self.model._meta  # type: ignore[attr-defined]
                return redirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
            form = CsvImportForm(
                initial={"channel": channel.code, "text": form.cleaned_data["text"]}
            )
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "title": "Import mappings from CSV",
            "form": form,
            "report": report,
        }
        return TemplateResponse(request, "admin/mappings/import_csv.html", context)

    @admin.action(description="Export the selected rows' channels as CSV")
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=("channel", *CSV_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for channel in Channel.objects.filter(pk__in=queryset.values("channel")):
            for row in mappings_export_rows(channel=channel):
                writer.writerow({"channel": channel.code, **row})
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="mappings.csv"'
        return response


@admin.register(Binding)
class BindingAdmin(AuditedAdminMixin, CsvAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "channel",
        "kind",
        "external_id",
        "external_code",
        "odoo_model",
        "odoo_id",
        "updated_at",
    )
    list_filter = ("channel", "kind", "odoo_model")
    search_fields = ("external_id", "external_code", "=odoo_id")
    list_select_related = ("channel",)
    actions = ["export_csv"]


@admin.register(ValueMap)
class ValueMapAdmin(AuditedAdminMixin, CsvAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("channel", "kind", "channel_value", "odoo_model", "odoo_value", "updated_at")
    list_filter = ("channel", "kind")
    search_fields = ("channel_value", "odoo_value")
    list_select_related = ("channel",)
    actions = ["export_csv"]
