"""Gateway contract: the same tests run on the sandbox and, with ODOO_URL set, a real Odoo."""

from __future__ import annotations

import datetime as dt

from apps.odoo.client import OdooClient
from apps.odoo.gateway import OdooGateway

from .conftest import OdooTarget
from .helpers import order, seed


def _all_done_since(gateway: OdooGateway, cursor: str, *, limit: int) -> list[dict[str, object]]:
    """Every page from ``cursor`` on; fails instead of looping when the cursor stops moving."""
    out: list[dict[str, object]] = []
    for _ in range(500):
        page = gateway.pickings_done_since(cursor=cursor, limit=limit)
        if not page.pickings:
            return out
        assert page.next_cursor is not None
        assert page.next_cursor != cursor, "the cursor did not move forward"
        out += page.pickings
        cursor = page.next_cursor
    raise AssertionError(f"pickings_done_since never reached the end (cursor {cursor})")


def test_version_uid_and_adapter(odoo: OdooTarget, client: OdooClient) -> None:
    version = client.version()
    assert client.adapter.major in (16, 17, 18, 19)
    assert str(version["server_version"]).startswith(str(client.adapter.major))
    assert client.uid() > 0


def test_partners_and_products(odoo: OdooTarget, gateway: OdooGateway, unique: str) -> None:
    # given
    s = seed(gateway, unique)
    # when
    again = gateway.partner_ensure(partner={"name": "ignored", "ref": f"HUBTEST-{unique}"})
    found = gateway.partners_find(
        refs=[f"HUBTEST-{unique}"], emails=[f"BUYER-{unique}@example.com"]
    )
    lookup = gateway.products_ids(skus=[*s.products, f"NOPE-{unique}"])
    # then
    assert again == s.partner
    assert s.partner.delivery_id != s.partner.id
    assert s.partner.invoice_id == s.partner.id  # no invoice child: the company itself
    assert found.by_ref[f"HUBTEST-{unique}"] == s.partner.id
    assert found.by_email[f"buyer-{unique}@example.com"] == s.partner.id
    assert lookup.ids == s.products
    assert lookup.unknown == [f"NOPE-{unique}"]


def test_stock_levels_and_quants(odoo: OdooTarget, gateway: OdooGateway, unique: str) -> None:
    s = seed(gateway, unique, qty=40)
    pids = list(s.products.values())
    levels = gateway.stock_levels(product_ids=pids, warehouse_ids=[s.warehouse_id])
    assert {lv.qty_available for lv in levels[s.warehouse_id].values()} == {40.0}
    assert {lv.free_qty for lv in levels[s.warehouse_id].values()} == {40.0}
    quants = gateway.stock_quants(product_ids=pids, location_ids=[s.stock_location_id])
    assert sorted(q["product_id"] for q in quants) == sorted(pids)
    assert {q["quantity"] for q in quants} == {40.0}


