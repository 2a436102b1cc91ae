"""The batched push against the sandbox Odoo, in-process (the worker tests add the broker)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.translators import order_from_shopify

from .conftest import product_ids, shopify_payload, tax_map
from .helpers import order_lines, sale_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(sandbox_settings: Any, make_channel: Any, bind_all: Any) -> Any:
    channel = make_channel()
    bind_all(channel)
    return channel


def ingest(order_id: int = 1001, **changes: Any) -> ChannelOrder:
    payload = shopify_payload(order_id, **changes)
    return order_ingest(order=order_from_shopify(payload, channel="shop"))


def calls(sandbox: Any) -> dict[str, int]:
    return dict(sandbox.stats()["calls"])


def test_one_order_becomes_one_confirmed_sale_order(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    # given a Shopify order with line discounts and a shipping line, taxes mapped to an 8% tax
    tax8 = sb.execute("account.tax", "create", {"name": "NY 8%", "amount": 8.0})
    tax_map(shop, "0.08", tax8)
    row = ingest()
    # when the push runs
    assert order_push_due() == 1
    # then one confirmed sale order carries the reference, customer, lines and shipping
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    found = sale_orders(sb, "shop:1001")
    assert len(found) == 1
    so = found[0]
    assert so["state"] == "sale"
    assert so["name"] == row.odoo_name and so["id"] == row.odoo_id
    assert so["client_order_ref"] == row.number
    partner = sb.execute("res.partner", "read", [so["partner_id"][0]], ["email", "child_ids"])[0]
    assert partner["email"] == "maria.lopez@example.com"
    assert len(partner["child_ids"]) == 2  # delivery and invoice addresses
    lines = order_lines(sb, so["order_line"])
    ids = product_ids(sb, ["SKU-001", "SKU-003", "SHIP"])
    got = [
        (ln["product_id"][0], ln["product_uom_qty"], ln["price_unit"], ln["discount"])
        for ln in lines
    ]
    assert got == [
        (ids["SKU-001"], 2.0, 25.0, 10.0),  # 5.00 off 50.00 -> 10 %
        (ids["SKU-003"], 1.0, 12.5, 10.0),  # 1.25 off 12.50 -> 10 %
        (ids["SHIP"], 1.0, 5.99, 0.0),
    ]


def test_mapped_taxes_reach_odoo(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    tax8 = sb.execute("account.tax", "create", {"name": "NY 8%", "amount": 8.0})
    tax_map(shop, "0.08", tax8)
    row = ingest()
    order_push_due()
    so = sale_orders(sb, "shop:1001")[0]
    lines = order_lines(sb, so["order_line"])
    assert [ln["tax_id"] for ln in lines] == [[tax8], [tax8], []]
    row.refresh_from_db()
    assert row.odoo_amount_total == row.total


def test_batch_costs_constant_rpcs(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    # given 20 ready orders of one (already known) customer
    for n in range(20):
        ingest(2000 + n)
    order_push_due(limit=1)  # warms the customer binding and the shipping product
    sb.reset_stats()
    # when one push takes the other 19
    assert order_push_due(limit=100) == 19
    # then it made a handful of calls, not one per order
    c = calls(sb)
    assert c.get("sale.order.create") == 1
    assert c.get("sale.order.action_confirm") == 1
    assert sum(c.values()) <= 5, c
    assert ChannelOrder.objects.filter(state=OrderState.IN_ODOO).count() == 20


def test_lost_create_response_does_not_duplicate(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    for n in range(5):
        ingest(3000 + n)
    order_push_due(limit=1)  # the partner exists now; the next write is the order create
    # given Odoo commits the next write and drops its answer
    sb.set_faults(drop_after_commit=1)
    # when the push runs: the batch goes back to ready with a due time
    assert order_push_due() == 4
    assert ChannelOrder.objects.filter(state=OrderState.READY).count() == 4
    assert (
        ChannelOrder.objects.filter(state=OrderState.READY, next_attempt_at__isnull=False).count()
        == 4
    )
    # and runs again when due
    ChannelOrder.objects.filter(state=OrderState.READY).update(next_attempt_at=None)
    assert order_push_due() == 4
    # then every order exists exactly once, confirmed
    for n in range(5):
        found = sale_orders(sb, f"shop:{3000 + n}")
        assert len(found) == 1 and found[0]["state"] == "sale"
    assert ChannelOrder.objects.filter(state=OrderState.IN_ODOO).count() == 5


def test_odoo_down_then_back(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    for n in range(3):
        ingest(4000 + n)
    sb.set_faults(down=True)
    assert order_push_due() == 3
    rows = ChannelOrder.objects.all()
    assert {r.state for r in rows} == {OrderState.READY}
    assert all(r.next_attempt_at and r.last_error for r in rows)
    # while not due, nothing is claimed
    assert order_push_due() == 0
    sb.set_faults(down=False)
    ChannelOrder.objects.update(next_attempt_at=None)
    assert order_push_due() == 3
    for n in range(3):
        assert len(sale_orders(sb, f"shop:{4000 + n}")) == 1


def test_expired_lease_is_reclaimed_without_duplicate(shop: Any, sandbox_settings: Any) -> None:
    from django.utils import timezone

    sb = sandbox_settings
    row = ingest(5000)
    order_push_due()
    # given a worker that pushed, then died before binding (simulate: back to pushing, expired)
    ChannelOrder.objects.filter(pk=row.pk).update(
        state=OrderState.PUSHING, lease_until=timezone.now(), lease_token="dead", odoo_id=None
    )
    # when another push reclaims it
    assert order_push_due() == 1
    # then the existing sale order is found and bound
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO and row.odoo_id
    assert len(sale_orders(sb, "shop:5000")) == 1


def test_one_bad_order_does_not_block_the_batch(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    for n in range(4):
        ingest(6000 + n)
    # given one order's product was archived/deleted in Odoo (its binding points nowhere)
    bad = ChannelOrder.objects.get(external_id="6002")
    bad.lines.filter(position=0).update(product_id=999999)
    # when the batch is pushed
    order_push_due()
    # then the others reached Odoo and the bad one failed alone
    states = dict(ChannelOrder.objects.values_list("external_id", "state"))
    assert states.pop("6002") == OrderState.FAILED
    assert set(states.values()) == {OrderState.IN_ODOO}
    assert len(sale_orders(sb, "shop:6002")) == 0


def test_shadow_channel_records_payload_and_writes_nothing(
    sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    sb = sandbox_settings
    channel = make_channel(state="shadow")
    bind_all(channel)
    row = ingest(8000)
    sb.reset_stats()
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO and row.odoo_id is None
    sent = row.shadow_payload["sale_order"]
    assert sent["ref"] == "shop:8000"
    assert [ln["qty"] for ln in sent["lines"]] == [2, 1, 1]
    assert row.shadow_payload["partner_to_create"]["email"] == "maria.lopez@example.com"
    writes = [
        k for k in sb.stats()["calls"] if k.split(".")[-1] in ("create", "write", "action_confirm")
    ]
    assert writes == [] and sale_orders(sb, "shop:8000") == []


def test_warehouse_is_the_first_that_can_fill_the_order(
    sandbox_settings: Any, make_channel: Any
) -> None:
    from apps.core.canonical import Money
    from apps.sales_channels.translators import order_from_b2b

    from .conftest import b2b_payload, bind

    sb = sandbox_settings
    whs = {
        w["code"]: w["id"]
        for w in sb.execute("stock.warehouse", "search_read", [], fields=["code"])
    }
    # given a channel preferring WH, then WH2; SKU-015 is only stocked in WH2 (18 units)
    channel = make_channel(code="wh", kind="b2b_api", warehouse_ids=[whs["WH"], whs["WH2"]])
    ids = product_ids(sb, ["SKU-015", "SKU-001"])
    bind(channel, "SPEAKER", ids["SKU-015"])
    bind(channel, "CHAIR", ids["SKU-001"])

    def order(ext: str, sku: str, qty: int) -> None:
        total = Money.of("10.00", "USD") * qty
        payload = b2b_payload(
            ext,
            lines=[{"sku": sku, "quantity": qty, "unit_price": "10.00"}],
            shipping={},
            totals={"total": str(total.amount)},
        )
        order_ingest(order=order_from_b2b(payload, channel="wh"))

    order("W1", "CHAIR", 1)  # WH has chairs: the preferred warehouse
    order("W2", "SPEAKER", 10)  # only WH2 has speakers
    order("W3", "SPEAKER", 10)  # WH2 has 8 left after W2: nobody can fill it -> preferred
    # when
    order_push_due()
    # then
    got = {ext: sale_orders(sb, f"wh:{ext}")[0]["warehouse_id"][0] for ext in ("W1", "W2", "W3")}
    assert got == {"W1": whs["WH"], "W2": whs["WH2"], "W3": whs["WH"]}


def test_failed_order_retried_after_the_fix_clears_its_inbox_item(
    shop: Any, sandbox_settings: Any
) -> None:
    from apps.inbox.models import Issue
    from apps.orders.services import order_retry

    row = ingest(6100)
    good = row.lines.get(position=0).product_id
    row.lines.filter(position=0).update(product_id=999999)
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.FAILED and row.last_error
    issue = Issue.objects.get(key="order_push:shop:6100")
    assert issue.status == "open"
    # when support fixes the cause and replays (the judge re-reads the bindings)
    assert good
    order_retry(order_id=row.pk)
    order_push_due()
    # then the order is in Odoo and its inbox item resolved itself
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    issue.refresh_from_db()
    assert issue.status != "open"
