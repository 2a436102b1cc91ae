"""End-to-end order latency: signed Shopify webhook -> confirmed Odoo sale order, at a steady rate.

Run: ``python bench/orders_latency_bench.py [--rate 20] [--seconds 30]`` from the repository
root with the project's venv.

The production topology on one machine: gunicorn (2 workers x 4 threads), the `worker` process
(queues intake, channel_io, batch, maintenance, default; 2 processes) and the `worker_odoo`
process (queue odoo, 1 process), on PostgreSQL and Redis when they answer on 127.0.0.1 (a
throw-away ``hub_bench_e2e`` database, Redis dbs 10 and 9), else SQLite and the filesystem
broker. Odoo is the sandbox with 20 ms per call and 2 ms per record.

Shopify itself is the channel stand-in (sandbox/channels), so the order acknowledgements and
stock publications the hub makes along the way go somewhere real.

An open-loop sender posts ``orders/create`` webhooks (the recorded Shopify order, a new id per
request, signed like Shopify signs) at --rate per second. Each order's latency is the time from
its send to its ``pushed_at`` (the moment the hub saw the sale order confirmed); the clock is
the same machine's. Goal (issue 6): p95 <= 2 s at 20 orders/s.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sandbox_proc import free_port, sandbox_total, start_sandbox, start_standin, stop_all
from webhook_bench import database_url, redis_up, wait_http

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = json.loads((ROOT / "tests" / "data" / "channels" / "shopify_order.json").read_text())
SKU_MAP = {"TSHIRT-BLU-M": "SKU-001", "MUG-WHT-11OZ": "SKU-003", "WIDGET": "WIDGET-RED"}
SECRET = "bench-" + uuid.uuid4().hex
SHOP_PORT = free_port()
SHOP = f"127.0.0.1:{SHOP_PORT}"  # the Shopify stand-in: acknowledgements and stock go there
CHANNEL = "bench-e2e"
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")


def order_body(n: int) -> bytes:
    data = copy.deepcopy(SAMPLE)
    data["id"] = 5_000_000_000 + n
    data["order_number"] = 100_000 + n
    data["name"] = f"#{100_000 + n}"
    for line in data["line_items"]:  # the SKUs Odoo and the stand-in both know
        line["sku"] = SKU_MAP.get(line.get("sku") or "", line.get("sku"))
    return json.dumps(data).encode()


def send_all(port: int, rate: float, seconds: float, first: int = 0) -> dict[int, float]:
    """Open loop: order i is sent at t0 + i/rate (wall clock); returns {order id: sent at}."""
    total = int(rate * seconds)
    sent: dict[int, float] = {}
    failures: list[str] = []
    lock = threading.Lock()
    state = {"next": 0}
    t0 = time.perf_counter() + 0.2

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= total:
                break
            body = order_body(first + i)
            digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Shop-Domain": SHOP,
                "X-Shopify-API-Version": "2025-01",
                "X-Shopify-Webhook-Id": uuid.uuid4().hex,
            }
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            at = time.time()
            conn.request("POST", f"/webhooks/shopify/{CHANNEL}/", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            with lock:
                if resp.status == 202:
                    sent[5_000_000_000 + first + i] = at
                else:
                    failures.append(str(resp.status))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"{len(failures)} webhooks refused: {sorted(set(failures))}")
    return sent


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--odoo-concurrency",
        type=int,
        default=2,
        help="processes of the odoo-queue worker (HUB_ODOO_WORKER_CONCURRENCY)",
    )
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="hub-e2e-bench-"))
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
    }
    backend = "SQLite + filesystem broker"
    try:
        env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or database_url("hub_bench_e2e")
        if redis_up():
            env["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/10"
            env["REDIS_URL"] = "redis://127.0.0.1:6379/9"
            backend = "PostgreSQL + Redis"
        else:
            backend = "PostgreSQL + filesystem broker"
    except SystemExit:
        env["DATABASE_URL"] = f"sqlite:///{state}/bench.sqlite3"
        env.pop("CELERY_BROKER_URL", None)
        env.pop("REDIS_URL", None)
    (state / "metrics").mkdir(parents=True, exist_ok=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    if env.get("CELERY_BROKER_URL", "").startswith("redis"):
        import redis

        for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"]):
            redis.Redis.from_url(url).flushdb()

    procs: list[subprocess.Popen[bytes]] = [
        start_sandbox(odoo_port, latency_ms=20, per_record_ms=2)
    ]
    try:
        shop_proc, _ = start_standin(
            "shopify", port=SHOP_PORT, products=10, seed_skus=SKU_MAP.values()
        )
        procs.append(shop_proc)
        from apps.odoo.client import get_client
        from apps.odoo.gateway import OdooGateway
        from apps.orders.models import ChannelOrder, OrderState
        from apps.sales_channels.services import channel_create

        gw = OdooGateway(get_client())
        channel_create(
            code=CHANNEL,
            kind="shopify",
            secret=SECRET,
            api_base_url=f"http://{SHOP}",
            access_token="shpat_standin_access_token",
        )
        # Bind the stand-in's catalog to Odoo by SKU, as an operator would.
        call_command("mappings", "automap", "--channel", CHANNEL, verbosity=0)
        py = sys.executable
        procs.append(
            start(
                [
                    *(py, "-m", "gunicorn", "integration_hub.wsgi"),
                    *("--bind", f"127.0.0.1:{web_port}", "--worker-class", "gthread"),
                    *("--workers", "2", "--threads", "4", "--log-level", "warning"),
                ],
                env,
                state / "web.log",
            )
        )
        celery = (py, "-m", "celery", "-A", "integration_hub", "worker", "-l", LOG_LEVEL)
        flags = ("--without-gossip", "--without-mingle", "-P", "prefork")
        procs.append(
            start(
                [
                    *celery,
                    *("-Q", "intake,channel_io,batch,maintenance,default", "-c", "2"),
                    *("-n", f"bench-w-{os.getpid()}@%h", *flags),
                ],
                env,
                state / "worker.log",
            )
        )
        procs.append(
            start(
                [
                    *(*celery, "-Q", "odoo", "-c", str(args.odoo_concurrency)),
                    *("-n", f"bench-o-{os.getpid()}@%h", *flags),
                ],
                env,
                state / "worker_odoo.log",
            )
        )
        wait_http(web_port)
        # Warm-up: one order all the way through (workers booted, connections open, the
        # customer created in Odoo), so the clock measures the steady state, not process start.
        send_all(web_port, 1, 1, first=-1)
        deadline = time.monotonic() + 120
        while not ChannelOrder.objects.filter(state=OrderState.IN_ODOO).exists():
            if time.monotonic() > deadline:
                raise SystemExit("the warm-up order did not reach Odoo within 2 minutes")
            time.sleep(0.2)
        rpcs_before = sandbox_total(odoo_url)
        sent = send_all(web_port, args.rate, args.seconds)
        deadline = time.monotonic() + 120
        while ChannelOrder.objects.filter(state=OrderState.IN_ODOO).count() < len(sent) + 1:
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        rows = {
            ext: (received, pushed)
            for ext, received, pushed in ChannelOrder.objects.filter(
                state=OrderState.IN_ODOO
            ).values_list("external_id", "received_at", "pushed_at")
        }
        rpcs = sandbox_total(odoo_url) - rpcs_before
        sale_orders = gw.client.call(
            "sale.order", "search_count", [[["origin", "=like", f"{CHANNEL}:%"]]]
        )
    finally:
        # The hub's processes lead their own groups (gunicorn and celery fork children).
        for p in procs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if p.poll() is None and os.getpgid(p.pid) == p.pid:
                    os.killpg(p.pid, signal.SIGTERM)
        stop_all(reversed(procs), timeout=20)
        tails = {log.name: log.read_text(errors="replace")[-2500:] for log in state.glob("*.log")}
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(state, ignore_errors=True)
        else:
            print(f"state kept in {state}", file=sys.stderr)

    seen = [(at, *rows[str(oid)]) for oid, at in sent.items() if str(oid) in rows]
    latencies = sorted(pushed.timestamp() - at for at, _, pushed in seen)
    # Where the time goes: webhook -> order row (ledger + handler), order row -> confirmed.
    intake = sorted(received.timestamp() - at for at, received, _ in seen)
    push = sorted((pushed - received).total_seconds() for _, received, pushed in seen)
    missing = len(sent) - len(latencies)
    if missing:
        for name, tail in tails.items():
            print(f"--- {name} (tail)\n{tail}", file=sys.stderr)

    def q(p: float, values: list[float] | None = None) -> float:
        values = latencies if values is None else values
        return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0

    print(
        f"\n{backend} · Odoo sandbox 20 ms/call + 2 ms/record · web 2x4 threads, worker 2, "
        f"worker_odoo {args.odoo_concurrency} · {os.cpu_count()} cores · "
        f"open loop {args.rate:g} orders/s for {args.seconds:g} s\n"
    )
    print(
        "| orders sent | confirmed in Odoo | sale orders | RPC/order "
        "| p50 s | p95 s | p99 s | max s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {len(sent)} | {len(latencies)} | {sale_orders} | {rpcs / max(1, len(latencies)):.2f} | "
        f"{q(0.50):.2f} | {q(0.95):.2f} | {q(0.99):.2f} | {latencies[-1] if latencies else 0:.2f} |"
    )
    print(
        f"\nsegments, p50 / p95: webhook -> order row {q(0.5, intake):.2f} / "
        f"{q(0.95, intake):.2f} s; order row -> confirmed in Odoo {q(0.5, push):.2f} / "
        f"{q(0.95, push):.2f} s"
    )
    ok = not missing and q(0.95) <= 2.0
    print(f"\ngoal p95 <= 2 s with every order confirmed: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
