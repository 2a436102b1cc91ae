"""Shipments: done deliveries in Odoo to fulfillments on Shopify, WooCommerce and BigCommerce.

Run: ``python bench/shipments_bench.py [--pickings 1000] [--rate 2] [--quick]`` from the
repository root with the project's venv (``--quick``: 150 pickings).

The production topology on one machine: gunicorn (2 workers x 4 threads, the Odoo hint's
receiver), the ``worker`` process of the Procfile (queues intake, channel_io, batch, maintenance,
default; 2 processes), ``worker_odoo`` (queue odoo; 2 processes) and ``beat`` (the
DatabaseScheduler, with only ``fulfillment.poll_odoo`` enabled, every HUB_SHIPMENT_POLL_SECONDS
= 15 s by default), on PostgreSQL (a throw-away ``hub_bench_ship`` database, recreated and
migrated) and Redis (broker db 1, cache db 0, both flushed), ``HUB_VAR_DIR`` defaulting to
``var/bench_ship``. Odoo is the sandbox at ``--latency-ms`` (20) per call + ``--per-record-ms``
(2) per record; the channels are the Shopify, WooCommerce (Shipment Tracking extension on) and
BigCommerce stand-ins with their default rate limits.

Seeding (not timed, sandbox latency off while it runs): the orders are seeded in the stand-ins
(`POST /__standin__/orders`, the stand-in's own order and line ids), translated by the hub's
translators from the recorded channel payloads (ids and SKUs replaced), ingested with
``order_ingest`` and pushed to Odoo with ``order_push_due`` (batches of 100, the hub's real
push: sale order created and confirmed, delivery reserved). Every order has 2 x SKU-001 and
1 x SKU-003; a share of them (``--partial``, 10 %) ships in two parts (SKU-001 first, the
backorder with SKU-003 later), so the pickings are full deliveries, first parts and backorders.
The acknowledgements the push rings are dropped (broker flushed) so that every stand-in call
in the measured window is a fulfillment call.

Measured: the pickings are validated in Odoo by this process, open loop at ``--rate`` per
second, the three channels interleaved: per picking one ``stock.picking.write`` (tracking
number + carrier), then the clock starts and ``button_validate`` runs (partial first parts also
write the shipped move's quantity first, and read the backorder's id after). Half of the
pickings go with the poll only (no Odoo rule), the other half after ``manage.py odoo
install-shipment-webhook`` (the sandbox's base.automation POSTs the picking to the hub's
receiver; the poll keeps running, as deployed).

- latency: ``button_validate`` sent → the stand-in received the write that carries the
  picking's tracking number (Shopify ``fulfillmentCreate``, WooCommerce ``POST
  shipment-trackings``, BigCommerce ``POST shipments``; the stand-in stamps each write);
- channel calls per shipment: the adapters' count (``ChannelResult.calls``, stored in the
  sync's effects) against the platform minimum (Shopify 2, BigCommerce 2, WooCommerce 1 per
  tracking number + 1 when the shipment completes the order), cross-checked with the
  stand-ins' own call counters;
- Odoo RPCs per 100 shipments: the sandbox's call counter over the mode's window (first
  validation to the last fulfillment done) minus the calls this process made.

Goals (the shipments issue): calls <= 1.1 x the minimum; p95 <= 15 s polled (15 s poll), <= 3 s
hinted.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox_proc import free_port, http, start_sandbox, start_standin, stop_all
from webhook_bench import database_url, redis_up, wait_http

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "channels"
TOKEN = "bench-ship-" + "h" * 40
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
# The recorded payloads' SKUs -> products the sandbox Odoo and the stand-ins both have.
SKUS = {"TSHIRT-BLU-M": "SKU-001", "MUG-WHT-11OZ": "SKU-003"}
KINDS = ("shopify", "woocommerce", "bigcommerce")
CODES = {"shopify": "ship-shop", "woocommerce": "ship-woo", "bigcommerce": "ship-bc"}
# The Odoo carrier "Standard Delivery" as each channel writes UPS.
CARRIER = {"shopify": "UPS", "woocommerce": "UPS", "bigcommerce": "ups"}
TRACK_RE = re.compile(r"1ZBT\d{7}")


class Odoo:
    """JSON-RPC to the sandbox as admin, counting this process's calls per model.method."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    def execute(self, model: str, method: str, *args: Any, **kw: Any) -> Any:
        with self.lock:
            self.calls[f"{model}.{method}"] += 1
            n = sum(self.calls.values())
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
class BenchOrder:
    kind: str
    external_id: int
    hub_id: int = 0
    sale_id: int = 0
    partial: bool = False
    picking_id: int = 0
    part1_move: int = 0  # the SKU-001 move a partial order ships first
    backorder_id: int = 0


