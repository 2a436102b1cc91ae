"""Payments: the register wizard, ``account.payment`` and the invoice's payment widgets.

A payment is a posted entry in the bank journal: its liquidity item on the company's
Outstanding Receipts (Payments) account, its counterpart on the invoices' receivable account,
reconciled with them at once, and a write-off item when the wizard is told to book the
difference (transcript 15 #12-#18).
"""

from __future__ import annotations

from datetime import date as Date
from typing import Any

from .errors import user_error
from .ledger import (
    AML,
    EPS,
    INVOICE_TYPES,
    LIABLE_TYPES,
    commercial_partner,
    company,
    counterpart,
    fmt_amount,
    move_lines,
    new_line,
    partials_of,
    tracks_residual,
)
from .orm import DISPLAY, PRE_CREATE, Env, compute, hook, ids_arg, method, round2
from .reconcile import move_residual, reconcile, reconciliation_rows
from .store import Record, today_str

PAYMENT = "account.payment"
REGISTER = "account.payment.register"


def _journal_of_type(env: Env, jtype: str) -> int | None:
    ids = [j for j, rec in env.table("account.journal").items() if rec.get("type") == jtype]
    return min(ids) if ids else None


def method_line(env: Env, journal_id: int | None, payment_type: str) -> int | None:
    ids = [
        mid
        for mid in env.s.referencing("account.payment.method.line", "journal_id", journal_id or 0)
        if env.table("account.payment.method.line")[mid].get("payment_type") == payment_type
    ]
    return min(ids) if ids else None


@compute("account.journal", "inbound_payment_method_line_ids")
def _c_journal_inbound(env: Env, rec: Record) -> list[int]:
    return _journal_methods(env, rec, "inbound")


@compute("account.journal", "outbound_payment_method_line_ids")
def _c_journal_outbound(env: Env, rec: Record) -> list[int]:
    return _journal_methods(env, rec, "outbound")


def _journal_methods(env: Env, rec: Record, ptype: str) -> list[int]:
    table = env.table("account.payment.method.line")
    return sorted(
        m
        for m in env.s.referencing("account.payment.method.line", "journal_id", rec["id"])
        if table[m].get("payment_type") == ptype
    )


# -- the register wizard ------------------------------------------------------------------------
def _open_terms(env: Env, inv: Record) -> list[Record]:
    return [
        ln
        for ln in move_lines(env, inv["id"])
        if ln.get("display_type") == "payment_term" and not ln.get("reconciled")
    ]


