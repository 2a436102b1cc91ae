"""Finance contract: invoices built from sale lines under the hub's ref (full and per shipment),
payments through the register wizard (full and partial), and a channel payout settled against
them (bank statement line, settlement entry, reconciliation) by a user in the accounting group.

The same tests run on the sandbox and, with ODOO_URL set (``-m live_odoo``), on a real Odoo 17.
With ODOO_RECORD_TRANSCRIPTS=<dir> the live run records each test's exchanges (both users') as a
standalone transcript (tests/data/odoo/transcripts/39-41_hub_*.json).
Everything is the hub's gateway, except the warehouse validating deliveries (picking_validate),
the accounting user's creation and the fee account, which the test sets up itself.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.odoo.errors import OdooAccessError
from apps.odoo.gateway import OdooGateway, get_accounting_gateway

from .conftest import OdooTarget, Recorder, _RecordingSession
from .helpers import Seed, seed

# The sandbox seeds this user in account.group_account_user; on a real Odoo the test makes one.
SANDBOX_ACCOUNTING = ("accounting", "accounting")
ACCOUNTING_GROUPS = (
    ("base", "group_user"),
    ("account", "group_account_invoice"),
    ("account", "group_account_user"),
)
NO_TAX: list[Any] = [[6, 0, []]]


def _today() -> str:
    return dt.date.today().isoformat()


def _carrier_product(gateway: OdooGateway) -> int:
    """The product of the first active carrier (a service, as Odoo requires)."""
    carriers = gateway.carriers_read()
    return next(c["product_id"] for c in carriers.values() if c["active"] and c["product_id"])


def _accounting_gateway(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, settings: SettingsWrapper, rec: Recorder
) -> OdooGateway:
    """``get_accounting_gateway()`` on a user in account.group_account_user: made here (by the
    admin, groups by xml id) on a real Odoo, the seeded one on the sandbox. Its exchanges go
    into the same transcript as the admin's."""
    if odoo.live:
        rows = gateway.client.call(
            "ir.model.data",
            "search_read",
            [
                [
                    ["model", "=", "res.groups"],
                    ["module", "in", sorted({m for m, _ in ACCOUNTING_GROUPS})],
                    ["name", "in", [n for _, n in ACCOUNTING_GROUPS]],
                ]
            ],
            {"fields": ["module", "name", "res_id"]},
        )
        ids = {(r["module"], r["name"]): r["res_id"] for r in rows}
        login = password = f"hub-accounting-{unique}"  # a throwaway user of the test database
        gateway.client.call(
            "res.users",
            "create",
            [
                {
                    "name": f"Hub Accounting {unique}",
                    "login": login,
                    "password": password,
                    gateway.client.adapter.user_groups_field: [
                        [6, 0, [ids[g] for g in ACCOUNTING_GROUPS]]
                    ],
                }
            ],
        )
    else:
        login, password = SANDBOX_ACCOUNTING
    settings.ODOO_ACCOUNTING_USER = login
    settings.ODOO_ACCOUNTING_PASSWORD = password
    acct = get_accounting_gateway()
    assert acct.client.config.user == login
    if rec.name:  # recording: this client's exchanges too (its password is the recorded one)
        transport: Any = acct.client.transport
        real_http = transport._http
        sink = rec.exchanges
        transport._http = lambda: _RecordingSession(real_http(), sink, "\0")
    return acct


def _order(gateway: OdooGateway, ref: str, s: Seed, lines: list[dict[str, Any]]) -> int:
    return gateway.sale_orders_ensure(
        orders=[
            {
                "ref": ref,
                "partner_id": s.partner.id,
                "partner_shipping_id": s.partner.delivery_id,
                "warehouse_id": s.warehouse_id,
                "lines": lines,
            }
        ],
        confirm=True,
    )[ref]


def _inv(ref: str, so: int, quantities: dict[int, float] | None = None) -> dict[str, Any]:
    return {
        "ref": ref,
        "order_id": so,
        "quantities": quantities,
        "include_other_lines": True,
        "date": None,
    }


