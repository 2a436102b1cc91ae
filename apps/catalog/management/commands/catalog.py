"""``manage.py catalog``: publish a channel's catalog and prices, poll Odoo, B2B price lists.

catalog publish --channel CODE [--prices-only] [--dry-run] [--force] [--no-images]
catalog missing --channel CODE      (Odoo's saleable SKUs the channel has no binding for)
catalog poll
catalog b2b add --channel CODE --partner ID --target GID_OR_GROUP
catalog b2b list [--channel CODE]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.sales_channels.models import Channel


class Command(BaseCommand):
    help = "Publish Odoo's products and prices to a channel; poll Odoo; B2B price lists"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        pub = sub.add_parser("publish", help="publish products, prices and B2B price lists")
        pub.add_argument("--channel", required=True)
        pub.add_argument("--prices-only", action="store_true", help="prices and B2B lists only")
        pub.add_argument("--dry-run", action="store_true", help="print what would be sent")
        pub.add_argument("--force", action="store_true", help="send everything, changed or not")
        pub.add_argument("--no-images", action="store_true")
        miss = sub.add_parser(
            "missing", help="list Odoo's saleable SKUs that have no binding on the channel"
        )
        miss.add_argument("--channel", required=True)
        sub.add_parser("poll", help="read Odoo catalog changes now and mark bound variants")
        b2b = sub.add_parser("b2b", help="B2B price lists")
        b2b_sub = b2b.add_subparsers(dest="b2b_action", required=True)
        add = b2b_sub.add_parser("add")
        add.add_argument("--channel", required=True)
        add.add_argument("--partner", type=int, required=True, help="the account's Odoo company")
        add.add_argument(
            "--target",
            required=True,
            help="Shopify company location gid, or BigCommerce customer group id",
        )
        lst = b2b_sub.add_parser("list")
        lst.add_argument("--channel")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "poll":
            from apps.catalog.detection import catalog_poll

            self.stdout.write(f"marked {catalog_poll()} bound variants")
            return
        if action == "b2b":
            self._b2b(opts)
            return
        channel = self._channel(opts["channel"])
        if action == "missing":
            self._missing(channel)
            return
        try:
            self._publish(channel, opts)
        except HubError as exc:
            raise CommandError(f"{channel.code}: {exc}") from exc

    def _channel(self, code: str) -> Channel:
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"unknown channel {code!r}")
        return channel

    def _publish(self, channel: Channel, opts: dict[str, Any]) -> None:
        from apps.catalog.b2b import publish_b2b
        from apps.catalog.services import publish_prices, publish_products

        dry, force = bool(opts["dry_run"]), bool(opts["force"])
        results: dict[str, Any] = {}
        if not opts["prices_only"] and channel.products_create_missing:
            from apps.catalog.creation import create_missing

            results["create"] = create_missing(channel, dry_run=dry)
        if not opts["prices_only"]:
            results["products"] = publish_products(
                channel, force=force, dry_run=dry, images=not opts["no_images"]
            )
        results["prices"] = publish_prices(channel, force=force, dry_run=dry)
        results["b2b"] = publish_b2b(channel, force=force, dry_run=dry)
        failed = 0
        for name, summary in results.items():
            line = ", ".join(f"{k} {v}" for k, v in summary.as_dict().items())
            self.stdout.write(f"{name}: {line}")
            if dry and summary.skus:
                shown = summary.skus[:50]
                more = len(summary.skus) - len(shown)
                self.stdout.write(
                    f"  would send: {', '.join(shown)}" + (f" (+{more} more)" if more else "")
                )
            failed += summary.failed
        if failed:
            raise CommandError(f"{failed} refused; see the inbox")

    def _missing(self, channel: Channel) -> None:
        from apps.catalog.creation import unbound_variants

        found = unbound_variants(channel)
        for pid, (sku, tmpl) in sorted(found.items(), key=lambda kv: kv[1][0]):
            self.stdout.write(f"{sku}\tproduct {pid}\ttemplate {tmpl}")
        state = "on" if channel.products_create_missing else "off"
        self.stdout.write(
            f"{len(found)} Odoo SKUs without a binding on {channel.code} "
            f"(products_create_missing {state})"
        )

    def _b2b(self, opts: dict[str, Any]) -> None:
        from apps.catalog.models import B2BPriceList

        if opts["b2b_action"] == "add":
            channel = self._channel(opts["channel"])
            if channel.kind not in (Channel.Kind.SHOPIFY, Channel.Kind.BIGCOMMERCE):
                raise CommandError(f"{channel.code}: {channel.kind} has no B2B price lists")
            row, created = B2BPriceList.objects.update_or_create(
                channel=channel,
                target=opts["target"],
                defaults={"odoo_partner_id": opts["partner"]},
            )
            self.stdout.write(f"{'added' if created else 'updated'} {row}")
            return
        qs = B2BPriceList.objects.select_related("channel")
        if opts.get("channel"):
            qs = qs.filter(channel__code=opts["channel"])
        for row in qs:
            self.stdout.write(
                f"{row.channel.code}\t{row.target}\tpartner {row.odoo_partner_id}\t"
                f"pricelist {row.odoo_pricelist_id or '-'}\t{row.external_pricelist_id or '-'}\t"
                f"{len(row.published or {})} prices\t{row.last_error[:80]}"
            )
