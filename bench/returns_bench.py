"""Returns and refunds: a refund made on the channel to the posted credit note in Odoo.

Run: ``python bench/returns_bench.py [--refunds 500] [--rate 2] [--quick]`` from the repository
root with the project's venv (``--quick``: 60 refunds).

Topology (as bench/shipments_bench.py): gunicorn (2 workers x 4 threads) receiving the
stand-ins' own signed webhooks, the ``worker`` process (queues intake, channel_io, batch,
maintenance, default; 2 processes) and ``worker_odoo`` (queue odoo; 2 processes); no beat (no
periodic job is on the measured path: every invoice exists before its refund). PostgreSQL
(``hub_bench_ret``, recreated/migrated by ``database_url``) and Redis (broker db 1, cache db 0,
flushed); ``HUB_VAR_DIR`` defaults to ``var/bench_ret``. Odoo is the sandbox at
``--latency-ms`` (20) per call + ``--per-record-ms`` (2) per record.

Seeding (not timed, sandbox latency off): per channel a third of the orders, each
2 x TSHIRT-BLU-M + 1 x MUG-WHT-11OZ. The stand-in holds the order (Shopify and WooCommerce: the
recorded payload, as tests/returns/test_e2e.py seeds it; BigCommerce: seeded, then read back
from its v2 API), the hub ingests the same order through its translator and pushes it to Odoo
(``order_push_due``), the bench validates every delivery and invoices + posts the orders in
the sandbox (the gateway's wizard). The 8 % tax is mapped to "Sales 8%" on every channel.

Measured: refunds made on the stand-ins, open loop at ``--rate`` per second, the three channels
interleaved, one T-shirt line each, money only (no restock):
- Shopify: GraphQL ``refundCreate`` (1 x 22.50 + 1.80 tax = 24.30) → its ``refunds/create``;
- WooCommerce: ``POST orders/<id>/refunds`` (2 x 22.50 + 3.60 tax = 48.60, api_refund false)
  → its ``order.updated``;
- BigCommerce: ``POST v3/orders/<id>/payment_actions/refunds`` (1 x 22.50, no tax in the
  stand-in) → its ``store/order/refund/created``.

- latency: the bench's clock just before the refund call → the credit note seen ``posted`` in
  the sandbox by a poller thread of this process (every ``--poll-ms``, 250 ms, a
  ``search_read`` of out_refund moves written in the last seconds; its RPCs are subtracted);
  split by the hub's own stamps: the refund recorded (``ChannelRefund.created_at``) and the
  ``odoo_credit`` row done (``ReturnSync.updated_at``);
- Odoo RPCs per refund: the sandbox's counter over the window minus this process's calls;
- channel calls per refund: the stand-ins' counters over the window minus the bench's own
  refund calls, against the minimum (WooCommerce, BigCommerce: 1 read of the refund(s);
  Shopify: 0, the webhook carries the refund).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox_proc import free_port, http, start_sandbox, start_standin, stop_all
from webhook_bench import database_url, redis_up, wait_http

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "channels"
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
SKUS = {"TSHIRT-BLU-M": "SKU-001", "MUG-WHT-11OZ": "SKU-003"}
KINDS = ("shopify", "woocommerce", "bigcommerce")
CODES = {"shopify": "ret-shop", "woocommerce": "ret-woo", "bigcommerce": "ret-bc"}
SECRETS = {
    "shopify": "shpss_bench_secret",
    "woocommerce": "wc_bench_secret",
    "bigcommerce": "bc_bench_client_secret",
}
MINIMUM = {"shopify": 0, "woocommerce": 1, "bigcommerce": 1}
AMOUNT = {
    "shopify": Decimal("24.30"),
    "woocommerce": Decimal("48.60"),
    "bigcommerce": Decimal("22.50"),
}
ORDER_Q = """query O($id: ID!) { order(id: $id) { transactions(first: 10) { id kind status } } }"""
MERCHANT_REFUND = """mutation R($input: RefundInput!) { refundCreate(input: $input) {
  refund { id } userErrors { field message } } }"""


class Odoo:
    """JSON-RPC to the sandbox as admin, counting this process's calls."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls = 0
        self.lock = threading.Lock()

    def execute(self, model: str, method: str, *args: Any, **kw: Any) -> Any:
        with self.lock:
            self.calls += 1
            n = self.calls
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": ["hub", 2, "admin", model, method, list(args), kw],
            },
            "id": n,
        }
        answer = http("POST", f"{self.url}/jsonrpc", body)
        if "error" in answer:
            raise SystemExit(f"{model}.{method}: {json.dumps(answer['error'])[:500]}")
        return answer.get("result")

    def stats(self) -> dict[str, Any]:
        return dict(http("GET", f"{self.url}/__sandbox__/stats"))