@dataclass
class Shot:
    """One validated picking."""

    mode: str
    kind: str
    picking_id: int
    tracking: str
    part: str  # full, first, backorder
    validate_at: float = 0.0  # wall clock, just before button_validate was sent
    channel_at: float | None = None
    detected_at: float | None = None
    synced_at: float | None = None
    calls: int = 0
    minimum: int = 0
    sync_state: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


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


# --- seeding -----------------------------------------------------------------------------------


def hub_order(kind: str, oid: int, code: str) -> Any:
    """The hub's Order for stand-in order `oid`, through the hub's translator of `kind`."""
    from apps.sales_channels.translators import (
        order_from_bigcommerce,
        order_from_shopify,
        order_from_woocommerce,
    )

    if kind == "shopify":
        p = load("shopify_order.json")
        p.update(id=oid, name=f"#B{oid}", order_number=oid, number=oid)
        p["admin_graphql_api_id"] = f"gid://shopify/Order/{oid}"
        for n, line in enumerate(p["line_items"], start=1):
            line["id"], line["sku"] = oid * 100 + n, SKUS[line["sku"]]
        p["fulfillments"] = []
        return order_from_shopify(p, channel=code)
    if kind == "woocommerce":
        p = load("woocommerce_order.json")
        p.update(id=oid, number=str(oid))
        for n, line in enumerate(p["line_items"], start=1):
            line["id"], line["sku"] = oid * 100 + n, SKUS[line["sku"]]
        return order_from_woocommerce(p, channel=code)
    p = load("bigcommerce_order.json")
    order = copy.deepcopy(p["order"])
    order["id"] = oid
    products = []
    for n, prod in enumerate(p["products"], start=1):
        prod = {**prod, "id": oid * 10 + n, "order_id": oid, "order_address_id": oid * 10}
        prod["sku"] = SKUS[prod["sku"]]
        products.append(prod)
    addresses = [{**a, "id": oid * 10, "order_id": oid} for a in p["shipping_addresses"]]
    return order_from_bigcommerce(
        order, products=products, shipping_addresses=addresses, coupons=p["coupons"], channel=code
    )


def standin_order(kind: str, oid: int) -> dict[str, Any]:
    lines = [{"sku": "SKU-001", "quantity": 2, "price": 25}, {"sku": "SKU-003", "quantity": 1}]
    if kind == "shopify":
        return {"id": oid, "name": f"#B{oid}", "line_items": lines}
    if kind == "woocommerce":
        return {"id": oid, "status": "processing", "line_items": lines}
    return {"id": oid, "status_id": 11, "line_items": lines}


