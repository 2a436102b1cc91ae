"""The chaos plan and fault schedule (bench/chaos/plan.py, schedule.py): what the run promises
about its own traffic and faults."""

from __future__ import annotations

from collections import Counter

from apps.sales_channels.translators import order_from_shopify
from bench.chaos.plan import expected, make_plan, payload, version_ts
from bench.chaos.schedule import FULL_SECONDS, make_schedule

T0 = 1_800_000_000


def test_every_event_is_delivered_three_times_out_of_order() -> None:
    plan = make_plan(400, 8.0, seed=3)
    counts = plan.counts()
    assert counts["edited"] and counts["cancelled"] and counts["shipped"]
    per_event = Counter((d.order, d.version) for d in plan.deliveries)
    assert set(per_event.values()) == {3}
    # copies 0 and 1 are a platform retry (same id), copy 2 a second subscription (same event)
    by_event: dict[tuple[int, int], set[str]] = {}
    for d in plan.deliveries:
        by_event.setdefault((d.order, d.version), set()).add(d.webhook_id("r"))
    assert all(len(ids) == 2 for ids in by_event.values())
    # some order's later version is due before one of its earlier version's copies
    due = {(d.order, d.version, d.copy): d.due for d in plan.deliveries}
    assert any(
        due[(o.n, 1, 0)] < max(due[(o.n, 0, c)] for c in range(3))
        for o in plan.orders
        if o.edit_at is not None
    )


def test_versions_increase_and_translate_to_what_the_hub_reads() -> None:
    plan = make_plan(300, 8.0, seed=5)
    both = next(o for o in plan.orders if o.edit_at is not None and o.cancel_at is not None)
    stamps = [version_ts(both, v, T0) for v in (0, 1, 2)]
    assert stamps == sorted(set(stamps))
    edit = order_from_shopify(payload(both, 1, T0), channel="chaos")
    cancel = order_from_shopify(payload(both, 2, T0), channel="chaos")
    assert edit.updated_at is not None and cancel.updated_at is not None
    assert edit.updated_at < cancel.updated_at and cancel.cancelled_at is not None
    assert [(ln.sku, ln.quantity) for ln in edit.lines] == [
        (ln.sku, ln.qty) for ln in both.edit_lines
    ]
    assert str(edit.totals.total.amount) == payload(both, 1, T0)["total_price"]


def test_shipped_orders_are_never_edited_or_cancelled_and_expectations_follow() -> None:
    plan = make_plan(600, 8.0, seed=7)
    shipped = [o for o in plan.orders if o.ship_parts]
    assert shipped and all(o.edit_at is None and o.cancel_at is None for o in shipped)
    two = next(o for o in shipped if o.ship_parts == 2)
    assert expected(two, {0}, 1).state == "partially_shipped"  # type: ignore[union-attr]
    assert expected(two, {0}, 2).state == "shipped"  # type: ignore[union-attr]
    assert expected(two, set()) is None


def test_the_schedule_holds_every_fault_and_compresses_for_a_short_run() -> None:
    full = make_schedule(FULL_SECONDS, kills=10)
    kinds = Counter(f.kind for f in full)
    assert kinds == {
        "kill": 10,
        "odoo_transient": 1,
        "odoo_down": 1,
        "odoo_drop_creates": 1,
        "redis_stop": 1,
        "pg_restart": 1,
    }
    seconds = {f.kind: f.seconds for f in full if f.seconds}
    assert seconds == {
        "odoo_transient": 60.0,
        "odoo_down": 30.0,
        "odoo_drop_creates": 60.0,
        "redis_stop": 30.0,
    }
    odoo = [f for f in full if f.kind.startswith("odoo")]
    assert [f.kind for f in odoo] == ["odoo_transient", "odoo_down", "odoo_drop_creates"]
    assert all(a.end == b.at for a, b in zip(odoo, odoo[1:], strict=False))
    assert max(f.end for f in full) < FULL_SECONDS
    short = make_schedule(60.0, kills=1, postgres=False)
    assert Counter(f.kind for f in short)["kill"] == 1
    assert "pg_restart" not in {f.kind for f in short}
    assert all(5.0 <= f.seconds <= 10.0 for f in short if f.seconds)
    assert max(f.end for f in short) < 60.0