@dataclass
class Refund:
    kind: str
    oid: int
    sale_tx: str = ""
    made_at: float = 0.0
    answered_at: float = 0.0
    rid: str = ""
    posted_seen: float | None = None
    recorded: float | None = None  # ChannelRefund.created_at (the hub recorded the refund)
    sync_done: float | None = None  # the odoo_credit row done (ReturnSync.updated_at)
    state: str = ""
    note_total: Decimal | None = None


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def api(s: Any, method: str, path: str, payload: Any = None) -> Any:
    """The stand-in's platform API, waiting out its rate limit (429) during seeding."""
    for _ in range(50):
        answer = s.api(method, path, payload)
        if answer.status != 429:
            return answer
        time.sleep(1.0)
    raise SystemExit(f"{method} {path}: still 429")


def graphql(s: Any, query: str, variables: dict[str, Any]) -> Any:
    for _ in range(50):
        body = s.graphql(query, variables).body
        if "THROTTLED" not in json.dumps(body.get("errors") or ""):
            return body
        time.sleep(1.0)
    raise SystemExit("Shopify stand-in: still throttled")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


# --- seeding -----------------------------------------------------------------------------------


def seed(args: Any, odoo: Odoo, st: dict[str, Any], orders: list[Refund]) -> None:
    from apps.mappings.models import Binding, ValueMap
    from apps.odoo.gateway import get_gateway
    from apps.orders.models import ChannelOrder, OrderState
    from apps.orders.services import order_ingest, order_push_due
    from apps.sales_channels.models import Channel
    from apps.sales_channels.services import channel_create
    from apps.sales_channels.translators import (
        order_from_bigcommerce,
        order_from_shopify,
        order_from_woocommerce,
    )

    n = len(orders)
    products = {
        r["default_code"]: r["id"]
        for r in odoo.execute(
            "product.product",
            "search_read",
            [["default_code", "in", list(SKUS.values())]],
            fields=["default_code"],
        )
    }
    [wh] = odoo.execute(
        "stock.warehouse", "search_read", [["code", "=", "WH"]], fields=["lot_stock_id"]
    )
    ctx = {"inventory_mode": True}
    quants = odoo.execute(
        "stock.quant",
        "create",
        [
            {
                "product_id": products[p],
                "location_id": wh["lot_stock_id"][0],
                "inventory_quantity": 3 * n + 100,
            }
            for p in SKUS.values()
        ],
        context=ctx,
    )
    odoo.execute("stock.quant", "action_apply_inventory", quants, context=ctx)
    found = odoo.execute("account.tax", "search", [["name", "=", "Sales 8%"]])
    tax = (
        found[0]
        if found
        else odoo.execute("account.tax", "create", {"name": "Sales 8%", "amount": 8.0})
    )
    for kind in KINDS:
        s = st[kind]
        creds: dict[str, Any] = {"api_base_url": s.base_url}
        if kind == "shopify":
            creds["access_token"] = s.access_token
        elif kind == "woocommerce":
            creds.update(consumer_key=s.consumer_key, consumer_secret=s.consumer_secret)
        else:
            creds["access_token"] = s.auth_token
        channel, _ = channel_create(
            code=CODES[kind], kind=kind, secret=SECRETS[kind], inventory_enabled=False, **creds
        )
        channel.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
        for sku, code in SKUS.items():
            Binding.objects.create(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=f"bench-{sku}",
                external_code=sku,
                odoo_model="product.product",
                odoo_id=products[code],
            )
        ValueMap.objects.create(
            channel=channel,
            kind=ValueMap.Kind.TAX,
            channel_value="0.08",
            odoo_model="account.tax",
            odoo_value=str(tax),
        )
    assert Channel.objects.count() >= 3

    hub_ids: list[int] = []
    for o in orders:
        s, oid = st[o.kind], o.oid
        if o.kind == "shopify":
            p = load("shopify_order.json")
            p["id"] = oid
            for k, line in enumerate(p["line_items"], start=1):
                line["id"] = oid * 100 + k
            seeded = json.loads(json.dumps(p))
            for line in seeded["line_items"]:
                net = Decimal(line["price"]) * Decimal("0.9")
                line["price"] = str(net.quantize(Decimal("0.01")))
                line["unit_tax"] = str((net * Decimal("0.08")).quantize(Decimal("0.01")))
            s.seed_order(**seeded)
            hub = order_from_shopify(p, channel=CODES[o.kind])
            got = graphql(s, ORDER_Q, {"id": f"gid://shopify/Order/{oid}"})["data"]["order"]
            o.sale_tx = str(next(t["id"] for t in got["transactions"] if t["kind"] == "SALE"))
        elif o.kind == "woocommerce":
            p = load("woocommerce_order.json")
            p["id"], p["number"] = oid, str(oid)
            for k, line in enumerate(p["line_items"], start=1):
                line["id"] = oid * 100 + k
            s.seed_order(**json.loads(json.dumps(p)))
            hub = order_from_woocommerce(p, channel=CODES[o.kind])
        else:
            s.seed_order(
                id=oid,
                customer_id=7,
                status_id=11,
                line_items=[
                    {"sku": "TSHIRT-BLU-M", "quantity": 2, "price": "22.50"},
                    {"sku": "MUG-WHT-11OZ", "quantity": 1, "price": "11.25"},
                ],
            )
            order = api(s, "GET", f"v2/orders/{oid}").body
            prods = api(s, "GET", f"v2/orders/{oid}/products").body
            addrs = api(s, "GET", f"v2/orders/{oid}/shipping_addresses").body
            coupons = api(s, "GET", f"v2/orders/{oid}/coupons").body or []
            hub = order_from_bigcommerce(
                order,
                products=prods,
                shipping_addresses=addrs,
                coupons=coupons,
                channel=CODES[o.kind],
            )
        hub_ids.append(order_ingest(order=hub).pk)
    while order_push_due():
        pass
    rows = list(ChannelOrder.objects.filter(pk__in=hub_ids))
    bad = [r for r in rows if r.state != OrderState.IN_ODOO]
    if bad:
        raise SystemExit(f"{len(bad)} orders not in Odoo, e.g. {bad[0].state}: {bad[0].last_error}")
    sale_ids = [int(r.odoo_id or 0) for r in rows]
    pickings = odoo.execute(
        "stock.picking",
        "search_read",
        [["sale_id", "in", sale_ids], ["picking_type_code", "=", "outgoing"]],
        fields=["state"],
    )
    for p in pickings:
        if p["state"] != "assigned":
            raise SystemExit(f"picking {p['id']} is {p['state']}, not reserved")
    for k in range(0, len(pickings), 50):
        odoo.execute(
            "stock.picking",
            "button_validate",
            [p["id"] for p in pickings[k : k + 50]],
            context={"skip_backorder": True},
        )
    gw = get_gateway()
    made = gw.invoices_create(order_ids=sale_ids)
    invoices = [i for ids in made.values() for i in ids]
    gw.invoices_post(invoice_ids=invoices)
    if len(invoices) != len(sale_ids):
        raise SystemExit(f"{len(invoices)} invoices for {len(sale_ids)} orders")


