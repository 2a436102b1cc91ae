"""Accounting in the Odoo sandbox, as a real Odoo 17 does it (EXTERNAL_API.md sections 8, 15
and 16; transcripts 08, 14, 15): journal items, invoices from sale lines, entries, payments,
bank statement lines and reconciliation. Everything goes over HTTP to a sandbox subprocess."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.sandbox import OdooSandbox

ITEM_FIELDS = [
    "account_id",
    "display_type",
    "partner_id",
    "debit",
    "credit",
    "balance",
    "amount_residual",
    "reconciled",
    "full_reconcile_id",
    "matched_debit_ids",
    "matched_credit_ids",
    "payment_id",
]


def rpc(
    sb: OdooSandbox,
    model: str,
    method: str,
    *args: Any,
    uid: int = 2,
    pwd: str = "admin",
    **kw: Any,
) -> dict[str, Any]:
    return sb.call("object", "execute_kw", sb.db, uid, pwd, model, method, list(args), kw)


class Books:
    """The seeded chart and journals, looked up the way a client does."""

    def __init__(self, sb: OdooSandbox) -> None:
        self.sb = sb
        rows = sb.execute("account.account", "search_read", [], fields=["code"])
        self.acc = {r["code"]: r["id"] for r in rows}
        [bank] = sb.execute(
            "account.journal",
            "search_read",
            [["type", "=", "bank"]],
            fields=["code", "default_account_id", "suspense_account_id"],
        )
        self.bank = bank
        [self.misc] = sb.execute("account.journal", "search", [["code", "=", "MISC"]])
        xml = sb.execute(
            "ir.model.data",
            "search_read",
            [["module", "=", "base"], ["name", "=", "user_admin"]],
            fields=["res_id"],
        )
        assert xml[0]["res_id"] == 2
        acct = sb.call("common", "authenticate", sb.db, "accounting", "accounting", {})
        self.accountant: int = acct["result"]

    def as_accountant(self, model: str, method: str, *args: Any, **kw: Any) -> dict[str, Any]:
        return rpc(self.sb, model, method, *args, uid=self.accountant, pwd="accounting", **kw)

    def items(self, move_id: int, **extra: Any) -> list[dict[str, Any]]:
        domain = [["move_id", "=", move_id], *extra.pop("domain", [])]
        rows: list[dict[str, Any]] = self.sb.execute(
            "account.move.line", "search_read", domain, fields=ITEM_FIELDS, order="id"
        )
        return rows

    def code(self, row: dict[str, Any]) -> str:
        return str(row["account_id"][1]).split(" ")[0]


@pytest.fixture
def books(odoo_sandbox: OdooSandbox) -> Books:
    return Books(odoo_sandbox)


def invoice(sb: OdooSandbox, partner: int, amount: float, post: bool = True, **extra: Any) -> int:
    move = sb.execute(
        "account.move",
        "create",
        {
            "move_type": extra.pop("move_type", "out_invoice"),
            "partner_id": partner,
            "invoice_date": "2026-12-05",
            "invoice_line_ids": [
                [
                    0,
                    0,
                    {
                        "name": "Widget",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [[6, 0, []]],
                    },
                ]
            ],
            **extra,
        },
    )
    if post:
        assert sb.execute("account.move", "action_post", [move]) is False
    return int(move)


def pay(sb: OdooSandbox, inv: int | list[int], **vals: Any) -> int:
    ids = inv if isinstance(inv, list) else [inv]
    ctx = {"active_model": "account.move", "active_ids": ids}
    wiz = sb.execute("account.payment.register", "create", vals, context=ctx)
    action = sb.execute("account.payment.register", "action_create_payments", [wiz], context=ctx)
    assert action["res_model"] == "account.payment"
    return int(action["res_id"])


def state(sb: OdooSandbox, move: int) -> tuple[str, float]:
    [row] = sb.execute("account.move", "read", [move], ["payment_state", "amount_residual"])
    return row["payment_state"], row["amount_residual"]


def test_chart_journals_company_and_accounts_over_rpc(books: Books) -> None:
    sb = books.sb
    for code in ("101401", "101402", "101403", "101404", "121000", "400000", "620000"):
        assert code in books.acc
    assert books.bank["code"] == "BNK1"
    assert books.bank["default_account_id"] == [books.acc["101401"], "101401 Bank"]
    assert books.bank["suspense_account_id"][0] == books.acc["101402"]
    [company] = sb.execute(
        "res.company",
        "read",
        [1],
        ["account_journal_payment_debit_account_id", "account_journal_payment_credit_account_id"],
    )
    assert company["account_journal_payment_debit_account_id"] == [
        books.acc["101403"],
        "101403 Outstanding Receipts",
    ]
    assert company["account_journal_payment_credit_account_id"][0] == books.acc["101404"]
    new = sb.execute(
        "account.account",
        "create",
        {"code": "620100", "name": "Marketplace Fees", "account_type": "expense"},
    )
    found = sb.execute("account.account", "search_read", [["code", "=", "620100"]], fields=["name"])
    assert found == [{"id": new, "name": "Marketplace Fees"}]
    dup = rpc(
        sb, "account.account", "create", {"code": "620100", "name": "x", "account_type": "expense"}
    )
    assert dup["error"]["data"]["name"] == "odoo.exceptions.ValidationError"


def test_invoice_from_sale_lines_has_journal_items_and_follows_the_order(books: Books) -> None:
    sb = books.sb
    partner = sb.execute("res.partner", "create", {"name": "Order Customer"})
    [tax15] = sb.execute("account.tax", "search", [["name", "=", "15%"]])
    product = sb.execute(
        "product.product",
        "create",
        {"name": "Svc", "detailed_type": "service", "list_price": 100, "invoice_policy": "order"},
    )
    so = sb.execute(
        "sale.order",
        "create",
        {
            "partner_id": partner,
            "order_line": [[0, 0, {"product_id": product, "product_uom_qty": 3}]],
        },
    )
    sb.execute("sale.order", "action_confirm", [so])
    [line] = sb.execute("sale.order.line", "search", [["order_id", "=", so]])
    inv = sb.execute(
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner,
                "invoice_origin": "S",
                "invoice_line_ids": [
                    [
                        0,
                        0,
                        {
                            "product_id": product,
                            "quantity": 2,
                            "price_unit": 100,
                            "discount": 10,
                            "tax_ids": [[6, 0, [tax15]]],
                            "sale_line_ids": [[6, 0, [line]]],
                        },
                    ]
                ],
            }
        ],
    )
    assert isinstance(inv, list) and len(inv) == 1
    [order] = sb.execute("sale.order", "read", [so], ["invoice_ids", "invoice_status"])
    assert order == {"id": so, "invoice_ids": inv, "invoice_status": "to invoice"}
    [sol] = sb.execute("sale.order.line", "read", [line], ["qty_invoiced", "qty_to_invoice"])
    assert (sol["qty_invoiced"], sol["qty_to_invoice"]) == (2.0, 1.0)
    sb.execute("account.move", "action_post", inv)
    [move] = sb.execute("account.move", "read", inv, ["amount_total", "payment_state", "name"])
    assert move["amount_total"] == 207.0 and move["payment_state"] == "not_paid"
    items = books.items(inv[0])
    by_type = {row["display_type"]: row for row in items}
    assert books.code(by_type["product"]) == "400000" and by_type["product"]["credit"] == 180.0
    assert by_type["tax"]["credit"] == 27.0
    term = by_type["payment_term"]
    assert books.code(term) == "121000"
    assert (term["debit"], term["amount_residual"], term["partner_id"][0]) == (
        207.0,
        207.0,
        partner,
    )
    assert round(sum(r["balance"] for r in items), 2) == 0.0
    # The rest of the line, in a list create of two invoices: the order is invoiced.
    more = sb.execute(
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner,
                "invoice_line_ids": [
                    [
                        0,
                        0,
                        {"product_id": product, "quantity": 1, "sale_line_ids": [[6, 0, [line]]]},
                    ]
                ],
            },
            {"move_type": "out_invoice", "partner_id": partner, "invoice_line_ids": []},
        ],
    )
    assert len(more) == 2
    [order] = sb.execute("sale.order", "read", [so], ["invoice_ids", "invoice_status"])
    assert set(order["invoice_ids"]) == {inv[0], more[0]} and order["invoice_status"] == "invoiced"


def test_entries_must_balance_and_post_in_their_journal(books: Books) -> None:
    sb = books.sb
    lines = [
        [0, 0, {"account_id": books.acc["620000"], "name": "fee", "debit": 3.0}],
        [0, 0, {"account_id": books.acc["101403"], "name": "payout", "credit": 2.5}],
    ]
    bad = rpc(sb, "account.move", "create", {"move_type": "entry", "ref": "E1", "line_ids": lines})
    err = bad["error"]["data"]
    assert err["name"] == "odoo.exceptions.UserError"
    assert "is not balanced" in err["message"]
    assert (
        "The total of debits equals $\u00a03.00 and the total of credits equals $\u00a02.50"
        in (err["message"])
    )
    assert sb.execute("account.move", "search", [["ref", "=", "E1"]]) == []  # rolled back
    lines[1][2]["credit"] = 3.0
    move = sb.execute(
        "account.move",
        "create",
        {
            "move_type": "entry",
            "ref": "E1",
            "journal_id": books.misc,
            "date": "2026-12-05",
            "line_ids": lines,
        },
    )
    sb.execute("account.move", "action_post", [move])
    [row] = sb.execute("account.move", "read", [move], ["name", "state", "amount_total"])
    assert row == {"id": move, "name": "MISC/2026/12/0001", "state": "posted", "amount_total": 3.0}
    items = books.items(move)
    assert [(books.code(r), r["balance"], r["amount_residual"]) for r in items] == [
        ("620000", 3.0, 0.0),  # not reconcilable: no residual
        ("101403", -3.0, -3.0),
    ]


def test_partial_payment_then_payout_net_of_a_fee(books: Books) -> None:
    """Transcript 15 #7-#20."""
    sb = books.sb
    partner = sb.execute("res.partner", "create", {"name": "Payout Customer"})
    inv = invoice(sb, partner, 100.0, ref="CH-PAY")
    ctx = {"active_model": "account.move", "active_ids": [inv]}
    wiz = sb.execute(
        "account.payment.register",
        "create",
        {
            "amount": 40.0,
            "payment_date": "2026-12-05",
            "journal_id": books.bank["id"],
            "communication": "CH part 1",
        },
        context=ctx,
    )
    [w] = sb.execute(
        "account.payment.register",
        "read",
        [wiz],
        ["source_amount", "payment_difference", "payment_difference_handling", "group_payment"],
    )
    assert (w["source_amount"], w["payment_difference"]) == (100.0, 60.0)
    assert w["payment_difference_handling"] == "open" and w["group_payment"] is True
    p1 = sb.execute("account.payment.register", "action_create_payments", [wiz], context=ctx)[
        "res_id"
    ]
    assert state(sb, inv) == ("partial", 60.0)
    [widget] = sb.execute("account.move", "read", [inv], ["invoice_payments_widget"])
    [entry] = widget["invoice_payments_widget"]["content"]
    assert entry["account_payment_id"] == p1 and entry["amount"] == 40.0
    p2 = pay(
        sb,
        inv,
        amount=57.0,
        payment_date="2026-12-05",
        payment_difference_handling="reconcile",
        writeoff_account_id=books.acc["620000"],
        writeoff_label="Marketplace fee",
        communication="CH payout",
    )
    assert state(sb, inv) == ("paid", 0.0)
    pays = sb.execute(
        "account.payment",
        "read",
        [p1, p2],
        [
            "ref",
            "amount",
            "state",
            "payment_type",
            "partner_type",
            "is_reconciled",
            "is_matched",
            "reconciled_invoice_ids",
            "destination_account_id",
            "outstanding_account_id",
            "move_id",
        ],
    )
    for row, ref, amount in zip(pays, ("CH part 1", "CH payout"), (40.0, 57.0), strict=True):
        assert (row["ref"], row["amount"], row["state"]) == (ref, amount, "posted")
        assert (row["payment_type"], row["partner_type"]) == ("inbound", "customer")
        assert row["is_reconciled"] is True and row["is_matched"] is False
        assert row["reconciled_invoice_ids"] == [inv]
        assert row["destination_account_id"][0] == books.acc["121000"]
        assert row["outstanding_account_id"][0] == books.acc["101403"]
    found = sb.execute("account.payment", "search", [["ref", "=", "CH payout"]])
    assert found == [p2]
    fee_move = pays[1]["move_id"][0]
    items = {books.code(r): r for r in books.items(fee_move)}
    assert (items["101403"]["debit"], items["101403"]["amount_residual"]) == (57.0, 57.0)
    assert (items["620000"]["debit"], items["620000"]["amount_residual"]) == (3.0, 0.0)
    assert items["121000"]["credit"] == 60.0 and items["121000"]["reconciled"] is True
    [term] = books.items(inv, domain=[["account_id.account_type", "=", "asset_receivable"]])
    assert term["reconciled"] is True and term["full_reconcile_id"]
    assert len(term["matched_credit_ids"]) == 2 and term["matched_debit_ids"] == []
    partials = sb.execute(
        "account.partial.reconcile",
        "search_read",
        [["debit_move_id.move_id", "=", inv]],
        fields=["amount", "full_reconcile_id", "credit_move_id"],
        order="id",
    )
    assert [p["amount"] for p in partials] == [40.0, 60.0]
    assert {p["full_reconcile_id"][0] for p in partials} == {term["full_reconcile_id"][0]}


