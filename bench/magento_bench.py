"""Magento: poll 1,000 orders; ingest Adobe I/O events (RSA verified on every request) at the
webhook benchmark's rate, beside the HMAC-signed Shopify ingress; RSA vs HMAC per request; and
how many times the Adobe public keys were fetched.

Run: ``python bench/magento_bench.py [--orders 1000]`` from the repository root with the
project's venv. It starts the Magento stand-in (REST and, here, the Adobe key host) and a
throw-away hub as bench/hub_topology.py sets it up (``hub_env``: PostgreSQL database
``hub_bench_magento`` or BENCH_DATABASE_URL, Redis BENCH_CELERY_BROKER_URL / BENCH_REDIS_URL when
Redis answers; production settings) and prints markdown tables.

1. Poll (in this process, no worker): N orders seeded one second apart ending 50 minutes ago;
   the first poll (every order new: searchCriteria pages of 100, ledger insert per order,
   watermark per page), then the second (the 600 s overlap re-read, nothing recorded).
2. Ingest (gunicorn gthread, as bench/webhook_bench.py): open loop at BENCH_RATE (400/s, the
   webhook benchmark's rate) for BENCH_SECONDS (10) against ``/webhooks/magento/<code>/`` with
   two RSA-2048 signatures per delivery (the second deliberately wrong on half of them, so the
   hub must also verify with key 2), and against ``/webhooks/shopify/<code>/`` (HMAC) at the
   same rate. Every delivery is signed before the clock starts (a key pair made here at run
   time; never stored). Latency counts from each request's scheduled time.
3. Verification alone, in this process: RSA-SHA256 verify of the same body vs HMAC-SHA256.
4. Key fetches: the stand-in counts GETs of the key paths; a warm-up delivery fetches what the
   run needs, after which every gunicorn worker reads the key from the shared cache.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

from hub_topology import hub_env, prepare_hub, quantile, start, stop_hub
from sandbox_proc import free_port, http, start_standin, stop_all
from webhook_bench import wait_http

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
RATE = int(os.environ.get("BENCH_RATE", "400"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1))))
MAGENTO = "bench-magento"
POLLED = "bench-poll-magento"
WARM = 100  # deliveries per target before the timed run
SHOPIFY = "bench-shopify"
SHOP = "bench.myshopify.com"
CLIENT_ID = "bench-io-client"
SHOPIFY_SECRET = "bench-" + uuid.uuid4().hex
SHOPIFY_BODY = (ROOT / "tests" / "data" / "channels" / "shopify_order.json").read_bytes()

Prepared = list[tuple[str, bytes, dict[str, str]]]


def seed_orders(url: str, n: int) -> None:
    base = int(time.time()) - 3000 - n
    for i in range(n):
        http(
            "POST",
            f"{url}/__standin__/orders",
            {
                "lines": [
                    {
                        "sku": "SKU-001",
                        "qty": 2,
                        "price": "25.00",
                        "discount": "5.00",
                        "tax_percent": "8",
                    },
                    {"sku": "SKU-002", "qty": 1, "price": "12.50", "tax_percent": "8"},
                ],
                "shipping_amount": "5.99",
                "customer": {"id": 1000 + i, "email": f"buyer{i}@example.com"},
                "updated_at_ts": base + i,
                "io_event": False,
            },
        )


def poll(url: str, n: int) -> list[tuple[str, Any, float]]:
    """(label, PollResult, seconds) of the first and the second poll of n seeded orders."""
    from apps.sales_channels.services import channel_create
    from apps.webhooks.backstop import channel_orders_poll

    seed_orders(url, n)
    token = http("GET", f"{url}/__standin__/credentials")["access_token"]
    channel_create(code=POLLED, kind="magento", api_base_url=url, access_token=token)

    def timed() -> tuple[Any, float]:
        began = time.perf_counter()
        result = channel_orders_poll(channel_code=POLLED)
        return result, time.perf_counter() - began

    return [
        (label, *timed()) for label in ("first poll (all new)", "second poll (overlap re-read)")
    ]


def prepare(pairs: list[Any], total: int) -> tuple[Prepared, Prepared]:
    """Signed Magento deliveries (every other one with a wrong first signature) and HMAC-signed
    Shopify deliveries, one unique event / webhook id each."""
    from sandbox.channels import adobe_io
    from sandbox.channels.sender import sign_shopify

    magento: Prepared = []
    shopify: Prepared = []
    tag = uuid.uuid4().hex[:10]
    for i in range(total):
        value = {"entity_id": str(1 + i % 1000), "increment_id": f"{1 + i % 1000:09d}"}
        body = adobe_io.event_body(
            adobe_io.ORDER_SAVED,
            value,
            client_id=CLIENT_ID,
            provider_id="bench",
            event_id=f"{tag}-{i}",
        )
        raw, headers = adobe_io.build_event_delivery(
            body, pairs, provider_id="bench", corrupt=(1,) if i % 2 else ()
        )
        magento.append((f"/webhooks/magento/{MAGENTO}/", raw, headers))
        sig = sign_shopify(
            SHOPIFY_BODY,
            SHOPIFY_SECRET,
            topic="orders/create",
            shop_domain=SHOP,
            webhook_id=f"{tag}-{i}",
        )
        shopify.append(
            (
                f"/webhooks/shopify/{SHOPIFY}/",
                SHOPIFY_BODY,
                {"Content-Type": "application/json", **sig},
            )
        )
    return magento, shopify


def open_loop(port: int, requests: Prepared, rate: int) -> dict[str, Any]:
    """Request i is due at t0 + i/rate (64 sender threads); latency from that due time."""
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    latencies: list[float] = []
    failures: dict[int, int] = {}
    t0 = time.perf_counter() + 0.5

    def sender() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                break
            due = t0 + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            path, body, headers = requests[i]
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, HTTPException):
                conn.close()
                conn = HTTPConnection("127.0.0.1", port, timeout=10)
                status = 0
            with lock:
                latencies.append((time.perf_counter() - due) * 1000)
                if status != 202:
                    failures[status] = failures.get(status, 0) + 1
        conn.close()

    with ThreadPoolExecutor(64) as pool:
        for done in [pool.submit(sender) for _ in range(64)]:
            done.result()  # a sender's exception fails the run
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50": quantile(latencies, 0.5),
        "p99": quantile(latencies, 0.99),
        "failures": failures,
    }


def verify_cost(pairs: list[Any], body: bytes, rounds: int = 3000) -> dict[str, float]:
    """Microseconds per verification, in this process, of the same body."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from apps.sales_channels.signatures import hmac_base64_verify, rsa_sha256_verify

    key = load_pem_public_key(pairs[0].public_pem)
    signature = pairs[0].sign(body)
    hmac_sig = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()
    out = {}
    for name, check in (
        (
            "RSA-2048 SHA-256 verify",
            lambda: rsa_sha256_verify(body=body, signature=signature, public_key=key),
        ),
        (
            "HMAC-SHA256 verify",
            lambda: hmac_base64_verify(body=body, signature=hmac_sig, secrets=["secret"]),
        ),
    ):
        assert check()
        start = time.perf_counter()
        for _ in range(rounds):
            check()
        out[name] = (time.perf_counter() - start) / rounds * 1e6
    return out