# --- measured ----------------------------------------------------------------------------------


def make_refund(s: Any, r: Refund) -> None:
    oid = r.oid
    r.made_at = time.time()
    if r.kind == "shopify":
        gid = f"gid://shopify/Order/{oid}"
        answer = s.graphql(
            MERCHANT_REFUND,
            {
                "input": {
                    "orderId": gid,
                    "note": "bench",
                    "refundLineItems": [
                        {
                            "lineItemId": f"gid://shopify/LineItem/{oid * 100 + 1}",
                            "quantity": 1,
                            "restockType": "NO_RESTOCK",
                        }
                    ],
                    "transactions": [
                        {
                            "orderId": gid,
                            "parentId": r.sale_tx,
                            "gateway": "bogus",
                            "kind": "REFUND",
                            "amount": "24.30",
                        }
                    ],
                }
            },
        ).body["data"]["refundCreate"]
        if answer["userErrors"]:
            raise SystemExit(f"shopify refund {oid}: {answer['userErrors']}")
        r.rid = str(answer["refund"]["id"]).rsplit("/", 1)[-1]
    elif r.kind == "woocommerce":
        made = s.api(
            "POST",
            f"orders/{oid}/refunds",
            {
                "amount": "48.60",
                "reason": "bench",
                "api_refund": False,
                "line_items": [
                    {
                        "id": oid * 100 + 1,
                        "quantity": 2,
                        "refund_total": "45.00",
                        "refund_tax": [{"id": 75, "refund_total": "3.60"}],
                    }
                ],
            },
        )
        if made.status != 201:
            raise SystemExit(f"woo refund {oid}: {made.status} {made.body}")
        r.rid = str(made.body["id"])
    else:
        made = s.api(
            "POST",
            f"v3/orders/{oid}/payment_actions/refunds",
            {
                "items": [{"item_type": "PRODUCT", "item_id": oid * 10 + 1, "quantity": 1}],
                "payments": [{"provider_id": "braintree", "amount": 22.5, "offline": False}],
                "reason": "bench",
            },
        )
        if made.status != 201:
            raise SystemExit(f"bc refund {oid}: {made.status} {made.body}")
        r.rid = str(made.body["data"]["id"])
    r.answered_at = time.time()


