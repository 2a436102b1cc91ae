"""Stock publication from the command line.

manage.py inventory sync --channel CODE        push the current ATP of every bound SKU (initial
                                               sync of a new channel), with a progress bar
manage.py inventory reconcile --channel CODE [--no-repair]
                                               compare the channel with ATP, repair drift,
                                               report SKUs unknown to Odoo
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from apps.core.errors import HubError
from apps.inventory.reconcile import reconcile_channel
from apps.inventory.services import publish_channel
from apps.sales_channels.models import Channel


class ProgressBar:
    """A plain text bar on one line of stderr: ``[#####.....]  500/1000 SKUs  12.3s``."""

    def __init__(self, out: OutputWrapper, width: int = 30) -> None:
        self.out = out
        self.width = width
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = self.width if total <= 0 else int(self.width * min(done, total) / total)
        elapsed = time.monotonic() - self.started
        bar = "#" * filled + "." * (self.width - filled)
        self.out.write(f"\r[{bar}] {done:>7}/{total} SKUs {elapsed:6.1f}s", ending="")
        self.out.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.out.write("")


class Command(BaseCommand):
    help = "Initial stock sync of a channel, and on-demand reconciliation."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sync = sub.add_parser("sync", help="publish the current ATP of every bound SKU")
        sync.add_argument("--channel", required=True)
        rec = sub.add_parser("reconcile", help="compare the channel with ATP and repair drift")
        rec.add_argument("--channel", required=True)
        rec.add_argument("--no-repair", action="store_true", help="only report the drift")

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = Channel.objects.filter(code=opts["channel"]).first()
        if channel is None:
            raise CommandError(f"no channel {opts['channel']!r}")
        try:
            getattr(self, f"_{opts['action']}")(channel, opts)
        except HubError as exc:
            raise CommandError(str(exc)) from exc

    def _sync(self, channel: Channel, opts: dict[str, Any]) -> None:
        if channel.state == Channel.State.PAUSED:
            raise CommandError(f"channel {channel.code} is paused: resume it before a sync")
        bar = ProgressBar(self.stderr)
        try:
            summary = publish_channel(channel, force=True, progress=bar)
        finally:
            bar.close()
        self.stdout.write(
            f"{channel.code}: checked {summary.checked}, published {summary.published}, "
            f"failed {summary.failed}, channel calls {summary.calls}"
        )
        if summary.failed:
            raise CommandError(f"{summary.failed} SKUs were not accepted: see the inbox")

    def _reconcile(self, channel: Channel, opts: dict[str, Any]) -> None:
        run = reconcile_channel(channel=channel, repair=not opts["no_repair"])
        for item in run.details:
            self.stdout.write(
                f"  {item['sku']}: channel {item['channel_qty']}, ATP {item['atp']} "
                f"-> {item['action']}"
            )
        self.stdout.write(
            f"{channel.code}: run {run.pk}, checked {run.checked}, mismatches {run.mismatches}, "
            f"repaired {run.repaired}, unknown SKUs {run.unknown_skus}"
        )
