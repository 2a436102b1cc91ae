"""Headless finance.

    manage.py finance account add CODE --provider shopify_payments|stripe --channel CHANNEL
                                  [--secret-key SK] [--api-base-url URL] [--journal ID]
                                  [--fee-account ID] [--adjustment-account ID]
    manage.py finance import [--account CODE]      import new payouts, match, queue postings
    manage.py finance rematch                      match again the payouts with a difference
    manage.py finance report [--account CODE] [--csv FILE]
    manage.py finance plan                         record the invoices due now
    manage.py finance demo                         `make run`: the demo channels' payment maps

The Stripe key is stored encrypted and never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.audit import audit_record
from apps.core.errors import HubError
from apps.sales_channels.models import Channel

from ...invoicing import invoices_plan
from ...models import PaymentAccount, Payout
from ...payouts import payouts_import, payouts_rematch
from ...reports import payout_summary, payouts_csv


class Command(BaseCommand):
    help = "Payment accounts, payout import and matching, the payout report, invoice planning."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        acc = sub.add_parser("account", help="payment accounts")
        asub = acc.add_subparsers(dest="account_action", required=True)
        add = asub.add_parser("add")
        add.add_argument("code")
        add.add_argument("--provider", required=True, choices=PaymentAccount.Provider.values)
        add.add_argument("--channel", required=True)
        add.add_argument("--secret-key", default="")
        add.add_argument("--api-base-url", default="")
        add.add_argument("--journal", type=int, default=None)
        add.add_argument("--fee-account", type=int, default=None)
        add.add_argument("--adjustment-account", type=int, default=None)
        asub.add_parser("list")
        imp = sub.add_parser("import", help="import new payouts and match them")
        imp.add_argument("--account", default=None)
        sub.add_parser("rematch", help="match again the payouts that have a difference")
        rep = sub.add_parser("report", help="the payout report")
        rep.add_argument("--account", default=None)
        rep.add_argument("--csv", default=None, help="write the CSV export to this file")
        sub.add_parser("plan", help="record the invoices due now")
        sub.add_parser("demo", help="map the demo web channels' payment gateways to BNK1")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, "_" + opts["action"])(opts)
        except HubError as exc:
            raise CommandError(str(exc)) from exc

    def _accounts(self, code: str | None) -> list[PaymentAccount]:
        rows = PaymentAccount.objects.select_related("channel")
        if code:
            rows = rows.filter(code=code)
            if not rows.exists():
                raise CommandError(f"no payment account {code!r}")
        return list(rows)

    def _account(self, opts: dict[str, Any]) -> None:
        if opts["account_action"] == "list":
            for a in self._accounts(None):
                self.stdout.write(
                    f"{a.code:<20} {a.provider:<17} {a.channel.code:<16} journal "
                    f"{a.odoo_journal_id or '-'} {a.import_summary}"
                )
            return
        channel = Channel.objects.filter(code=opts["channel"]).first()
        if channel is None:
            raise CommandError(f"no channel {opts['channel']!r}")
        if opts["provider"] == PaymentAccount.Provider.STRIPE and not opts["secret_key"]:
            raise CommandError("a Stripe account needs --secret-key")
        account = PaymentAccount.objects.create(
            code=opts["code"],
            name=opts["code"],
            provider=opts["provider"],
            channel=channel,
            secret_key=opts["secret_key"],
            api_base_url=opts["api_base_url"],
            odoo_journal_id=opts["journal"],
            fee_account_id=opts["fee_account"],
            adjustment_account_id=opts["adjustment_account"],
        )
        audit_record(
            user=None,
            action="finance.account_add",
            obj=account,
            after={"provider": account.provider, "channel": channel.code},
            reason="manage.py finance account add",
        )
        self.stdout.write(f"payment account {account.code} ({account.provider}) created")

    def _import(self, opts: dict[str, Any]) -> None:
        for account in self._accounts(opts["account"]):
            counts = payouts_import(account)
            self.stdout.write(
                f"{account.code}: {counts['payouts']} payout(s), {counts['lines']} line(s)"
            )

    def _rematch(self, opts: dict[str, Any]) -> None:
        self.stdout.write(f"{payouts_rematch()} payout(s) matched now")

    def _plan(self, opts: dict[str, Any]) -> None:
        self.stdout.write(f"{invoices_plan()} invoice(s) planned")

    def _demo(self, opts: dict[str, Any]) -> None:
        from apps.mappings.models import ValueMap

        for code in ("demo-shopify", "demo-woo"):
            channel = Channel.objects.filter(code=code).first()
            if channel is None:
                continue
            _, made = ValueMap.objects.get_or_create(
                channel=channel,
                kind=ValueMap.Kind.PAYMENT_METHOD,
                channel_value="*",
                defaults={"odoo_model": "account.journal", "odoo_value": "BNK1"},
            )
            if made:
                self.stdout.write(f"{code}: every payment gateway -> journal BNK1")

    def _report(self, opts: dict[str, Any]) -> None:
        rows = Payout.objects.select_related("account").order_by("date", "pk")
        if opts["account"]:
            rows = rows.filter(account__code=opts["account"])
        cols = ("payout", "date", "gross", "refunds", "fees", "adjustments", "net", "matched_pct")
        self.stdout.write(" ".join(f"{c:>12}" for c in ("account", *cols, "state")))
        for p in rows:
            s = payout_summary(p)
            self.stdout.write(" ".join(f"{s[c]!s:>12}" for c in ("account", *cols, "state")))
        if opts["csv"]:
            Path(opts["csv"]).write_text(payouts_csv(rows))
            self.stdout.write(f"CSV written to {opts['csv']}")