@hook(PRE_CREATE, REGISTER)
def _pre_register(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    inv_ids = ids_arg(env.ctx.get("active_ids") or env.ctx.get("active_id"))
    if env.ctx.get("active_model") != "account.move" or not inv_ids:
        raise user_error(
            "The register payment wizard should only be called on account.move "
            "or account.move.line records."
        )
    invoices = [env.must("account.move", i) for i in inv_ids]
    if any(inv.get("state") != "posted" for inv in invoices):
        raise user_error("You can only register payment for posted journal entries.")
    lines = [ln for inv in invoices for ln in _open_terms(env, inv)]
    residual = round2(sum(move_residual(env, inv) for inv in invoices))
    if not lines or residual <= 0:
        raise user_error(
            "You can't register a payment because there is nothing left to pay "
            "on the selected journal items."
        )
    inbound = invoices[0].get("move_type") in ("out_invoice", "in_refund", "entry")
    customer = str(invoices[0].get("move_type")).startswith("out")
    vals.setdefault("amount", residual)
    vals["source_amount"] = residual
    vals.setdefault("journal_id", _journal_of_type(env, "bank"))
    ptype = "inbound" if inbound else "outbound"
    vals["payment_type"] = ptype
    vals["partner_type"] = "customer" if customer else "supplier"
    vals.setdefault("payment_method_line_id", method_line(env, vals.get("journal_id"), ptype))
    vals.setdefault("payment_date", today_str())
    labels = {
        str(ln.get("name") or inv.get("ref") or inv.get("name"))
        for inv in invoices
        for ln in _open_terms(env, inv)
    }
    vals.setdefault("communication", " ".join(sorted(labels)))
    vals.setdefault("partner_id", commercial_partner(env, invoices[0].get("partner_id")))
    vals["line_ids"] = [[6, 0, [ln["id"] for ln in lines]]]
    return vals


@compute(REGISTER, "payment_difference")
def _c_register_difference(env: Env, rec: Record) -> float:
    return round2(float(rec.get("source_amount") or 0) - float(rec.get("amount") or 0))


@compute(REGISTER, "can_group_payments")
def _c_register_can_group(env: Env, rec: Record) -> bool:
    return len(rec.get("line_ids") or []) > 1


@method(REGISTER, "action_create_payments")
def register_create(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    wiz = env.must(REGISTER, ids[0])
    table = env.table(AML)
    lines = [table[i] for i in wiz.get("line_ids") or [] if i in table]
    if not lines or all(ln.get("reconciled") for ln in lines):
        raise user_error(
            "You can't register a payment because there is nothing left to pay "
            "on the selected journal items."
        )
    moves = list(dict.fromkeys(int(ln["move_id"]) for ln in lines))
    payments: list[int] = []
    if wiz.get("group_payment") or len(moves) == 1:
        amount = round2(float(wiz.get("amount") or 0))
        difference = round2(float(wiz.get("source_amount") or 0) - amount)
        writeoff = difference if wiz.get("payment_difference_handling") == "reconcile" else 0.0
        if writeoff and not wiz.get("writeoff_account_id"):
            raise user_error("The difference account is required to mark the invoice as paid.")
        payments.append(_make_payment(env, wiz, lines, amount, writeoff))
    else:
        for mid in moves:
            batch = [ln for ln in lines if ln["move_id"] == mid]
            residual = move_residual(env, env.must("account.move", mid))
            payments.append(_make_payment(env, wiz, batch, residual, 0.0))
    action: dict[str, Any] = {
        "name": "Payments",
        "type": "ir.actions.act_window",
        "res_model": PAYMENT,
        "context": {"create": False},
    }
    if len(payments) == 1:
        action.update(view_mode="form", res_id=payments[0])
    else:
        action.update(view_mode="tree,form", domain=[["id", "in", payments]])
    return action


def _label(env: Env, ptype: str, ctype: str, amount: float, partner: int | None, day: str) -> str:
    kind = {
        ("inbound", "customer"): "Customer Payment",
        ("outbound", "customer"): "Customer Reimbursement",
        ("inbound", "supplier"): "Vendor Reimbursement",
        ("outbound", "supplier"): "Vendor Payment",
    }[(ptype, ctype)]
    label = f"{kind} {fmt_amount(env, amount)}"
    if partner:
        label += f" - {env.display_name('res.partner', partner)}"
    try:
        label += " - " + Date.fromisoformat(day).strftime("%m/%d/%Y")
    except ValueError:
        pass
    return label


def _make_payment(
    env: Env, wiz: Record, lines: list[Record], amount: float, writeoff: float
) -> int:
    journal = env.rec("account.journal", wiz.get("journal_id")) or {}
    ptype = str(wiz.get("payment_type") or "inbound")
    ctype = str(wiz.get("partner_type") or "customer")
    day = str(wiz.get("payment_date") or today_str())
    code = journal.get("code") or "BNK1"
    name = f"P{code}/{day[:4]}/{env.s.next_seq(f'P{code}/{day[:4]}'):05d}"
    method_rec = env.rec("account.payment.method.line", wiz.get("payment_method_line_id")) or {}
    comp = company(env)
    outstanding = method_rec.get("payment_account_id") or (
        comp.get("account_journal_payment_debit_account_id")
        if ptype == "inbound"
        else comp.get("account_journal_payment_credit_account_id")
    )
    destination = lines[0].get("account_id")
    partner = wiz.get("partner_id") or commercial_partner(env, lines[0].get("partner_id"))
    pay = env.new_raw(
        PAYMENT,
        {
            "name": name,
            "amount": amount,
            "state": "posted",
            "journal_id": journal.get("id"),
            "partner_id": partner,
            "payment_type": ptype,
            "partner_type": ctype,
            "date": day,
            "ref": wiz.get("communication") or False,
            "currency_id": wiz.get("currency_id") or 1,
            "payment_method_line_id": method_rec.get("id"),
            "outstanding_account_id": outstanding,
            "destination_account_id": destination,
            "company_id": 1,
        },
    )
    move = env.new_raw(
        "account.move",
        {
            "name": name,
            "move_type": "entry",
            "state": "posted",
            "posted_before": True,
            "payment_state": "not_paid",
            "date": day,
            "ref": wiz.get("communication") or False,
            "journal_id": journal.get("id"),
            "partner_id": partner,
            "payment_id": pay,
            "currency_id": 1,
            "company_id": 1,
        },
    )
    env.upd(PAYMENT, pay, {"move_id": move})
    sign = 1.0 if ptype == "inbound" else -1.0
    label = _label(env, ptype, ctype, amount, partner, day)
    common = {"partner_id": partner, "payment_id": pay, "date_maturity": day}
    new_line(
        env, move, {**common, "name": label, "account_id": outstanding, "balance": sign * amount}
    )
    term = new_line(
        env,
        move,
        {
            **common,
            "name": label,
            "account_id": destination,
            "balance": -sign * round2(amount + writeoff),
        },
    )
    if writeoff:
        new_line(
            env,
            move,
            {
                **common,
                "name": wiz.get("writeoff_label") or "Write-Off",
                "account_id": wiz.get("writeoff_account_id"),
                "balance": sign * writeoff,
            },
        )
    todo = [ln["id"] for ln in lines if not ln.get("reconciled")]
    reconcile(env, [*todo, term])
    return pay


# -- account.payment ----------------------------------------------------------------------------
def _payment_lines(env: Env, rec: Record) -> tuple[list[Record], list[Record], list[Record]]:
    """(liquidity, counterpart, write-off) items, like ``_seek_for_lines``."""
    journal = env.rec("account.journal", rec.get("journal_id")) or {}
    liquidity_accounts = {journal.get("default_account_id"), rec.get("outstanding_account_id")}
    liquidity, counter, other = [], [], []
    for ln in move_lines(env, rec.get("move_id") or 0):
        acc = env.rec("account.account", ln.get("account_id")) or {}
        if ln.get("account_id") in liquidity_accounts:
            liquidity.append(ln)
        elif acc.get("account_type") in LIABLE_TYPES:
            counter.append(ln)
        else:
            other.append(ln)
    return liquidity, counter, other


@compute(PAYMENT, "is_matched")
def _c_pay_matched(env: Env, rec: Record) -> bool:
    if not rec.get("move_id"):
        return False
    liquidity, _, _ = _payment_lines(env, rec)
    return abs(sum(float(ln.get("amount_residual") or 0) for ln in liquidity)) < EPS


@compute(PAYMENT, "is_reconciled")
def _c_pay_reconciled(env: Env, rec: Record) -> bool:
    if not rec.get("move_id"):
        return False
    _, counter, other = _payment_lines(env, rec)
    lines = [ln for ln in counter + other if tracks_residual(env, ln.get("account_id"))]
    return abs(sum(float(ln.get("amount_residual") or 0) for ln in lines)) < EPS


@compute(PAYMENT, "reconciled_invoice_ids")
def _c_pay_invoices(env: Env, rec: Record) -> list[int]:
    _, counter, _ = _payment_lines(env, rec)
    found: list[int] = []
    partials = env.table("account.partial.reconcile")
    for ln in counter:
        for pid in partials_of(env, ln["id"]):
            other = env.table(AML)[counterpart(partials[pid], ln["id"])]
            move = env.must("account.move", other["move_id"])
            if move.get("move_type") in INVOICE_TYPES and move["id"] not in found:
                found.append(move["id"])
    return found


def _pay_display(env: Env, rec: Record) -> str:
    move = env.rec("account.move", rec.get("move_id"))
    name = (move or {}).get("name") or rec.get("name")
    return str(name) if name and name != "/" else "Draft Payment"


DISPLAY[PAYMENT] = _pay_display


# -- invoice widgets ----------------------------------------------------------------------------
@compute("account.move", "invoice_payments_widget")
def _c_payments_widget(env: Env, rec: Record) -> Any:
    if rec.get("state") != "posted" or rec.get("move_type") not in INVOICE_TYPES:
        return False
    content = []
    for pid, _line, _other, move in reconciliation_rows(env, rec):
        part = env.table("account.partial.reconcile")[pid]
        journal = env.rec("account.journal", move.get("journal_id")) or {}
        pay = env.rec(PAYMENT, move.get("payment_id"))
        method_rec = env.rec(
            "account.payment.method.line", (pay or {}).get("payment_method_line_id")
        )
        amount = float(part.get("amount") or 0)
        content.append(
            {
                "name": _other.get("name") or move.get("ref") or move.get("name"),
                "journal_name": journal.get("name") or False,
                "company_name": False,
                "amount": amount,
                "currency_id": move.get("currency_id") or 1,
                "date": move.get("date") or False,
                "partial_id": pid,
                "account_payment_id": move.get("payment_id") or False,
                "payment_method_name": (method_rec or {}).get("name") or False,
                "move_id": move["id"],
                "ref": env.display_name("account.move", move["id"]),
                "is_exchange": False,
                "amount_company_currency": fmt_amount(env, amount),
                "amount_foreign_currency": False,
            }
        )
    if not content:
        return False
    return {"title": "Less Payment", "outstanding": False, "content": content}


@compute("account.move", "invoice_outstanding_credits_debits_widget")
def _c_outstanding_widget(env: Env, rec: Record) -> Any:
    mtype = rec.get("move_type")
    if rec.get("state") != "posted" or mtype not in INVOICE_TYPES:
        return False
    if rec.get("payment_state") not in ("not_paid", "partial"):
        return False
    terms = [ln for ln in move_lines(env, rec["id"]) if ln.get("display_type") == "payment_term"]
    if not terms:
        return False
    account = terms[0].get("account_id")
    want_credit = mtype in ("out_invoice", "in_refund")
    partner = commercial_partner(env, rec.get("partner_id"))
    family = env.hierarchy("res.partner", [partner], "child_of") if partner else set()
    content = []
    for pid in sorted(family):
        for lid in sorted(env.s.referencing(AML, "partner_id", pid)):
            ln = env.table(AML)[lid]
            res = float(ln.get("amount_residual") or 0)
            if (
                ln.get("account_id") != account
                or ln.get("move_id") == rec["id"]
                or ln.get("reconciled")
                or (res >= 0 if want_credit else res <= 0)
            ):
                continue
            move = env.must("account.move", ln["move_id"])
            if move.get("state") != "posted":
                continue
            content.append(
                {
                    "journal_name": move.get("ref") or move.get("name"),
                    "amount": round2(abs(res)),
                    "currency_id": move.get("currency_id") or 1,
                    "id": lid,
                    "move_id": move["id"],
                    "date": move.get("date") or False,
                    "account_payment_id": move.get("payment_id") or False,
                }
            )
    if not content:
        return False
    return {
        "outstanding": True,
        "content": content,
        "move_id": rec["id"],
        "title": "Outstanding credits" if want_credit else "Outstanding debits",
    }


@compute("account.move", "invoice_has_outstanding")
def _c_has_outstanding(env: Env, rec: Record) -> bool:
    return bool(_c_outstanding_widget(env, rec))


@method("account.move", "js_assign_outstanding_line")
def am_assign_outstanding(env: Env, model: str, ids: list[int], line_id: Any) -> None:
    line = env.rec(AML, line_id if isinstance(line_id, int) else None)
    if line is None:
        raise env.missing(AML, [line_id])
    todo = [line["id"]]
    for mid in ids:
        for ln in move_lines(env, mid):
            if ln.get("account_id") == line.get("account_id") and not ln.get("reconciled"):
                todo.append(ln["id"])
    reconcile(env, todo)
    return None  # no "result" key (transcript 14 #32)
