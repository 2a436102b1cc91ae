"""Re-run recorded inbound events through their handler (the same idempotent path)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.ledger.services import events_replay


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"not an ISO date-time: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


class Command(BaseCommand):
    help = "Replay recorded InboundEvents, singly or by filter; --dry-run says what would happen."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", default="")
        parser.add_argument("--topic", default="")
        parser.add_argument("--since", help="ISO date-time (inclusive)")
        parser.add_argument("--until", help="ISO date-time (exclusive)")
        parser.add_argument("--event", type=int, nargs="+", default=[], dest="events")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not (opts["channel"] or opts["topic"] or opts["since"] or opts["events"]):
            raise CommandError("give at least one of --channel, --topic, --since or --event")
        lines = events_replay(
            channel_code=opts["channel"],
            topic=opts["topic"],
            since=_when(opts["since"]),
            until=_when(opts["until"]),
            event_ids=opts["events"],
            dry_run=opts["dry_run"],
        )
        for line in lines:
            self.stdout.write(f"event {line.event_id}: {line.text}")
        verb = "would replay" if opts["dry_run"] else "requeued"
        self.stdout.write(f"{verb} {sum(1 for ln in lines if ln.requeued or opts['dry_run'])}")