def test_one_grouped_payment_for_two_invoices(books: Books) -> None:
    sb = books.sb
    partner = sb.execute("res.partner", "create", {"name": "Two Invoices"})
    a = invoice(sb, partner, 30.0)
    b = invoice(sb, partner, 20.0)
    names = [r["name"] for r in sb.execute("account.move", "read", [a, b], ["name"])]
    ctx = {"active_model": "account.move", "active_ids": [a, b]}
    wiz = sb.execute("account.payment.register", "create", {"group_payment": True}, context=ctx)
    [w] = sb.execute(
        "account.payment.register", "read", [wiz], ["amount", "can_group_payments", "communication"]
    )
    assert w == {
        "id": wiz,
        "amount": 50.0,
        "can_group_payments": True,
        "communication": " ".join(names),
    }
    sb.execute("account.payment.register", "action_create_payments", [wiz], context=ctx)
    assert state(sb, a) == ("paid", 0.0) and state(sb, b) == ("paid", 0.0)


def test_statement_line_needs_the_accounting_group_and_reconciles_a_payout(books: Books) -> None:
    """Transcript 15 #27-#41."""
    sb = books.sb
    partner = sb.execute("res.partner", "create", {"name": "Payout Customer"})
    inv = invoice(sb, partner, 97.0)
    p1 = pay(sb, inv, amount=40.0, communication="payout part 1")
    p2 = pay(sb, inv, amount=57.0, communication="payout part 2")
    vals = {
        "journal_id": books.bank["id"],
        "date": "2026-12-05",
        "payment_ref": "Payout 1",
        "amount": 97.0,
        "partner_id": partner,
    }
    denied = rpc(sb, "account.bank.statement.line", "create", vals)["error"]["data"]
    assert denied["name"] == "odoo.exceptions.AccessError"
    assert denied["message"] == (
        "You are not allowed to create 'Bank Statement Line' (account.bank.statement.line) "
        "records.\n\nThis operation is allowed for the following groups:\n\t- Technical/Show "
        "Full Accounting Features\n\nContact your administrator to request access if necessary."
    )
    st = books.as_accountant("account.bank.statement.line", "create", vals)["result"]
    charge = books.as_accountant(
        "account.bank.statement.line",
        "create",
        {"journal_id": books.bank["id"], "payment_ref": "Bank charge", "amount": -1.5},
    )["result"]
    rows = books.as_accountant(
        "account.bank.statement.line",
        "read",
        [st, charge],
        ["move_id", "statement_id", "is_reconciled", "amount_residual", "state"],
    )["result"]
    assert [
        (r["statement_id"], r["is_reconciled"], r["amount_residual"], r["state"]) for r in rows
    ] == [
        (False, False, -97.0, "posted"),
        (False, False, 1.5, "posted"),
    ]
    assert rows[0]["move_id"][1].startswith("BNK1/")
    items = books.items(rows[0]["move_id"][0])
    assert [(books.code(r), r["debit"], r["credit"]) for r in items] == [
        ("101401", 97.0, 0.0),
        ("101402", 0.0, 97.0),
    ]
    charge_items = books.items(rows[1]["move_id"][0])
    assert [(books.code(r), r["balance"]) for r in charge_items] == [
        ("101401", -1.5),
        ("101402", 1.5),
    ]
    suspense = items[1]["id"]
    outs = books.as_accountant(
        "account.move.line",
        "search_read",
        [["payment_id", "in", [p1, p2]], ["account_id", "=", books.acc["101403"]]],
        fields=["debit"],
    )["result"]
    assert sorted(o["debit"] for o in outs) == [40.0, 57.0]
    todo = [suspense, *(o["id"] for o in outs)]
    wrong = books.as_accountant("account.move.line", "reconcile", todo)["error"]["data"]
    assert wrong["message"] == (
        "Entries are not from the same account: 101402 Bank Suspense Account, "
        "101403 Outstanding Receipts"
    )
    moved = books.as_accountant(
        "account.move.line", "write", [suspense], {"account_id": books.acc["101403"]}
    )
    assert moved["result"] is True
    done = books.as_accountant("account.move.line", "reconcile", todo)
    assert "result" not in done and "error" not in done  # Odoo answers None: no result key
    [line] = books.as_accountant(
        "account.bank.statement.line", "read", [st], ["is_reconciled", "amount_residual"]
    )["result"]
    assert (line["is_reconciled"], line["amount_residual"]) == (True, 0.0)
    matched = sb.execute("account.payment", "read", [p1, p2], ["is_reconciled", "is_matched"])
    assert all(r["is_reconciled"] and r["is_matched"] for r in matched)
    assert state(sb, inv) == ("paid", 0.0)
    again = books.as_accountant("account.move.line", "reconcile", todo)["error"]["data"]
    assert (
        again["message"] == "You are trying to reconcile some entries that are already reconciled."
    )
    locked = books.as_accountant(
        "account.move.line", "write", [suspense], {"account_id": books.acc["101402"]}
    )["error"]["data"]
    assert locked["message"].startswith("You cannot do this modification on a reconciled")


