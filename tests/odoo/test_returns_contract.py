"""Returns contract: a return picking from a done delivery under the hub's origin, the return
receipt poll, partial and full credit notes under the hub's ref, open lines lowered.

The same tests run on the sandbox and, with ODOO_URL set (``-m live_odoo``), on a real Odoo 17.
With ODOO_RECORD_TRANSCRIPTS=<dir> the live run records each test's exchanges as a transcript
(tests/data/odoo/transcripts/3x_hub_*.json) that the sandbox then replays in CI.
Everything is the hub's gateway, except the warehouse validating the return (picking_validate,
which the hub never does for a return) and the test reading order lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from apps.odoo.errors import OdooPermanentError
from apps.odoo.gateway import OdooGateway

from .conftest import OdooTarget, Recorder
from .helpers import Seed, seed


def _delivered_order(gateway: OdooGateway, tag: str, s: Seed, n: int) -> tuple[int, int]:
    """An order of 5 x A at 10 and 3 x B at 20, confirmed and delivered in full."""
    a, b = list(s.products.values())[:2]
    ref = f"hubtest:{tag}:ret{n}"
    so = gateway.sale_orders_ensure(
        orders=[
            {
                "ref": ref,
                "partner_id": s.partner.id,
                "partner_shipping_id": s.partner.delivery_id,
                "warehouse_id": s.warehouse_id,
                "client_order_ref": f"PO-{tag}-ret{n}",
                "lines": [
                    {"product_id": a, "qty": 5, "price_unit": 10},
                    {"product_id": b, "qty": 3, "price_unit": 20},
                ],
            }
        ],
        confirm=True,
    )[ref]
    delivery = gateway.sale_orders_read(order_ids=[so])[so]["picking_ids"][0]
    done = gateway.picking_validate(picking_id=delivery, backorder=False)
    assert done.state == "done"
    return so, delivery


def _invoiced(gateway: OdooGateway, so: int) -> dict[str, Any]:
    new = gateway.invoices_create(order_ids=[so])[so]
    gateway.invoices_post(invoice_ids=new)
    [invoice] = gateway.invoices_of_orders(order_ids=[so])[so]
    return invoice


def _odoo_now() -> str:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    return now.strftime("%Y-%m-%d %H:%M:%S")


def test_return_picking_from_done_delivery_found_on_retry(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "34_hub_return_picking",
        "Hub: return_ensure makes a return picking of 2 of 5 from a done delivery under the "
        "hub's origin, left ready to receive; the retry finds it (returns_find)",
    )
    s = seed(gateway, unique)
    a, _ = list(s.products.values())[:2]
    so, delivery = _delivered_order(gateway, unique, s, 1)
    origin = f"hubtest:return:{unique}"
    # when the hub asks for the return of 2 of A
    picking, created = gateway.return_ensure(picking_id=delivery, origin=origin, quantities={a: 2})
    # then it is a receipt back from the delivery, with the hub's origin, ready, not done
    assert created is True
    assert picking["origin"] == origin
    assert picking["return_of"] == delivery and picking["sale_id"] == so
    assert picking["picking_type_code"] == "incoming"
    assert picking["state"] == "assigned"
    assert [(m["product_id"], m["demand"], m["done"]) for m in picking["moves"]] == [(a, 2.0, 0.0)]
    # and a retry (e.g. after a lost response) finds it instead of making another
    again, created_again = gateway.return_ensure(
        picking_id=delivery, origin=origin, quantities={a: 2}
    )
    assert (again["id"], created_again) == (picking["id"], False)
    found = gateway.returns_find(origins=[origin, f"hubtest:return:{unique}-none"])
    assert list(found) == [origin] and found[origin]["id"] == picking["id"]
    # and the delivery has exactly one return
    row = gateway.client.call("stock.picking", "read", [[delivery], ["return_ids"]])[0]
    assert row["return_ids"] == [picking["id"]]
    recorder.note(f"order {so}, delivery {delivery}, return {picking['id']} origin {origin}")


def test_return_receipt_found_by_the_cursor_once(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "35_hub_return_receipt_poll",
        "Hub: the return-receipt poll (return_receipts_done_since) finds a validated return "
        "once, with sale_id, origin and moves, and not the delivery",
    )
    s = seed(gateway, unique)
    a, b = list(s.products.values())[:2]
    start = f"{_odoo_now()}|0"
    so, delivery = _delivered_order(gateway, unique, s, 2)
    origin = f"hubtest:return:{unique}"
    ret, _ = gateway.return_ensure(picking_id=delivery, origin=origin, quantities={a: 1, b: 3})
    # before the warehouse receives it, the poll does not see it
    page = gateway.return_receipts_done_since(cursor=start, limit=50)
    assert ret["id"] not in [p["id"] for p in page.pickings]
    # when the warehouse validates the return
    assert gateway.picking_validate(picking_id=ret["id"], backorder=False).state == "done"
    # then the poll from before the order finds it once, and never the delivery
    seen: list[dict[str, Any]] = []
    cursor = start
    for _ in range(100):
        page = gateway.return_receipts_done_since(cursor=cursor, limit=2)
        if not page.pickings:
            break
        assert page.next_cursor and page.next_cursor != cursor
        seen += page.pickings
        cursor = page.next_cursor
    mine = [p for p in seen if p["id"] in (ret["id"], delivery)]
    assert [p["id"] for p in mine] == [ret["id"]]
    [receipt] = mine
    assert receipt["sale_id"] == so and receipt["origin"] == origin
    assert receipt["return_of"] == delivery and receipt["picking_type_code"] == "incoming"
    sku = {pid: sku for sku, pid in s.products.items()}
    assert sorted((m["sku"], m["done"]) for m in receipt["moves"]) == sorted(
        [(sku[a], 1.0), (sku[b], 3.0)]
    )
    assert all(m["sale_line_id"] for m in receipt["moves"])
    # and from where it stopped, it does not come back
    after = gateway.return_receipts_done_since(cursor=cursor, limit=50)
    assert ret["id"] not in [p["id"] for p in after.pickings]
    recorder.note(f"order {so}, delivery {delivery}, return receipt {ret['id']}")


def test_partial_credit_note_linked_to_the_invoice_to_the_cent(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "36_hub_credit_note_partial",
        "Hub: invoices_of_orders, then credit_note_partial (out_refund with reversed_entry_id, "
        "a product line and a shipping line, no tax) posted; the retry finds it by ref",
    )
    s = seed(gateway, unique)
    a, _ = list(s.products.values())[:2]
    so, _ = _delivered_order(gateway, unique, s, 3)
    invoice = _invoiced(gateway, so)
    assert invoice["state"] == "posted" and invoice["move_type"] == "out_invoice"
    assert isinstance(invoice["amount_total"], Decimal) and invoice["currency"]
    ref = f"hubtest:refund:{unique}-p"
    assert gateway.credit_notes_find(refs=[ref]) == {}
    line = {"product_id": a, "quantity": 2, "price_unit": Decimal("10.00"), "tax_ids": []}
    shipping = {"name": "Shipping refund", "price_unit": Decimal("4.95")}
    # when the hub credits 2 x A at 10.00 and 4.95 of shipping
    note, created = gateway.credit_note_partial(
        invoice_id=invoice["id"], ref=ref, lines=[line], extra_lines=[shipping], post=True
    )
    # then a posted credit note for 24.95, linked to the invoice, carries the hub's ref
    assert created is True
    assert note["move_type"] == "out_refund" and note["state"] == "posted"
    assert note["reversed_entry_id"] == invoice["id"] and note["ref"] == ref
    assert note["amount_total"] == Decimal("24.95") and note["amount_tax"] == 0
    assert note["currency_id"] == invoice["currency_id"]
    # and a retry finds it rather than crediting twice
    again, created_again = gateway.credit_note_partial(
        invoice_id=invoice["id"], ref=ref, lines=[line], extra_lines=[shipping], post=True
    )
    assert (again["id"], created_again) == (note["id"], False)
    assert gateway.credit_notes_find(refs=[ref])[ref]["id"] == note["id"]
    # and the invoice is reconciled with it (unpaid: partial, residual down by the note)
    inv = gateway.moves_read(move_ids=[invoice["id"]])[invoice["id"]]
    assert inv["payment_state"] == "partial"
    assert inv["amount_residual"] == invoice["amount_total"] - Decimal("24.95")
    # and posting again is harmless
    assert gateway.moves_post(move_ids=[note["id"], invoice["id"]]) == []
    recorder.note(f"order {so}, invoice {invoice['id']}, credit note {note['id']}")


def test_full_credit_note_through_the_reversal_wizard(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "37_hub_credit_note_full",
        "Hub: credit_note_full through account.move.reversal refund_moves as a draft, the "
        "hub's ref written over the wizard's, posted with moves_post; the retry finds it",
    )
    s = seed(gateway, unique)
    so, _ = _delivered_order(gateway, unique, s, 4)
    invoice = _invoiced(gateway, so)
    ref = f"hubtest:refund:{unique}-f"
    # when the hub reverses the whole invoice, leaving the credit note a draft
    note, created = gateway.credit_note_full(invoice_id=invoice["id"], ref=ref, post=False)
    # then the draft carries the hub's ref, the invoice link and the invoice's full amounts
    assert created is True
    assert note["state"] == "draft" and note["move_type"] == "out_refund"
    assert note["ref"] == ref and note["reversed_entry_id"] == invoice["id"]
    assert note["amount_total"] == invoice["amount_total"]
    assert note["amount_tax"] == invoice["amount_tax"]
    # when it is posted (the channel's setting) and a retry comes
    assert gateway.moves_post(move_ids=[note["id"]]) == [note["id"]]
    again, created_again = gateway.credit_note_full(invoice_id=invoice["id"], ref=ref)
    # then the retry finds the same, posted, credit note; the invoice is reversed
    assert (again["id"], created_again, again["state"]) == (note["id"], False, "posted")
    moves = gateway.moves_read(move_ids=[invoice["id"], note["id"]])
    assert moves[invoice["id"]]["payment_state"] == "reversed"
    assert moves[note["id"]]["amount_residual"] == 0
    recorder.note(f"order {so}, invoice {invoice['id']}, credit note {note['id']}")


def test_open_lines_lowered_before_shipping(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "38_hub_sale_order_lines_reduce",
        "Hub: sale_order_lines_reduce lowers product_uom_qty of open lines of a confirmed "
        "order, and the delivery's demand follows; more than open is refused without a write",
    )
    s = seed(gateway, unique)
    a, b = list(s.products.values())[:2]
    ref = f"hubtest:{unique}:reduce"
    so = gateway.sale_orders_ensure(
        orders=[
            {
                "ref": ref,
                "partner_id": s.partner.id,
                "partner_shipping_id": s.partner.delivery_id,
                "warehouse_id": s.warehouse_id,
                "lines": [
                    {"product_id": a, "qty": 5, "price_unit": 10},
                    {"product_id": b, "qty": 3, "price_unit": 20},
                ],
            }
        ],
        confirm=True,
    )[ref]
    delivery = gateway.sale_orders_read(order_ids=[so])[so]["picking_ids"][0]
    # when 2 of A and all 3 of B are refunded before shipping
    changed = gateway.sale_order_lines_reduce(order_id=so, quantities={a: 2, b: 3})
    assert sorted(changed.values()) == [0.0, 3.0]
    # then the lines and the delivery's demand went down
    lines = gateway.client.call(
        "sale.order.line",
        "search_read",
        [[["order_id", "=", so]]],
        {"fields": ["product_id", "product_uom_qty"], "order": "id"},
    )
    assert [(ln["product_id"][0], ln["product_uom_qty"]) for ln in lines] == [(a, 3.0), (b, 0.0)]
    [picking] = gateway.pickings_read(picking_ids=[delivery])
    live = {m["product_id"]: m["demand"] for m in picking["moves"] if m["state"] != "cancel"}
    assert live == {a: 3.0}
    # and asking for more than is open is refused before any write
    with pytest.raises(OdooPermanentError):
        gateway.sale_order_lines_reduce(order_id=so, quantities={a: 4})
    recorder.note(f"order {so}, delivery {delivery}")