def seed(
    args: Any, odoo: Odoo, urls: dict[str, str], creds: dict[str, dict[str, str]]
) -> list[BenchOrder]:
    from apps.mappings.models import Binding, ValueMap
    from apps.orders.models import ChannelOrder, OrderState
    from apps.orders.services import order_ingest, order_push_due
    from apps.sales_channels.services import channel_create

    n_orders = round(args.pickings / (1 + args.partial))
    n_partial = args.pickings - n_orders
    products = {
        r["default_code"]: r["id"]
        for r in odoo.execute(
            "product.product",
            "search_read",
            [["default_code", "in", list(SKUS.values())]],
            fields=["default_code"],
        )
    }
    [carrier] = odoo.execute(
        "delivery.carrier", "search_read", [["name", "=", "Standard Delivery"]], fields=["id"]
    )
    [wh] = odoo.execute(
        "stock.warehouse", "search_read", [["code", "=", "WH"]], fields=["lot_stock_id"]
    )
    ctx = {"inventory_mode": True}
    quants = odoo.execute(
        "stock.quant",
        "create",
        [
            {
                "product_id": products["SKU-001"],
                "location_id": wh["lot_stock_id"][0],
                "inventory_quantity": 3 * n_orders + 100,
            },
            {
                "product_id": products["SKU-003"],
                "location_id": wh["lot_stock_id"][0],
                "inventory_quantity": 2 * n_orders + 100,
            },
        ],
        context=ctx,
    )
    odoo.execute("stock.quant", "action_apply_inventory", quants, context=ctx)

    for kind in KINDS:
        c = creds[kind]
        options: dict[str, Any] = {"api_base_url": urls[kind]}
        if kind == "shopify":
            options["access_token"] = c["access_token"]
        elif kind == "woocommerce":
            options.update(consumer_key=c["consumer_key"], consumer_secret=c["consumer_secret"])
        else:
            options["access_token"] = c["auth_token"]
        channel, _ = channel_create(
            code=CODES[kind], kind=kind, inventory_enabled=args.with_inventory, **options
        )
        for sku, pid in products.items():
            Binding.objects.create(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=f"bench-{sku}",
                external_code=sku,
                odoo_model="product.product",
                odoo_id=pid,
            )
        ValueMap.objects.create(
            channel=channel,
            kind=ValueMap.Kind.TRACKING_COMPANY,
            channel_value=CARRIER[kind],
            odoo_model="delivery.carrier",
            odoo_value=str(carrier["id"]),
        )

    orders: list[BenchOrder] = []
    base = {"shopify": 7_400_000_000, "woocommerce": 60_000, "bigcommerce": 50_000}
    for i in range(n_orders):
        kind = KINDS[i % 3]
        oid = base[kind] + i
        orders.append(BenchOrder(kind=kind, external_id=oid, partial=False))
    # Partial orders spread evenly over the list (so over both modes and all channels).
    if n_partial:
        step = n_orders / n_partial
        for k in range(n_partial):
            orders[int(k * step)].partial = True
    for o in orders:
        http("POST", f"{CONTROL[o.kind]}/orders", standin_order(o.kind, o.external_id))
        row = order_ingest(order=hub_order(o.kind, o.external_id, CODES[o.kind]))
        o.hub_id = row.pk
    while order_push_due():
        pass
    rows = {r.pk: r for r in ChannelOrder.objects.filter(pk__in=[o.hub_id for o in orders])}
    bad = [r for r in rows.values() if r.state != OrderState.IN_ODOO]
    if bad:
        raise SystemExit(f"{len(bad)} orders not in Odoo, e.g. {bad[0].state}: {bad[0].last_error}")
    for o in orders:
        o.sale_id = int(rows[o.hub_id].odoo_id or 0)
    by_sale = {o.sale_id: o for o in orders}
    pickings = odoo.execute(
        "stock.picking",
        "search_read",
        [["sale_id", "in", list(by_sale)], ["picking_type_code", "=", "outgoing"]],
        fields=["sale_id", "state", "move_ids"],
    )
    moves = {
        m["id"]: m
        for m in odoo.execute(
            "stock.move",
            "search_read",
            [["picking_id", "in", [p["id"] for p in pickings]]],
            fields=["product_id", "quantity"],
        )
    }
    for p in pickings:
        o = by_sale[p["sale_id"][0]]
        if p["state"] != "assigned":
            raise SystemExit(f"picking {p['id']} is {p['state']}, not reserved")
        o.picking_id = p["id"]
        for mid in p["move_ids"]:
            if moves[mid]["product_id"][0] == products["SKU-001"]:
                o.part1_move = mid
    args.carrier_id = carrier["id"]
    return orders


