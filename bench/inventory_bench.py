"""Stock publication cost: a burst of stock changes through the hub to two channel stand-ins.

Run: ``python bench/inventory_bench.py [--skus 1000] [--changes 10000] [--seed 7]`` from the
repository root with the project's venv. It starts an Odoo sandbox (5 ms per call) and the
Shopify and WooCommerce stand-ins as subprocesses, a throw-away hub state directory (SQLite,
database cache, filesystem broker unless DATABASE_URL / CELERY_BROKER_URL / REDIS_URL say
otherwise: point those at DEDICATED databases, the bench migrates and fills them), and prints a
markdown table.

Setup (not timed): N storable products in Odoo with stock in WH, the same N SKUs on both
stand-ins, product bindings, and an initial ``publish_channel(force=True)`` per channel, so the
channels start consistent with ATP.

Burst (timed): M stock changes spread at random over the N SKUs. Odoo receives the final quantity
of every touched product as one batched inventory adjustment; the hub receives the M change
signals as dirty marks (``mark_dirty`` in batches of 100 product ids, as the poll and the webhook
hints deliver them). Then each channel's publication runs (``publish_task_run``, one after the
other in this process: no worker), and the clock stops when both have returned; the bench then
checks, untimed, that both stand-ins hold ATP for every SKU.

Calls are the stand-ins' own counters. The minimum per channel is ceil(changed SKUs / batch size),
where changed SKUs are those whose ATP differs from what the channel held. Goal (issue 7):
calls <= 1.1 x minimum, with zero 429s.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox_proc import bind_standin_skus, free_port, http, start_sandbox, start_standin, stop_all

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 5


class Odoo:
    def __init__(self, url: str) -> None:
        self.url = url
        self.n = 0

    def execute(self, model: str, method: str, *args: Any, **kw: Any) -> Any:
        self.n += 1
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "service": "object",
                "method": "execute_kw",
                "args": ["hub", 2, "admin", model, method, list(args), kw],
            },
            "id": self.n,
        }
        answer = http("POST", f"{self.url}/jsonrpc", body)
        if "error" in answer:
            raise SystemExit(f"{model}.{method}: {answer['error']}")
        return answer.get("result")

    def set_quantities(self, location: int, quantities: dict[int, int]) -> None:
        """One batched inventory adjustment: counted quantities, then apply (transcript 03)."""
        ctx = {"inventory_mode": True}
        ids = self.execute(
            "stock.quant",
            "create",
            [
                {"product_id": pid, "location_id": location, "inventory_quantity": qty}
                for pid, qty in quantities.items()
            ],
            context=ctx,
        )
        self.execute("stock.quant", "action_apply_inventory", ids, context=ctx)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    odoo_port = free_port()
    odoo_url = f"http://127.0.0.1:{odoo_port}"
    state = tempfile.mkdtemp(prefix="hub-inventory-bench-")
    os.environ.update(
        HUB_VAR_DIR=state,
        ODOO_URL=odoo_url,
        ODOO_DB="hub",
        ODOO_USER="admin",
        ODOO_PASSWORD="admin",
        HUB_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="integration_hub.settings",
    )
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{state}/bench.sqlite3")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(start_sandbox(odoo_port, latency_ms=LATENCY_MS, per_record_ms=0))
        shop_proc, shop_url = start_standin("shopify")
        woo_proc, woo_url = start_standin("woocommerce")
        procs += [shop_proc, woo_proc]
        rows = run(args, rng, Odoo(odoo_url), shop_url, woo_url)
    finally:
        stop_all(procs)
    print_table(args, rows)


def run(args: Any, rng: random.Random, odoo: Odoo, shop_url: str, woo_url: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    cache.clear()

    from apps.inventory.atp import compute_atp
    from apps.inventory.services import mark_dirty, publish_channel, publish_task_run
    from apps.sales_channels.models import ChannelWarehouse
    from apps.sales_channels.services import channel_create

    # -- setup: products in Odoo, the same SKUs on both stand-ins, bindings ------------------
    wh = odoo.execute(
        "stock.warehouse", "search_read", [["code", "=", "WH"]], fields=["lot_stock_id"]
    )[0]
    location = wh["lot_stock_id"][0]
    skus = [f"BENCH-{i:05d}" for i in range(args.skus)]
    pids = odoo.execute(
        "product.product",
        "create",
        [
            {"name": s, "default_code": s, "detailed_type": "product", "list_price": 10}
            for s in skus
        ],
    )
    by_sku = dict(zip(skus, pids, strict=True))
    odoo.set_quantities(location, dict.fromkeys(pids, 50))

    channels = {}
    for kind, url in (("shopify", shop_url), ("woocommerce", woo_url)):
        creds = http("GET", f"{url}/__standin__/credentials")
        channel, _ = channel_create(
            code=f"bench-{kind}",
            kind=kind,
            api_base_url=url,
            access_token=creds.get("access_token", ""),
            consumer_key=creds.get("consumer_key", ""),
            consumer_secret=creds.get("consumer_secret", ""),
        )
        ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh["id"])
        bind_standin_skus(channel, url, by_sku)
        setup = time.perf_counter()
        publish_channel(channel, force=True)
        channels[kind] = {"channel": channel, "url": url, "setup_s": time.perf_counter() - setup}

    before = {kind: http("GET", f"{c['url']}/__standin__/stats") for kind, c in channels.items()}
    held = {kind: http("GET", f"{c['url']}/__standin__/levels") for kind, c in channels.items()}

    # -- burst ---------------------------------------------------------------------------------
    changes = [(rng.choice(skus), rng.randint(0, 120)) for _ in range(args.changes)]
    final = dict(changes)  # last write per SKU wins
    t0 = time.perf_counter()
    odoo.set_quantities(location, {by_sku[s]: q for s, q in final.items()})
    for start in range(0, len(changes), 100):
        mark_dirty(None, [by_sku[s] for s, _ in changes[start : start + 100]], "bench")
    marked = time.perf_counter() - t0
    out: dict[str, Any] = {"touched": len(final), "mark_s": marked}
    for c in channels.values():
        t = time.perf_counter()
        summary = publish_task_run(channel_id=c["channel"].pk)
        c["publish_s"] = time.perf_counter() - t
        c["summary"] = summary
    # Both publications returned: the channels hold their new values from here on. The check
    # below (an independent ATP read and the stand-ins' levels) is not part of the timing.
    out["consistency_s"] = time.perf_counter() - t0
    # consistency: every SKU on both channels equals ATP
    for kind, c in channels.items():
        atp = {sku: r.atp for sku, r in compute_atp(c["channel"]).items()}
        levels = http("GET", f"{c['url']}/__standin__/levels")
        wrong = [s for s in skus if levels.get(s) != atp[s]]
        c["consistent"] = not wrong
        c["changed"] = sum(1 for s in skus if held[kind].get(s) != atp[s])
    for kind, c in channels.items():
        after = http("GET", f"{c['url']}/__standin__/stats")
        c["calls"] = after["total_calls"] - before[kind]["total_calls"]
        c["throttled"] = after["throttled"] - before[kind]["throttled"]
        c["batch"] = 250 if kind == "shopify" else 100
        c["minimum"] = math.ceil(c["changed"] / c["batch"])
    out["channels"] = channels
    return out


def print_table(args: Any, out: dict[str, Any]) -> None:
    print(
        f"{args.changes:,} stock changes over {args.skus:,} SKUs ({out['touched']:,} touched); "
        f"dirty marks {out['mark_s']:.1f} s; time to consistency (both channels) "
        f"{out['consistency_s']:.1f} s"
    )
    print()
    print(
        "| channel | changed SKUs | batch | minimum calls | calls | ratio | 429s | publish s "
        "| consistent |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, c in out["channels"].items():
        ratio = c["calls"] / c["minimum"] if c["minimum"] else 0.0
        print(
            f"| {kind} | {c['changed']:,} | {c['batch']} | {c['minimum']} | {c['calls']} | "
            f"{ratio:.2f}x | {c['throttled']} | {c['publish_s']:.2f} | "
            f"{'yes' if c['consistent'] else 'NO'} |"
        )


if __name__ == "__main__":
    main()