def ingest(url: str, env: dict[str, str], state: Path) -> dict[str, Any]:
    from sandbox.channels import adobe_io

    pairs = [adobe_io.KeyPair.generate(), adobe_io.KeyPair.generate()]
    for pair in pairs:
        http(
            "POST",
            f"{url}/__standin__/adobe-keys",
            {"path": pair.path, "pem": pair.public_pem.decode()},
        )
    total = RATE * SECONDS
    magento, shopify = prepare(pairs, total + 2 + WARM)
    from apps.sales_channels.services import channel_create

    channel_create(code=MAGENTO, kind="magento", api_base_url=url, magento_client_id=CLIENT_ID)
    channel_create(
        code=SHOPIFY, kind="shopify", api_base_url=f"https://{SHOP}", secret=SHOPIFY_SECRET
    )
    port = free_port()
    web = (
        *(PY, "-m", "gunicorn", "integration_hub.wsgi", "--bind", f"127.0.0.1:{port}"),
        *("--worker-class", "gthread", "--workers", str(WORKERS), "--threads", "4"),
    )
    gunicorn = start(web, env, state / "web.log")
    try:
        wait_http(port)
        before = http("GET", f"{url}/__standin__/stats")["calls"].get("adobe_key", 0)
        # Warm-up, one delivery at a time: the first fetches key 1 and key 2 (its signature 1
        # is wrong), the second needs nothing new; then every gunicorn worker gets deliveries
        # (its lazy imports, its first read of the shared key cache) before the clock starts
        warm = [open_loop(port, [req], 50) for req in (magento[-1], magento[-2])]
        warm_fetches = http("GET", f"{url}/__standin__/stats")["calls"].get("adobe_key", 0)
        open_loop(port, magento[total : total + WARM], 50)
        open_loop(port, shopify[total:], 50)
        results = {
            "Magento I/O Events (RSA x2 on half, x1 on half)": open_loop(
                port, magento[:total], RATE
            ),
            "Shopify (HMAC)": open_loop(port, shopify[:total], RATE),
        }
        after = http("GET", f"{url}/__standin__/stats")["calls"].get("adobe_key", 0)
    finally:
        stop_hub([gunicorn], state)
    return {
        "results": results,
        "warm_failures": [w["failures"] for w in warm],
        "fetches_warmup": warm_fetches - before,
        "fetches_run": after - warm_fetches,
        "requests": total,
        "verify": verify_cost(pairs, magento[0][1]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="hub-magento-bench-"))
    proc, url = start_standin("magento", products=3)
    try:
        env, backend = hub_env(state, odoo_url="http://127.0.0.1:9", db_name="hub_bench_magento")
        env["HUB_ADOBE_KEY_HOST"] = url  # the stand-in is Adobe's key host here
        prepare_hub(env)  # Django in this process (the poll runs here), migrated
        poll_rows = poll(url, args.orders)
        ingest_out = ingest(url, env, state)
    finally:
        stop_all([proc])
        shutil.rmtree(state, ignore_errors=True)
    print(f"Magento stand-in · {backend} · {os.cpu_count()} cores · loopback")
    print()
    print(f"### Poll of {args.orders} orders")
    print()
    print("| poll | pages | recorded | duplicates | time | orders read/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r, seconds in poll_rows:
        read = (r.recorded + r.duplicates) / seconds
        print(
            f"| {label} | {r.pages} | {r.recorded} | {r.duplicates} | {seconds:.2f} s | "
            f"{read:,.0f} |"
        )
    print()
    print(f"### Event ingest, open loop {RATE} req/s for {SECONDS} s, gunicorn gthread {WORKERS}x4")
    print()
    print("| target | achieved req/s | p50 ms | p99 ms | non-202 |")
    print("|---|---:|---:|---:|---:|")
    for name, r in ingest_out["results"].items():
        print(
            f"| {name} | {r['rate']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{sum(r['failures'].values())} |"
        )
    print()
    print("| verification alone (same body, in process) | µs per request |")
    print("|---|---:|")
    for name, micros in ingest_out["verify"].items():
        print(f"| {name} | {micros:.1f} |")
    print()
    print(
        f"Adobe public key fetches from the key host: {ingest_out['fetches_warmup']} during the "
        f"warm-up delivery, {ingest_out['fetches_run']} during the {ingest_out['requests']} "
        "timed deliveries (every worker reads the shared cache)"
    )
    print(json.dumps(ingest_out, default=str), file=sys.stderr)


if __name__ == "__main__":
    main()
