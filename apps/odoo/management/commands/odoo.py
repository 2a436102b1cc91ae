"""``manage.py odoo check``: can the hub reach and log in to the configured Odoo?"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.errors import HubError
from apps.odoo.client import get_client


class Command(BaseCommand):
    help = "Odoo connection tools. 'check' prints the server version, the uid and the breaker."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check"])

    def handle(self, *args: Any, **options: Any) -> None:
        client = get_client()
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
