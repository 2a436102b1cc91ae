"""Reconciliation: partial and full reconciles of journal items, and the residuals and
payment states they drive (Odoo 17's ``_reconcile_plan`` and ``_compute_payment_state``).

Matched lines are reached through the store's ``debit_move_id``/``credit_move_id`` indexes of
``account.partial.reconcile``, never by scanning the journal items.
"""

from __future__ import annotations

from .errors import user_error
from .ledger import (
    AML,
    EPS,
    INVOICE_TYPES,
    LIABLE_TYPES,
    PARTIAL,
    account_type,
    counterpart,
    move_lines,
    move_state,
    partials_of,
    tracks_residual,
)
from .orm import Env, method, round2
from .store import Record


def _set_residual(env: Env, line: Record, residual: float) -> None:
    residual = round2(residual)
    env.upd(
        AML,
        line["id"],
        {
            "amount_residual": residual,
            "amount_residual_currency": residual,
            "reconciled": abs(residual) < EPS,
        },
    )


def _sort_key(env: Env, line: Record) -> tuple[str, float, int]:
    move = env.rec("account.move", line.get("move_id")) or {}
    return (
        str(line.get("date_maturity") or move.get("date") or ""),
        float(line.get("amount_currency") or 0),
        int(line["id"]),
    )


def reconcile(env: Env, line_ids: list[int]) -> None:
    """``account.move.line.reconcile``: match debits with credits of one account."""
    ids = list(dict.fromkeys(line_ids))
    missing = [i for i in ids if env.rec(AML, i) is None]
    if missing:
        raise env.missing(AML, missing)
    lines = [env.must(AML, i) for i in ids]
    if not lines:
        return
    if any(ln.get("reconciled") for ln in lines):
        raise user_error("You are trying to reconcile some entries that are already reconciled.")
    if any(move_state(env, ln) != "posted" for ln in lines):
        raise user_error("You can only reconcile posted entries.")
    accounts = list(dict.fromkeys(ln.get("account_id") for ln in lines))
    if len(accounts) > 1:
        names = ", ".join(env.display_name("account.account", a) for a in accounts if a)
        raise user_error(f"Entries are not from the same account: {names}")
    if not tracks_residual(env, accounts[0]):
        raise user_error(
            f"Account {env.display_name('account.account', accounts[0])} does not allow "
            "reconciliation. First change the configuration of this account to allow it."
        )
    debits = sorted(
        (ln for ln in lines if float(ln.get("amount_residual") or 0) > 0),
        key=lambda ln: _sort_key(env, ln),
    )
    credits = sorted(
        (ln for ln in lines if float(ln.get("amount_residual") or 0) < 0),
        key=lambda ln: _sort_key(env, ln),
    )
    i = j = 0
    while i < len(debits) and j < len(credits):
        deb, cred = debits[i], credits[j]
        amount = round2(min(float(deb["amount_residual"]), -float(cred["amount_residual"])))
        if amount > 0:
            dates = [str(_sort_key(env, deb)[0]), str(_sort_key(env, cred)[0])]
            env.new_raw(
                PARTIAL,
                {
                    "debit_move_id": deb["id"],
                    "credit_move_id": cred["id"],
                    "amount": amount,
                    "debit_amount_currency": amount,
                    "credit_amount_currency": amount,
                    "max_date": max(dates) or None,
                    "company_id": 1,
                },
            )
            _set_residual(env, deb, float(deb["amount_residual"]) - amount)
            _set_residual(env, cred, float(cred["amount_residual"]) + amount)
        if float(deb["amount_residual"]) < EPS:
            i += 1
        if float(cred["amount_residual"]) > -EPS:
            j += 1
    moves = full_reconcile(env, ids)
    for mid in sorted(moves):
        refresh_payment_state(env, mid)


