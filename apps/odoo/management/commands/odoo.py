"""``manage.py odoo check``: the preflight a new user runs before the first order.

It prints the connection (version, adapter, uid, breaker), then one line per item: OK,
MISSING (the hub will fail on it) or WARN (an optional feature is off), each with how to fix it:
modules, the integration user's rights per model, and per channel its warehouses, shipping
(carriers or the fallback product) and taxes (apps/odoo/preflight.py). Exit status 1 when
something is missing; ``--json`` prints the findings as JSON.

``manage.py odoo install-stock-webhook [--url URL]``: install (idempotently) the base.automation
rule that POSTs stock.quant changes to the hub's /webhooks/odoo/<token>/ receiver.

``manage.py odoo install-shipment-webhook [--url URL]``: install (idempotently) the rule that
POSTs a delivery to /webhooks/odoo/<token>/pickings/ when it is done (and when the tracking
reference of a done one changes): the hint that makes the shipment poll run at once.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.odoo.client import get_client
from apps.odoo.gateway import OdooGateway
from apps.odoo.preflight import MISSING, run_preflight

STOCK_WEBHOOK_RULE = "Integration Hub: stock changed"
SHIPMENT_WEBHOOK_RULE = "Integration Hub: shipment done"
# The path of each hint under HUB_PUBLIC_URL (the receivers live in apps.webhooks).
WEBHOOK_PATHS = {
    "install-stock-webhook": "/webhooks/odoo/{token}/",
    "install-shipment-webhook": "/webhooks/odoo/{token}/pickings/",
}


class Command(BaseCommand):
    help = (
        "Odoo tools. 'check': the preflight (connection, modules, rights, and per channel its "
        "warehouses, shipping and taxes). 'install-stock-webhook' / 'install-shipment-webhook': "
        "the automation rules that POST hints to the hub."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "action", choices=["check", "install-stock-webhook", "install-shipment-webhook"]
        )
        parser.add_argument(
            "--url",
            default="",
            help="install-*-webhook: the URL Odoo posts to; default HUB_PUBLIC_URL + "
            "/webhooks/odoo/<HUB_ODOO_WEBHOOK_TOKEN>/ (stock) or .../pickings/ (shipments)",
        )
        parser.add_argument("--name", default="", help="install-*-webhook: the rule's name")
        parser.add_argument("--json", action="store_true", help="check: print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        action = options["action"]
        if action != "check":
            self._install(client, action, url=options["url"], name=options["name"])
            return
        report = run_preflight(OdooGateway(client))
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {**report.summary(), "findings": report.as_dicts()}, indent=2, sort_keys=True
                )
            )
        else:
            self._print_check(client, report)
        if report.missing:
            raise CommandError(
                f"{len(report.missing)} missing: fix the MISSING lines, then run "
                "'manage.py odoo check' again"
            )

    def _print_check(self, client: Any, report: Any) -> None:
        self.stdout.write(f"url      {client.config.url}  db {client.config.db}")
        reached = not any(f.area == "connection" and f.status == MISSING for f in report.findings)
        if reached:
            self.stdout.write(f"version  {client.version().get('server_version')}")
            self.stdout.write(f"adapter  {client.adapter.major}")
            self.stdout.write(f"uid      {client.uid()}  (user {client.config.user})")
        self.stdout.write(f"breaker  {client.breaker.state()}")
        self.stdout.write("")
        for finding in report.findings:
            line = finding.line()
            if finding.status == MISSING:
                self.stdout.write(self.style.ERROR(line))
            elif finding.status == "warn":
                self.stdout.write(self.style.WARNING(line))
            else:
                self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(
            f"{len(report.missing)} missing, {len(report.warnings)} warnings, "
            f"{len(report.findings)} checked"
        )

    def _install(self, client: Any, action: str, *, url: str, name: str) -> None:
        if not url:
            base = str(getattr(settings, "HUB_PUBLIC_URL", "") or "").rstrip("/")
            token = str(getattr(settings, "HUB_ODOO_WEBHOOK_TOKEN", "") or "")
            path = WEBHOOK_PATHS[action]
            if not (base and token):
                raise CommandError(
                    "--url is required (or set HUB_PUBLIC_URL and HUB_ODOO_WEBHOOK_TOKEN): "
                    "https://<hub>" + path.format(token="<token>")
                )
            url = base + path.format(token=token)
        gateway = OdooGateway(client)
        try:
            if action == "install-shipment-webhook":
                name = name or SHIPMENT_WEBHOOK_RULE
                rule_id, created = gateway.picking_webhook_ensure(name=name, url=url)
            else:
                name = name or STOCK_WEBHOOK_RULE
                rule_id, created = gateway.stock_webhook_ensure(name=name, url=url)
        except HubError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc}")
        verb = "created" if created else "already present, kept up to date"
        self.stdout.write(f"base.automation #{rule_id} {name!r} {verb}: POSTs to {url}")
