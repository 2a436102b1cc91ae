"""The chaos run's accounting (bench/chaos/accounting.py) counts every kind of damage: each test
breaks one thing in otherwise perfect observations and checks that exactly it is reported."""

from __future__ import annotations

from typing import Any

from bench.chaos.accounting import HubOrder, SaleOrder, account, base_ref
from bench.chaos.plan import Line, Plan, PlannedOrder

PRODUCTS = {"SKU-001": 11, "SKU-003": 13, "SKU-004": 14, "SKU-006": 16, "SKU-007": 17}


def small_plan() -> Plan:
    """Order 0 plain, 1 edited, 2 cancelled after an edit, 3 shipped in two parts."""
    return Plan(
        [
            PlannedOrder(0, 1, 0.0, (Line("SKU-001", 1), Line("SKU-003", 2))),
            PlannedOrder(
                1,
                2,
                1.0,
                (Line("SKU-004", 1),),
                edit_at=20.0,
                edit_lines=(Line("SKU-004", 3), Line("SKU-006", 1)),
            ),
            PlannedOrder(
                2,
                3,
                2.0,
                (Line("SKU-007", 1),),
                edit_at=3.0,
                edit_lines=(Line("SKU-007", 2),),
                cancel_at=40.0,
            ),
            PlannedOrder(
                3,
                4,
                3.0,
                (Line("SKU-001", 1), Line("SKU-006", 1)),
                ship_at=60.0,
                ship_parts=2,
            ),
        ]
    )


def perfect(plan: Plan) -> dict[str, Any]:
    ref = plan.orders[0].order_id
    return {
        "channel": "chaos",
        "accepted_versions": {0: {0}, 1: {0, 1}, 2: {0, 1, 2}, 3: {0}},
        "sale_orders": [
            SaleOrder(f"chaos:{ref}", "S1", "sale", {11: 1.0, 13: 2.0}),
            SaleOrder(f"chaos:{ref + 1}", "S2", "sale", {14: 3.0, 16: 1.0}),
            SaleOrder(f"chaos:{ref + 2}", "S3", "cancel", {17: 2.0}),
            SaleOrder(f"chaos:{ref + 3}", "S4", "sale", {11: 1.0, 16: 1.0}),
        ],
        "hub": {
            str(ref): HubOrder("in_odoo"),
            str(ref + 1): HubOrder("in_odoo"),
            str(ref + 2): HubOrder("cancelled", edit_pending=True),  # void: cancelled
            str(ref + 3): HubOrder("shipped"),
        },
        "products": PRODUCTS,
        "shipped": {3: 2},
        "fulfilments": {3: 2},
    }


def test_perfect_observations_pass_and_are_counted() -> None:
    plan = small_plan()
    acc = account(plan, **perfect(plan))
    assert acc.ok, (acc.duplicates, acc.lost, acc.wrong, acc.phantoms)
    assert (acc.accepted, acc.sale_orders, acc.open_sale_orders) == (4, 4, 3)
    assert acc.by_state == {"in_odoo": 2, "cancelled": 1, "shipped": 1}


def test_a_second_open_sale_order_is_a_duplicate() -> None:
    plan = small_plan()
    seen = perfect(plan)
    ref = plan.orders[0].order_id
    seen["sale_orders"].append(SaleOrder(f"chaos:{ref}", "S9", "sale", {11: 1.0, 13: 2.0}))
    acc = account(plan, **seen)
    assert len(acc.duplicates) == 1 and str(ref) in acc.duplicates[0]
    assert not (acc.lost or acc.wrong or acc.phantoms)


def test_a_reference_used_twice_is_a_duplicate_even_when_one_is_cancelled() -> None:
    plan = small_plan()
    seen = perfect(plan)
    ref = plan.orders[0].order_id
    seen["sale_orders"].append(SaleOrder(f"chaos:{ref + 2}", "S8", "cancel", {17: 2.0}))
    assert len(account(plan, **seen).duplicates) == 1


def test_an_edit_recreated_under_its_own_reference_is_not_a_duplicate() -> None:
    plan = small_plan()
    seen = perfect(plan)
    ref = plan.orders[0].order_id
    seen["sale_orders"][1] = SaleOrder(f"chaos:{ref + 1}", "S2", "cancel", {14: 1.0})
    recreated = SaleOrder(f"chaos:{ref + 1}~e1a2b3c4", "S5", "sale", {14: 3.0, 16: 1.0})
    seen["sale_orders"].append(recreated)
    assert account(plan, **seen).ok


def test_an_order_without_an_open_sale_order_or_hub_row_is_lost() -> None:
    plan = small_plan()
    seen = perfect(plan)
    ref = plan.orders[0].order_id
    seen["sale_orders"] = seen["sale_orders"][1:]
    del seen["hub"][str(ref + 1)]
    acc = account(plan, **seen)
    assert len(acc.lost) == 2
    assert str(ref) in acc.lost[0] and "missing" in acc.lost[1]


def test_wrong_final_states_are_each_reported() -> None:
    plan = small_plan()
    seen = perfect(plan)
    ref = plan.orders[0].order_id
    seen["sale_orders"][1] = SaleOrder(f"chaos:{ref + 1}", "S2", "sale", {14: 1.0})  # old lines
    seen["sale_orders"][2] = SaleOrder(f"chaos:{ref + 2}", "S3", "sale", {17: 2.0})  # not cancelled
    seen["hub"][str(ref)] = HubOrder("in_odoo", edit_pending=True)
    seen["fulfilments"] = {3: 3}  # one picking fulfilled twice
    acc = account(plan, **seen)
    assert len(acc.wrong) == 4, acc.wrong
    text = "\n".join(acc.wrong)
    assert "newest version" in text and "open in Odoo" in text
    assert "still pending" in text and "3 channel fulfilments for 2" in text


def test_only_accepted_versions_count() -> None:
    plan = small_plan()
    seen = perfect(plan)
    ref = plan.orders[0].order_id
    # the cancellation of order 2 was never accepted: its edited version must be open in Odoo
    seen["accepted_versions"][2] = {0, 1}
    acc = account(plan, **seen)
    assert [w for w in acc.lost if str(ref + 2) in w]
    # an order the hub never accepted must have no sale order at all
    seen = perfect(plan)
    del seen["accepted_versions"][0]
    acc = account(plan, **seen)
    assert acc.accepted == 3 and len(acc.phantoms) == 1


def test_references_map_back_to_the_channel_order() -> None:
    assert base_ref("chaos:6100000001", "chaos") == "6100000001"
    assert base_ref("chaos:6100000001~e0badf00d", "chaos") == "6100000001"
    assert base_ref("chaos:6100000001-W2", "chaos") == "6100000001"
    assert base_ref("other:6100000001", "chaos") is None
