"""The hub's web server as production runs it, on the test database, with a world to call.

`live_hub` starts gunicorn (DJANGO_DEBUG off, the test database, Redis, the Odoo sandbox) and
`api_world` fills the database with what partners call: a B2B channel whose token holds every
scope (its rate raised so fuzzing is not throttled), an order with a shipment, a return, an
invoice-less order, a webhook endpoint, one channel per webhook sender with its secret, and a
staff user for the operator endpoints.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.fixtures.channels import (
    BIGCOMMERCE_SECRET,
    SHOPIFY_SECRET,
    STANDARD_SECRET,
    WOO_SECRET,
)
from tests.fixtures.sandbox import free_port
from tests.fixtures.worker import ROOT, child_env, wait_for
from tests.fulfillment.conftest import make_order, make_shipment

STAFF_PASSWORD = "fuzz-staff-password"  # noqa: S105 (a throw-away test user)


@dataclass
class LiveHub:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 (loopback)
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return 0


@pytest.fixture
def live_hub(transactional_db: None, odoo_sandbox: Any, tmp_path: Path) -> Iterator[LiveHub]:
    """The Procfile's gunicorn in production mode (DEBUG off) on the test database."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = child_env(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        HUB_FIELD_ENCRYPTION_KEY=",".join(settings.FIELD_ENCRYPTION_KEYS),
        ODOO_URL=odoo_sandbox.url,
        ODOO_DB=odoo_sandbox.db,
        ODOO_USER=odoo_sandbox.user,
        ODOO_PASSWORD=odoo_sandbox.password,
        # Receiver URLs are checked for form, not resolved: fuzzed host names must not reach DNS.
        HUB_OUTBOUND_ALLOW_PRIVATE="true",
        # Nor do fuzzed Adobe key paths reach Adobe: the key host is a closed local port (a key
        # that cannot be fetched is the documented 503, Adobe retries).
        HUB_ADOBE_KEY_HOST=f"http://127.0.0.1:{free_port()}",
    )
    # The Procfile's own web command line (worker class, limits, threads), on a free port.
    web = next(
        line.split(":", 1)[1]
        for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("web:")
    )
    env.update(
        HUB_BIND_HOST="127.0.0.1",
        HUB_WEB_PORT=str(port),
        HUB_WEB_WORKERS="2",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {web}"], cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    hub = LiveHub(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_for(lambda: proc.poll() is not None or _status(f"{hub.url}/healthz") == 200, 60)
        assert proc.poll() is None, f"gunicorn exited:\n{hub.log_tail()}"
        yield hub
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class World:
    token: str
    channel: str
    staff_user: str
    ids: dict[str, list[str]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_env(self) -> dict[str, str]:
        return {
            "HUB_FUZZ_TOKEN": self.token,
            "HUB_FUZZ_STAFF_USER": self.staff_user,
            "HUB_FUZZ_STAFF_PASSWORD": STAFF_PASSWORD,
            "HUB_FUZZ_WORLD": json.dumps({"ids": self.ids, "webhooks": self.webhooks}),
        }


def _webhook_channels() -> dict[str, dict[str, str]]:
    from apps.sales_channels.services import channel_create

    senders = {
        "shopify": (SHOPIFY_SECRET, {"api_base_url": "https://fuzz.myshopify.com"}),
        "woocommerce": (WOO_SECRET, {"api_base_url": "https://shop.example.com"}),
        "standard_webhooks": (STANDARD_SECRET, {}),
        "bigcommerce": (BIGCOMMERCE_SECRET, {"api_base_url": "https://api.example.com/s/x"}),
    }
    out = {}
    for kind, (secret, extra) in senders.items():
        code = f"fuzz-{kind.replace('_', '-')}"
        channel, _ = channel_create(code=code, kind=kind, secret=secret, **extra)
        channel.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        out[kind] = {"code": code, "secret": secret, "shop": "fuzz.myshopify.com"}
    return out


@pytest.fixture
def api_world(live_hub: LiveHub) -> World:
    return build_world()


def build_world() -> World:
    from django.contrib.auth.models import User

    from apps.events.services import endpoint_create
    from apps.returns.services import b2b_return_request
    from apps.sales_channels.models import Channel, Scope
    from apps.sales_channels.services import api_token_create, channel_create

    channel, _ = channel_create(code="fuzz-b2b", kind=Channel.Kind.B2B_API, warehouse_ids=[1])
    # Fuzzing sends thousands of requests a minute: the token's rate must not answer 429.
    Channel.objects.filter(pk=channel.pk).update(api_rate="1000000/min")
    _, token = api_token_create(channel=channel, scopes=Scope.values, name="fuzz")
    order = make_order(channel, "9001")
    shipment = make_shipment(order, picking_id=9101, name="WH/OUT/09101")
    ret = b2b_return_request(order=order, lines=[{"sku": "MUG", "quantity": 1, "reason": "x"}])
    other = make_order(channel, "9002", state="received")
    endpoint, _ = endpoint_create(
        url="https://hooks.example.com/fuzz", event_types=["*"], channel=channel
    )
    User.objects.create_superuser("fuzz-staff", "staff@example.com", STAFF_PASSWORD)
    return World(
        token=token,
        channel=channel.code,
        staff_user="fuzz-staff",
        ids={
            "order_id": [str(order.pk), str(other.pk)],
            "shipment_id": [str(shipment.pk)],
            "return_id": [str(ret.pk)],
            "endpoint_id": [endpoint.uid],
            "code": [channel.code],
        },
        webhooks=_webhook_channels(),
    )
