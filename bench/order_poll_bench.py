"""Order polling backstop: how fast a poll records a backlog, and what the overlap re-read costs.

Run: ``python bench/order_poll_bench.py [--orders 1000]`` from the repository root with the
project's venv. It starts the Shopify and WooCommerce stand-ins as subprocesses and a throw-away
hub state directory (SQLite, database cache, filesystem broker unless DATABASE_URL /
CELERY_BROKER_URL / REDIS_URL say otherwise: point those at DEDICATED databases, the bench
migrates and fills them), and prints a markdown table.

Setup (not timed): N full orders (the test fixtures' Shopify and WooCommerce orders under new
ids) seeded on each stand-in, one second apart and ending 50 minutes ago, and one channel per
stand-in. Timed, in this process (no worker): the first poll (every order new: list calls, dedupe
check, one ledger insert per order, watermark per page), then a second poll, which re-reads the
overlap (HUB_ORDER_POLL_OVERLAP_SECONDS, 600 s = the last 601 orders) and records nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox_proc import http, start_standin, stop_all

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "channels"
FIXTURES = {"shopify": "shopify_order.json", "woocommerce": "woocommerce_order.json"}


def seed(url: str, kind: str, n: int) -> None:
    payload = json.loads((DATA / FIXTURES[kind]).read_text())
    base = int(time.time()) - 3000 - n
    for i in range(n):
        http(
            "POST",
            f"{url}/__standin__/orders",
            {**payload, "id": 900_000 + i, "updated_at_ts": base + i},
        )


def run(n: int, urls: dict[str, str]) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    from apps.sales_channels.services import channel_create
    from apps.webhooks.backstop import channel_orders_poll

    rows: list[dict[str, Any]] = []
    for kind, url in urls.items():
        seed(url, kind, n)
        creds = http("GET", f"{url}/__standin__/credentials")
        channel, _ = channel_create(
            code=f"bench-poll-{kind}",
            kind=kind,
            api_base_url=url,
            secret="bench-secret",
            access_token=creds.get("access_token", ""),
            consumer_key=creds.get("consumer_key", ""),
            consumer_secret=creds.get("consumer_secret", ""),
        )
        for label in ("first poll (all new)", "second poll (overlap re-read)"):
            start = time.perf_counter()
            result = channel_orders_poll(channel_code=channel.code)
            seconds = time.perf_counter() - start
            read = result.recorded + result.duplicates
            rows.append(
                {
                    "kind": kind,
                    "poll": label,
                    "pages": result.pages,
                    "recorded": result.recorded,
                    "duplicates": result.duplicates,
                    "seconds": seconds,
                    "rate": read / seconds if seconds else 0.0,
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="hub-poll-bench-")
    os.environ.update(
        HUB_VAR_DIR=state,
        HUB_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="integration_hub.settings",
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{state}/bench.sqlite3")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls: dict[str, str] = {}
        for kind in FIXTURES:
            proc, urls[kind] = start_standin(kind)
            procs.append(proc)
        rows = run(args.orders, urls)
    finally:
        stop_all(procs)
    store = "PostgreSQL" if os.environ["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"{args.orders} orders per channel, {store}")
    print()
    print("| channel | poll | pages | recorded | duplicates | time | orders read/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['poll']} | {r['pages']} | {r['recorded']} | {r['duplicates']} "
            f"| {r['seconds']:.2f} s | {r['rate']:,.0f} |"
        )


if __name__ == "__main__":
    main()
