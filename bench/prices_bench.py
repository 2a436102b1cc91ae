"""The B2B price API: p95 for 1, 50 and 500 SKUs from the engine's warm cache, against the naive
one ``get_contextual_price`` call per SKU.

Run: ``python bench/prices_bench.py [--requests 200] [--latency-ms 20]`` from the repository root
with the project's venv. It starts an Odoo sandbox with ``--latency-ms`` (20) per call, seeds 500
products in a category tree and a pricelist with every kind of rule (variant, template, category,
global; fixed, percentage, formula on list price, cost and another pricelist; quantity breaks,
a date range), a B2B channel with the 500 SKUs bound and an account whose Odoo company uses that
pricelist, on a throw-away PostgreSQL database (``hub_bench_prices``; ``BENCH_DATABASE_URL``
overrides).

Measured, in this process through Django's full request stack (middleware, token
authentication, throttle, the input serializer, the SKU and account lookups, the engine and the
response serializer; no socket): ``GET /api/v1/prices/?sku=…&customer=…&qty=…`` with a warm
cache, ``--requests`` times per size, a random draw of SKUs and a quantity of 1, 5 or 12 each
time. The naive path is the gateway's ``contextual_prices``: one call per SKU (500 SKUs: 3 runs).
Goal (issue 16): p95 <= 50 ms for 500 SKUs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from sandbox_proc import free_port, start_sandbox, stop_all
from webhook_bench import database_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
N_PRODUCTS = 500


def setup_django(odoo_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url("hub_bench_prices")
    os.environ.setdefault("HUB_VAR_DIR", str(ROOT / "var" / "bench_prices"))
    os.environ["ODOO_URL"] = odoo_url
    os.environ["ODOO_DB"] = "hub"
    os.environ["ODOO_USER"] = "admin"
    os.environ["ODOO_PASSWORD"] = "admin"
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
    os.environ.setdefault("HUB_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def seed(call: Any) -> tuple[list[int], int]:
    root = int(call("product.category", "create", [{"name": "Bench"}]))
    child = int(call("product.category", "create", [{"name": "Tools", "parent_id": root}]))
    rng = random.Random(16)
    vals = [
        {
            "name": f"Bench product {n}",
            "default_code": f"PB-{n:04d}",
            "list_price": rng.randint(500, 20000) / 100,
            "standard_price": rng.randint(100, 9000) / 100,
            "categ_id": child if n % 2 else root,
        }
        for n in range(N_PRODUCTS)
    ]
    ids = [int(i) for i in call("product.product", "create", [vals])]
    tmpl = call("product.product", "read", [ids[:1], ["product_tmpl_id"]])[0]["product_tmpl_id"][0]
    base = int(
        call(
            "product.pricelist",
            "create",
            [
                {
                    "name": "Bench base",
                    "item_ids": [
                        [
                            0,
                            0,
                            {
                                "applied_on": "3_global",
                                "compute_price": "percentage",
                                "percent_price": 5,
                            },
                        ]
                    ],
                }
            ],
        )
    )
    items = [
        {
            "applied_on": "0_product_variant",
            "product_id": ids[1],
            "compute_price": "fixed",
            "fixed_price": 9.99,
        },
        {
            "applied_on": "0_product_variant",
            "product_id": ids[1],
            "compute_price": "fixed",
            "fixed_price": 8.5,
            "min_quantity": 10,
        },
        {
            "applied_on": "1_product",
            "product_tmpl_id": tmpl,
            "compute_price": "percentage",
            "percent_price": 12.5,
        },
        {
            "applied_on": "2_product_category",
            "categ_id": child,
            "compute_price": "formula",
            "base": "list_price",
            "price_discount": 15,
            "price_round": 0.05,
            "price_surcharge": -0.01,
        },
        {
            "applied_on": "2_product_category",
            "categ_id": root,
            "compute_price": "formula",
            "base": "standard_price",
            "price_discount": -40,
            "price_min_margin": 1,
            "price_max_margin": 50,
            "min_quantity": 5,
        },
        {
            "applied_on": "2_product_category",
            "categ_id": root,
            "compute_price": "percentage",
            "percent_price": 20,
            "date_start": "2026-01-01 00:00:00",
            "date_end": "2026-01-31 23:59:59",
        },
        {
            "applied_on": "3_global",
            "compute_price": "formula",
            "base": "pricelist",
            "base_pricelist_id": base,
            "price_discount": 3,
        },
    ]
    pl = int(
        call(
            "product.pricelist",
            "create",
            [{"name": "Bench B2B", "item_ids": [[0, 0, i] for i in items]}],
        )
    )
    return ids, pl


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    port = free_port()
    sandbox = start_sandbox(port, latency_ms=0, per_record_ms=0)
    try:
        run(f"http://127.0.0.1:{port}", args.requests, args.latency_ms, port)
    finally:
        stop_all([sandbox])


def run(url: str, n_requests: int, latency_ms: float, port: int) -> None:
    setup_django(url)
    from decimal import Decimal

    from rest_framework.test import APIClient
    from sandbox_proc import http

    from apps.mappings.models import Binding
    from apps.odoo.gateway import get_gateway
    from apps.sales_channels.services import api_token_create, channel_create

    gw = get_gateway()
    ids, pl = seed(gw.client.call)
    partner = int(
        gw.client.call(
            "res.partner",
            "create",
            [{"name": "Bench Co", "is_company": True, "property_product_pricelist": pl}],
        )
    )
    channel, _ = channel_create(code="benchb2b", kind="b2b_api")
    channel.api_rate = "1000000/min"
    channel.save(update_fields=["api_rate"])
    skus = [f"PB-{n:04d}" for n in range(N_PRODUCTS)]
    Binding.objects.bulk_create(
        [
            Binding(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=f"v-{s}",
                external_code=s,
                odoo_model="product.product",
                odoo_id=pid,
            )
            for s, pid in zip(skus, ids, strict=True)
        ]
    )
    Binding.objects.create(
        channel=channel,
        kind=Binding.Kind.CUSTOMER,
        external_id="bench-co",
        odoo_model="res.partner",
        odoo_id=partner,
    )
    _, raw = api_token_create(channel=channel, scopes="prices:read")
    client = APIClient(SERVER_NAME="127.0.0.1")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # warm: the first request reads the pricelists, products and categories into the cache
    warm = client.get("/api/v1/prices/", {"sku": skus, "customer": "bench-co"})
    assert warm.status_code == 200 and len(warm.json()["items"]) == N_PRODUCTS, warm.content[:300]
    http("POST", f"{url}/__sandbox__/faults", {"latency_ms": latency_ms})
    rng = random.Random(7)
    rows = []
    for size in (1, 50, 500):
        times = []
        calls_before = _calls(url)
        for _ in range(n_requests):
            batch = rng.sample(skus, size)
            started = time.perf_counter()
            resp = client.get(
                "/api/v1/prices/",
                {"sku": batch, "customer": "bench-co", "qty": rng.choice(("1", "5", "12"))},
            )
            times.append((time.perf_counter() - started) * 1000)
            assert resp.status_code == 200 and len(resp.json()["items"]) == size
        odoo_calls = _calls(url) - calls_before
        naive = []
        for _ in range(3 if size == 500 else 20):
            batch_ids = rng.sample(ids, size)
            started = time.perf_counter()
            gw.contextual_prices(pricelist_id=pl, product_ids=batch_ids, quantity=Decimal(1))
            naive.append((time.perf_counter() - started) * 1000)
        rows.append(
            (
                size,
                statistics.median(times),
                pct(times, 0.95),
                odoo_calls,
                statistics.median(naive),
                pct(naive, 0.95),
            )
        )
    print(
        f"Odoo sandbox at {latency_ms:g} ms per call; {n_requests} API requests per size, "
        "warm cache.\n"
    )
    print(
        "| SKUs | API p50 (ms) | API p95 (ms) | Odoo calls during the API runs "
        "| naive p50 (ms) | naive p95 (ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size, p50, p95, calls, n50, n95 in rows:
        print(f"| {size} | {p50:.1f} | {p95:.1f} | {calls} | {n50:.0f} | {n95:.0f} |")
    goal = rows[-1][2] <= 50
    print(
        f"\nGoal p95 <= 50 ms for 500 SKUs: {'met' if goal else 'NOT met'} ({rows[-1][2]:.1f} ms)."
    )


def _calls(url: str) -> int:
    from sandbox_proc import sandbox_total

    return sandbox_total(url)


if __name__ == "__main__":
    main()