def _order_total(gateway: OdooGateway, so: int) -> Decimal:
    return Decimal(str(gateway.sale_orders_totals(order_ids=[so])[so]["amount_total"]))


def test_invoices_ensure_full_and_per_shipment(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "39_hub_invoices_ensure",
        "Hub: invoices_ensure builds out_invoices from sale lines (sale_line_ids) under the "
        "hub's ref with one account.move.create and one action_post: a whole order with its "
        "delivery line, then an order per shipment (backorder); retries find them",
    )
    s = seed(gateway, unique)
    a, b = list(s.products.values())[:2]
    ship = _carrier_product(gateway)
    lines = [
        {"product_id": a, "qty": 4, "price_unit": 10},
        {"product_id": b, "qty": 2, "price_unit": Decimal("20.5")},
        {"product_id": ship, "qty": 1, "price_unit": 7.5, "name": "Shipping", "is_delivery": True},
    ]
    # (a) a whole order, delivered, invoiced with quantities=None
    so = _order(gateway, f"hubtest:{unique}:inv1", s, lines)
    delivery = gateway.sale_orders_read(order_ids=[so])[so]["picking_ids"][0]
    assert gateway.picking_validate(picking_id=delivery, backorder=False).state == "done"
    ref = f"hubtest:invoice:{unique}-full"
    assert gateway.invoices_find(refs=[ref]) == {}
    answer = gateway.invoices_ensure(invoices=[_inv(ref, so)])
    invoice, created = answer[ref]
    order = gateway.sale_orders_read(order_ids=[so])[so]
    assert created is True
    assert invoice["state"] == "posted" and invoice["move_type"] == "out_invoice"
    assert invoice["ref"] == ref and invoice["invoice_origin"] == order["name"]
    assert invoice["partner_id"] == s.partner.id
    assert invoice["amount_untaxed"] == 4 * 10 + 2 * Decimal("20.5") + Decimal("7.5")
    assert invoice["amount_total"] == _order_total(gateway, so)
    assert invoice["id"] in order["invoice_ids"] and order["invoice_status"] == "invoiced"
    # a retry finds it; another ref for the same order has nothing left and is left out
    again = gateway.invoices_ensure(invoices=[_inv(ref, so), _inv(f"{ref}-more", so)])
    assert list(again) == [ref] and again[ref] == (invoice, False)
    assert gateway.invoices_find(refs=[ref, f"{ref}-more"])[ref]["id"] == invoice["id"]

    # (b) per shipment: 3 of A and both B shipped first (backorder of 1 A), then the rest
    so2 = _order(gateway, f"hubtest:{unique}:inv2", s, lines)
    pick1 = gateway.sale_orders_read(order_ids=[so2])[so2]["picking_ids"][0]
    [p1] = gateway.pickings_read(picking_ids=[pick1])
    move_a = next(m["move_id"] for m in p1["moves"] if m["product_id"] == a)
    move_b = next(m["move_id"] for m in p1["moves"] if m["product_id"] == b)
    done1 = gateway.picking_validate(picking_id=pick1, quantities={move_a: 3, move_b: 2})
    assert done1.state == "done" and len(done1.backorder_ids) == 1
    ref1, ref2 = f"hubtest:invoice:{unique}-s1", f"hubtest:invoice:{unique}-s2"
    first, created1 = gateway.invoices_ensure(invoices=[_inv(ref1, so2, {a: 3, b: 2})])[ref1]
    assert created1 is True and first["state"] == "posted"
    # shipped goods at the order's prices plus the shipping line (the order's taxes apply)
    assert first["amount_untaxed"] == Decimal("3") * 10 + 2 * Decimal("20.5") + Decimal("7.5")
    assert gateway.sale_orders_read(order_ids=[so2])[so2]["invoice_status"] != "invoiced"
    # more than the order has left to invoice is refused before anything is created
    with pytest.raises(ValueError, match="left to invoice"):
        gateway.invoices_ensure(invoices=[_inv(ref2, so2, {a: 2})])
    assert gateway.invoices_find(refs=[ref2]) == {}
    done2 = gateway.picking_validate(picking_id=done1.backorder_ids[0], backorder=False)
    assert done2.state == "done"
    second, created2 = gateway.invoices_ensure(invoices=[_inv(ref2, so2, {a: 1})])[ref2]
    assert created2 is True and second["amount_untaxed"] == Decimal("10")
    order2 = gateway.sale_orders_read(order_ids=[so2])[so2]
    assert {first["id"], second["id"]} <= set(order2["invoice_ids"])
    assert order2["invoice_status"] == "invoiced"
    assert first["amount_total"] + second["amount_total"] == _order_total(gateway, so2)
    # both refs retried in one batch: found, nothing new
    both = gateway.invoices_ensure(
        invoices=[_inv(ref1, so2, {a: 3, b: 2}), _inv(ref2, so2, {a: 1})]
    )
    assert {r: (m["id"], c) for r, (m, c) in both.items()} == {
        ref1: (first["id"], False),
        ref2: (second["id"], False),
    }
    recorder.note(
        f"order {so} invoice {invoice['id']}; order {so2} invoices {first['id']}, {second['id']}"
    )


