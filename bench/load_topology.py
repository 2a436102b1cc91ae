"""The production topology for bench/load_bench.py: the Procfile's processes, PostgreSQL, Redis.

Every hub process is started from its Procfile line, unchanged (gunicorn gthread 2 x 4,
`worker`, `worker_odoo`, `worker_events`, `beat`), so the load test measures what `make run`
starts. Odoo is the sandbox with the latency model the other benchmarks use (20 ms per call +
2 ms per record); Shopify and WooCommerce are the channel stand-ins, so acknowledgements and
stock publications go somewhere real. The seed is what a small production hub holds: two web
shops bound by SKU, four B2B portals with a token each, a staff user with a session.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub_topology import hub_env, prepare_hub
from sandbox_proc import bind_standin_skus, free_port, start_sandbox, start_standin
from webhook_bench import wait_http

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Processes of the Procfile the load test runs (flower is a dashboard; the sandbox is started
# with a latency model instead of its Procfile line).
ROLES = ("web", "worker", "worker_odoo", "worker_events", "beat")
# The web shops: config name, channel kind, the stand-in's credentials.
SHOPS: list[tuple[str, str, dict[str, str]]] = [
    ("shopify", "shopify", {"access_token": "shpat_standin_access_token"}),
    (
        "woo",
        "woocommerce",
        {
            "consumer_key": "ck_standin_consumer_key",
            "consumer_secret": "cs_standin_consumer_secret",
        },
    ),
]
CATALOGUE = 200  # storable products in Odoo, sold by every channel
PORTALS = 4
SCOPES = "orders:write,orders:read,inventory:read"


def procfile() -> dict[str, str]:
    """name -> command line, as honcho reads the Procfile."""
    out: dict[str, str] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.startswith("#"):
            out[name.strip()] = command.strip()
    return out


@dataclass
class Topology:
    """Start, seed and stop the processes; `procs` maps a role to its process."""

    state: Path
    db_name: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    web_port: int = 0

    def start(self) -> None:
        """The environment (a throw-away database, flushed Redis databases), migrations, the
        schedules and the Odoo sandbox."""
        odoo_port, self.web_port = free_port(), free_port()
        env, backend = hub_env(
            self.state, odoo_url=f"http://127.0.0.1:{odoo_port}", db_name=self.db_name
        )
        if backend != "PostgreSQL + Redis":
            raise SystemExit(f"the load test needs PostgreSQL and Redis on 127.0.0.1 ({backend})")
        env.pop("HUB_LOG_LEVEL", None)  # the product's default (INFO), as in production
        self.env = {
            **env,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "HUB_BIND_HOST": "127.0.0.1",
            "HUB_WEB_PORT": str(self.web_port),
            # Four portals share the load; the per-token throttle still runs (a cache call per
            # request) but must not refuse: this measures capacity, not the rate policy.
            "HUB_API_TOKEN_RATE": os.environ.get("HUB_API_TOKEN_RATE", "1000000/min"),
        }
        prepare_hub(self.env)  # Django in this process, migrations, the two Redis dbs flushed
        logging.getLogger().setLevel(logging.WARNING)  # this process only: no seed chatter
        from django.core.management import call_command

        with open(os.devnull, "w") as quiet:
            call_command("sync_schedules", stdout=quiet)
        self.procs["sandbox"] = start_sandbox(odoo_port, latency_ms=20, per_record_ms=2)

    @property
    def db_url(self) -> str:
        return self.env["DATABASE_URL"]

    def seed(self, unknown_skus: list[str]) -> dict[str, Any]:
        """Catalogue, channels, bindings, tokens and a staff session; returns the load
        generator's config."""
        from django.conf import settings
        from django.db import connection

        from apps.odoo.gateway import get_gateway
        from apps.sales_channels.services import channel_create

        gateway = get_gateway()
        warehouse, by_sku = _catalogue(gateway.client)
        shops: dict[str, dict[str, str]] = {}
        for name, kind, credentials in SHOPS:
            proc, url = start_standin(kind, products=0)
            self.procs[f"{name} standin"] = proc
            secret = f"{name}_{uuid.uuid4().hex}"
            channel, _ = channel_create(
                code=f"load-{name}",
                kind=kind,
                secret=secret,
                api_base_url=url,
                warehouse_ids=[warehouse],
                **credentials,
            )
            bind_standin_skus(channel, url, by_sku)
            # The shop's domain (Shopify) and source URL (WooCommerce) ride in the headers.
            shops[name] = {"code": channel.code, "secret": secret, "standin": url}
            shops[name].update(shop=_netloc(url), source=url + "/")
        portals = [_portal(n, warehouse, by_sku) for n in range(1, PORTALS + 1)]
        # The shops charge 8 % sales tax (the recorded orders do); mapped to an Odoo 8 % tax so
        # Odoo's totals equal the channel's, as an operator sets it up.
        _map_tax(gateway.client.call("account.tax", "create", [{"name": "8%", "amount": 8.0}]))
        cookie = _staff_session()
        connection.close()
        return {
            **shops,
            "portals": portals,
            "skus": list(by_sku),
            "unknown_skus": unknown_skus,
            "session": {"name": settings.SESSION_COOKIE_NAME, "value": cookie},
        }

    def start_hub(self) -> None:
        lines = procfile()
        for role in ROLES:
            log = (self.state / f"{role}.log").open("wb")
            self.procs[role] = subprocess.Popen(
                ["bash", "-c", f"exec {lines[role]}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_http(self.web_port, timeout=60)
        # Celery prints "<name> ready." once it consumes; a step must not start before that.
        deadline = time.monotonic() + 120
        for role in ("worker", "worker_odoo", "worker_events"):
            log = self.state / f"{role}.log"
            while b" ready." not in log.read_bytes():
                if self.procs[role].poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{role} did not start:\n{self.log_tails()}")
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM to each process; SIGKILL to what is still there 20 s later."""
        for proc in self.procs.values():
            _signal(proc, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                proc.wait(5)

    def log_tails(self, chars: int = 1500) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-chars:]}"
            for log in sorted(self.state.glob("*.log"))
        )

    def write_config(self, config: dict[str, Any]) -> Path:
        path = self.state / "load-config.json"
        path.write_text(json.dumps(config))
        path.chmod(0o600)
        return path


def _catalogue(odoo: Any) -> tuple[int, dict[str, int]]:
    """CATALOGUE storable products with stock in Odoo's main warehouse: (warehouse, sku -> id)."""
    wh = odoo.call(
        "stock.warehouse", "search_read", [[["code", "=", "WH"]]], {"fields": ["lot_stock_id"]}
    )[0]
    skus = [f"LOAD-{i:04d}" for i in range(1, CATALOGUE + 1)]
    values = [
        {"name": f"Load item {s}", "default_code": s, "detailed_type": "product", "list_price": 25}
        for s in skus
    ]
    ids = odoo.call("product.product", "create", [values])
    ctx = {"context": {"inventory_mode": True}}
    quants = odoo.call(
        "stock.quant",
        "create",
        [
            [
                {"product_id": p, "location_id": wh["lot_stock_id"][0], "inventory_quantity": 500}
                for p in ids
            ]
        ],
        ctx,
    )
    odoo.call("stock.quant", "action_apply_inventory", [quants], ctx)
    return int(wh["id"]), dict(zip(skus, ids, strict=True))


def _portal(n: int, warehouse: int, by_sku: dict[str, int]) -> dict[str, str]:
    """A B2B portal channel with the catalogue bound and a token; {"code", "token"}."""
    from apps.mappings.models import Binding
    from apps.sales_channels.models import Channel
    from apps.sales_channels.services import api_token_create, channel_create

    channel, _ = channel_create(
        code=f"load-b2b-{n}", kind=Channel.Kind.B2B_API, warehouse_ids=[warehouse]
    )
    Binding.objects.bulk_create(
        Binding(
            channel=channel,
            kind=Binding.Kind.PRODUCT,
            external_id=sku,
            external_code=sku,
            odoo_model="product.product",
            odoo_id=pid,
        )
        for sku, pid in by_sku.items()
    )
    _, raw = api_token_create(channel=channel, scopes=SCOPES, name="load")
    return {"code": channel.code, "token": raw}


def _map_tax(tax_id: int) -> None:
    from apps.mappings.models import ValueMap
    from apps.sales_channels.models import Channel

    ValueMap.objects.bulk_create(
        ValueMap(channel=c, kind=ValueMap.Kind.TAX, channel_value="0.08", odoo_value=str(tax_id))
        for c in Channel.objects.filter(code__startswith="load-")
    )


def _staff_session() -> str:
    """A superuser logged in through Django's session machinery; the session cookie's value."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.create_superuser(
        "load-staff", "staff@example.com", uuid.uuid4().hex
    )
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    """SIGTERM goes to the process itself (gunicorn's and celery's masters stop their children
    gracefully); SIGKILL to its whole group when it leads one."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if sig == signal.SIGKILL and os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        elif proc.poll() is None:
            proc.send_signal(sig)


def _netloc(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")
