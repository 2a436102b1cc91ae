"""Partner webhooks from the shell: endpoints, tests, resends and recovery.

    manage.py events endpoints                                  list, with health
    manage.py events add URL --types order.accepted,order.held [--channel b2b] [--ordered]
    manage.py events test ENDPOINT                              send a hub.ping now
    manage.py events resend MESSAGE_ID                          one message again, now
    manage.py events recover ENDPOINT --since 2026-12-01T00:00 [--dry-run]
    manage.py events enable|disable|pause ENDPOINT
    manage.py events rotate ENDPOINT                            new secret (old one signs 24 h)
    manage.py events purge [--days 30]

ENDPOINT is its id (ep_…) or its database number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.errors import HubError
from apps.events import services
from apps.events.models import WebhookEndpoint, WebhookMessage
from apps.sales_channels.models import Channel

ACTOR = "cli"


def _when(value: str) -> datetime:
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well formed but impossible, e.g. month 13
        parsed = None
    if parsed is None:
        raise CommandError(f"not an ISO date-time: {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _endpoint(ref: str) -> WebhookEndpoint:
    q = Q(uid=ref) | (Q(pk=int(ref)) if ref.isdigit() else Q())
    ep = WebhookEndpoint.objects.filter(q).select_related("channel").first()
    if ep is None:
        raise CommandError(f"no endpoint {ref!r}")
    return ep


class Command(BaseCommand):
    help = "Manage partner webhook endpoints: list, add, test, resend, recover, enable, rotate."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("endpoints")
        add = sub.add_parser("add")
        add.add_argument("url")
        add.add_argument("--types", required=True, help="comma-separated event types, or *")
        add.add_argument("--channel", default="", help="only this channel's events")
        add.add_argument("--ordered", action="store_true")
        add.add_argument("--description", default="")
        for name in ("test", "enable", "disable", "pause", "rotate"):
            sub.add_parser(name).add_argument("endpoint")
        sub.add_parser("resend").add_argument("message", type=int)
        rec = sub.add_parser("recover")
        rec.add_argument("endpoint")
        rec.add_argument("--since", required=True, help="ISO date-time")
        rec.add_argument("--dry-run", action="store_true")
        purge = sub.add_parser("purge")
        purge.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, "_" + opts["action"])(opts)
        except HubError as exc:
            raise CommandError(str(exc)) from exc

    def _endpoints(self, opts: dict[str, Any]) -> None:
        for ep in WebhookEndpoint.objects.select_related("channel").order_by("id"):
            stats = services.endpoint_stats(ep)
            rate = "-" if stats["success_rate"] is None else f"{stats['success_rate']:.1%}"
            self.stdout.write(
                f"{ep.uid}  {ep.state:8}  {ep.channel.code if ep.channel else '*':10}  "
                f"ok24h={rate:>6}  backlog={stats['backlog']:<6} {ep.url}"
                + (f"  last error: {ep.last_error}" if ep.last_error else "")
            )

    def _add(self, opts: dict[str, Any]) -> None:
        channel = None
        if opts["channel"]:
            channel = Channel.objects.filter(code=opts["channel"]).first()
            if channel is None:
                raise CommandError(f"no channel {opts['channel']!r}")
        ep, secret = services.endpoint_create(
            url=opts["url"],
            event_types=[t.strip() for t in opts["types"].split(",") if t.strip()],
            channel=channel,
            ordered=opts["ordered"],
            description=opts["description"],
            actor=ACTOR,
        )
        self.stdout.write(f"endpoint {ep.uid} created; its secret (shown once): {secret}")

    def _test(self, opts: dict[str, Any]) -> None:
        out = services.endpoint_send_test(endpoint=_endpoint(opts["endpoint"]), actor=ACTOR)
        self._outcome(out)

    def _resend(self, opts: dict[str, Any]) -> None:
        msg = WebhookMessage.objects.filter(pk=opts["message"]).first()
        if msg is None:
            raise CommandError(f"no message {opts['message']}")
        self._outcome(services.message_resend(message=msg, actor=ACTOR))

    def _outcome(self, out: Any) -> None:
        if out.success:
            self.stdout.write(f"delivered: HTTP {out.status} in {out.latency_ms} ms")
        else:
            raise CommandError(
                f"not delivered: {out.error_class or out.status} {out.excerpt[:200]}".strip()
            )

    def _recover(self, opts: dict[str, Any]) -> None:
        ep = _endpoint(opts["endpoint"])
        result = services.endpoint_recover(
            endpoint=ep, since=_when(opts["since"]), actor=ACTOR, dry_run=opts["dry_run"]
        )
        verb = "would send" if opts["dry_run"] else "queued"
        self.stdout.write(
            f"{ep.uid}: {verb} {result.requeued} failed and {result.created} missed messages"
        )

    def _enable(self, opts: dict[str, Any]) -> None:
        services.endpoint_enable(endpoint=_endpoint(opts["endpoint"]), actor=ACTOR)
        self.stdout.write("enabled; recover what it missed with: events recover … --since …")

    def _disable(self, opts: dict[str, Any]) -> None:
        n = services.endpoint_disable(
            endpoint=_endpoint(opts["endpoint"]), reason="disabled from the CLI", actor=ACTOR
        )
        self.stdout.write(f"disabled; {n} waiting messages failed (recoverable)")

    def _pause(self, opts: dict[str, Any]) -> None:
        services.endpoint_pause(endpoint=_endpoint(opts["endpoint"]), actor=ACTOR)
        self.stdout.write("paused; messages wait until it is enabled")

    def _rotate(self, opts: dict[str, Any]) -> None:
        secret = services.endpoint_secret_rotate(endpoint=_endpoint(opts["endpoint"]), actor=ACTOR)
        self.stdout.write(f"new secret (shown once; the old one signs for 24 h): {secret}")

    def _purge(self, opts: dict[str, Any]) -> None:
        self.stdout.write(f"purged {services.events_purge(days=opts['days'])} events")
