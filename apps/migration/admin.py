"""Operator UI for the migration (read-only): the dual-run diffs with their report (rates per
class and per field, links to the orders behind each class), the comparisons with their
differences and the CSV export, the cutovers and rollbacks (filter by channel; the audit log
has their `channel.cutover` / `channel.rollback` entries on the channel), and the adopted
orders. Everything here is written by the commands (docs/migration.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from apps.core.audit import AuditedAdminMixin

from .models import Adoption, Cutover, DiffClass, DiffRun, ShadowDiff, ShadowDifference
from .reports import NOT_COMPARED, diffs_csv


class _ReadOnly(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _diffs_url(run: DiffRun, klass: str) -> str:
    query: dict[str, Any] = {"channel__id__exact": run.channel_id, "klass": klass}
    if run.since:
        query["created_at__gte"] = run.since.isoformat()
    if run.until:
        query["created_at__lt"] = run.until.isoformat()
    return reverse("admin:migration_shadowdiff_changelist") + "?" + urlencode(query)


@admin.register(DiffRun)
class DiffRunAdmin(_ReadOnly):
    list_display = [
        "started_at",
        "channel",
        "since",
        "until",
        "compared",
        "different",
        "missing",
        "extra",
        "not_compared",
        "rpcs",
        "is_clean",
    ]
    list_filter = ["channel", "is_clean"]
    list_select_related = ["channel"]
    readonly_fields = ["report"]
    fields = [
        "channel",
        ("since", "until"),
        ("started_at", "finished_at"),
        ("compared", "matched", "different", "missing", "extra", "not_compared"),
        ("batches", "rpcs"),
        "is_clean",
        "report",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in DiffRun._meta.fields] + ["report"]

    @admin.display(description="Report (the window when the run finished)")
    def report(self, obj: DiffRun) -> SafeString:
        summary = obj.summary or {}
        classes = summary.get("classes") or {}
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}%</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    _diffs_url(obj, name),
                    c.get("label", name),
                    c.get("orders", 0),
                    c.get("rate_pct", "0"),
                    "OVER" if c.get("over") else "",
                    ", ".join(c.get("examples") or ()),
                )
                for name, c in classes.items()
            ),
        )
        fields = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}%</td></tr>",
            (
                (f["field"], f["class"], f["orders"], f["rate_pct"])
                for f in summary.get("fields") or ()
            ),
        )
        return format_html(
            "<p>{} orders; {} not compared (<a href='{}'>list</a>); threshold {}%: <b>{}</b></p>"
            "<table><tr><th>class</th><th>orders</th><th>rate</th><th></th><th>examples</th>"
            "</tr>{}</table><table><tr><th>field</th><th>class</th><th>orders</th><th>rate</th>"
            "</tr>{}</table>",
            summary.get("orders", 0),
            summary.get("not_compared", 0),
            _diffs_url(obj, NOT_COMPARED),
            summary.get("threshold_pct", ""),
            summary.get("verdict", ""),
            rows,
            fields,
        )


class ClassFilter(admin.SimpleListFilter):
    title = "difference class"
    parameter_name = "klass"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(c.value, c.label) for c in DiffClass] + [(NOT_COMPARED, "Not compared")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value == NOT_COMPARED:
            return queryset.filter(outcome=ShadowDiff.Outcome.NOT_COMPARED)
        return queryset.filter(items__klass=value).distinct()


class DifferenceInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ShadowDifference
    extra = 0
    can_delete = False
    fields = readonly_fields = ["klass", "field", "sku", "hub", "odoo", "detail"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShadowDiff)
class ShadowDiffAdmin(_ReadOnly):
    list_display = [
        "number",
        "channel",
        "created_at",
        "odoo_name",
        "outcome",
        "classes_shown",
        "detail",
        "compared_at",
    ]
    list_filter = ["channel", "outcome", ClassFilter, "created_at"]
    search_fields = ["number", "odoo_name", "key", "order__external_id"]
    list_select_related = ["channel"]
    inlines = [DifferenceInline]
    actions = ["export_csv"]
    readonly_fields = [
        "channel",
        "order",
        "run",
        "key",
        "number",
        "odoo_id",
        "odoo_name",
        "outcome",
        "classes",
        "detail",
        "created_at",
        "compared_at",
    ]
    fields = readonly_fields

    @admin.display(description="classes")
    def classes_shown(self, obj: ShadowDiff) -> str:
        return ", ".join(obj.classes or ())

    @admin.action(description="Export the selected comparisons as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[ShadowDiff]) -> HttpResponse:
        klass = request.GET.get("klass", "")
        body = diffs_csv(queryset.order_by("created_at", "id"), klass=klass)
        resp = HttpResponse(body, content_type="text/csv")
        resp["Content-Disposition"] = 'attachment; filename="shadow-diff.csv"'
        return resp


@admin.register(Cutover)
class CutoverAdmin(_ReadOnly):
    list_display = ["performed_at", "channel", "action", "watermark", "actor", "orders_listed"]
    list_filter = ["channel", "action"]
    list_select_related = ["channel"]
    readonly_fields = fields = [
        "channel",
        "action",
        "watermark",
        "actor",
        "reason",
        "performed_at",
        "report",
    ]

    @admin.display(description="orders listed")
    def orders_listed(self, obj: Cutover) -> int:
        return len((obj.report or {}).get("orders") or ())


@admin.register(Adoption)
class AdoptionAdmin(_ReadOnly):
    list_display = ["adopted_at", "channel", "order", "odoo_name", "odoo_id", "key", "actor"]
    list_filter = ["channel"]
    search_fields = ["odoo_name", "key", "order__number", "order__external_id"]
    list_select_related = ["channel", "order"]
    readonly_fields = fields = [
        "channel",
        "order",
        "odoo_id",
        "odoo_name",
        "key",
        "actor",
        "adopted_at",
    ]
