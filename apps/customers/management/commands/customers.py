"""manage.py customers — B2B accounts and privacy requests (docs/customers.md).

    customers b2b add CODE --partner ID [--partner ID ...]
    customers b2b list CODE
    customers b2b publish CODE [--force]
    customers redact CODE [--customer-id ID ...] [--email E ...] [--order ID ...]
    customers export CODE [--customer-id ID ...] [--email E ...] [--order ID ...]

``redact`` and ``export`` are the erasure and access paths for channels without privacy
webhooks (WooCommerce, BigCommerce, the B2B API) and for requests that reach the merchant
another way; they do exactly what the Shopify webhooks do.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.sales_channels.models import Channel

from ...b2b import accounts_publish
from ...models import B2BAccount, PrivacyRequest
from ...privacy import data_export, redact
from ...redaction import Subject


class Command(BaseCommand):
    help = "B2B accounts and privacy requests"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        b2b = sub.add_parser("b2b")
        b2b_sub = b2b.add_subparsers(dest="b2b_action", required=True)
        add = b2b_sub.add_parser("add")
        add.add_argument("code")
        add.add_argument("--partner", type=int, action="append", required=True)
        lst = b2b_sub.add_parser("list")
        lst.add_argument("code")
        pub = b2b_sub.add_parser("publish")
        pub.add_argument("code")
        pub.add_argument("--force", action="store_true")
        for name in ("redact", "export"):
            p = sub.add_parser(name)
            p.add_argument("code")
            p.add_argument("--customer-id", action="append", default=[])
            p.add_argument("--email", action="append", default=[])
            p.add_argument("--order", action="append", default=[])

    def _channel(self, code: str) -> Channel:
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise CommandError(f"no channel {code!r}")
        return channel

    def handle(self, *args: Any, **opts: Any) -> None:
        channel = self._channel(opts["code"])
        if opts["action"] == "b2b":
            self._b2b(channel, opts)
            return
        subject = Subject(
            channel_code=channel.code,
            customer_ids={str(c) for c in opts["customer_id"]},
            emails={e.strip().lower() for e in opts["email"]},
            order_ids={str(o) for o in opts["order"]},
        )
        if not (subject.customer_ids or subject.emails or subject.order_ids):
            raise CommandError("name the customer: --customer-id, --email or --order")
        kind = (
            PrivacyRequest.Kind.REDACT
            if opts["action"] == "redact"
            else PrivacyRequest.Kind.DATA_REQUEST
        )
        request = PrivacyRequest.objects.create(
            channel_code=channel.code,
            kind=kind,
            request_id="manage.py",
            customer_external_id=sorted(subject.customer_ids)[0] if subject.customer_ids else "",
            requested_by="manage.py customers",
        )
        if opts["action"] == "redact":
            redact(channel=channel, subject=subject, request=request)
            self.stdout.write(f"request {request.pk}: {request.state} {request.counts}")
        else:
            path = data_export(channel=channel, subject=subject, request=request)
            self.stdout.write(f"request {request.pk}: export written to {path}")

    def _b2b(self, channel: Channel, opts: dict[str, Any]) -> None:
        action = opts["b2b_action"]
        if action == "add":
            for pid in opts["partner"]:
                row, created = B2BAccount.objects.get_or_create(
                    channel=channel, odoo_partner_id=pid
                )
                self.stdout.write(f"{'added' if created else 'exists'}: company {pid}")
        elif action == "list":
            for row in B2BAccount.objects.filter(channel=channel):
                self.stdout.write(
                    f"{row.odoo_partner_id}\t{row.state}\t{row.name}\t"
                    f"{row.external_company_id or row.customer_group_id}\t{row.last_error}"
                )
        else:
            report = accounts_publish(channel, force=opts["force"])
            self.stdout.write(
                f"{channel.code}: {report.published} published, {report.unchanged} unchanged, "
                f"{report.failed} failed, {report.calls} channel calls"
            )
            for pid, err in report.errors.items():
                self.stdout.write(f"  company {pid}: {err}")
            if report.failed:
                raise CommandError("some accounts failed")
