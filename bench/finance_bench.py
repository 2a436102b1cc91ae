"""Finance: one Stripe payout of N balance transactions, imported, matched and posted to Odoo.

Run: ``python bench/finance_bench.py [--transactions 5000] [--refunds 50] [--quick]`` from the
repository root with the project's venv (``--quick``: 500 transactions, 5 refunds).

In process (what the worker runs for `finance.payouts_import` and the posting row), against
the real boundaries: the Odoo sandbox over HTTP at ``--latency-ms`` (20) per call +
``--per-record-ms`` (2) per record during the measured part, and the WooCommerce stand-in's
Stripe API (``/v1/``) over HTTP. PostgreSQL ``hub_bench_fin`` (recreated and migrated);
``HUB_VAR_DIR`` defaults to ``var/bench_fin``.

Seeding (not timed, sandbox latency off): N - R paid WooCommerce orders (2 x TSHIRT-BLU-M +
1 x MUG-WHT-11OZ, 66.74 USD, Stripe charge ``ch_<id>``) ingested through the translator,
pushed to Odoo in batches, invoiced on confirmation and their payments registered (the hub's
own invoice and payment batches); R of them refunded 10.00 with a posted credit note. The
payout (seeded on the Stripe stand-in): one charge per order (fee 2.24), R refunds, the
transfer row.

Measured, per phase (import: the provider's pages and the lines stored; match; post: the bank
statement line, the settlement entry, the refunds' and the payments' reconciliation):
wall time, Odoo RPCs (the sandbox's counter), Stripe calls (the stand-in's counter), the peak
Python memory (tracemalloc) and the process's peak RSS; the lines matched and the payout's
final state.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox_proc import free_port, http, sandbox_total, start_sandbox, start_standin, stop_all
from webhook_bench import database_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "channels"
SKUS = {"TSHIRT-BLU-M": "SKU-001", "MUG-WHT-11OZ": "SKU-003"}
STRIPE_KEY = "sk_test_standin_51Hub0000000000000000"
FEE = 224  # cents per charge
FIRST = 8_000_000
WOO_TAX_KEY = "0.08"  # the channel tax as the translator keys it (tests/returns/conftest.py)


def setup_django(odoo_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url("hub_bench_fin")
    os.environ.setdefault("HUB_VAR_DIR", str(ROOT / "var" / "bench_fin"))
    os.environ["ODOO_URL"] = odoo_url
    os.environ["ODOO_DB"] = "hub"
    os.environ["ODOO_ACCOUNTING_USER"] = "accounting"
    os.environ["ODOO_ACCOUNTING_PASSWORD"] = "accounting"
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ["DJANGO_SETTINGS_MODULE"] = "integration_hub.settings"
    os.environ.setdefault("HUB_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)


def quiet_rings() -> None:
    from apps.finance import runs

    runs.ring = lambda pk, countdown=None: None  # type: ignore[assignment]
    runs.ring_batch = lambda action, countdown=None: None  # type: ignore[assignment]
    runs.ring_capture = lambda pk: None  # type: ignore[assignment]


def run_due() -> None:
    from apps.core.workrow import WorkState
    from apps.finance import runs
    from apps.finance.models import FinanceSync

    while True:
        due = (
            FinanceSync.objects.filter(state=WorkState.PENDING)
            .order_by("pk")
            .values_list("pk", "action")
            .first()
        )
        if due is None:
            return
        pk, action = due
        if action in runs.BATCHED:
            runs.batch_run(action=action)
        else:
            runs.row_run(sync_id=pk)


def seed(sb_url: str, orders: int, refunds: int) -> tuple[Any, list[Any]]:
    from apps.finance.invoicing import invoices_plan
    from apps.finance.models import OrderInvoice
    from apps.finance.payments import capture_wanted
    from apps.mappings.models import Binding, ValueMap
    from apps.odoo.gateway import get_gateway
    from apps.orders.models import ChannelOrder
    from apps.orders.services import order_ingest, order_push_due
    from apps.returns.models import ChannelRefund
    from apps.sales_channels.models import Channel
    from apps.sales_channels.services import channel_create
    from apps.sales_channels.translators import order_from_woocommerce

    gw = get_gateway()
    channel, _ = channel_create(code="fin-woo", kind="woocommerce")
    channel.invoicing = Channel.Invoicing.ON_CONFIRM
    channel.save()
    products = gw.client.call(
        "product.product",
        "search_read",
        [[["default_code", "in", list(SKUS.values())]]],
        {"fields": ["default_code"]},
    )
    by_code = {p["default_code"]: p["id"] for p in products}
    for sku, code in SKUS.items():
        Binding.objects.create(
            channel=channel,
            kind="product",
            external_id=sku,
            external_code=sku,
            odoo_model="product.product",
            odoo_id=by_code[code],
        )
    tax = gw.client.call("account.tax", "search", [[["name", "=", "Sales 8%"]]]) or [
        gw.client.call("account.tax", "create", [{"name": "Sales 8%", "amount": 8.0}])
    ]
    ValueMap.objects.create(
        channel=channel,
        kind="tax",
        channel_value=WOO_TAX_KEY,
        odoo_model="account.tax",
        odoo_value=str(tax[0]),
    )
    journal = gw.client.call("account.journal", "search", [[["type", "=", "bank"]]])[0]
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.PAYMENT_METHOD,
        channel_value="stripe",
        odoo_model="account.journal",
        odoo_value=str(journal),
    )
    base = json.loads((DATA / "woocommerce_order.json").read_text())
    t0 = time.monotonic()
    for i in range(orders):
        data = copy.deepcopy(base)
        data["id"] = FIRST + i
        data["number"] = str(FIRST + i)
        data["transaction_id"] = f"ch_{FIRST + i}"
        row = order_ingest(order=order_from_woocommerce(data, channel=channel.code))
        capture_wanted(row, data)
    while ChannelOrder.objects.filter(state="ready").exists():
        order_push_due()
    while invoices_plan():
        pass
    run_due()
    print(f"seeded {orders} paid orders in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    rows = list(ChannelOrder.objects.order_by("pk")[:refunds])
    import datetime as dt

    for n, order in enumerate(rows):
        inv = OrderInvoice.objects.get(order=order)
        note, _ = gw.credit_note_partial(
            invoice_id=inv.odoo_id,
            ref=f"fin-woo:refund:R{n}",
            lines=[],
            extra_lines=[{"name": f"Refund R{n}", "price_unit": Decimal("10.00")}],
        )
        ChannelRefund.objects.create(
            channel=channel,
            order=order,
            external_id=f"R{n}",
            state="credited",
            currency="USD",
            amount=Decimal("10.00"),
            refunded_at=dt.datetime.now(dt.UTC),
            odoo_credit_note_id=int(note["id"]),
        )
    return channel, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--transactions", type=int, default=5000)
    ap.add_argument("--refunds", type=int, default=50)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--per-record-ms", type=float, default=2.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.transactions, args.refunds = 500, 5
    orders = args.transactions - args.refunds
    sb_port = free_port()
    sb = start_sandbox(sb_port, latency_ms=0, per_record_ms=0)
    standin, st_url = start_standin("woocommerce")
    sb_url = f"http://127.0.0.1:{sb_port}"
    try:
        setup_django(sb_url)
        quiet_rings()
        channel, refunded = seed(sb_url, orders, args.refunds)
        from apps.finance.models import PaymentAccount, Payout, PayoutLine
        from apps.finance.payouts import payout_match, payout_store
        from apps.finance.posting import run_post_payout  # noqa: F401  (registers the action)
        from apps.finance.providers.base import payout_source
        from apps.orders.models import ChannelOrder

        gw_accounts = {
            a["code"]: a["id"]
            for a in http(
                "POST",
                f"{sb_url}/jsonrpc",
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "service": "object",
                        "method": "execute_kw",
                        "args": [
                            "hub",
                            2,
                            "admin",
                            "account.account",
                            "search_read",
                            [[["code", "in", ["620000", "101402"]]]],
                            {"fields": ["code"]},
                        ],
                    },
                },
            )["result"]
        }
        journal = http(
            "POST",
            f"{sb_url}/jsonrpc",
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 2,
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [
                        "hub",
                        2,
                        "admin",
                        "account.journal",
                        "search",
                        [[["type", "=", "bank"]]],
                    ],
                },
            },
        )["result"][0]
        account = PaymentAccount.objects.create(
            code="fin-stripe",
            provider="stripe",
            channel=channel,
            api_base_url=st_url,
            secret_key=STRIPE_KEY,
            odoo_journal_id=journal,
            fee_account_id=gw_accounts["620000"],
            adjustment_account_id=gw_accounts["101402"],
        )
        txns: list[dict[str, Any]] = [
            {
                "type": "charge",
                "amount": 6674,
                "fee": FEE,
                "source": {"id": f"ch_{o.external_id}", "metadata": {"order_id": o.number}},
            }
            for o in ChannelOrder.objects.order_by("pk")
        ]
        txns += [
            {
                "type": "refund",
                "amount": -1000,
                "fee": 0,
                "source": {"charge": f"ch_{o.external_id}"},
            }
            for o in refunded
        ]
        http(
            "POST",
            f"{st_url}/__standin__/stripe/payouts",
            {"id": "po_bench", "status": "paid", "currency": "usd", "transactions": txns},
        )
        http(
            "POST",
            f"{sb_url}/__sandbox__/faults",
            {"latency_ms": args.latency_ms, "per_record_ms": args.per_record_ms},
        )
        phases: dict[str, dict[str, Any]] = {}
        tracemalloc.start()

        def measure(name: str, fn: Any) -> Any:
            rpc0 = sandbox_total(sb_url)
            calls0 = http("GET", f"{st_url}/__standin__/stats").get("total_calls", 0)
            tracemalloc.reset_peak()
            t = time.monotonic()
            out = fn()
            phases[name] = {
                "seconds": time.monotonic() - t,
                "rpcs": sandbox_total(sb_url) - rpc0,
                "stripe": http("GET", f"{st_url}/__standin__/stats").get("total_calls", 0) - calls0,
                "peak_mb": tracemalloc.get_traced_memory()[1] / 1e6,
            }
            return out

        source = payout_source(account)

        def do_import() -> Any:
            page, _ = source.payouts_since(None, limit=100)
            [p] = [x for x in page if x.external_id == "po_bench"]
            payout, _n = payout_store(account, p, source.transactions(p))
            return payout

        payout = measure("import", do_import)
        measure("match", lambda: payout_match(payout))
        measure("post", run_due)
        payout.refresh_from_db()
        lines = PayoutLine.objects.filter(payout=payout).count()
        matched = PayoutLine.objects.filter(payout=payout, match="matched").count()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        total_rpcs = sum(p["rpcs"] for p in phases.values())
        n = args.transactions
        print(
            f"Payout of {n} balance transactions ({orders} charges, {args.refunds} refunds, "
            f"1 transfer), sandbox at {args.latency_ms:g} ms + {args.per_record_ms:g} "
            "ms/record\n"
        )
        print("| phase | wall s | Odoo RPCs | Stripe calls | peak Python MB |")
        print("|---|---:|---:|---:|---:|")
        for name, p in phases.items():
            print(
                f"| {name} | {p['seconds']:.2f} | {p['rpcs']} | {p['stripe']} | "
                f"{p['peak_mb']:.1f} |"
            )
        wall = sum(p["seconds"] for p in phases.values())
        print(
            f"| **all** | {wall:.2f} | {total_rpcs} | "
            f"{sum(p['stripe'] for p in phases.values())} | "
            f"{max(p['peak_mb'] for p in phases.values()):.1f} |\n"
        )
        print(f"- Odoo RPCs per transaction: {total_rpcs / n:.4f} (goal <= 0.05)")
        print(
            f"- lines stored {lines}, matched {matched} (+1 transfer ignored); payout state "
            f"{payout.state}, net {payout.amount} USD, difference {payout.difference}"
        )
        print(f"- process peak RSS {rss:.0f} MB")
        assert payout.state == Payout.State.POSTED, payout.state
    finally:
        stop_all([sb, standin])


if __name__ == "__main__":
    main()
