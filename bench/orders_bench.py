"""Push throughput: a burst of orders through the hub (2 worker processes) vs a naive loop.

Run: ``python bench/orders_bench.py [--orders 1000] [--naive 200] [--batch 100]`` from the
repository root with the project's venv. It starts an Odoo sandbox with 20 ms latency per call
and 2 ms per record, a throw-away hub state directory (SQLite, database cache, filesystem broker
unless DATABASE_URL / CELERY_BROKER_URL say otherwise: point those at a DEDICATED database and
broker, the bench migrates and fills them), and prints a markdown table.

- hub: N ready orders (3 lines + shipping, one returning customer) are ingested, then one
  Celery worker with 2 processes (queues intake, odoo) starts and pushes them with
  ``orders.push_due`` (batches of HUB_ORDER_PUSH_BATCH). Timed from the worker's start to the
  last order bound in_odoo.
- naive: one order at a time through the gateway: find the partner, create, confirm.

Two pushes at once into the sandbox (HUB_ODOO_MAX_CONCURRENT_PUSHES=2 unless set): it answers
concurrent calls like a multi-worker Odoo.

Goals (issue 6): hub >= 10x the naive orders/s, and <= 0.1 RPC per order.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox_proc import free_port, sandbox_total, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 20
PER_RECORD_MS = 2


def payload(n: int) -> dict[str, Any]:
    return {
        "external_id": f"B-{n}",
        "number": f"B-{n}",
        "created_at": "2025-01-14T15:04:05Z",
        "currency": "USD",
        "financial_status": "paid",
        "customer": {"email": "john.doe@example.com", "first_name": "John", "last_name": "Doe"},
        "lines": [
            {"sku": "SKU-001", "quantity": 1, "unit_price": "149.00", "discount": "14.90"},
            {"sku": "SKU-003", "quantity": 2, "unit_price": "39.90"},
            {"sku": "SKU-006", "quantity": 3, "unit_price": "29.90"},
        ],
        "shipping": {"title": "Standard", "price": "9.95"},
        "totals": {"total": "313.55"},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    state = tempfile.mkdtemp(prefix="hub-orders-bench-")
    os.environ.update(
        HUB_VAR_DIR=state,
        ODOO_URL=url,
        ODOO_DB="hub",
        ODOO_USER="admin",
        ODOO_PASSWORD="admin",
        HUB_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="integration_hub.settings",
        HUB_ORDER_PUSH_BATCH=str(args.batch),
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{state}/bench.sqlite3")
    # The sandbox serves concurrent calls as a multi-worker Odoo does, and such an Odoo takes a
    # push per two of its workers (docs/orders.md, "Pacing"); the default of one push per Odoo
    # is for the single-worker Odoo of bench/odoo_push_real.py. HUB_ODOO_MAX_CONCURRENT_PUSHES=1
    # measures that default here.
    os.environ.setdefault("HUB_ODOO_MAX_CONCURRENT_PUSHES", "2")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    proc = start_sandbox(port, latency_ms=LATENCY_MS, per_record_ms=PER_RECORD_MS)
    worker: subprocess.Popen[bytes] | None = None
    try:
        from apps.mappings.models import Binding
        from apps.odoo.client import get_client
        from apps.odoo.gateway import OdooGateway
        from apps.orders.models import ChannelOrder, OrderState
        from apps.orders.services import order_ingest
        from apps.sales_channels.services import channel_create
        from apps.sales_channels.translators import order_from_b2b

        gw = OdooGateway(get_client())
        skus = ["SKU-001", "SKU-003", "SKU-006"]
        products = gw.products_ids(skus=skus).ids
        ship = gw.products_ids(skus=["SHIP"]).ids["SHIP"]
        # The bench orders carry no tax: make the products untaxed in Odoo too, so amount_total
        # matches the channel total (the gateway does not send line taxes yet).
        gw.client.call(
            "product.product", "write", [list(products.values()), {"taxes_id": [[6, 0, []]]}]
        )
        channel, _ = channel_create(code="bench", kind="shopify")
        for sku, pid in products.items():
            Binding.objects.create(
                channel=channel,
                kind="product",
                external_id=sku,
                external_code=sku,
                odoo_model="product.product",
                odoo_id=pid,
            )

        # --- hub -----------------------------------------------------------------------------
        t = time.perf_counter()
        for n in range(args.orders):
            order_ingest(order=order_from_b2b(payload(n), channel="bench"))
        intake_s = time.perf_counter() - t
        log = Path(state) / "worker.log"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "integration_hub",
                "worker",
                "-Q",
                "intake,odoo",
                "-c",
                "2",
                "-P",
                "prefork",
                "-l",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"bench-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        # The clock starts when the worker is ready (boot time is not push time); the orders
        # were rung while it was down, so the first push_due is waiting in the broker.
        while " ready." not in log.read_text(errors="replace"):
            if worker.poll() is not None:
                raise SystemExit(log.read_text(errors="replace")[-3000:])
            time.sleep(0.01)
        before = sandbox_total(url)
        t = time.perf_counter()
        deadline = time.monotonic() + 600
        while ChannelOrder.objects.filter(state=OrderState.IN_ODOO).count() < args.orders:
            if time.monotonic() > deadline:
                raise SystemExit("the hub did not push every order within 10 minutes")
            time.sleep(0.05)
        hub_s = time.perf_counter() - t
        hub_rpcs = sandbox_total(url) - before
        dups = gw.client.call("sale.order", "search_count", [[["origin", "=like", "bench:%"]]])

        # --- naive loop ----------------------------------------------------------------------
        before = sandbox_total(url)
        t = time.perf_counter()
        for n in range(args.naive):
            found = gw.partners_find(emails=["john.doe@example.com"])
            partner = found.by_email["john.doe@example.com"]
            ids = gw.sale_orders_create(
                orders=[
                    {
                        "ref": f"naive:{n}",
                        "partner_id": partner,
                        "lines": [
                            {
                                "product_id": products["SKU-001"],
                                "qty": 1,
                                "price_unit": 149.0,
                                "discount": 10.0,
                            },
                            {"product_id": products["SKU-003"], "qty": 2, "price_unit": 39.9},
                            {"product_id": products["SKU-006"], "qty": 3, "price_unit": 29.9},
                            {"product_id": ship, "qty": 1, "price_unit": 9.95},
                        ],
                    }
                ]
            )
            gw.sale_orders_confirm(order_ids=ids)
        naive_s = time.perf_counter() - t
        naive_rpcs = sandbox_total(url) - before
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(state, ignore_errors=True)

    hub_rate, naive_rate = args.orders / hub_s, args.naive / naive_s
    print(
        f"\nSandbox: {LATENCY_MS} ms per call + {PER_RECORD_MS} ms per record; orders of 3 lines "
        f"+ shipping; batch {args.batch}; intake of {args.orders} orders took {intake_s:.1f} s "
        f"in one process; sale orders created by the hub: {dups} (expected {args.orders})\n"
    )
    print("| scenario | orders | RPCs | RPC per order | wall (s) | orders/s |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| hub: orders.push_due, 1 worker x 2 processes | {args.orders} | {hub_rpcs} | "
        f"{hub_rpcs / args.orders:.3f} | {hub_s:.2f} | {hub_rate:.1f} |"
    )
    print(
        f"| naive: find partner, create, confirm per order | {args.naive} | {naive_rpcs} | "
        f"{naive_rpcs / args.naive:.3f} | {naive_s:.2f} | {naive_rate:.1f} |"
    )
    print(f"\nSpeed-up: {hub_rate / naive_rate:.1f}x")


if __name__ == "__main__":
    main()
