"""`manage.py secrets_scan`: no plaintext secret in the database or the logs, no customer e-mail
in a log line (apps/core/secrets_scan.py, docs/security.md). Exit status 1 on any finding."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.secrets_scan import scan


class Command(BaseCommand):
    help = (
        "Scan the whole database and the given log files for plaintext secrets (known ones: "
        "stored, configured, planted; and by pattern) and log lines for customer e-mails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--logs",
            action="append",
            default=[],
            metavar="PATH",
            help="a log file, or a directory whose *.log / *.jsonl / *.out / *.err files are "
            "scanned recursively (repeatable)",
        )
        parser.add_argument(
            "--planted",
            action="append",
            default=[],
            metavar="FILE",
            help='JSON lines {"kind", "value", "source"} of secrets a test or a chaos run '
            "planted: each must be found nowhere (repeatable)",
        )
        parser.add_argument("--no-db", action="store_true", help="scan the logs only")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        report = scan(logs=opts["logs"], planted=opts["planted"], database=not opts["no_db"])
        if opts["json"]:
            self.stdout.write(json.dumps(asdict(report) | {"ok": report.ok}, indent=2))
        else:
            self.stdout.write(report.summary())
        if not report.ok:
            raise CommandError(f"{len(report.findings)} plaintext secret(s) or e-mail(s) found")
