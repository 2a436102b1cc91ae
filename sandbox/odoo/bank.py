"""Bank statement lines (transcript 15 #27-#39).

Creating a line posts its journal entry at once: the journal's bank account against its
suspense account (Dr bank / Cr suspense for money in, reversed for money out). The line is
reconciled once no item is left on the suspense account, which is how a payout is matched over
RPC in Community: move the suspense item to Outstanding Receipts, then reconcile it with the
payments' items.
"""

from __future__ import annotations

from typing import Any

from .errors import user_error
from .ledger import company, move_lines, new_line, tracks_residual
from .orm import DISPLAY, POST_CREATE, PRE_CREATE, Env, compute, hook, round2
from .store import Record, today_str

LINE = "account.bank.statement.line"


@hook(PRE_CREATE, LINE)
def _pre_st_line(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    journal = env.rec("account.journal", vals.get("journal_id"))
    if journal is not None and journal.get("type") not in ("bank", "cash", "credit"):
        raise user_error("A bank statement line can only be created in a bank or cash journal.")
    vals.setdefault("date", today_str())
    return vals


@hook(POST_CREATE, LINE)
def _post_st_line(env: Env, rid: int, vals: dict[str, Any]) -> None:
    line = env.must(LINE, rid)
    journal = env.must("account.journal", line["journal_id"])
    comp = company(env)
    bank_account = journal.get("default_account_id")
    suspense = journal.get("suspense_account_id") or comp.get("account_journal_suspense_account_id")
    if not bank_account or not suspense:
        raise user_error(
            "You can't create a new statement line without a suspense account set on the "
            f"{journal.get('name')} journal."
        )
    day = str(line.get("date") or today_str())
    code = journal.get("code") or "BNK1"
    name = f"{code}/{day[:4]}/{env.s.next_seq(f'{code}/{day[:4]}'):05d}"
    move = env.new_raw(
        "account.move",
        {
            "name": name,
            "move_type": "entry",
            "state": "posted",
            "posted_before": True,
            "payment_state": "not_paid",
            "date": day,
            "journal_id": journal["id"],
            "partner_id": line.get("partner_id"),
            "statement_line_id": rid,
            "currency_id": 1,
            "company_id": 1,
        },
    )
    env.upd(LINE, rid, {"move_id": move})
    amount = round2(float(line.get("amount") or 0))
    common = {
        "partner_id": line.get("partner_id"),
        "statement_line_id": rid,
        "name": line.get("payment_ref") or "",
        "date_maturity": day,
    }
    new_line(env, move, {**common, "account_id": bank_account, "balance": amount})
    new_line(env, move, {**common, "account_id": suspense, "balance": -amount})


def _split(env: Env, rec: Record) -> tuple[list[Record], list[Record]]:
    """(liquidity, suspense) items, as ``_seek_for_lines``."""
    journal = env.rec("account.journal", rec.get("journal_id")) or {}
    liquidity, suspense = [], []
    for ln in move_lines(env, rec.get("move_id") or 0):
        if ln.get("account_id") == journal.get("default_account_id"):
            liquidity.append(ln)
        elif ln.get("account_id") == journal.get("suspense_account_id"):
            suspense.append(ln)
    return liquidity, suspense


@compute(LINE, "amount_residual")
def _c_st_residual(env: Env, rec: Record) -> float:
    _, suspense = _split(env, rec)
    field = (
        "amount_residual"
        if any(tracks_residual(env, ln.get("account_id")) for ln in suspense)
        else "balance"
    )
    return round2(sum(float(ln.get(field) or 0) for ln in suspense))


@compute(LINE, "is_reconciled")
def _c_st_reconciled(env: Env, rec: Record) -> bool:
    _, suspense = _split(env, rec)
    if suspense:
        return bool(abs(_c_st_residual(env, rec)) < 0.005)
    return bool(rec.get("move_id"))


@compute(LINE, "state")
def _c_st_state(env: Env, rec: Record) -> Any:
    move = env.rec("account.move", rec.get("move_id"))
    return move.get("state") if move else "draft"


@compute(LINE, "currency_id")
def _c_st_currency(env: Env, rec: Record) -> Any:
    journal = env.rec("account.journal", rec.get("journal_id")) or {}
    return journal.get("currency_id") or company(env).get("currency_id")


def _st_display(env: Env, rec: Record) -> str:
    move = env.rec("account.move", rec.get("move_id"))
    return str((move or {}).get("name") or rec.get("payment_ref") or f"{LINE},{rec['id']}")


DISPLAY[LINE] = _st_display
