"""Writes for bindings and value maps: CSV import (with dry run), export, SKU auto-mapping."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import transaction

from apps.sales_channels.clients import CatalogItem
from apps.sales_channels.models import Channel

from .models import Binding, ValueMap

logger = logging.getLogger(__name__)

CSV_COLUMNS = ("record", "kind", "channel_value", "odoo_model", "odoo_value", "external_code")
DEFAULT_ODOO_MODEL = {
    Binding.Kind.PRODUCT: "product.product",
    Binding.Kind.CUSTOMER: "res.partner",
    Binding.Kind.ORDER: "sale.order",
    Binding.Kind.WAREHOUSE: "stock.warehouse",
}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False
    changes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        mode = "dry run: would have " if self.dry_run else ""
        return (
            f"{mode}created {self.created}, updated {self.updated}, unchanged "
            f"{self.unchanged}, errors {len(self.errors)}"
        )


class _Rollback(Exception):
    pass


def mappings_import(
    *, channel: Channel, rows: Iterable[dict[str, str]], dry_run: bool = False
) -> ImportReport:
    """Upsert bindings and value maps from CSV rows (see CSV_COLUMNS and docs/channels.md).

    All or nothing: any invalid row means nothing is written, and the report lists every error
    with its line number. A dry run does the same work inside a transaction that is rolled back,
    so its report is exactly what a real import would do.
    """
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            for line, row in enumerate(rows, start=2):  # line 1 is the header
                try:
                    _import_row(channel, row, report)
                except ValueError as exc:
                    report.errors.append(f"line {line}: {exc}")
            if report.errors or dry_run:
                raise _Rollback
    except _Rollback:
        pass
    if report.errors and not dry_run:
        report.created = report.updated = report.unchanged = 0
        report.changes = []
    logger.info("mappings import for %s: %s", channel.code, report.summary())
    return report


def _import_row(channel: Channel, row: dict[str, str], report: ImportReport) -> None:
    record = (row.get("record") or "").strip().lower()
    kind = (row.get("kind") or "").strip().lower()
    value = (row.get("channel_value") or "").strip()
    odoo_model = (row.get("odoo_model") or "").strip()
    odoo_value = (row.get("odoo_value") or "").strip()
    if not value:
        raise ValueError("channel_value is empty")
    if not odoo_value:
        raise ValueError("odoo_value is empty")
    if record == "binding":
        if kind not in Binding.Kind.values:
            raise ValueError(
                f"binding kind {kind!r} is not one of {', '.join(Binding.Kind.values)}"
            )
        if not odoo_value.isdigit() or int(odoo_value) <= 0:
            raise ValueError(f"odoo_value {odoo_value!r} must be an Odoo record id")
        defaults = {
            "odoo_model": odoo_model or DEFAULT_ODOO_MODEL[Binding.Kind(kind)],
            "odoo_id": int(odoo_value),
            "external_code": (row.get("external_code") or "").strip(),
        }
        existing = Binding.objects.filter(channel=channel, kind=kind, external_id=value).first()
        _count(
            report,
            existing,
            defaults,
            f"binding {kind} {value} → {defaults['odoo_model']},{odoo_value}",
        )
        Binding.objects.update_or_create(
            channel=channel, kind=kind, external_id=value, defaults=defaults
        )
    elif record == "value":
        if kind not in ValueMap.Kind.values:
            raise ValueError(f"value kind {kind!r} is not one of {', '.join(ValueMap.Kind.values)}")
        defaults = {"odoo_model": odoo_model, "odoo_value": odoo_value}
        vexisting = ValueMap.objects.filter(channel=channel, kind=kind, channel_value=value).first()
        _count(report, vexisting, defaults, f"value {kind} {value!r} → {odoo_value!r}")
        ValueMap.objects.update_or_create(
            channel=channel, kind=kind, channel_value=value, defaults=defaults
        )
    else:
        raise ValueError(f"record must be 'binding' or 'value', not {record!r}")


def _count(report: ImportReport, existing: Any, defaults: dict[str, Any], what: str) -> None:
    if existing is None:
        report.created += 1
        report.changes.append(f"create {what}")
    elif any(getattr(existing, k) != v for k, v in defaults.items()):
        report.updated += 1
        report.changes.append(f"update {what}")
    else:
        report.unchanged += 1


def mappings_import_csv(*, channel: Channel, text: str, dry_run: bool = False) -> ImportReport:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [
        c
        for c in ("record", "kind", "channel_value", "odoo_value")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        return ImportReport(
            dry_run=dry_run, errors=[f"line 1: missing column(s) {', '.join(missing)}"]
        )
    return mappings_import(channel=channel, rows=reader, dry_run=dry_run)


def mappings_export_rows(*, channel: Channel) -> Iterator[dict[str, str]]:
    for b in Binding.objects.filter(channel=channel).order_by("kind", "external_id").iterator():
        yield {
            "record": "binding",
            "kind": b.kind,
            "channel_value": b.external_id,
            "odoo_model": b.odoo_model,
            "odoo_value": str(b.odoo_id),
            "external_code": b.external_code,
        }
    for v in ValueMap.objects.filter(channel=channel).order_by("kind", "channel_value").iterator():
        yield {
            "record": "value",
            "kind": v.kind,
            "channel_value": v.channel_value,
            "odoo_model": v.odoo_model,
            "odoo_value": v.odoo_value,
            "external_code": "",
        }


def mappings_export_csv(*, channel: Channel, out: io.TextIOBase | Any) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in mappings_export_rows(channel=channel):
        writer.writerow(row)
        count += 1
    return count


class SkuResolver(Protocol):
    def __call__(self, skus: Sequence[str]) -> dict[str, int]: ...


@dataclass
class AutomapReport:
    bound: int = 0
    already_bound: int = 0
    unmapped: list[CatalogItem] = field(default_factory=list)
    without_sku: list[CatalogItem] = field(default_factory=list)


def products_automap(
    *, channel: Channel, catalog: Sequence[CatalogItem], resolve_skus: SkuResolver
) -> AutomapReport:
    """Bind every catalog item whose SKU is an Odoo default_code; one batched Odoo lookup.

    Existing bindings are left alone (a person may have bound a variant by hand to another
    product); the report lists what could not be bound so it can be fixed in Odoo or by CSV.
    """
    report = AutomapReport()
    with_sku = [item for item in catalog if item.sku]
    report.without_sku = [item for item in catalog if not item.sku]
    ids = resolve_skus(sorted({item.sku for item in with_sku})) if with_sku else {}
    existing = set(
        Binding.objects.filter(
            channel=channel,
            kind=Binding.Kind.PRODUCT,
            external_id__in=[i.external_id for i in with_sku],
        ).values_list("external_id", flat=True)
    )
    new = []
    for item in with_sku:
        if item.external_id in existing:
            report.already_bound += 1
        elif item.sku in ids:
            new.append(
                Binding(
                    channel=channel,
                    kind=Binding.Kind.PRODUCT,
                    external_id=item.external_id,
                    external_code=item.sku,
                    odoo_model="product.product",
                    odoo_id=ids[item.sku],
                )
            )
        else:
            report.unmapped.append(item)
    # ignore_conflicts: a concurrent automap or import that bound the same variant wins.
    Binding.objects.bulk_create(new, ignore_conflicts=True)
    report.bound = len(new)
    logger.info(
        "automap %s: bound %d, already %d, unmapped %d, no sku %d",
        channel.code,
        report.bound,
        report.already_bound,
        len(report.unmapped),
        len(report.without_sku),
    )
    return report
