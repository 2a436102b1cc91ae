"""Idempotent demo data: three channels served by the sandbox Odoo's warehouses 1 and 2.

`make run` calls this. Secrets are printed every run (this is a development convenience; they are
encrypted in the database). The B2B token is created once; its plaintext is kept in the state
directory (settings.VAR_DIR, mode 0600) so later runs can print it again. Without that file a
token cannot be shown again, and the command says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.sales_channels.models import ApiToken, Channel
from apps.sales_channels.services import api_token_create, channel_create, token_hash

DEMO_CHANNELS: list[dict[str, Any]] = [
    {
        "code": "demo-shopify",
        "kind": Channel.Kind.SHOPIFY,
        "name": "Demo Shopify",
        "api_base_url": "http://127.0.0.1:18099",
    },
    {
        "code": "demo-woo",
        "kind": Channel.Kind.WOOCOMMERCE,
        "name": "Demo WooCommerce",
        "api_base_url": "http://127.0.0.1:18098",
    },
    {"code": "demo-b2b", "kind": Channel.Kind.B2B_API, "name": "Demo B2B portal"},
]
DEMO_WAREHOUSES = (1, 2)
# Finance in the demo (docs/finance.md): web orders invoiced on confirmation and their payments
# registered on the Bank journal (any gateway); the B2B portal invoiced per shipment, paid in Odoo.
DEMO_FINANCE: dict[str, dict[str, Any]] = {
    "demo-shopify": {"invoicing": Channel.Invoicing.ON_CONFIRM, "register_payments": True},
    "demo-woo": {"invoicing": Channel.Invoicing.ON_CONFIRM, "register_payments": True},
    "demo-b2b": {"invoicing": Channel.Invoicing.ON_DELIVERY, "register_payments": False},
}
# (`manage.py finance demo`, run next by `make run`, maps their payment gateways to BNK1.)
B2B_SCOPES = (
    "orders:write,orders:read,inventory:read,prices:read,returns:write,events:read,events:manage"
)
TOKEN_FILE = "demo_b2b_token"


class Command(BaseCommand):
    help = "Create the demo channels (idempotent) and print their secrets and the B2B token."

    def handle(self, *args: Any, **opts: Any) -> None:
        for spec in DEMO_CHANNELS:
            channel = Channel.objects.filter(code=spec["code"]).first()
            if channel is None:
                channel, _ = channel_create(**spec, warehouse_ids=DEMO_WAREHOUSES)
                Channel.objects.filter(pk=channel.pk).update(**DEMO_FINANCE[channel.code])
                self.stdout.write(f"created channel {channel.code}")
            if channel.has_webhooks:
                now = timezone.now()
                for secret in channel.secrets.all():
                    if secret.is_valid_at(now):
                        self.stdout.write(
                            f"{channel.code}: POST /webhooks/{channel.kind}/{channel.code}/ "
                            f"secret {secret.secret}"
                        )
        self._b2b_token()

    def _b2b_token(self) -> None:
        channel = Channel.objects.get(code="demo-b2b")
        path = Path(settings.VAR_DIR) / TOKEN_FILE
        saved = path.read_text().strip() if path.exists() else ""
        live = ApiToken.objects.filter(channel=channel, revoked_at__isnull=True)
        if saved and live.filter(token_hash=token_hash(saved)).exists():
            self.stdout.write(f"demo-b2b token: {saved}")
            return
        if live.exists() and not saved:
            self.stdout.write(
                "demo-b2b token exists and cannot be shown again; create another with "
                "`manage.py channel token create demo-b2b --scopes ...`"
            )
            return
        _, raw = api_token_create(channel=channel, scopes=B2B_SCOPES, name="demo")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(raw)
        self.stdout.write(f"demo-b2b token (created): {raw}")
