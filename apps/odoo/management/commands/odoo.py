"""``manage.py odoo check``: can the hub reach and log in to the configured Odoo?

``manage.py odoo install-stock-webhook --url URL``: install (idempotently) the base.automation
rule that POSTs stock.quant changes to the hub's /webhooks/odoo/<token>/ receiver.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.odoo.client import get_client
from apps.odoo.gateway import OdooGateway

STOCK_WEBHOOK_RULE = "Integration Hub: stock changed"


class Command(BaseCommand):
    help = "Odoo connection tools. 'check' prints the server version, the uid and the breaker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "install-stock-webhook"])
        parser.add_argument(
            "--url",
            default="",
            help="install-stock-webhook: the URL Odoo posts to; default "
            "HUB_PUBLIC_URL + /webhooks/odoo/<HUB_ODOO_WEBHOOK_TOKEN>/",
        )
        parser.add_argument("--name", default=STOCK_WEBHOOK_RULE, help="the rule's name")

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
        if options["action"] == "install-stock-webhook":
            self._install_stock_webhook(client, url=options["url"], name=options["name"])
            return
        self.stdout.write(f"url      {client.config.url}  db {client.config.db}")
        try:
            version = client.probe()
            self.stdout.write(f"version  {version.get('server_version')}")
            self.stdout.write(f"adapter  {client.adapter.major}")
            self.stdout.write(f"uid      {client.uid()}  (user {client.config.user})")
        except HubError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc}")
        finally:
            self.stdout.write(f"breaker  {client.breaker.state()}")

    def _install_stock_webhook(self, client: Any, *, url: str, name: str) -> None:
        if not url:
            from django.conf import settings

            base = str(getattr(settings, "HUB_PUBLIC_URL", "") or "").rstrip("/")
            token = str(getattr(settings, "HUB_ODOO_WEBHOOK_TOKEN", "") or "")
            if not (base and token):
                raise CommandError(
                    "--url is required (or set HUB_PUBLIC_URL and HUB_ODOO_WEBHOOK_TOKEN): "
                    "https://<hub>/webhooks/odoo/<token>/"
                )
            url = f"{base}/webhooks/odoo/{token}/"
        try:
            rule_id, created = OdooGateway(client).stock_webhook_ensure(name=name, url=url)
        except HubError as exc:
            raise CommandError(f"{type(exc).__name__}: {exc}")
        verb = "created" if created else "already present, kept up to date"
        self.stdout.write(f"base.automation #{rule_id} {name!r} {verb}")
