"""Adopting the legacy connector's open sale orders (docs/migration.md).

    manage.py orders adopt --channel CODE --since DATE [--until DATE] [--dry-run] [--json]

Binds each confirmed, open Odoo sale order the legacy connector made for the channel (found by
the channel's match rule) to the hub order it names; writes nothing to Odoo. Idempotent. Prints
what it adopted, what was adopted already, and what it could not match, both ways.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.migration.services import orders_adopt
from apps.sales_channels.models import Channel

from ._common import channel_of, when


class Command(BaseCommand):
    help = "Orders: adopt the legacy connector's open sale orders."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        adopt = sub.add_parser("adopt", help="bind the legacy connector's open orders")
        adopt.add_argument("--channel", required=True)
        adopt.add_argument("--since", required=True, help="Odoo order date from (ISO date/time)")
        adopt.add_argument("--until", default=None)
        adopt.add_argument("--dry-run", action="store_true", help="say what would be bound")
        adopt.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = channel_of(opts["channel"])
        since = when(opts["since"], "--since")
        assert since is not None
        try:
            report = orders_adopt(
                channel=channel,
                since=since,
                until=when(opts["until"], "--until"),
                dry_run=opts["dry_run"],
            )
        except HubError as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=1))
            return
        w = self.stdout.write
        verb = "would adopt" if opts["dry_run"] else "adopted"
        w(
            f"{channel.code}: {verb} {len(report.adopted)}, already adopted "
            f"{len(report.already)}, could not match {len(report.unmatched)} Odoo order(s); "
            f"{len(report.hub_only)} hub order(s) without a legacy order ({report.rpcs} Odoo calls)"
        )
        for title, rows in (
            (verb, report.adopted),
            ("not matched (Odoo)", report.unmatched),
            ("not matched (hub)", report.hub_only),
        ):
            for r in rows:
                w(
                    f"  {title:<18} {r['odoo_name'] or '-':<12} {r['order'] or '-':<14} "
                    f"{r['match'] or '-':<16} {r['why']}"
                )
        if channel.state == Channel.State.SHADOW and report.adopted:
            w(
                "note: the channel is in shadow, so the hub only records what happens to these "
                "orders until the cutover (manage.py channel cutover)"
            )