def full_reconcile(env: Env, line_ids: list[int]) -> set[int]:
    """Give every settled group of matched lines a full reconcile; return the moves of all
    lines the group reaches."""
    table = env.table(AML)
    partials = env.table(PARTIAL)
    seen: set[int] = set()
    moves: set[int] = set()
    for start in line_ids:
        if start in seen:
            continue
        group: list[int] = []
        group_partials: set[int] = set()
        todo = [start]
        while todo:
            lid = todo.pop()
            if lid in seen:
                continue
            seen.add(lid)
            group.append(lid)
            for pid in partials_of(env, lid):
                group_partials.add(pid)
                todo.append(counterpart(partials[pid], lid))
        moves.update(int(table[lid]["move_id"]) for lid in group)
        if not group_partials or any(not table[lid].get("reconciled") for lid in group):
            continue
        if all(table[lid].get("full_reconcile_id") for lid in group):
            continue
        full = env.new_raw("account.full.reconcile", {})
        for lid in group:
            env.upd(AML, lid, {"full_reconcile_id": full})
        for pid in group_partials:
            env.upd(PARTIAL, pid, {"full_reconcile_id": full})
    return moves


def unreconcile(env: Env, line_ids: list[int]) -> None:
    """``remove_move_reconcile``: drop the lines' partials (and their full reconciles)."""
    table = env.table(AML)
    moves: set[int] = set()
    for lid in line_ids:
        for pid in partials_of(env, lid):
            part = env.rec(PARTIAL, pid)
            if part is None:
                continue
            amount = float(part.get("amount") or 0)
            for side, sign in (("debit_move_id", 1.0), ("credit_move_id", -1.0)):
                line = table[part[side]]
                moves.add(int(line["move_id"]))
                _set_residual(env, line, float(line.get("amount_residual") or 0) + sign * amount)
                if line.get("full_reconcile_id"):
                    full = line["full_reconcile_id"]
                    env.upd(AML, line["id"], {"full_reconcile_id": None})
                    if env.rec("account.full.reconcile", full) is not None:
                        env.s.delete("account.full.reconcile", full)
            env.s.delete(PARTIAL, pid)
            env.cache.clear()
    for mid in sorted(moves):
        refresh_payment_state(env, mid)


@method(AML, "reconcile")
def aml_reconcile(env: Env, model: str, ids: list[int]) -> None:
    reconcile(env, ids)
    return None  # Odoo 17 returns None: no "result" key (transcript 15 #38)


@method(AML, "remove_move_reconcile")
def aml_unreconcile(env: Env, model: str, ids: list[int]) -> None:
    unreconcile(env, ids)
    return None


# -- residuals and payment state ---------------------------------------------------------------
def move_residual(env: Env, move: Record) -> float:
    if move.get("move_type") not in INVOICE_TYPES or move.get("state") == "cancel":
        return 0.0
    res = sum(
        float(ln.get("amount_residual") or 0)
        for ln in move_lines(env, move["id"])
        if ln.get("display_type") == "payment_term"
    )
    return round2(abs(res))


def reconciliation_rows(env: Env, move: Record) -> list[tuple[int, Record, Record, Record]]:
    """(partial id, own line, counterpart line, counterpart move) for the move's
    receivable/payable items matched with another move."""
    out = []
    table = env.table(AML)
    for line in move_lines(env, move["id"]):
        if account_type(env, line) not in LIABLE_TYPES:
            continue
        for pid in partials_of(env, line["id"]):
            other = table[counterpart(env.table(PARTIAL)[pid], line["id"])]
            if other["move_id"] == move["id"]:
                continue
            out.append((pid, line, other, env.must("account.move", other["move_id"])))
    return out


def refresh_payment_state(env: Env, mid: int) -> None:
    """Odoo 17's ``_compute_payment_state`` (Community: never ``in_payment``)."""
    move = env.must("account.move", mid)
    if move.get("payment_state") == "invoicing_legacy":
        return
    mtype = move.get("move_type")
    state = "not_paid"
    if move.get("state") == "posted" and mtype in INVOICE_TYPES:
        rows = reconciliation_rows(env, move)
        if move_residual(env, move) < EPS:
            state = "paid"
            if not any(o.get("payment_id") or o.get("statement_line_id") for *_, o in rows):
                kinds = {o.get("move_type") for *_, o in rows}
                reverse = (
                    (mtype == "out_invoice" and kinds in ({"out_refund"}, {"out_refund", "entry"}))
                    or (mtype == "in_invoice" and kinds in ({"in_refund"}, {"in_refund", "entry"}))
                    or (mtype in ("out_refund", "in_refund") and kinds == {"entry"})
                )
                if reverse:
                    state = "reversed"
        elif rows:
            state = "partial"
    if state != move.get("payment_state"):
        env.upd("account.move", mid, {"payment_state": state})