def test_sale_orders_ensure_confirm_is_idempotent(
    odoo: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    # given
    s = seed(gateway, unique)
    skus = list(s.products)
    orders = [order(unique, s, n, [(skus[0], 2), (skus[1], 1)]) for n in range(3)]
    # when it runs twice
    first = gateway.sale_orders_ensure(orders=orders, confirm=True)
    second = gateway.sale_orders_ensure(orders=orders, confirm=True)
    # then one order per reference, confirmed, with its delivery
    assert first == second
    for o in orders:
        count = gateway.client.call("sale.order", "search_count", [[["origin", "=", o["ref"]]]])
        assert count == 1
    states = gateway.sale_orders_read(order_ids=list(first.values()))
    assert {st["state"] for st in states.values()} == {"sale"}
    assert all(st["picking_ids"] for st in states.values())
    assert states[first[orders[0]["ref"]]]["client_order_ref"] == f"PO-{unique}-0"


def test_deliver_partially_return_invoice_and_pay(
    odoo: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    # given two confirmed orders
    s = seed(gateway, unique)
    sku = next(iter(s.products))
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S")
    ids = gateway.sale_orders_ensure(
        orders=[order(unique, s, 1, [(sku, 10)]), order(unique, s, 2, [(sku, 3)])], confirm=True
    )
    so1, so2 = ids[f"hubtest:{unique}:1"], ids[f"hubtest:{unique}:2"]
    read = gateway.sale_orders_read(order_ids=[so1, so2])
    pick1, pick2 = read[so1]["picking_ids"][0], read[so2]["picking_ids"][0]
    move1 = gateway.pickings_read(picking_ids=[pick1])[0]["moves"][0]["move_id"]

    # when order 1 ships 6 of 10 with a backorder and a tracking number, order 2 ships in full
    partial = gateway.picking_validate(
        picking_id=pick1, quantities={move1: 6}, backorder=True, tracking_ref=f"1Z{unique}"
    )
    full = gateway.picking_validate(picking_id=pick2, backorder=False)

    # then
    assert partial.state == "done"
    assert len(partial.backorder_ids) == 1
    assert full.state == "done"
    assert full.backorder_ids == []
    found = {p["id"]: p for p in _all_done_since(gateway, f"{since}|0", limit=50)}
    assert found[pick1]["tracking_ref"] == f"1Z{unique}"
    assert found[pick1]["moves"][0]["done"] == 6.0  # type: ignore[index]
    assert found[pick1]["moves"][0]["sku"] == sku  # type: ignore[index]
    assert found[pick2]["moves"][0]["done"] == 3.0  # type: ignore[index]
    assert gateway.sale_orders_read(order_ids=[so1])[so1]["delivery_status"] in ("partial", None)

    # when one unit of order 2 comes back, and order 2 is invoiced and paid
    ret = gateway.return_create(picking_id=pick2, quantities={s.products[sku]: 1}, validate=True)
    invoices = gateway.invoices_create(order_ids=[so2])[so2]
    gateway.invoices_post(invoice_ids=invoices)
    gateway.invoice_register_payment(invoice_ids=invoices)

    # then
    returned = gateway.pickings_read(picking_ids=[ret])[0]
    assert returned["return_of"] == pick2
    assert returned["state"] == "done"
    assert len(invoices) == 1
    inv = gateway.invoices_read(invoice_ids=invoices)[invoices[0]]
    assert inv["state"] == "posted"
    assert inv["payment_state"] in ("paid", "in_payment")
    assert inv["ref"] == f"PO-{unique}-2"
    # a second invoicing run finds nothing left to invoice and does not fail
    assert gateway.invoices_create(order_ids=[so2]) == {so2: []}


def test_cancel_without_wizard(odoo: OdooTarget, gateway: OdooGateway, unique: str) -> None:
    s = seed(gateway, unique)
    sku = next(iter(s.products))
    ids = gateway.sale_orders_ensure(
        orders=[order(unique, s, n, [(sku, 1)]) for n in range(2)], confirm=True
    )
    gateway.sale_orders_cancel(order_ids=list(ids.values()))
    states = gateway.sale_orders_read(order_ids=list(ids.values()))
    assert {st["state"] for st in states.values()} == {"cancel"}


def test_cancel_with_wizard(odoo: OdooTarget, gateway: OdooGateway, unique: str) -> None:
    s = seed(gateway, unique)
    sku = next(iter(s.products))
    ids = gateway.sale_orders_ensure(orders=[order(unique, s, 1, [(sku, 1)])], confirm=True)
    (so,) = ids.values()
    gateway.sale_orders_cancel(order_ids=[so], use_wizard=True)
    assert gateway.sale_orders_read(order_ids=[so])[so]["state"] == "cancel"


def test_done_pickings_pages_within_one_second(
    odoo: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    """Odoo keeps write_date to the microsecond (one stamp per transaction) but reads send whole
    seconds: pages cut inside one second must neither repeat nor skip a picking, nor loop."""
    # given five deliveries validated in one call, so they share one write_date
    s = seed(gateway, unique)
    sku = next(iter(s.products))
    ids = gateway.sale_orders_ensure(
        orders=[order(unique, s, n, [(sku, 1)]) for n in range(5)], confirm=True
    )
    read = gateway.sale_orders_read(order_ids=list(ids.values()))
    picks = sorted(p for r in read.values() for p in r["picking_ids"])
    assert len(picks) == 5
    gateway.client.call(
        "stock.picking", "button_validate", [picks], context={"skip_backorder": True}
    )
    rows = gateway.client.call("stock.picking", "read", [picks, ["state", "write_date"]])
    assert {r["state"] for r in rows} == {"done"}
    assert {len(r["write_date"]) for r in rows} == {19}  # "YYYY-MM-DD HH:MM:SS", no fraction
    second = min(r["write_date"] for r in rows)
    for limit in (1, 2, 3, 50):
        # when paging from that second on
        seen = [int(str(p["id"])) for p in _all_done_since(gateway, f"{second}|0", limit=limit)]
        # then every picking comes exactly once
        assert len(seen) == len(set(seen)), limit
        assert sorted(p for p in seen if p in picks) == picks, limit