def test_credit_notes_against_invoices_payments_and_entries(books: Books) -> None:
    sb = books.sb
    partner = sb.execute("res.partner", "create", {"name": "Refund Customer"})
    inv = invoice(sb, partner, 100.0)
    # Reversing part of the invoice reconciles the two at posting (14 #26-#28).
    part = invoice(sb, partner, 50.0, move_type="out_refund", reversed_entry_id=inv)
    assert state(sb, part) == ("paid", 0.0) and state(sb, inv) == ("partial", 50.0)
    # Without reversed_entry_id both stay open; the invoice shows the credit (14 #29-#34).
    goodwill = invoice(sb, partner, 20.0, move_type="out_refund")
    [row] = sb.execute(
        "account.move",
        "read",
        [inv],
        ["invoice_has_outstanding", "invoice_outstanding_credits_debits_widget"],
    )
    assert row["invoice_has_outstanding"] is True
    [credit] = row["invoice_outstanding_credits_debits_widget"]["content"]
    assert credit["move_id"] == goodwill and credit["amount"] == 20.0
    resp = rpc(sb, "account.move", "js_assign_outstanding_line", [inv], credit["id"])
    assert "result" not in resp and "error" not in resp
    assert state(sb, goodwill) == ("paid", 0.0) and state(sb, inv) == ("partial", 30.0)
    # A credit note settled by a journal entry's receivable debit (a refund paid out of a
    # payout): Odoo 17 calls it "reversed", as the live recording 41 shows.
    refund = invoice(sb, partner, 10.0, move_type="out_refund")
    entry = sb.execute(
        "account.move",
        "create",
        {
            "move_type": "entry",
            "ref": "payout refund",
            "line_ids": [
                [0, 0, {"account_id": books.acc["121000"], "partner_id": partner, "debit": 10.0}],
                [0, 0, {"account_id": books.acc["101403"], "credit": 10.0}],
            ],
        },
    )
    sb.execute("account.move", "action_post", [entry])
    receivables = [
        books.items(m, domain=[["account_id", "=", books.acc["121000"]]])[0]["id"]
        for m in (entry, refund)
    ]
    assert "error" not in rpc(sb, "account.move.line", "reconcile", receivables)
    assert state(sb, refund) == ("reversed", 0.0)
    [entry_row] = sb.execute("account.move", "read", [entry], ["payment_state", "amount_residual"])
    assert entry_row == {"id": entry, "payment_state": "not_paid", "amount_residual": 0.0}
    # Paying a credit note out with the wizard: an outbound payment, the note is paid.
    other = invoice(sb, partner, 15.0, move_type="out_refund")
    payment = pay(sb, other)
    [row] = sb.execute(
        "account.payment", "read", [payment], ["payment_type", "outstanding_account_id"]
    )
    assert row["payment_type"] == "outbound"
    assert row["outstanding_account_id"][0] == books.acc["101404"]
    assert state(sb, other) == ("paid", 0.0)


def test_reconcile_refuses_what_odoo_refuses(books: Books) -> None:
    sb = books.sb
    partner = sb.execute("res.partner", "create", {"name": "Refusals"})
    draft = invoice(sb, partner, 10.0, post=False)
    posted = invoice(sb, partner, 10.0)
    lines = [
        books.items(m, domain=[["display_type", "=", "payment_term"]])[0]["id"]
        for m in (draft, posted)
    ]
    resp = rpc(sb, "account.move.line", "reconcile", lines)
    assert resp["error"]["data"]["message"] == "You can only reconcile posted entries."
    income = books.items(posted, domain=[["display_type", "=", "product"]])[0]["id"]
    resp = rpc(sb, "account.move.line", "reconcile", [income])
    assert resp["error"]["data"]["message"] == (
        "Account 400000 Product Sales does not allow reconciliation. First change the "
        "configuration of this account to allow it."
    )