def _paid_setup(
    gateway: OdooGateway, unique: str, s: Seed, amounts: list[tuple[int, float, float]]
) -> list[dict[str, Any]]:
    """One untaxed order and posted invoice per (product, qty, price), in one invoices_ensure."""
    items = []
    for n, (product, qty, price) in enumerate(amounts):
        so = _order(
            gateway,
            f"hubtest:{unique}:pay{n}",
            s,
            [{"product_id": product, "qty": qty, "price_unit": price, "tax_id": NO_TAX}],
        )
        items.append(_inv(f"hubtest:invoice:{unique}-{n}", so))
    answer = gateway.invoices_ensure(invoices=items)
    assert all(created for _, created in answer.values())
    return [answer[i["ref"]][0] for i in items]


def _bank(gateway: OdooGateway) -> dict[str, Any]:
    journals = gateway.journals_find(types=("bank",))
    assert journals and all(j["type"] == "bank" for j in journals)
    return journals[0]


def test_payments_register_full_and_partial(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "40_hub_payments_register",
        "Hub: payments_register through account.payment.register (communication = the hub's "
        "ref, payment_difference_handling open): a full payment (invoice paid) and a partial "
        "one (invoice partial); the retry finds both by ref",
    )
    s = seed(gateway, unique)
    a, b = list(s.products.values())[:2]
    inv1, inv2 = _paid_setup(gateway, unique, s, [(a, 4, 25), (b, 2, 25)])
    assert (inv1["amount_total"], inv2["amount_total"]) == (Decimal("100"), Decimal("50"))
    bank = _bank(gateway)
    assert bank["default_account_id"] and bank["suspense_account_id"]
    r1, r2 = f"hubtest:payment:{unique}-1", f"hubtest:payment:{unique}-2"
    wanted = [
        {"ref": r1, "invoice_id": inv1["id"], "amount": Decimal("100.00"), "date": _today()},
        {
            "ref": r2,
            "invoice_id": inv2["id"],
            "amount": Decimal("20.00"),
            "date": _today(),
            "journal_id": bank["id"],
        },
    ]
    assert gateway.payments_find(refs=[r1, r2]) == {}
    # when the hub registers a full and a partial payment
    paid = gateway.payments_register(payments=wanted)
    (p1, c1), (p2, c2) = paid[r1], paid[r2]
    # then two posted inbound payments carry the hub's refs and the amounts, to the cent
    assert (c1, c2) == (True, True)
    # ("posted" up to Odoo 17; "paid" or "in_process" from 18, as the payment is matched)
    assert (p1["ref"], p1["amount"]) == (r1, Decimal("100"))
    assert p1["state"] in gateway.client.adapter.payment_posted_states
    assert (p2["ref"], p2["amount"], p2["journal_id"]) == (r2, Decimal("20"), bank["id"])
    assert p1["reconciled_invoice_ids"] == [inv1["id"]] and p1["is_reconciled"] is True
    assert p2["reconciled_invoice_ids"] == [inv2["id"]] and p1["is_matched"] is False
    assert p1["partner_id"] == s.partner.id and p1["move_id"] and p1["date"] == _today()
    # and the invoices are paid, and partial with the right residual
    moves = gateway.moves_read(move_ids=[inv1["id"], inv2["id"]])
    assert moves[inv1["id"]]["payment_state"] == "paid"
    assert moves[inv1["id"]]["amount_residual"] == 0
    assert moves[inv2["id"]]["payment_state"] == "partial"
    assert moves[inv2["id"]]["amount_residual"] == Decimal("30")
    # and a retry (e.g. after a lost response) finds both, and pays nothing more
    again = gateway.payments_register(payments=wanted)
    assert {r: (p["id"], c) for r, (p, c) in again.items()} == {
        r1: (p1["id"], False),
        r2: (p2["id"], False),
    }
    assert gateway.moves_read(move_ids=[inv2["id"]])[inv2["id"]]["amount_residual"] == 30
    ref_field = gateway.client.adapter.payment_ref_field
    count = gateway.client.call("account.payment", "search_count", [[[ref_field, "in", [r1, r2]]]])
    assert count == 2
    recorder.note(f"invoices {inv1['id']}, {inv2['id']}; payments {p1['id']}, {p2['id']}")


