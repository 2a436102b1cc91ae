"""How many RPCs and how much time the Odoo gateway spends on typical batches.

Run: ``python bench/odoo_bench.py`` (from the repository root, with the project's venv).
It starts an Odoo sandbox with 20 ms latency per call and 2 ms per record, a throw-away hub
state directory (SQLite + database cache), and prints a markdown table.

Against a real Odoo: ``python bench/odoo_bench.py --odoo-url URL --db DB --user U --password P``.
No sandbox is started; RPCs are counted on the hub's side (every call that reaches the transport)
and the records it creates stay in that database: 1,000 storable products BENCH-0000..0999
(created once, found again on later runs), a partner BENCH-1, and 442 sale orders whose
references carry a per-run tag. Use a test database.

Goals: one order of any line count <= 4 RPCs; a batch of 200 <= 0.1 RPC per order; stock for
1,000 SKUs over 2 warehouses <= 4 RPCs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandbox_proc import free_port, sandbox_total, start_sandbox

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 20
PER_RECORD_MS = 2


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--odoo-url", help="a real Odoo (no sandbox is started)")
    parser.add_argument("--db", help="its database")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="admin", help="password or API key")
    args = parser.parse_args()
    if args.odoo_url and not args.db:
        parser.error("--odoo-url needs --db")
    return args


def main() -> None:
    args = parse_args()
    external = bool(args.odoo_url)
    url = args.odoo_url.rstrip("/") if external else f"http://127.0.0.1:{free_port()}"
    state = tempfile.mkdtemp(prefix="hub-bench-")
    os.environ.update(
        HUB_VAR_DIR=state,
        ODOO_URL=url,
        ODOO_DB=args.db if external else "hub",
        ODOO_USER=args.user if external else "admin",
        ODOO_PASSWORD=args.password if external else "admin",
        HUB_LOG_LEVEL="WARNING",
    )
    if external:
        # A real server confirming 200 orders at once takes a while: measure, do not time out.
        os.environ.setdefault("ODOO_TIMEOUT_READ", "600")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{state}/bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from apps.odoo.client import get_client
    from apps.odoo.gateway import OdooGateway

    call_command("createcachetable", verbosity=0)
    proc = None
    if not external:
        port = int(url.rsplit(":", 1)[1])
        proc = start_sandbox(port, latency_ms=LATENCY_MS, per_record_ms=PER_RECORD_MS)
    counted = [0]
    rpcs: Callable[[], int] = (lambda: counted[0]) if external else (lambda: sandbox_total(url))
    run_tag = uuid.uuid4().hex[:8] if external else "run"
    version = ""
    try:
        gw = OdooGateway(get_client())
        gw.client.uid()
        _ = gw.client.adapter
        version = str(gw.client.version().get("server_version", ""))
        if external:
            transport: Any = gw.client.transport
            execute = transport.execute

            def counting_execute(*a: Any, **kw: Any) -> Any:
                counted[0] += 1
                return execute(*a, **kw)

            transport.execute = counting_execute
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
                    "ref": f"bench:{run_tag}:{tag}:{i}",
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
            before, t0 = rpcs(), time.perf_counter()
            fn()
            rows.append((label, n, rpcs() - before, time.perf_counter() - t0))

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

        whs = [
            w["id"]
            for w in gw.client.call(
                "stock.warehouse", "search_read", [[]], {"fields": ["code"], "limit": 2}
            )
        ]

        def stock() -> None:
            ids = gw.products_ids(skus=skus).ids
            gw.client.call("stock.warehouse", "search_read", [[]], {"fields": ["code"], "limit": 2})
            gw.stock_levels(product_ids=list(ids.values()), warehouse_ids=whs)

        measure(
            f"stock for 1,000 SKUs x {len(whs)} warehouse{'s' if len(whs) > 1 else ''} "
            "(incl. SKU lookup + warehouse list)",
            1000,
            stock,
        )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(state, ignore_errors=True)

    where = (
        f"Odoo {version} at {url} (RPCs counted by the hub's client)"
        if external
        else f"Sandbox: {LATENCY_MS} ms per call + {PER_RECORD_MS} ms per record"
    )
    print(f"\n{where}; setup (1,000 products ensured) {setup_s:.2f} s\n")
    print("| scenario | items | RPCs | RPC per item | wall (s) | ms per item |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, rpcs, wall in rows:
        print(f"| {label} | {n} | {rpcs} | {rpcs / n:.3f} | {wall:.2f} | {wall * 1000 / n:.1f} |")


if __name__ == "__main__":
    main()