CONTROL: dict[str, str] = {}


# --- one mode ----------------------------------------------------------------------------------


def schedule(orders: list[BenchOrder], gap: int) -> list[tuple[str, BenchOrder]]:
    """Validation order: each order's delivery; a partial order's backorder `gap` slots later."""
    seq: list[tuple[str, BenchOrder]] = []
    later: dict[int, list[tuple[str, BenchOrder]]] = defaultdict(list)
    for i, o in enumerate(orders):
        seq.append(("first" if o.partial else "full", o))
        seq.extend(later.pop(i, []))
        if o.partial:
            later[i + gap].append(("backorder", o))
    for k in sorted(later):
        seq.extend(later[k])
    return seq


def validate_all(
    odoo: Odoo,
    mode: str,
    seq: list[tuple[str, BenchOrder]],
    rate: float,
    carrier_id: int,
    counter: list[int],
) -> list[Shot]:
    shots: list[Shot] = []
    t0 = time.perf_counter() + 0.2
    for i, (part, o) in enumerate(seq):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        counter[0] += 1
        tracking = f"1ZBT{counter[0]:07d}"
        pid = o.backorder_id if part == "backorder" else o.picking_id
        if part == "first":
            odoo.execute("stock.move", "write", [o.part1_move], {"quantity": 2, "picked": True})
        odoo.execute(
            "stock.picking",
            "write",
            [pid],
            {"carrier_tracking_ref": tracking, "carrier_id": carrier_id},
        )
        shot = Shot(mode=mode, kind=o.kind, picking_id=pid, tracking=tracking, part=part)
        shot.validate_at = time.time()
        odoo.execute("stock.picking", "button_validate", [pid], context={"skip_backorder": True})
        if part == "first":
            [row] = odoo.execute("stock.picking", "read", [pid], ["backorder_ids"])
            o.backorder_id = row["backorder_ids"][0]
        shots.append(shot)
    return shots


def wait_synced(shots: list[Shot], timeout: float) -> bool:
    from apps.fulfillment.models import ShipmentSync

    ids = [s.picking_id for s in shots]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = ShipmentSync.objects.filter(
            action="create",
            shipment__odoo_picking_id__in=ids,
            state__in=["done", "failed", "ignored"],
        ).count()
        if done >= len(ids):
            return True
        time.sleep(0.5)
    return False


