"""Stock latency: from a stock change in Odoo to the new value on the channel, end to end.

Run: ``python bench/inventory_latency_bench.py [--samples 20] [--poll 10]`` from the repository
root with the project's venv. It starts an Odoo sandbox (5 ms per call), the Shopify stand-in, a
Celery worker (queue ``channel_io``) and the hub's web process (gunicorn) as subprocesses, on a
throw-away state directory (SQLite, filesystem broker unless DATABASE_URL / CELERY_BROKER_URL /
REDIS_URL say otherwise), and prints a markdown table.

One at a time, a random SKU gets a new on-hand quantity in Odoo (an inventory adjustment, two
RPCs); the clock runs from the adjustment's start until the stand-in shows the new ATP (read
every 50 ms). Then a random pause (0 to the poll period in poll mode, so changes land at every
phase of the poll; 0-2 s with the hint), and the next change.

- poll: the hub learns of changes only from ``inventory.poll_odoo``, run every ``--poll``
  seconds by this process (the beat's role), then the worker publishes;
- webhook: the ``install-stock-webhook`` rule is installed in Odoo and no poll runs; Odoo's post
  to ``/webhooks/odoo/<token>/`` marks the SKU dirty, then the worker publishes.

Both include the hub's ``HUB_INVENTORY_COALESCE_SECONDS`` (default 1 s) before a publication.
Goals (issue 7): p95 <= 15 s with a 10 s poll, <= 3 s with the webhook hint.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from inventory_bench import Odoo
from sandbox_proc import bind_standin_skus, free_port, http, start_sandbox, start_standin, stop_all

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-" + "t" * 40


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--poll", type=float, default=10.0)
    parser.add_argument("--skus", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    odoo_port, web_port = free_port(), free_port()
    odoo_url = f"http://127.0.0.1:{odoo_port}"
    state = tempfile.mkdtemp(prefix="hub-inventory-latency-")
    os.environ.update(
        HUB_VAR_DIR=state,
        ODOO_URL=odoo_url,
        ODOO_DB="hub",
        ODOO_USER="admin",
        ODOO_PASSWORD="admin",
        HUB_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="integration_hub.settings",
        HUB_ODOO_WEBHOOK_TOKEN=TOKEN,
        HUB_STOCK_POLL_SECONDS=str(args.poll),
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{state}/bench.sqlite3")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start_sandbox(odoo_port, latency_ms=5, per_record_ms=0))
        shop_proc, shop_url = start_standin("shopify")
        procs.append(shop_proc)
        results = run(args, Odoo(odoo_url), shop_url, web_port, state, procs)
    finally:
        stop_all(reversed(procs), timeout=10)
    print_table(args, results)


def run(
    args: Any,
    odoo: Odoo,
    shop_url: str,
    web_port: int,
    state: str,
    procs: list[subprocess.Popen[bytes]],
) -> dict[str, list[float]]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)

    from apps.inventory.detection import stock_poll
    from apps.inventory.services import publish_channel
    from apps.sales_channels.models import ChannelWarehouse
    from apps.sales_channels.services import channel_create

    rng = random.Random(args.seed)
    wh = odoo.execute(
        "stock.warehouse", "search_read", [["code", "=", "WH"]], fields=["lot_stock_id"]
    )[0]
    location = wh["lot_stock_id"][0]
    skus = [f"LAT-{i:03d}" for i in range(args.skus)]
    pids = odoo.execute(
        "product.product",
        "create",
        [{"name": s, "default_code": s, "detailed_type": "product"} for s in skus],
    )
    by_sku = dict(zip(skus, pids, strict=True))
    odoo.set_quantities(location, dict.fromkeys(pids, 50))
    creds = http("GET", f"{shop_url}/__standin__/credentials")
    channel, _ = channel_create(
        code="latency", kind="shopify", api_base_url=shop_url, access_token=creds["access_token"]
    )
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh["id"])
    bind_standin_skus(channel, shop_url, by_sku)
    publish_channel(channel, force=True)

    log = open(Path(state) / "worker.log", "wb")  # noqa: SIM115 - lives as long as the worker
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "integration_hub",
                "worker",
                "-Q",
                "channel_io",
                "-c",
                "1",
                "-l",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    )
    wait_until(lambda: b" ready." in (Path(state) / "worker.log").read_bytes(), 60, "worker")
    web = f"http://127.0.0.1:{web_port}"
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "integration_hub.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--worker-class",
                "gthread",
                "--workers",
                "1",
                "--threads",
                "4",
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )

    def web_up() -> bool:
        try:
            http("GET", f"{web}/healthz")
            return True
        except OSError:
            return False

    wait_until(web_up, 60, "web")

    def sample(n: int, pause: float) -> list[float]:
        out = []
        for _ in range(n):
            sku = rng.choice(skus)
            current = http("GET", f"{shop_url}/__standin__/levels")[sku]
            qty = rng.choice([q for q in range(0, 100) if q != current])
            t0 = time.perf_counter()
            odoo.set_quantities(location, {by_sku[sku]: qty})
            wait_until(
                lambda s=sku, q=qty: http("GET", f"{shop_url}/__standin__/levels")[s] == q,
                120,
                f"{sku} = {qty} on the channel",
            )
            out.append(time.perf_counter() - t0)
            # A random pause, so changes land at every phase of the poll.
            time.sleep(rng.uniform(0, pause))
        return out

    results: dict[str, list[float]] = {}
    # -- poll only -------------------------------------------------------------------------------
    stop = threading.Event()
    stock_poll()  # the first poll sets the watermark to now

    def beat() -> None:
        while not stop.wait(args.poll):
            stock_poll()

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    results[f"poll every {args.poll:g} s"] = sample(args.samples, args.poll)
    stop.set()
    ticker.join()
    # -- webhook hint only -------------------------------------------------------------------
    call_command("odoo", "install-stock-webhook", "--url", f"{web}/webhooks/odoo/{TOKEN}/")
    results["Odoo webhook hint, no poll"] = sample(args.samples, 2.0)
    return results


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def print_table(args: Any, results: dict[str, list[float]]) -> None:
    print(f"{args.samples} stock changes per path, one at a time, Shopify stand-in")
    print()
    print("| path | p50 s | p95 s | max s | mean s |")
    print("|---|---:|---:|---:|---:|")
    for path, values in results.items():
        print(
            f"| {path} | {pct(values, 0.5):.2f} | {pct(values, 0.95):.2f} | {max(values):.2f} | "
            f"{statistics.mean(values):.2f} |"
        )


if __name__ == "__main__":
    main()
