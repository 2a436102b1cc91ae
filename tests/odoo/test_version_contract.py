"""The operations whose model, method or fields differ between Odoo versions (docs/odoo.md,
"Versions: what differs, verified live"), each through the gateway and the version adapter.

Run against the sandbox (17's shape) and, with the live_odoo mark, against a real 17, 18 or 19:
the same assertions hold on every version, only the adapter's names change.
"""

from __future__ import annotations

from decimal import Decimal

from apps.odoo.gateway import OdooGateway

from .conftest import OdooTarget
from .helpers import order, seed


def test_return_of_everything_delivered(
    odoo: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    """``quantities=None`` returns every delivered unit: up to 17 the wizard's lines start at
    the returnable quantity; from 18 they start at 0 and action_create_returns_all fills them."""
    # given an order of 4 + 2 delivered in full
    s = seed(gateway, unique)
    a, b = list(s.products)
    ids = gateway.sale_orders_ensure(orders=[order(unique, s, 1, [(a, 4), (b, 2)])], confirm=True)
    so = ids[f"hubtest:{unique}:1"]
    [delivery] = gateway.sale_orders_read(order_ids=[so])[so]["picking_ids"]
    assert gateway.picking_validate(picking_id=delivery, backorder=False).state == "done"
    # when the hub returns everything
    ret = gateway.return_create(picking_id=delivery, quantities=None, validate=True)
    # then the return received every unit of both products
    [picking] = gateway.pickings_read(picking_ids=[ret])
    assert picking["return_of"] == delivery and picking["state"] == "done"
    got = {m["sku"]: m["done"] for m in picking["moves"]}
    assert got == {a: 4.0, b: 2.0}


def test_order_lines_with_taxes_and_the_unit_read_back(
    odoo: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    """The hub's canonical ``tax_id`` on a line is the version's field when written (tax_ids on
    19), and invoices built from the lines carry the line's unit and taxes."""
    s = seed(gateway, unique)
    a, b = list(s.products)
    no_tax = [[6, 0, []]]
    ref = f"hubtest:{unique}:taxes"
    so = gateway.sale_orders_ensure(
        orders=[
            {
                "ref": ref,
                "partner_id": s.partner.id,
                "lines": [
                    {"product_id": s.products[a], "qty": 2, "price_unit": 10, "tax_id": no_tax},
                    {"product_id": s.products[b], "qty": 1, "price_unit": 5, "tax_id": no_tax},
                ],
            }
        ],
        confirm=True,
    )[ref]
    totals = gateway.sale_orders_totals(order_ids=[so])[so]
    assert Decimal(str(totals["amount_total"])) == Decimal("25")
    lines = gateway.sale_order_lines_read(order_id=so)
    # an edit of a confirmed order writes the tax field of the version too
    gateway.sale_order_edit(
        order_id=so, update={lines[1]["id"]: {"qty": 3, "price_unit": 5, "tax_id": no_tax}}
    )
    totals = gateway.sale_orders_totals(order_ids=[so])[so]
    assert Decimal(str(totals["amount_total"])) == Decimal("35")
    field = gateway.client.adapter.sale_line_tax_field
    rows = gateway.client.call("sale.order.line", "read", [[ln["id"] for ln in lines], [field]])
    assert all(r[field] == [] for r in rows)
