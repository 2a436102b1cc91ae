"""Headless channel setup.

    manage.py channel add CODE --kind shopify --api-base-url URL [--secret S] [--access-token T]
                              [--consumer-key K --consumer-secret S] [--warehouse ID ...]
                              [--name N] [--state active|paused|shadow]
                              Magento: [--store-code default] [--client-id ID] [--io-events on|off]
                              [--auth bearer|oauth1] [--access-token-secret S]
    manage.py channel list
    manage.py channel rotate-secret CODE [--secret S] [--overlap-hours 24]
    manage.py channel token create CODE --scopes orders:write,orders:read [--name N]
                                        [--expires-days D]
    manage.py channel token revoke PREFIX
    manage.py channel webhooks CODE [--repair]
    manage.py channel set CODE [--invoicing on_confirm|on_delivery|none] [--pricelist-id ID]
                               [--<any setting> VALUE ...]   (audited, like the admin)
    manage.py channel cutover CODE --at TIME [--dry-run] [--window-hours 24] [--reason R]
    manage.py channel cutover CODE --rollback [--dry-run] [--window-hours 24] [--reason R]
                               (docs/migration.md; audited)

Secrets and tokens are printed once; only their encrypted form / hash is stored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.audit import audit_record, snapshot
from apps.core.errors import PermanentError
from apps.sales_channels.models import Channel
from apps.sales_channels.services import (
    api_token_create,
    api_token_revoke,
    channel_create,
    channel_secret_rotate,
)

WEBHOOKS_CHECK_TASK = "channels.webhooks_check"  # apps.webhooks.tasks
CUTOVER_TASK = "migration.cutover"  # apps.migration.tasks


class Command(BaseCommand):
    help = "Create and list channels, rotate webhook secrets, create and revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a channel")
        add.add_argument("code")
        add.add_argument("--kind", required=True, choices=Channel.Kind.values)
        add.add_argument("--api-base-url", default="")
        add.add_argument("--secret", default=None, help="webhook secret (generated if omitted)")
        add.add_argument("--access-token", default="")
        add.add_argument("--consumer-key", default="")
        add.add_argument("--consumer-secret", default="")
        add.add_argument(
            "--warehouse",
            type=int,
            action="append",
            default=[],
            help="Odoo warehouse id, repeat in priority order",
        )
        add.add_argument("--name", default="")
        add.add_argument("--state", default=Channel.State.ACTIVE, choices=Channel.State.values)
        add.add_argument("--store-code", default="default", help="Magento store view code")
        add.add_argument(
            "--client-id", default="", help="Magento: Adobe I/O Events recipient client id"
        )
        add.add_argument(
            "--io-events",
            choices=["on", "off"],
            default=None,
            help="Magento: Adobe I/O Events on (default: on when --client-id is given)",
        )
        add.add_argument("--auth", choices=Channel.MagentoAuth.values, default="bearer")
        add.add_argument("--access-token-secret", default="", help="Magento OAuth 1.0a only")
        sub.add_parser("list", help="list channels")
        rot = sub.add_parser("rotate-secret", help="add a webhook secret; old ones overlap")
        rot.add_argument("code")
        rot.add_argument("--secret", default=None)
        rot.add_argument("--overlap-hours", type=float, default=24.0)
        tok = sub.add_parser("token", help="API tokens")
        tsub = tok.add_subparsers(dest="token_action", required=True)
        create = tsub.add_parser("create")
        create.add_argument("code")
        create.add_argument("--scopes", required=True)
        create.add_argument("--name", default="")
        create.add_argument("--expires-days", type=float, default=None)
        revoke = tsub.add_parser("revoke")
        revoke.add_argument("prefix")
        hooks = sub.add_parser("webhooks", help="check the channel's webhook subscriptions")
        hooks.add_argument("code")
        hooks.add_argument(
            "--repair",
            action="store_true",
            help="re-register missing subscriptions, re-activate disabled ones",
        )

        cut = sub.add_parser(
            "cutover",
            help="shadow -> active at a watermark, or back (--rollback); docs/migration.md",
        )
        cut.add_argument("code")
        what = cut.add_mutually_exclusive_group(required=True)
        what.add_argument(
            "--at",
            default=None,
            help="the watermark (ISO date-time, naive = UTC): orders created on the channel "
            "from then on are the hub's, older ones stay with the legacy connector",
        )
        what.add_argument(
            "--rollback", action="store_true", help="back to shadow; lists what the hub created"
        )
        cut.add_argument("--dry-run", action="store_true", help="list, change nothing")
        cut.add_argument(
            "--window-hours",
            type=float,
            default=24.0,
            help="list the orders created from this long before the watermark (default 24)",
        )
        cut.add_argument("--reason", default="", help="why, for the audit log")

        setter = sub.add_parser("set", help="change channel settings (audited)")
        setter.add_argument("code")
        setter.add_argument("--reason", default="", help="why, for the audit log")
        for field in settable_fields():
            flag = "--" + field.name.replace("_", "-")
            extra: dict[str, Any] = {"dest": f"set_{field.name}", "default": None}
            if field.choices:
                extra["choices"] = [str(c[0]) for c in field.choices]
            setter.add_argument(flag, help=str(field.help_text or field.verbose_name), **extra)
        # The spelling for the Odoo pricelist.
        setter.add_argument("--pricelist", dest="set_pricelist_id", default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            action = opts["action"]
            if action == "set":
                self._set(opts)
            elif action == "add":
                self._add(opts)
            elif action == "list":
                self._list()
            elif action == "cutover":
                self._cutover(self._channel(opts["code"]).code, opts)
            elif action == "webhooks":
                self._webhooks(self._channel(opts["code"]).code, repair=opts["repair"])
            elif action == "rotate-secret":
                channel = self._channel(opts["code"])
                _, secret = channel_secret_rotate(
                    channel=channel,
                    secret=opts["secret"],
                    overlap=dt.timedelta(hours=opts["overlap_hours"]),
                )
                self.stdout.write(f"new webhook secret for {channel.code} (shown once): {secret}")
                self.stdout.write(f"older secrets stay valid for {opts['overlap_hours']:g} h")
            elif opts["token_action"] == "create":
                channel = self._channel(opts["code"])
                expires = (
                    timezone.now() + dt.timedelta(days=opts["expires_days"])
                    if opts["expires_days"]
                    else None
                )
                token, raw = api_token_create(
                    channel=channel, scopes=opts["scopes"], name=opts["name"], expires_at=expires
                )
                self.stdout.write(f"token for {channel.code} (shown once): {raw}")
                self.stdout.write(f"scopes: {','.join(token.scopes)}")
            else:
                token = api_token_revoke(prefix=opts["prefix"])
                self.stdout.write(f"revoked hub_{token.prefix}_… of {token.channel.code}")
        except PermanentError as exc:
            raise CommandError(str(exc)) from exc

    def _set(self, opts: dict[str, Any]) -> None:
        channel = self._channel(opts["code"])
        values = {
            f.name: opts[f"set_{f.name}"]
            for f in settable_fields()
            if opts.get(f"set_{f.name}") is not None
        }
        if not values:
            raise CommandError("nothing to set: name at least one setting (see --help)")
        with transaction.atomic():
            locked = Channel.objects.select_for_update().get(pk=channel.pk)
            before = snapshot(locked)
            for name, raw in values.items():
                field = next(f for f in settable_fields() if f.name == name)
                try:
                    setattr(locked, name, _parse(field, raw))
                except ValidationError as exc:
                    raise CommandError(f"--{name.replace('_', '-')}: {'; '.join(exc.messages)}")
            try:
                locked.full_clean(exclude=["code"])
            except ValidationError as exc:
                raise CommandError(
                    "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.message_dict.items())
                )
            locked.save(update_fields=[*values, "updated_at"])
            audit_record(
                user=None,
                action="channel.set",
                obj=locked,
                before={k: before.get(k) for k in values},
                after={k: snapshot(locked).get(k) for k in values},
                reason=opts.get("reason") or "manage.py channel set",
            )
        for name in values:
            shown = "(set)" if name in SECRET_FIELDS else getattr(locked, name)
            self.stdout.write(f"{channel.code}: {name} = {shown}")

    def _channel(self, code: str) -> Channel:
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"no channel {code!r}")
        return channel

    def _add(self, opts: dict[str, Any]) -> None:
        channel, secret = channel_create(
            code=opts["code"],
            kind=opts["kind"],
            name=opts["name"],
            api_base_url=opts["api_base_url"],
            state=opts["state"],
            secret=opts["secret"],
            access_token=opts["access_token"],
            consumer_key=opts["consumer_key"],
            consumer_secret=opts["consumer_secret"],
            warehouse_ids=opts["warehouse"],
            **_magento_options(opts),
        )
        self.stdout.write(f"channel {channel.code} ({channel.kind}, {channel.state}) created")
        if secret and not opts["secret"]:
            self.stdout.write(f"webhook secret (shown once): {secret}")
        if channel.has_webhooks:
            self.stdout.write(f"webhook URL path: /webhooks/{channel.kind}/{channel.code}/")

    def _cutover(self, code: str, opts: dict[str, Any]) -> None:
        # The cutover needs the order flow, which sits above this app: it is reached through
        # its task's stable name and run here, in this process (like the webhooks check).
        from celery import current_app

        from apps.core.periodic import discover_jobs

        at = None
        if opts["at"]:
            parsed = parse_datetime(opts["at"])
            if parsed is None:
                raise CommandError(f"--at: not an ISO date-time: {opts['at']!r}")
            at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).isoformat()
        discover_jobs()
        report: dict[str, Any] = current_app.tasks[CUTOVER_TASK](
            channel_code=code,
            at=at,
            rollback=opts["rollback"],
            dry_run=opts["dry_run"],
            window_hours=opts["window_hours"],
            reason=opts["reason"],
        )
        w = self.stdout.write
        move = "rollback to shadow" if opts["rollback"] else "cutover to active"
        w(
            f"{'DRY RUN: ' if opts['dry_run'] else ''}{move} of {code} at watermark "
            f"{report['watermark']}"
        )
        w(f"{'order':<16} {'created (UTC)':<26} {'state':<18} {'owner':<7} action")
        for row in report["orders"]:
            w(
                f"{row['number']:<16} {row['created_at']:<26} {row['state']:<18} "
                f"{row['owner']:<7} {row['action']}"
            )
        if not report["orders"]:
            w("(no orders in flight around the watermark)")
        if report.get("adopted") or report.get("queued"):
            w(
                f"bound to the legacy connector's order: {len(report.get('adopted', []))}; "
                f"queued for the push: {len(report.get('queued', []))}"
            )
        if "hub_created" in report:
            created = report["hub_created"]
            w(
                f"Odoo orders the hub created for {code} ({len(created)}): the legacy connector "
                "must skip these"
            )
            for row in created:
                ids = ",".join(str(i) for i in row["odoo_ids"])
                w(
                    f"  {row['odoo_name'] or '-':<20} ids {ids:<12} {row['number']:<16} "
                    f"{row['reference']}"
                )
        if not opts["dry_run"]:
            w(f"done: channel {code} is {'shadow' if opts['rollback'] else 'active'} (audited)")

    def _webhooks(self, code: str, *, repair: bool) -> None:
        # The check needs the ledger's routing table and the inbox, which sit above this app;
        # it is reached through its task's stable name and run here, in this process.
        from celery import current_app

        from apps.core.periodic import discover_jobs

        discover_jobs()  # imports every app's tasks module, so the task is registered here too
        report: dict[str, Any] = current_app.tasks[WEBHOOKS_CHECK_TASK](
            channel_code=code, repair=repair
        )
        self.stdout.write(f"subscriptions of {code} delivering to {report['url']}")
        self.stdout.write(f"{'topic':<28} {'status':<9} {'id':<14} action")
        for row in report["topics"]:
            self.stdout.write(
                f"{row['topic']:<28} {row['status']:<9} {row['subscription_id'] or '-':<14} "
                f"{row['action'] or '-'}"
            )
        if not report["topics"]:
            # Magento without Adobe I/O Events (or its check unconfigured) says why instead.
            self.stdout.write(report.get("note") or "(the hub handles no topic of this kind)")
        for row in report["extra"]:
            self.stdout.write(f"also ours, not handled: {row['topic']} ({row['status']})")
        for row in report["topics"]:
            if row["foreign"]:
                self.stdout.write(f"{row['topic']} also delivers to: {', '.join(row['foreign'])}")
        unhealthy = [
            r
            for r in report["topics"]
            if r["status"] != "healthy" and r["action"] not in ("created", "reactivated")
        ]
        if unhealthy:
            raise CommandError(
                f"{len(unhealthy)} topic(s) not delivering to the hub"
                + ("" if repair else "; run with --repair")
            )

    def _list(self) -> None:
        now = timezone.now()
        rows = Channel.objects.prefetch_related("warehouses", "secrets", "tokens")
        self.stdout.write(f"{'code':<20} {'kind':<18} {'state':<8} warehouses  secrets tokens")
        for c in rows:
            warehouses = ",".join(str(w.odoo_warehouse_id) for w in c.warehouses.all()) or "-"
            secrets = sum(1 for s in c.secrets.all() if s.is_valid_at(now))
            tokens = sum(1 for t in c.tokens.all() if t.is_usable_at(now))
            self.stdout.write(
                f"{c.code:<20} {c.kind:<18} {c.state:<8} {warehouses:<11} {secrets:<7} {tokens}"
            )


def _magento_options(opts: dict[str, Any]) -> dict[str, Any]:
    if opts["kind"] != Channel.Kind.MAGENTO:
        return {}
    io_events = opts["io_events"]
    return {
        "magento_store_code": opts["store_code"],
        "magento_client_id": opts["client_id"],
        "magento_io_events": bool(opts["client_id"]) if io_events is None else io_events == "on",
        "magento_auth": opts["auth"],
        "access_token_secret": opts["access_token_secret"],
    }


SECRET_FIELDS = {"access_token", "consumer_key", "consumer_secret", "access_token_secret"}
# The cutover watermark moves only with `channel cutover` (it goes with the state and the listing).
NOT_SETTABLE = {"id", "code", "kind", "created_at", "updated_at", "cutover_at"}


def settable_fields() -> list[models.Field[Any, Any]]:
    """Every channel setting `channel set` can change: the concrete, non-relational fields."""
    return [
        f
        for f in Channel._meta.get_fields()
        if isinstance(f, models.Field)
        and f.concrete
        and not f.is_relation
        and f.name not in NOT_SETTABLE
    ]


def _parse(field: models.Field[Any, Any], raw: str) -> Any:
    if isinstance(field, models.BooleanField):
        low = raw.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ValidationError(f"{raw!r} is not on/off")
    if raw == "" and field.null:
        return None
    if isinstance(field, models.JSONField):
        import json

        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValidationError(f"not JSON: {exc}") from exc
    return field.to_python(raw)