class Poller(threading.Thread):
    """Sees credit notes become posted in the sandbox (ref -> first wall-clock seen)."""

    def __init__(self, odoo: Odoo, period: float) -> None:
        super().__init__(daemon=True)
        self.odoo, self.period = odoo, period
        self.seen: dict[str, float] = {}
        self.stop = threading.Event()
        self.polls = 0

    def run(self) -> None:
        while not self.stop.is_set():
            t = time.time()
            since = dt.datetime.fromtimestamp(t - 5, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            rows = self.odoo.execute(
                "account.move",
                "search_read",
                [
                    ["move_type", "=", "out_refund"],
                    ["state", "=", "posted"],
                    ["write_date", ">=", since],
                ],
                fields=["ref"],
            )
            self.polls += 1
            seen_at = time.time()
            for row in rows:
                self.seen.setdefault(str(row["ref"]), seen_at)
            self.stop.wait(max(0.0, self.period - (time.time() - t)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--refunds", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="60 refunds")
    parser.add_argument("--rate", type=float, default=2.0, help="refunds per second")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--per-record-ms", type=float, default=2.0)
    parser.add_argument("--poll-ms", type=float, default=250.0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    if args.quick:
        args.refunds = 60

    state = Path(os.environ.get("HUB_VAR_DIR") or ROOT / "var" / "bench_ret").resolve()
    shutil.rmtree(state / "metrics", ignore_errors=True)
    (state / "metrics").mkdir(parents=True, exist_ok=True)
    odoo_port, web_port = free_port(), free_port()
    odoo_url = f"http://127.0.0.1:{odoo_port}"
    env = {
        **os.environ,
        "HUB_VAR_DIR": str(state),
        "ODOO_URL": odoo_url,
        "ODOO_DB": "hub",
        "ODOO_USER": "admin",
        "ODOO_PASSWORD": "admin",
        "HUB_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "HUB_FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PROMETHEUS_MULTIPROC_DIR": str(state / "metrics"),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or database_url("hub_bench_ret"),
    }
    if not redis_up():
        raise SystemExit("no Redis on 127.0.0.1:6379")
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from tests.fixtures.channel_standins import ChannelStandin

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"]):
        redis.Redis.from_url(url).flushdb()

    procs: list[subprocess.Popen[bytes]] = [start_sandbox(odoo_port, latency_ms=0, per_record_ms=0)]
    refunds: list[Refund] = []
    try:
        st: dict[str, Any] = {}
        for kind in KINDS:
            proc, url = start_standin(kind, products=10)
            procs.append(proc)
            st[kind] = ChannelStandin(kind, url)
        base = {"shopify": 7_400_000_000, "woocommerce": 60_000, "bigcommerce": 50_000}
        refunds = [
            Refund(kind=KINDS[i % 3], oid=base[KINDS[i % 3]] + i) for i in range(args.refunds)
        ]
        odoo = Odoo(odoo_url)
        t = time.perf_counter()
        # The BigCommerce stand-in's quota is lifted while seeding (4 reads per order), and put
        # back to its default before the measured part.
        bc_default = st["bigcommerce"].set_config()
        st["bigcommerce"].set_config(quota=1_000_000, window_ms=bc_default["window_ms"])
        seed(args, odoo, st, refunds)
        st["bigcommerce"].set_config(quota=bc_default["quota"], window_ms=bc_default["window_ms"])
        seeded_in = time.perf_counter() - t
        print(
            f"seeded {len(refunds)} shipped + invoiced orders in {seeded_in:.1f} s", file=sys.stderr
        )
        redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        http(
            "POST",
            f"{odoo_url}/__sandbox__/faults",
            {"latency_ms": args.latency_ms, "per_record_ms": args.per_record_ms},
        )
        py = sys.executable
        celery = (py, "-m", "celery", "-A", "integration_hub")
        flags = ("--without-gossip", "--without-mingle", "-P", "prefork", "-l", LOG_LEVEL)
        procs.append(
            start(
                [
                    py,
                    "-m",
                    "gunicorn",
                    "integration_hub.wsgi",
                    "--bind",
                    f"127.0.0.1:{web_port}",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    "2",
                    "--threads",
                    "4",
                    "--log-level",
                    "warning",
                ],
                env,
                state / "web.log",
            )
        )
        procs.append(
            start(
                [
                    *celery,
                    "worker",
                    "-Q",
                    "intake,channel_io,batch,maintenance,default",
                    "-c",
                    "2",
                    "-n",
                    f"bench-rw-{os.getpid()}@%h",
                    *flags,
                ],
                env,
                state / "worker.log",
            )
        )
        procs.append(
            start(
                [
                    *celery,
                    "worker",
                    "-Q",
                    "odoo",
                    "-c",
                    "2",
                    "-n",
                    f"bench-ro-{os.getpid()}@%h",
                    *flags,
                ],
                env,
                state / "worker_odoo.log",
            )
        )
        wait_http(web_port, timeout=60)
        for kind in KINDS:
            st[kind].set_config(
                webhook_url=f"http://127.0.0.1:{web_port}/webhooks/{kind}/{CODES[kind]}/",
                webhook_secret=SECRETS[kind],
            )
        time.sleep(3)  # workers up

        from apps.returns.models import ChannelRefund

        stand_before = {k: st[k].stats()["calls"] for k in KINDS}
        rpc_before = odoo.stats()
        own_before = odoo.calls
        load_start = loadavg()
        poller = Poller(odoo, args.poll_ms / 1000)
        poller.start()
        started = time.time()
        t0 = time.perf_counter() + 0.2
        for i, r in enumerate(refunds):
            delay = t0 + i / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            make_refund(st[r.kind], r)
        made_s = time.time() - started
        refs = {f"{CODES[r.kind]}:refund:{r.rid}": r for r in refunds}
        deadline = time.monotonic() + args.timeout
        from apps.core.workrow import ACTIVE
        from apps.returns.models import ReturnSync

        while time.monotonic() < deadline:
            seen = len(poller.seen.keys() & refs.keys())
            settled = ChannelRefund.objects.exclude(state="recorded").count()
            quiet = not ReturnSync.objects.filter(state__in=ACTIVE).exists()
            if seen >= len(refs) and settled >= len(refs) and quiet:
                break
            time.sleep(0.5)
        time.sleep(1.0)
        poller.stop.set()
        poller.join(10)
        finished = time.time()
        rpc_after = odoo.stats()
        own = odoo.calls - own_before
        stand_after = {k: st[k].stats()["calls"] for k in KINDS}
        load_end = loadavg()
        by_method: Counter[str] = Counter(rpc_after["calls"])
        by_method.subtract(Counter(rpc_before["calls"]))
        by_method["account.move.search_read"] -= own
        rpcs = rpc_after["total"] - rpc_before["total"] - own
        for r in refunds:
            r.posted_seen = poller.seen.get(f"{CODES[r.kind]}:refund:{r.rid}")
        code_kind = {v: k for k, v in CODES.items()}
        by_key = {(r.kind, r.rid): r for r in refunds}
        for ch, ext, rstate, created, total in ChannelRefund.objects.values_list(
            "channel__code", "external_id", "state", "created_at", "odoo_credit_note_total"
        ):
            hit = by_key.get((code_kind.get(ch, ""), str(ext)))
            if hit:
                hit.state = rstate
                hit.note_total = total
                hit.recorded = created.timestamp()
        for ch, ext, upd in ReturnSync.objects.filter(
            action="odoo_credit", state="done"
        ).values_list("refund__channel__code", "refund__external_id", "updated_at"):
            hit = by_key.get((code_kind.get(ch, ""), str(ext)))
            if hit:
                hit.sync_done = upd.timestamp()
        notes = odoo.execute(
            "account.move",
            "search_read",
            [["move_type", "=", "out_refund"]],
            fields=["ref", "state", "amount_total", "write_date"],
        )
        rows = Counter(ReturnSync.objects.values_list("action", "state"))
        attempts = sum(ReturnSync.objects.values_list("attempts", flat=True))
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if p.poll() is None and os.getpgid(p.pid) == p.pid:
                    os.killpg(p.pid, signal.SIGTERM)
        stop_all(reversed(procs), timeout=20)

    stand_ops = {
        k: {
            op: n - stand_before[k].get(op, 0)
            for op, n in stand_after[k].items()
            if n - stand_before[k].get(op, 0)
        }
        for k in KINDS
    }
    n_kind = Counter(r.kind for r in refunds)
    print(
        f"\n{len(refunds)} refunds ({', '.join(f'{k} {n_kind[k]}' for k in KINDS)}) made on the "
        f"stand-ins at {args.rate:g}/s in {made_s:.0f} s · Odoo sandbox {args.latency_ms:g} "
        f"ms/call + {args.per_record_ms:g} ms/record · PostgreSQL + Redis · web 2x4, worker 2, "
        f"worker_odoo 2 · {os.cpu_count()} cores · seeding {seeded_in:.0f} s · window "
        f"{finished - started:.0f} s · load avg {load_start} → {load_end}\n"
    )
    print(
        "| channel | refunds | credited (posted) | refund → posted p50 s | p95 s | max s "
        "| → hub recorded p50 / p95 s | → credit row done p50 / p95 s "
        "| channel calls / refund (minimum) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    all_lat: list[float] = []
    for kind in (*KINDS, "all"):
        rs = [r for r in refunds if kind in ("all", r.kind)]
        lat = [r.posted_seen - r.made_at for r in rs if r.posted_seen]
        rec = [r.recorded - r.made_at for r in rs if r.recorded]
        done = [r.sync_done - r.made_at for r in rs if r.sync_done]
        if kind != "all":
            all_lat += lat
        own_calls = len(rs)  # the bench's refund call, one per refund
        if kind == "all":
            calls = sum(sum(stand_ops[k].values()) for k in KINDS) - len(rs)
            minimum = sum(MINIMUM[r.kind] for r in rs)
        else:
            calls = sum(stand_ops[kind].values()) - own_calls
            minimum = MINIMUM[kind] * len(rs)
        credited = sum(1 for r in rs if r.state == "credited")
        print(
            f"| {kind} | {len(rs)} | {credited} | {pct(lat, 0.5):.2f} | {pct(lat, 0.95):.2f} | "
            f"{max(lat, default=float('nan')):.2f} | {pct(rec, 0.5):.2f} / {pct(rec, 0.95):.2f} "
            f"| {pct(done, 0.5):.2f} / {pct(done, 0.95):.2f} | {calls / max(1, len(rs)):.2f} "
            f"({minimum / max(1, len(rs)):.2f}) |"
        )
    print(
        f"\nOdoo RPCs per refund: {rpcs / max(1, len(refunds)):.1f} ({rpcs} in the window; the "
        f"bench's {own} poll/read calls subtracted, {poller.polls} polls)"
    )
    top = sorted(((k, v) for k, v in by_method.items() if v), key=lambda kv: -kv[1])
    print("hub RPCs by method: " + ", ".join(f"{k} {v}" for k, v in top))
    print(
        "stand-in calls by operation (incl. the bench's one refund call each): "
        + "; ".join(
            f"{k}: " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items()))
            for k, ops in stand_ops.items()
        )
    )
    states = Counter(r.state or "missing" for r in refunds)
    print("hub refund states: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    print(
        "return rows (action, state): "
        + ", ".join(f"{a}/{s} {n}" for (a, s), n in sorted(rows.items()))
        + f"; attempts total {attempts}"
    )
    nstate = Counter(n["state"] for n in notes)
    wrong = [r for r in refunds if r.note_total is not None and r.note_total != AMOUNT[r.kind]]
    print(
        f"credit notes in the sandbox: {dict(nstate)}; totals differing from the refund: "
        f"{len(wrong)}"
    )
    ok = len(all_lat) == len(refunds)
    print(f"every refund's credit note posted within the timeout: {'yes' if ok else 'NO'}")
    if os.environ.get("BENCH_CSV"):
        with open(os.environ["BENCH_CSV"], "w") as fh:
            fh.write("kind,order,refund,made_at,answered_s,recorded_s,sync_done_s,posted_s,state\n")
            for r in refunds:

                def rel(x: float | None, r: Refund = r) -> str:
                    return f"{x - r.made_at:.3f}" if x else ""

                fh.write(
                    f"{r.kind},{r.oid},{r.rid},{r.made_at:.3f},{rel(r.answered_at)},"
                    f"{rel(r.recorded)},{rel(r.sync_done)},{rel(r.posted_seen)},{r.state}\n"
                )


if __name__ == "__main__":
    main()
