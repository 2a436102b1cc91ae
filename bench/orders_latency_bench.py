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
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from hub_topology import ShopifySender, hub_env, prepare_hub, quantile, start_hub, stop_hub
from sandbox_proc import free_port, sandbox_total, start_sandbox, start_standin
from webhook_bench import wait_http

SKU_MAP = {"TSHIRT-BLU-M": "SKU-001", "MUG-WHT-11OZ": "SKU-003", "WIDGET": "WIDGET-RED"}
SECRET = "bench-" + uuid.uuid4().hex
SHOP_PORT = free_port()
SHOP = f"127.0.0.1:{SHOP_PORT}"  # the Shopify stand-in: acknowledgements and stock go there
CHANNEL = "bench-e2e"
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")


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
    os.environ.update(ODOO_DB="hub", ODOO_USER="admin", ODOO_PASSWORD="admin")
    env, backend = hub_env(state, odoo_url=odoo_url, db_name="hub_bench_e2e")
    prepare_hub(env)
    from django.core.management import call_command

    procs: list[Any] = [start_sandbox(odoo_port, latency_ms=20, per_record_ms=2)]
    try:
        shop_proc, _ = start_standin(
            "shopify", port=SHOP_PORT, products=10, seed_skus=SKU_MAP.values()
        )
        procs.append(shop_proc)
        from apps.odoo.client import get_client
        from apps.odoo.gateway import OdooGateway
        from apps.orders.models import ChannelOrder, OrderState
        from apps.sales_channels.models import Channel
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
        # The recorded order charges 8 % sales tax: mapped to an Odoo 8 % tax, so Odoo's total
        # equals the channel's (otherwise every order is an amount-mismatch inbox item).
        from apps.mappings.models import ValueMap

        tax = gw.client.call("account.tax", "create", [{"name": "8%", "amount": 8.0}])
        ValueMap.objects.create(
            channel_id=Channel.objects.get(code=CHANNEL).pk,
            kind=ValueMap.Kind.TAX,
            channel_value="0.08",
            odoo_value=str(tax),
        )
        procs += start_hub(
            env,
            state,
            web_port=web_port,
            odoo_concurrency=args.odoo_concurrency,
            log_level=LOG_LEVEL,
        )
        wait_http(web_port)
        # Warm-up: one order all the way through (workers booted, connections open, the
        # customer created in Odoo), so the clock measures the steady state, not process start.
        # Each order is in the stand-in before its webhook, as on the real shop, so the hub's
        # acknowledgements and payment reads succeed instead of failing into the inbox.
        sender = ShopifySender(
            web_port, CHANNEL, SECRET, SHOP, sku_map=SKU_MAP, standin=f"http://{SHOP}"
        )
        sender.send(1, first=-1)
        deadline = time.monotonic() + 120
        while not ChannelOrder.objects.filter(state=OrderState.IN_ODOO).exists():
            if time.monotonic() > deadline:
                raise SystemExit("the warm-up order did not reach Odoo within 2 minutes")
            time.sleep(0.2)
        rpcs_before = sandbox_total(odoo_url)
        sent = sender.send(int(args.rate * args.seconds), rate=args.rate)
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
        from apps.inbox.models import Issue, Status

        issues = list(Issue.objects.filter(status=Status.OPEN).values_list("key", flat=True))
    finally:
        tails = stop_hub(procs, state)
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
        return quantile(latencies if values is None else values, p)

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
    print(f"inbox: {len(issues)} open issue(s) {sorted(issues)[:5] if issues else ''}")
    ok = not missing and not issues and q(0.95) <= 2.0
    verdict = "met" if ok else "NOT met"
    print(f"\ngoal p95 <= 2 s with every order confirmed and no inbox item: {verdict}")


if __name__ == "__main__":
    main()
