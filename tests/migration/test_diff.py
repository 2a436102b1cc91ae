"""The dual-run diff against the sandbox: hub orders recorded in shadow, legacy-like sale orders
created directly over JSON-RPC."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.inbox.models import Issue, Status
from apps.migration.models import DiffRun, ShadowDiff, ShadowDifference
from apps.migration.services import diff_csv, diff_report, diff_run
from apps.orders.models import OrderState
from apps.sales_channels.models import Channel

from .conftest import T0, Ingest, Legacy

pytestmark = pytest.mark.django_db


def classes(run: DiffRun) -> dict[str, list[str]]:
    return {
        d.number: sorted(d.classes)
        for d in ShadowDiff.objects.filter(channel=run.channel).exclude(outcome="match")
    }


def test_diff_finds_the_price_difference_and_the_missing_order(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    # given three orders recorded in shadow; the legacy connector made the first as the hub
    # would, the second at another price, and never made the third
    rows = [ingest(n, at=T0 + dt.timedelta(minutes=n)) for n in (1001, 1002, 1003)]
    assert all(r.state == OrderState.IN_ODOO and r.odoo_id is None for r in rows)
    legacy.order("#1001")
    odoo_1002 = legacy.order("#1002", tshirt_price=27.0)
    # when the diff runs
    run = diff_run(channel=shop)
    # then exactly those two differ: one by price, one missing in Odoo
    assert classes(run) == {"#1002": ["price"], "#1003": ["missing"]}
    assert (run.compared, run.matched, run.different, run.missing, run.extra) == (3, 1, 1, 1, 0)
    price = ShadowDifference.objects.get(diff__number="#1002")
    assert (price.field, price.sku, price.hub, price.odoo) == (
        "line.price_unit",
        "TSHIRT-BLU-M",  # the channel's SKU
        "25.00",
        "27.00",
    )
    same = ShadowDiff.objects.get(number="#1001")
    assert same.outcome == "match" and same.odoo_name
    assert ShadowDiff.objects.get(number="#1002").odoo_id == odoo_1002
    # and the report: one third of the orders per class, not clean at the 1 % default
    report = diff_report(channel=shop)
    assert report["orders"] == 3
    assert report["classes"]["price"]["rate_pct"] == "33.33"
    assert report["classes"]["missing"]["examples"] == ["#1003"]
    assert report["classes"]["tax"]["orders"] == 0
    assert {f["field"] for f in report["fields"]} == {"line.price_unit", "order"}
    assert report["clean"] is False and run.is_clean is False
    # and nothing was written to Odoo by the diff
    assert legacy.sb.execute("sale.order", "search_count", [["origin", "=like", "legacy:%"]]) == 0


def test_rpcs_per_batch_are_constant(
    shop: Channel, ingest: Ingest, legacy: Legacy, settings: Any
) -> None:
    settings.HUB_MIGRATION_DIFF_BATCH = 5
    for n in range(10):
        ingest(2000 + n, at=T0 + dt.timedelta(minutes=n), push=False)
        legacy.order(f"#{2000 + n}")
    from apps.orders.services import order_push_due

    order_push_due()
    diff_run(channel=shop)  # warms the per-process field checks and the SKU/country caches
    legacy.sb.reset_stats()
    run = diff_run(channel=shop)
    calls = dict(legacy.sb.stats()["calls"])
    # two batches of five: one order search, one line search, one partner read each; per run
    # one search for the extras, one read of SKUs and one of country codes
    assert run.batches == 2 and run.matched == 10
    assert calls.get("sale.order.search_read") == 3, calls
    assert calls.get("sale.order.line.search_read") == 2, calls
    assert calls.get("res.partner.read") == 2, calls
    assert calls.get("product.product.read") == 1, calls
    assert calls.get("res.country.read") == 1, calls
    assert sum(calls.values()) == run.rpcs == 9, calls


def test_a_repeated_tax_difference_opens_one_inbox_item(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    # given four orders the legacy connector taxed at 10 % where the hub maps 8 %, one right
    for n in range(5):
        ingest(3000 + n, at=T0 + dt.timedelta(minutes=n))
        legacy.order(f"#{3000 + n}", tax=legacy.tax10 if n < 4 else None)
    # when the diff runs
    run = diff_run(channel=shop)
    # then four orders differ by tax only (the totals it moves are not a cause of their own)
    assert classes(run) == {f"#{3000 + n}": ["tax"] for n in range(4)}
    # and ONE inbox item says so, with examples
    issues = Issue.objects.filter(key="migration_diff:legacy:tax")
    assert issues.count() == 1
    issue = issues.get()
    assert issue.status == Status.OPEN and issue.category == "data_conflict"
    assert "4 of 5 orders" in issue.title
    assert issue.rows.count() == 4
    examples = issue.last_error["context"]["examples"]
    assert [e["order"] for e in examples] == [f"#{3000 + n}" for n in range(4)]
    assert examples[0]["differences"][0]["field"] == "line.tax"
    assert Issue.objects.filter(key__startswith="migration_diff:").count() == 1
    # when the same diff runs again: still one item
    diff_run(channel=shop)
    assert Issue.objects.filter(key__startswith="migration_diff:").count() == 1
    # when the legacy orders are corrected and the diff runs again, the item resolves
    for so in legacy.sb.execute("sale.order", "search", [["client_order_ref", "like", "#300"]]):
        lines = legacy.sb.execute("sale.order.line", "search", [["order_id", "=", so]])
        product_lines = [
            ln["id"]
            for ln in legacy.sb.execute("sale.order.line", "read", lines, ["product_id"])
            if ln["product_id"][0] != legacy.ship
        ]
        legacy.sb.execute(
            "sale.order.line", "write", product_lines, {"tax_id": [[6, 0, [legacy.tax8]]]}
        )
    run = diff_run(channel=shop)
    assert run.is_clean is True and classes(run) == {}
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED


def test_extra_orders_partner_and_shipping_differences(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    ingest(4001, at=T0)
    ingest(4002, at=T0 + dt.timedelta(minutes=1))
    legacy.order("#4001")
    so = legacy.order("#4002")
    # the legacy connector sent #4002 to another address and without the shipping line
    other = legacy.sb.execute(
        "res.partner",
        "create",
        {"name": "Maria Lopez", "email": "maria.lopez@example.com", "zip": "10001"},
    )
    legacy.sb.execute("sale.order", "write", [so], {"partner_shipping_id": other})
    ship_line = legacy.sb.execute(
        "sale.order.line", "search", [["order_id", "=", so], ["product_id", "=", legacy.ship]]
    )
    legacy.sb.execute("sale.order.line", "write", ship_line, {"price_unit": 9.99})
    # and made an order the hub never received (and the hub's own orders are not extras)
    extra = legacy.order("#4999")
    run = diff_run(channel=shop, since=T0 - dt.timedelta(days=1))
    found = {d.number or d.odoo_name: d for d in ShadowDiff.objects.filter(channel=shop)}
    assert found["#4001"].outcome == "match"
    fields = set(found["#4002"].items.values_list("klass", "field"))
    assert ("partner", "partner.shipping.zip") in fields
    assert ("partner", "partner.shipping.street") in fields
    assert ("shipping", "shipping.price") in fields
    assert found["#4999"].outcome == "extra" and found["#4999"].odoo_id == extra
    assert run.extra == 1
    # a window that ends before the orders leaves everything out
    assert diff_report(channel=shop, until=T0 - dt.timedelta(days=1))["orders"] == 0


def test_held_orders_are_not_compared_and_block_a_clean_run(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    ingest(5001, at=T0)
    legacy.order("#5001")
    first, second = _lines()
    held = ingest(5002, at=T0, line_items=[first, {**second, "sku": "NOT-MAPPED"}])
    assert held.state == OrderState.HELD
    run = diff_run(channel=shop)
    assert run.not_compared == 1 and run.matched == 1
    diff = ShadowDiff.objects.get(number="#5002")
    assert diff.outcome == "not_compared" and "held" in diff.detail
    report = diff_report(channel=shop)
    assert report["clean"] is False and report["over"] == ["not_compared"]
    # with a threshold over 50 %, one in two is tolerated
    Channel.objects.filter(pk=shop.pk).update(dual_run_threshold_pct=60)
    shop.refresh_from_db()
    assert diff_report(channel=shop)["clean"] is True


def _lines() -> list[dict[str, Any]]:
    from tests.orders.conftest import load

    lines: list[dict[str, Any]] = load("shopify_order.json")["line_items"]
    return lines


def test_csv_and_the_command(shop: Channel, ingest: Ingest, legacy: Legacy, tmp_path: Any) -> None:
    ingest(6001, at=T0)
    ingest(6002, at=T0)
    legacy.order("#6001", tshirt_price=30.0)
    out = io.StringIO()
    path = tmp_path / "diff.csv"
    with pytest.raises(CommandError, match="not clean"):
        call_command(
            "migration",
            "diff",
            "--channel",
            "legacy",
            "--since",
            "2026-11-30",
            "--csv",
            str(path),
            "--strict",
            stdout=out,
        )
    text = out.getvalue()
    assert "compared 2 hub orders of legacy in 1 batch(es)" in text
    assert "price" in text and "OVER" in text
    assert "orders with price (1):" in text and "#6001" in text
    lines = list(csv.DictReader(io.StringIO(path.read_text())))
    assert {(r["order_number"], r["class"], r["field"]) for r in lines} == {
        ("#6001", "price", "line.price_unit"),
        ("#6002", "missing", "order"),
    }
    assert diff_csv(channel=shop, klass="missing").count("\n") == 2  # header + one
    # the report alone makes no Odoo call
    legacy.sb.reset_stats()
    out = io.StringIO()
    call_command("migration", "report", "--channel", "legacy", "--class", "price", stdout=out)
    assert sum(dict(legacy.sb.stats()["calls"]).values()) == 0
    assert "orders with price (1):" in out.getvalue()
