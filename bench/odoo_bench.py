"""How many RPCs and how much time the Odoo gateway spends on typical batches.

Run: ``python bench/odoo_bench.py`` (from the repository root, with the project's venv).
It starts an Odoo sandbox with 20 ms latency per call and 2 ms per record, a throw-away hub
state directory (SQLite + database cache), and prints a markdown table.

Goals: one order of any line count <= 4 RPCs; a batch of 200 <= 0.1 RPC per order; stock for
1,000 SKUs over 2 warehouses <= 4 RPCs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 20
PER_RECORD_MS = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.odoo",
            "--port",
            str(port),
            "--latency-ms",
            str(LATENCY_MS),
            "--per-record-ms",
            str(PER_RECORD_MS),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"sandbox exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            stats(f"http://127.0.0.1:{port}")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("sandbox did not start")


def stats(url: str) -> int:
    with urllib.request.urlopen(f"{url}/__sandbox__/stats", timeout=5) as resp:
        return int(json.loads(resp.read())["total"])


def main() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    state = tempfile.mkdtemp(prefix="hub-bench-")
    os.environ.update(
        HUB_VAR_DIR=state,
        ODOO_URL=url,
        ODOO_DB="hub",
        ODOO_USER="admin",
        ODOO_PASSWORD="admin",
        HUB_LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{state}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from apps.odoo.client import get_client
    from apps.odoo.gateway import OdooGateway

    call_command("createcachetable", verbosity=0)
    proc = start_sandbox(port)
    try:
        gw = OdooGateway(get_client())
        gw.client.uid()
        _ = gw.client.adapter
        partner = gw.partner_ensure(
            partner={"name": "Bench Corp", "ref": "BENCH-1", "is_company": True}
        )
        skus = [f"BENCH-{i:04d}" for i in range(1000)]
        t = time.perf_counter()
        products = gw.products_ensure(
            products=[{"sku": s, "name": f"Bench {s}", "list_price": 10} for s in skus]
        )
        setup_s = time.perf_counter() - t
        rows: list[tuple[str, int, int, float]] = []

        def orders(tag: str, n: int) -> list[dict[str, Any]]:
            return [
                {
                    "ref": f"bench:{tag}:{i}",
                    "partner_id": partner.id,
                    "lines": [
                        {
                            "product_id": products[skus[(i * 3 + k) % 1000]],
                            "qty": 1,
                            "price_unit": 10,
                        }
                        for k in range(3)
                    ],
                }
                for i in range(n)
            ]

        def measure(label: str, n: int, fn: Any) -> None:
            before, t0 = stats(url), time.perf_counter()
            fn()
            rows.append((label, n, stats(url) - before, time.perf_counter() - t0))

        for n in (1, 20, 200):
            batch = orders(f"batch{n}", n)
            measure(
                "create+confirm, batched",
                n,
                lambda b=batch: gw.sale_orders_ensure(orders=b, confirm=True),
            )
            single = orders(f"single{n}", n)
            measure(
                "create+confirm, one order at a time",
                n,
                lambda s=single: [gw.sale_orders_ensure(orders=[o], confirm=True) for o in s],
            )

        def stock() -> None:
            ids = gw.products_ids(skus=skus).ids
            whs = [
                w["id"]
                for w in gw.client.call(
                    "stock.warehouse", "search_read", [[]], {"fields": ["code"], "limit": 2}
                )
            ]
            gw.stock_levels(product_ids=list(ids.values()), warehouse_ids=whs)

        measure(
            "stock for 1,000 SKUs x 2 warehouses (incl. SKU lookup + warehouse list)", 1000, stock
        )
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(state, ignore_errors=True)

    print(
        f"\nSandbox: {LATENCY_MS} ms per call + {PER_RECORD_MS} ms per record; "
        f"setup (1,000 products in one create) {setup_s:.2f} s\n"
    )
    print("| scenario | items | RPCs | RPC per item | wall (s) | ms per item |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, rpcs, wall in rows:
        print(f"| {label} | {n} | {rpcs} | {rpcs / n:.3f} | {wall:.2f} | {wall * 1000 / n:.1f} |")


if __name__ == "__main__":
    main()
