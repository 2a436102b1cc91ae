"""The operations dashboard with 1 M orders: seeding, the rollup backfill, the page render.

Run: ``DATABASE_URL=postgres://… python bench/ops_bench.py [--orders 1000000] [--channels 5]``
from the repository root with the project's venv, on a DEDICATED PostgreSQL database (the bench
migrates it, truncates the order tables and fills them). Orders are seeded with ``COPY``: one
week, hourly shape, 3 % failed, 5 % held (with their transitions). Then ``ops.rollup`` backfills
the week (169 hours) and the dashboard is rendered 20 times through Django's test client as a
staff user; the table gives the median and the worst render.

Goal (issue 21): the page renders in under 300 ms with 1 M orders.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=5)
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the orders a previous run seeded"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("point DATABASE_URL at a dedicated PostgreSQL database")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from apps.ops import rollups, slo
    from apps.sales_channels.services import channel_create

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from apps.orders.models import ChannelOrder

    reuse = args.reuse and ChannelOrder.objects.count() >= args.orders
    with connection.cursor() as cur:
        cur.execute("TRUNCATE ops_rollup, ops_slostatus")
        if not reuse:
            cur.execute(
                "TRUNCATE orders_ordertransition, orders_orderline, orders_channelorder CASCADE"
            )
    codes = [f"bench{i}" for i in range(args.channels)]
    ids = []
    from apps.sales_channels.models import Channel

    for code in codes:
        ch = (
            Channel.objects.filter(code=code).first()
            or channel_create(code=code, kind="shopify")[0]
        )
        ids.append(ch.pk)
    now = timezone.now().replace(microsecond=0)
    start = now - dt.timedelta(days=7)
    span = (now - start).total_seconds()
    t0 = time.perf_counter()
    buf = io.StringIO()
    trans = io.StringIO()
    for n in range(0 if reuse else args.orders):
        received = start + dt.timedelta(seconds=span * n / args.orders)
        cid = ids[n % len(ids)]
        r = n % 100
        state, pushed = "in_odoo", (received + dt.timedelta(seconds=3 + n % 40)).isoformat()
        if r < 3:
            state, pushed = "failed", r"\N"
        elif r < 8:
            state, pushed = "held", r"\N"
        ts = received.isoformat()
        buf.write(
            f"{cid}\t{n}\t#{n}\t\t{state}\t\t\t\t\tEUR\t100.00\t\t\t{{}}\t\t{ts}\t{ts}\tf\t\t"
            f"b:{n}\t0\t\t{ts}\t{pushed}\t{ts}\t\t\t\t\n"
        )
        if state in ("failed", "held"):
            trans.write(f"{n}\treceived\t{state}\t{ts}\tbench\t\n")
    cols = (
        "channel_id, external_id, number, po_number, state, hold_reason, hold_detail,"
        " financial_status, source_status, currency, total, customer_email,"
        " customer_external_id, payload, payload_hash, source_version, channel_created_at,"
        " cancel_wanted, hold_approved_by, odoo_ref, attempts, lease_token, received_at,"
        " pushed_at, updated_at, odoo_name, last_error, correlation_id, ack_state"
    )
    with connection.cursor() as cur:
        if reuse:
            buf = io.StringIO()
            trans = io.StringIO()
        buf.seek(0)
        with cur.copy(f"COPY orders_channelorder ({cols}) FROM STDIN") as copy:
            while chunk := buf.read(1 << 20):
                copy.write(chunk)
        cur.execute(
            "CREATE TEMP TABLE t (ext text, f text, t text, at timestamptz, a text, r text)"
        )
        trans.seek(0)
        with cur.copy("COPY t FROM STDIN") as copy:
            while chunk := trans.read(1 << 20):
                copy.write(chunk)
        cur.execute(
            "INSERT INTO orders_ordertransition (order_id, from_state, to_state, at, actor, reason)"
            " SELECT o.id, t.f, t.t, t.at, t.a, '' FROM t JOIN orders_channelorder o"
            " ON o.external_id = t.ext AND o.channel_id = ANY(%s)",
            [ids],
        )
        cur.execute("ANALYZE")
    seed_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rollups.rollup(hours=7 * 24 + 1, gauges=False)
    backfill_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rollups.rollup(hours=2, gauges=False)
    run_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    slo.evaluate_all()
    slo_s = time.perf_counter() - t0
    User = get_user_model()
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password="pw"
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    times = []
    for _ in range(args.renders + 1):
        t0 = time.perf_counter()
        resp = client.get("/ops/")
        times.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
    times = times[1:]  # the first one warms the template cache
    print(
        "| orders | channels | seed (COPY) | rollup backfill (7 d) | rollup run (2 h) "
        "| SLO evaluation | page median | page worst |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.orders:,} | {args.channels} | {seed_s:.1f} s | {backfill_s:.1f} s | "
        f"{run_s * 1000:.0f} ms | {slo_s * 1000:.0f} ms | {statistics.median(times):.0f} ms | "
        f"{max(times):.0f} ms |"
    )


if __name__ == "__main__":
    main()