def collect(shots: list[Shot], received: dict[str, list[dict[str, Any]]]) -> None:
    from apps.fulfillment.models import Shipment, ShipmentSync

    first: dict[str, float] = {}
    for rows in received.values():
        for r in rows:
            text = json.dumps(r.get("body"))
            for number in set(TRACK_RE.findall(text)):
                first[number] = min(first.get(number, r["ts"]), r["ts"])
    by_pick = {s.picking_id: s for s in shots}
    for sh in Shipment.objects.filter(odoo_picking_id__in=list(by_pick)):
        s = by_pick[sh.odoo_picking_id]
        s.detected_at = sh.created_at.timestamp()
        s.synced_at = sh.channel_synced_at.timestamp() if sh.channel_synced_at else None
    syncs = ShipmentSync.objects.filter(
        action="create", shipment__odoo_picking_id__in=list(by_pick)
    ).values_list("shipment__odoo_picking_id", "state", "effects", "request", "attempts")
    for pid, state, effects, request, attempts in syncs:
        s = by_pick[pid]
        s.sync_state = state
        s.calls = sum(int(e.get("calls") or 0) for e in effects or [] if isinstance(e, dict))
        sent = (request or {}).get("sent") or {}
        numbers = len(sent.get("tracking_numbers") or []) or 1
        if s.kind == "woocommerce":
            s.minimum = numbers + (1 if sent.get("final") else 0)
        else:
            s.minimum = 2
        s.extra["attempts"] = attempts
    for s in shots:
        s.channel_at = first.get(s.tracking)


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pickings", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="150 pickings")
    parser.add_argument("--rate", type=float, default=2.0, help="validations per second")
    parser.add_argument("--partial", type=float, default=0.1, help="share of orders in 2 parts")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--per-record-ms", type=float, default=2.0)
    parser.add_argument("--modes", default="polled,hinted")
    parser.add_argument(
        "--with-inventory",
        action="store_true",
        help="leave the channels' inventory flow on (each shipment's order history entry then "
        "marks its SKUs dirty and a stock publication follows)",
    )
    args = parser.parse_args()
    if args.quick:
        args.pickings = 150
    modes = [m for m in args.modes.split(",") if m]

    state = Path(os.environ.get("HUB_VAR_DIR") or ROOT / "var" / "bench_ship").resolve()
    # Only what this script writes there is cleared (HUB_VAR_DIR may be shared with make bench).
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
        "HUB_ODOO_WEBHOOK_TOKEN": TOKEN,
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or database_url("hub_bench_ship"),
    }
    if not redis_up():
        raise SystemExit("no Redis on 127.0.0.1:6379")
    env.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"]):
        redis.Redis.from_url(url).flushdb()

    poll_seconds = float(env.get("HUB_SHIPMENT_POLL_SECONDS") or 15)
    procs: list[subprocess.Popen[bytes]] = [start_sandbox(odoo_port, latency_ms=0, per_record_ms=0)]
    results: dict[str, list[Shot]] = {}
    windows: dict[str, dict[str, Any]] = {}
    try:
        urls: dict[str, str] = {}
        creds: dict[str, dict[str, str]] = {}
        for kind in KINDS:
            proc, url = start_standin(kind, products=10)
            procs.append(proc)
            CONTROL[kind] = f"{url}/__standin__"
            creds[kind] = http("GET", f"{url}/__standin__/credentials")
            urls[kind] = url + (
                f"/stores/{creds[kind]['store_hash']}" if kind == "bigcommerce" else ""
            )
        http("POST", f"{CONTROL['woocommerce']}/config", {"shipment_tracking": True})
        odoo = Odoo(odoo_url)
        t = time.perf_counter()
        orders = seed(args, odoo, urls, creds)
        seeded_in = time.perf_counter() - t
        print(f"seeded {len(orders)} orders in {seeded_in:.1f} s", file=sys.stderr)
        for url in (env["CELERY_BROKER_URL"],):
            redis.Redis.from_url(url).flushdb()  # the push's acknowledgement rings: not measured
        http(
            "POST",
            f"{odoo_url}/__sandbox__/faults",
            {"latency_ms": args.latency_ms, "per_record_ms": args.per_record_ms},
        )

        from django_celery_beat.models import PeriodicTask

        from apps.core.periodic import discover_jobs, sync_schedules

        discover_jobs()
        sync_schedules()
        PeriodicTask.objects.exclude(name="fulfillment.poll_odoo").update(enabled=False)
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
                    f"bench-w-{os.getpid()}@%h",
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
                    f"bench-o-{os.getpid()}@%h",
                    *flags,
                ],
                env,
                state / "worker_odoo.log",
            )
        )
        procs.append(
            start(
                [
                    *celery,
                    "beat",
                    "--scheduler",
                    "django_celery_beat.schedulers:DatabaseScheduler",
                    "--pidfile=",
                    "-l",
                    LOG_LEVEL,
                ],
                env,
                state / "beat.log",
            )
        )
        wait_http(web_port, timeout=60)
        # The first poll stores the cursor (deliveries done before the hub was installed are
        # not sent); wait for it, then one more period so the workers are warm.
        from apps.fulfillment.models import ShipmentCursor

        deadline = time.monotonic() + 90
        while not ShipmentCursor.objects.filter(polled_at__isnull=False).exists():
            if time.monotonic() > deadline:
                raise SystemExit("the first poll did not run within 90 s (see beat.log)")
            time.sleep(0.5)

        half = len(orders) // 2 if len(modes) > 1 else len(orders)
        parts = {modes[0]: orders[:half]}
        if len(modes) > 1:
            parts[modes[1]] = orders[half:]
        counter = [0]
        from apps.core.models import JobRun

        for mode in modes:
            if mode == "hinted":
                call_command(
                    "odoo",
                    "install-shipment-webhook",
                    "--url",
                    f"http://127.0.0.1:{web_port}/webhooks/odoo/{TOKEN}/pickings/",
                    stdout=open(os.devnull, "w"),  # noqa: SIM115
                )
            seq = schedule(parts[mode], gap=max(1, int(20 * args.rate)))
            stand_before = {k: http("GET", f"{CONTROL[k]}/stats")["calls"] for k in KINDS}
            polls_before = JobRun.objects.filter(name="fulfillment.poll_odoo").count()
            rpc_before = odoo.stats()
            own_before = Counter(odoo.calls)
            load_start = loadavg()
            started = time.time()
            shots = validate_all(odoo, mode, seq, args.rate, args.carrier_id, counter)
            validated = time.time()
            ok = wait_synced(shots, timeout=180 + 2 * poll_seconds)
            finished = time.time()
            rpc_after = odoo.stats()
            own = Counter(odoo.calls)
            own.subtract(own_before)
            stand_after = {k: http("GET", f"{CONTROL[k]}/stats")["calls"] for k in KINDS}
            received = {k: http("GET", f"{CONTROL[k]}/received") for k in KINDS}
            collect(shots, received)
            by_method: Counter[str] = Counter(rpc_after["calls"])
            by_method.subtract(Counter(rpc_before["calls"]))
            by_method.subtract(own)
            windows[mode] = {
                "ok": ok,
                "load": (load_start, loadavg()),
                "validate_s": validated - started,
                "window_s": finished - started,
                "rpcs": rpc_after["total"] - rpc_before["total"] - sum(own.values()),
                "own_rpcs": sum(own.values()),
                "by_method": {k: v for k, v in by_method.items() if v},
                "standin_calls": {
                    k: sum(stand_after[k].values()) - sum(stand_before[k].values()) for k in KINDS
                },
                "standin_ops": {
                    k: {
                        op: n - stand_before[k].get(op, 0)
                        for op, n in stand_after[k].items()
                        if n - stand_before[k].get(op, 0)
                    }
                    for k in KINDS
                },
                "polls": [
                    ((f - s).total_seconds(), d)
                    for s, f, d in JobRun.objects.filter(
                        name="fulfillment.poll_odoo", finished_at__isnull=False
                    )
                    .order_by("id")
                    .values_list("started_at", "finished_at", "detail")[polls_before:]
                ],
            }
            results[mode] = shots
            if not ok:
                print(f"{mode}: not every shipment synced within the timeout", file=sys.stderr)
        from apps.fulfillment.models import PickingHint

        hints = PickingHint.objects.count()
        polls = list(
            JobRun.objects.filter(name="fulfillment.poll_odoo").values_list(
                "started_at", "finished_at", "detail"
            )
        )
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if p.poll() is None and os.getpgid(p.pid) == p.pid:
                    os.killpg(p.pid, signal.SIGTERM)
        stop_all(reversed(procs), timeout=20)
    report(args, results, windows, hints, polls, poll_seconds, seeded_in, len(orders))


