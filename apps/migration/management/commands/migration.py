"""The dual-run diff and its report (docs/migration.md).

    manage.py migration diff --channel CODE [--since DATE] [--until DATE] [--csv FILE]
                             [--class CLASS] [--json] [--strict]
    manage.py migration report --channel CODE [--since DATE] [--until DATE] [--csv FILE]
                               [--class CLASS] [--json] [--strict]

`diff` compares (reads Odoo, writes nothing there) and then reports; `report` only reports
what the last comparisons stored. The report: mismatch rate per class and per field over the
window, the orders behind each class, the verdict against the channel's threshold. `--csv`
writes one line per difference; `--class` narrows the orders (and the CSV) to one class;
`--strict` exits with status 1 when the dual run is not clean.
Adoption of the legacy connector's orders is `manage.py orders adopt`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.migration.models import DiffClass
from apps.migration.reports import NOT_COMPARED, diff_csv, diff_report, orders_of_class
from apps.migration.services import diff_run

from ._common import channel_of, when

SHOWN = 10


class Command(BaseCommand):
    help = "Dual-run diff against the legacy connector, and its report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (
            ("diff", "compare the channel's shadow orders with Odoo, then report"),
            ("report", "report the stored comparisons (no Odoo call)"),
        ):
            p = sub.add_parser(name, help=text)
            p.add_argument("--channel", required=True)
            p.add_argument("--since", default=None, help="orders created from (ISO date/time)")
            p.add_argument("--until", default=None, help="... and before (ISO date/time)")
            p.add_argument("--csv", default=None, help="write the differences to this file")
            p.add_argument(
                "--class",
                dest="klass",
                default="",
                choices=["", *DiffClass.values, NOT_COMPARED],
                help="list every order of this class (and only it in the CSV)",
            )
            p.add_argument("--json", action="store_true", help="print the report as JSON")
            p.add_argument("--strict", action="store_true", help="exit 1 unless clean")

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = channel_of(opts["channel"])
        since, until = when(opts["since"], "--since"), when(opts["until"], "--until")
        if opts["action"] == "diff":
            try:
                run = diff_run(channel=channel, since=since, until=until)
            except HubError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"compared {run.compared} hub orders of {channel.code} in {run.batches} "
                f"batch(es), {run.rpcs} Odoo calls: {run.matched} same, {run.different} "
                f"different, {run.missing} missing in Odoo, {run.extra} extra in Odoo, "
                f"{run.not_compared} not compared"
            )
        report = diff_report(channel=channel, since=since, until=until)
        if opts["csv"]:
            Path(opts["csv"]).write_text(
                diff_csv(channel=channel, since=since, until=until, klass=opts["klass"])
            )
            self.stdout.write(f"differences written to {opts['csv']}")
        if opts["json"]:
            self.stdout.write(json.dumps(report, indent=1))
        else:
            self._print(channel, report, opts["klass"], since, until)
        if opts["strict"] and not report["clean"]:
            raise CommandError(f"dual run of {channel.code} is {report['verdict']}")

    def _print(
        self, channel: Any, report: dict[str, Any], klass: str, since: Any, until: Any
    ) -> None:
        w = self.stdout.write
        w(
            f"window {report['since'] or 'start'} .. {report['until'] or 'now'}: "
            f"{report['orders']} orders ({report['matched']} same, {report['different']} "
            f"different, {report['missing']} missing, {report['extra']} extra), "
            f"{report['not_compared']} not compared ({report['not_compared_pct']}%)"
        )
        w(f"{'class':<10} {'orders':>7} {'rate %':>8}  examples")
        for name, c in report["classes"].items():
            flag = "  OVER" if c["over"] else ""
            w(f"{name:<10} {c['orders']:>7} {c['rate_pct']:>8}  {', '.join(c['examples'])}{flag}")
        if report["fields"]:
            w(f"{'field':<26} {'class':<10} {'orders':>7} {'rate %':>8}")
            for f in report["fields"]:
                w(f"{f['field']:<26} {f['class']:<10} {f['orders']:>7} {f['rate_pct']:>8}")
        classes = [klass] if klass else [*report["over"]]
        for name in classes:
            rows = orders_of_class(channel=channel, klass=name, since=since, until=until)
            shown = rows if klass else rows[:SHOWN]
            w(f"orders with {name} ({rows.count()}):")
            for d in shown.prefetch_related("items"):
                items = [i for i in d.items.all() if i.klass == name]
                what = "; ".join(
                    f"{i.field}{' ' + i.sku if i.sku else ''}: hub {i.hub or '-'} / "
                    f"Odoo {i.odoo or '-'}"
                    for i in items[:3]
                )
                w(f"  {d.number or '-':<14} {d.odoo_name or '-':<12} {what or d.detail}")
        w(f"threshold {report['threshold_pct']}%: {report['verdict']}")
