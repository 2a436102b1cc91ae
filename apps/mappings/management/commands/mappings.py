"""Bindings and value maps from the command line.

manage.py mappings import FILE --channel CODE [--dry-run]
manage.py mappings export --channel CODE [--output FILE]
manage.py mappings automap --channel CODE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.mappings.services import mappings_export_csv, mappings_import_csv, products_automap
from apps.sales_channels.clients import channel_catalog
from apps.sales_channels.models import Channel


class Command(BaseCommand):
    help = "Import/export mappings as CSV; auto-map products by SKU."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import")
        imp.add_argument("file")
        imp.add_argument("--channel", required=True)
        imp.add_argument("--dry-run", action="store_true")
        exp = sub.add_parser("export")
        exp.add_argument("--channel", required=True)
        exp.add_argument("--output", default="-")
        auto = sub.add_parser("automap")
        auto.add_argument("--channel", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = Channel.objects.filter(code=opts["channel"]).first()
        if channel is None:
            raise CommandError(f"no channel {opts['channel']!r}")
        try:
            getattr(self, f"_{opts['action']}")(channel, opts)
        except HubError as exc:
            raise CommandError(str(exc)) from exc

    def _import(self, channel: Channel, opts: dict[str, Any]) -> None:
        text = Path(opts["file"]).read_text(encoding="utf-8")
        report = mappings_import_csv(channel=channel, text=text, dry_run=opts["dry_run"])
        for change in report.changes:
            self.stdout.write(f"  {change}")
        for error in report.errors:
            self.stderr.write(f"  {error}")
        self.stdout.write(report.summary())
        if report.errors:
            raise CommandError("nothing was imported: fix the errors above")

    def _export(self, channel: Channel, opts: dict[str, Any]) -> None:
        if opts["output"] == "-":
            mappings_export_csv(channel=channel, out=self.stdout)
            return
        with open(opts["output"], "w", encoding="utf-8", newline="") as fh:
            count = mappings_export_csv(channel=channel, out=fh)
        self.stderr.write(f"{count} row(s) written to {opts['output']}")

    def _automap(self, channel: Channel, opts: dict[str, Any]) -> None:
        from apps.odoo.gateway import get_gateway

        gateway = get_gateway()
        catalog = channel_catalog(channel=channel)
        report = products_automap(
            channel=channel,
            catalog=catalog,
            resolve_skus=lambda skus: gateway.products_ids(skus=skus, by="default_code").ids,
        )
        self.stdout.write(
            f"{len(catalog)} catalog item(s): bound {report.bound}, already bound "
            f"{report.already_bound}, unmapped {len(report.unmapped)}, "
            f"without SKU {len(report.without_sku)}"
        )
        for item in report.unmapped:
            self.stdout.write(f"  unmapped SKU {item.sku}  (id {item.external_id}, {item.name})")
        for item in report.without_sku:
            self.stdout.write(f"  no SKU: id {item.external_id} {item.name}")
        sys.stdout.flush()
