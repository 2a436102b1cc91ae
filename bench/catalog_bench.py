"""Price publication cost: 10,000 variants, a 10 % pricelist change, three channel stand-ins.

Run: ``python bench/catalog_bench.py [--products 2000] [--variants 5] [--share 0.1]`` from the
repository root with the project's venv. It starts an Odoo sandbox (5 ms per call) and the
Shopify, WooCommerce and BigCommerce stand-ins as subprocesses, a throw-away hub state directory
(SQLite, database cache, unless DATABASE_URL / REDIS_URL say otherwise: point those at
DEDICATED databases, the bench migrates and fills them), and prints a markdown table.

Setup (not timed): P x V storable products in Odoo (list price 10.00 + n/100), the same SKUs on
each stand-in as P products of V variants (Shopify products, WooCommerce variable products,
BigCommerce products), product bindings, a channel pricelist (the price engine, apps.pricing)
with one rule (5 % off everything) and a first full publication per channel. The stand-ins'
limits are raised for the setup only (it writes every price once) and restored before the run.

Change (timed per channel): a rule "15 % off" on one product category is added to the
pricelist, and that category is given to ``share`` of the products (whole products: all their
variants). The engine's poll (``apps.pricing.refresh.refresh``) reads the new rule; then each
channel's ``publish_prices`` runs; the clock stops when it returns. Calls are the stand-ins' own
counters; the minimum is what each platform allows for the changed variants (Shopify one
``productVariantsBulkUpdate`` per product, WooCommerce one ``variations/batch`` per parent per
100, BigCommerce one variant batch per 50). A repeat publication must send nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from inventory_bench import Odoo
from sandbox_proc import free_port, http, start_sandbox, start_standin, stop_all

ROOT = Path(__file__).resolve().parents[1]
LATENCY_MS = 5
OFF_BASE = Decimal("0.95")
OFF_SALE = Decimal("0.85")
LIMITS = {"shopify": 250, "woocommerce": 100, "bigcommerce": 50}
DEFAULTS = {
    "shopify": {"bucket_size": 2000, "restore_rate": 100},
    "woocommerce": {},
    "bigcommerce": {"quota": 150},
}
FAST = {
    "shopify": {"bucket_size": 100000, "restore_rate": 100000},
    "woocommerce": {},
    "bigcommerce": {"quota": 100000},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--variants", type=int, default=5)
    parser.add_argument("--share", type=float, default=0.1)
    args = parser.parse_args()

    odoo_port = free_port()
    odoo_url = f"http://127.0.0.1:{odoo_port}"
    state = tempfile.mkdtemp(prefix="hub-catalog-bench-")
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
        urls = {}
        for kind in LIMITS:
            proc, url = start_standin(kind)
            procs.append(proc)
            urls[kind] = url
        out = run(args, Odoo(odoo_url), urls)
    finally:
        stop_all(procs)
    print_table(args, out)


def run(args: Any, odoo: Odoo, urls: dict[str, str]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    cache.clear()

    from apps.catalog.services import publish_prices
    from apps.mappings.models import Binding
    from apps.odoo.gateway import get_gateway
    from apps.pricing import refresh
    from apps.sales_channels.services import channel_create

    n = args.products * args.variants
    skus = [f"PB-{i:05d}" for i in range(n)]
    pids: list[int] = []
    for start in range(0, n, 1000):
        pids += odoo.execute(
            "product.product",
            "create",
            [
                {
                    "name": s,
                    "default_code": s,
                    "detailed_type": "product",
                    "list_price": 10 + i / 100,
                }
                for i, s in enumerate(skus[start : start + 1000], start=start)
            ],
        )
    by_sku = dict(zip(skus, pids, strict=True))
    group_of = {s: f"P{i // args.variants}" for i, s in enumerate(skus)}
    pricelist = odoo.execute(
        "product.pricelist",
        "create",
        {
            "name": "Bench web prices",
            "item_ids": [
                [
                    0,
                    0,
                    {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 5},
                ]
            ],
        },
    )
    gw = get_gateway()
    channels: dict[str, Any] = {}
    settings.HUB_WOOCOMMERCE_API_RATE = "100000/s"  # setup only
    for kind, url in urls.items():
        creds = http("GET", f"{url}/__standin__/credentials")
        channel, _ = channel_create(
            code=f"bench-{kind}",
            kind=kind,
            api_base_url=url if kind != "bigcommerce" else f"{url}/stores/{creds['store_hash']}",
            access_token=creds.get("access_token") or creds.get("auth_token", ""),
            consumer_key=creds.get("consumer_key", ""),
            consumer_secret=creds.get("consumer_secret", ""),
            prices_enabled=True,
            pricelist_id=pricelist,
        )
        added = []
        for start in range(0, n, 2000):
            added += http(
                "POST",
                f"{url}/__standin__/products",
                [{"sku": s, "stock": 1, "group": group_of[s]} for s in skus[start : start + 2000]],
            )
        Binding.objects.bulk_create(
            Binding(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=str(r["variant_id"]),
                external_code=r["sku"],
                odoo_model="product.product",
                odoo_id=by_sku[r["sku"]],
            )
            for r in added
        )
        if FAST[kind]:
            http("POST", f"{url}/__standin__/config", FAST[kind])
        t = time.perf_counter()
        first = publish_prices(channel, gateway=gw)
        channels[kind] = {"channel": channel, "url": url, "setup_s": time.perf_counter() - t}
        channels[kind]["setup_published"] = first.published
    # Back to the platforms' and the hub's default limits for the measured run.
    settings.HUB_WOOCOMMERCE_API_RATE = "10/s"
    for kind, url in urls.items():
        if DEFAULTS[kind]:
            http("POST", f"{url}/__standin__/config", DEFAULTS[kind])
    from apps.catalog.publishers import catalog_publisher_for

    for c in channels.values():  # budgets start again from the defaults; resolved ids stay
        catalog_publisher_for(c["channel"]).budget.clear()  # type: ignore[attr-defined]
    refresh.refresh(gw)  # the engine's poll has run once before the change (its cursors)

    # -- the change: 15 % off one category, given to `share` of the products ----------------
    sale = odoo.execute("product.category", "create", {"name": "Bench sale"})
    on_sale_products = int(args.products * args.share)
    on_sale = [s for s in skus if int(group_of[s][1:]) < on_sale_products]
    for start in range(0, len(on_sale), 1000):
        odoo.execute(
            "product.product",
            "write",
            [by_sku[s] for s in on_sale[start : start + 1000]],
            {"categ_id": sale},
        )
    odoo.execute(
        "product.pricelist.item",
        "create",
        {
            "pricelist_id": pricelist,
            "applied_on": "2_product_category",
            "categ_id": sale,
            "compute_price": "percentage",
            "percent_price": 15,
        },
    )
    t = time.perf_counter()
    refresh.refresh(gw)
    out: dict[str, Any] = {"refresh_s": time.perf_counter() - t, "changed": len(on_sale)}
    for kind, c in channels.items():
        before = http("GET", f"{c['url']}/__standin__/stats")
        t = time.perf_counter()
        summary = publish_prices(c["channel"], gateway=gw)
        c["publish_s"] = time.perf_counter() - t
        after = http("GET", f"{c['url']}/__standin__/stats")
        c["calls"] = after["total_calls"] - before["total_calls"]
        c["throttled"] = after["throttled"] - before["throttled"]
        c["sent"] = summary.changed
        c["failed"] = summary.failed
        groups = {group_of[s] for s in on_sale}
        per = args.variants
        c["minimum"] = (
            len(groups) * math.ceil(per / LIMITS[kind])
            if kind in ("shopify", "woocommerce")
            else math.ceil(len(on_sale) / LIMITS[kind])
        )
        max_batch = max(
            (max(v, default=0) for k, v in after["batches"].items() if "inventory" not in k),
            default=0,
        )
        c["max_batch"] = max_batch
        repeat = publish_prices(c["channel"], gateway=gw)
        c["repeat_calls"] = repeat.calls
        prices = {
            v["sku"]: v["price"]
            for p in http("GET", f"{c['url']}/__standin__/catalog")["products"]
            for v in p["variants"]
        }
        on = set(on_sale)
        c["correct"] = all(
            Decimal(prices[s])
            == ((Decimal(10) + Decimal(i) / 100) * (OFF_SALE if s in on else OFF_BASE)).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
            for i, s in enumerate(skus)
        )
    out["channels"] = channels
    return out


def print_table(args: Any, out: dict[str, Any]) -> None:
    n = args.products * args.variants
    print(
        f"{n:,} variants ({args.products:,} products x {args.variants}); pricelist change "
        f"touching {out['changed']:,} variants ({args.share:.0%}); engine refresh "
        f"{out['refresh_s']:.2f} s"
    )
    print()
    print(
        "| channel | sent | max batch | minimum calls | calls | ratio | 429s | publish s "
        "| repeat calls | prices right |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, c in out["channels"].items():
        ratio = c["calls"] / c["minimum"] if c["minimum"] else 0.0
        print(
            f"| {kind} | {c['sent']:,} | {c['max_batch']} | {c['minimum']} | {c['calls']} | "
            f"{ratio:.2f}x | {c['throttled']} | {c['publish_s']:.2f} | {c['repeat_calls']} | "
            f"{'yes' if c['correct'] else 'NO'} |"
        )


if __name__ == "__main__":
    main()