def _fee_account(gateway: OdooGateway) -> int:
    """Test setup: the 620000 Bank Fees expense account (made if the chart lacks it)."""
    found = gateway.accounts_find(codes=["620000"])
    if "620000" in found:
        return found["620000"]
    return int(
        gateway.client.call(
            "account.account",
            "create",
            [{"code": "620000", "name": "Bank Fees", "account_type": "expense"}],
        )
    )


def _misc_journal(gateway: OdooGateway) -> int:
    journals = gateway.journals_find(types=("general",))
    return next((j["id"] for j in journals if j["code"] == "MISC"), journals[0]["id"])


def test_payout_settled_against_payments_fees_and_a_refund(
    odoo: OdooTarget,
    gateway: OdooGateway,
    unique: str,
    recorder: Recorder,
    settings: SettingsWrapper,
) -> None:
    recorder.start(
        "41_hub_payout_settlement",
        "Hub: a payout of 87 (payments 60 + 40, a refund of 10, fees of 3): the bank statement "
        "line by the accounting user (the admin is refused), a settlement entry (fees, refund, "
        "clearing), the refund reconciled with the credit note, the statement line's suspense "
        "item moved to Outstanding Receipts and reconciled; a retry creates nothing",
    )
    s = seed(gateway, unique)
    a, b = list(s.products.values())[:2]
    acct = _accounting_gateway(odoo, gateway, unique, settings, recorder)
    bank = _bank(gateway)
    payout_ref = f"hubtest:payout:{unique}"
    # the integration user (not in the accounting group) may not create statement lines
    with pytest.raises(OdooAccessError):
        gateway.statement_line_ensure(
            ref=f"{payout_ref}-admin", journal_id=bank["id"], date=_today(), amount=Decimal(1)
        )
    inv1, inv2, inv3 = _paid_setup(gateway, unique, s, [(a, 2, 30), (b, 1, 40), (a, 2, 25)])
    pays = gateway.payments_register(
        payments=[
            {
                "ref": f"hubtest:payment:{unique}-{n}",
                "invoice_id": inv["id"],
                "amount": inv["amount_total"],
                "date": _today(),
                "journal_id": bank["id"],
            }
            for n, inv in enumerate((inv1, inv2, inv3))
        ]
    )
    p1, p2, _ = (pays[f"hubtest:payment:{unique}-{n}"][0] for n in range(3))
    assert (p1["amount"], p2["amount"]) == (Decimal("60"), Decimal("40"))
    # a refund of 10 on the third (paid) invoice: the credit note stays open
    note, _ = gateway.credit_note_partial(
        invoice_id=inv3["id"],
        ref=f"hubtest:refund:{unique}",
        lines=[{"product_id": a, "quantity": 1, "price_unit": Decimal("10"), "tax_ids": []}],
    )
    assert note["amount_total"] == Decimal("10") and note["payment_state"] == "not_paid"
    clearing = gateway.clearing_account_id()
    fee_account = _fee_account(gateway)
    misc = _misc_journal(gateway)
    [receivable] = [
        ln
        for ln in gateway.move_lines_of(move_ids=[note["id"]])[note["id"]]
        if ln["account_type"] == "asset_receivable"
    ]
    assert receivable["balance"] == Decimal("-10") and receivable["partner_id"] == s.partner.id

    def settle() -> tuple[dict[str, Any], dict[str, Any], bool, bool]:
        line, line_created = acct.statement_line_ensure(
            ref=payout_ref, journal_id=bank["id"], date=_today(), amount=Decimal("87.00")
        )
        entry, entry_created = acct.settlement_entry_ensure(
            ref=payout_ref,
            journal_id=misc,
            date=_today(),
            lines=[
                {"account_id": fee_account, "amount": Decimal("3.00"), "name": "Payout fees"},
                {
                    "account_id": receivable["account_id"],
                    "amount": Decimal("10.00"),
                    "name": "Payout refund",
                    "partner_id": s.partner.id,
                },
                {"account_id": clearing, "amount": Decimal("-13.00"), "name": "Payout deductions"},
            ],
        )
        refund_line = next(
            ln for ln in entry["lines"] if ln["account_id"] == receivable["account_id"]
        )
        acct.lines_reconcile(line_ids=[refund_line["id"], receivable["id"]])
        pay_lines = acct.payment_lines(payment_ids=[p1["id"], p2["id"]], account_id=clearing)
        entry_clearing = next(ln for ln in entry["lines"] if ln["account_id"] == clearing)
        matched = acct.statement_line_reconcile(
            statement_line=line,
            clearing_account_id=clearing,
            line_ids=[pay_lines[p1["id"]]["id"], pay_lines[p2["id"]]["id"], entry_clearing["id"]],
        )
        return matched, entry, line_created, entry_created

    matched, entry, line_created, entry_created = settle()
    assert (line_created, entry_created) == (True, True)
    assert entry["state"] == "posted" and len(entry["lines"]) == 3
    assert sorted(ln["balance"] for ln in entry["lines"]) == [Decimal(-13), 3, 10]
    # then the statement line is reconciled, the payments matched, the credit note paid
    assert matched["is_reconciled"] is True and matched["amount_residual"] == 0
    assert matched["amount"] == Decimal("87") and matched["payment_ref"] == payout_ref
    suspense = next(ln for ln in matched["lines"] if ln["id"] == matched["suspense_line_id"])
    assert suspense["account_id"] == clearing and suspense["balance"] == Decimal("-87")
    found = gateway.payments_find(refs=[p1["ref"], p2["ref"]])
    assert [found[p["ref"]]["is_matched"] for p in (p1, p2)] == [True, True]
    moves = gateway.moves_read(move_ids=[note["id"], inv1["id"], inv3["id"]])
    # settled by a journal entry, Odoo 17 labels the credit note "reversed" (not "paid")
    assert moves[note["id"]]["amount_residual"] == 0
    assert moves[note["id"]]["payment_state"] in ("reversed", "paid")
    assert moves[inv1["id"]]["payment_state"] == "paid"
    # and the whole settlement again (a retry) creates nothing and changes nothing
    again, entry2, line_created2, entry_created2 = settle()
    assert (line_created2, entry_created2) == (False, False)
    assert (again["id"], entry2["id"]) == (matched["id"], entry["id"])
    assert again["is_reconciled"] is True
    lines = acct.statement_lines_find(refs=[payout_ref])
    assert list(lines) == [payout_ref] and lines[payout_ref]["id"] == matched["id"]
    n_entries = acct.client.call(
        "account.move", "search_count", [[["ref", "=", payout_ref], ["move_type", "=", "entry"]]]
    )
    assert n_entries == 1  # the statement line's own move carries no ref
    recorder.note(
        f"invoices {inv1['id']}, {inv2['id']}, {inv3['id']}; payments {p1['id']}, {p2['id']}; "
        f"credit note {note['id']}; statement line {matched['id']}; entry {entry['id']}"
    )