def report(
    args: Any,
    results: dict[str, list[Shot]],
    windows: dict[str, dict[str, Any]],
    hints: int,
    polls: list[Any],
    poll_seconds: float,
    seeded_in: float,
    n_orders: int,
) -> None:
    shots = [s for v in results.values() for s in v]
    parts = Counter(s.part for s in shots)
    print(
        f"\n{len(shots)} pickings ({parts['full']} full, {parts['first']} first parts, "
        f"{parts['backorder']} backorders) of {n_orders} orders over Shopify / WooCommerce / "
        f"BigCommerce stand-ins · validated at {args.rate:g}/s · Odoo sandbox "
        f"{args.latency_ms:g} ms/call + {args.per_record_ms:g} ms/record · poll every "
        f"{poll_seconds:g} s · PostgreSQL + Redis · web 2x4, worker 2, worker_odoo 2, beat · "
        f"{os.cpu_count()} cores · seeding {seeded_in:.0f} s\n"
    )
    print(
        "| mode | pickings | synced | p50 s | p95 s | max s | detected p50 / p95 s "
        "| Odoo RPC / 100 shipments | load avg (start → end) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for mode, ss in results.items():
        w = windows[mode]
        lat = [s.channel_at - s.validate_at for s in ss if s.channel_at]
        det = [s.detected_at - s.validate_at for s in ss if s.detected_at]
        synced = sum(1 for s in ss if s.sync_state == "done")
        goal = 15.0 if mode == "polled" else 3.0
        print(
            f"| {mode} (goal p95 ≤ {goal:g} s) | {len(ss)} | {synced} | {pct(lat, 0.5):.2f} | "
            f"{pct(lat, 0.95):.2f} | {max(lat, default=float('nan')):.2f} | "
            f"{pct(det, 0.5):.2f} / {pct(det, 0.95):.2f} | "
            f"{100 * w['rpcs'] / max(1, len(ss)):.1f} ({w['rpcs']} in {w['window_s']:.0f} s) | "
            f"{w['load'][0]} → {w['load'][1]} |"
        )
    print(
        "\n| channel | shipments | calls (adapters) | minimum | calls / minimum "
        "| stand-in calls | retried |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in KINDS:
        ss = [s for s in shots if s.kind == kind]
        calls, minimum = sum(s.calls for s in ss), sum(s.minimum for s in ss)
        standin = sum(w["standin_calls"][kind] for w in windows.values())
        retried = sum(1 for s in ss if s.extra.get("attempts"))
        print(
            f"| {kind} | {len(ss)} | {calls} | {minimum} | {calls / max(1, minimum):.2f} | "
            f"{standin} | {retried} |"
        )
    for mode, w in windows.items():
        top = sorted(w["by_method"].items(), key=lambda kv: -kv[1])
        print(
            f"\n{mode}: hub RPCs by method: "
            + ", ".join(f"{k} {v}" for k, v in top)
            + f" (the bench's own {w['own_rpcs']} subtracted); validating took "
            f"{w['validate_s']:.0f} s"
        )
        print(
            f"{mode}: stand-in calls by operation: "
            + "; ".join(
                f"{k}: " + ", ".join(f"{op} {n}" for op, n in sorted(ops.items()))
                for k, ops in w["standin_ops"].items()
            )
        )
        durations = sorted(d for d, _ in w["polls"])
        if durations:
            print(
                f"{mode}: {len(durations)} polls, duration p50 {pct(durations, 0.5):.2f} s, max "
                f"{durations[-1]:.2f} s; e.g. {w['polls'][-1][1]}"
            )
    print(
        f"\npicking hints received: {hints}; inventory flow "
        f"{'on' if args.with_inventory else 'off'} on the channels"
    )
    for mode, ss in results.items():
        lat = [s.channel_at - s.validate_at for s in ss if s.channel_at]
        goal = 15.0 if mode == "polled" else 3.0
        ok = windows[mode]["ok"] and len(lat) == len(ss) and pct(lat, 0.95) <= goal
        print(
            f"goal {mode} p95 <= {goal:g} s with every shipment on the channel: "
            f"{'met' if ok else 'NOT met'}"
        )
    if os.environ.get("BENCH_CSV"):
        with open(os.environ["BENCH_CSV"], "w") as fh:
            fh.write("mode,kind,part,picking,validate_at,detected_s,channel_s,synced_s,calls,min\n")
            for s in shots:

                def rel(x: float | None, s: Shot = s) -> str:
                    return f"{x - s.validate_at:.3f}" if x else ""

                fh.write(
                    f"{s.mode},{s.kind},{s.part},{s.picking_id},{s.validate_at:.3f},"
                    f"{rel(s.detected_at)},{rel(s.channel_at)},{rel(s.synced_at)},"
                    f"{s.calls},{s.minimum}\n"
                )


if __name__ == "__main__":
    main()
