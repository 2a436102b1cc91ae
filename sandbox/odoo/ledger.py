"""Journal items: accounts, the lines of invoices and entries, balance checks, reconciliation
and the payment state it drives.

An invoice keeps Odoo 17's dynamic lines in step with its product lines while it is a draft:
one tax line per tax and one receivable (payable) line, ``display_type`` "payment_term". A
line on a reconcilable account (or a bank account) carries ``amount_residual``; reconciling
lines of one account creates ``account.partial.reconcile`` rows, and an
``account.full.reconcile`` once every line they connect is settled. Lines are found through
the store's ``move_id``/``debit_move_id``/``credit_move_id`` indexes, never by a scan.
"""

from __future__ import annotations

from typing import Any

from .errors import user_error
from .orm import (
    DISPLAY,
    POST_CREATE,
    POST_WRITE,
    PRE_CREATE,
    PRE_WRITE,
    Env,
    compute,
    hook,
    round2,
)
from .sale import tax_amount
from .store import Record

AML = "account.move.line"
PARTIAL = "account.partial.reconcile"
INVOICE_TYPES = ("out_invoice", "out_refund", "in_invoice", "in_refund")
RESIDUAL_TYPES = ("asset_cash", "liability_credit_card")
LIABLE_TYPES = ("asset_receivable", "liability_payable")
EPS = 0.005


# -- accounts -------------------------------------------------------------------------------
def account_by_code(env: Env, code: str) -> int | None:
    for aid, acc in env.table("account.account").items():
        if acc.get("code") == code:
            return aid
    return None


def account_by_type(env: Env, atype: str) -> int | None:
    ids = [a for a, acc in env.table("account.account").items() if acc.get("account_type") == atype]
    return min(ids) if ids else None


def company(env: Env) -> Record:
    return env.table("res.company").get(1) or next(iter(env.table("res.company").values()))


def receivable_account(env: Env) -> int | None:
    return company(env).get("account_default_receivable_id") or account_by_type(
        env, "asset_receivable"
    )


def tracks_residual(env: Env, account_id: int | None) -> bool:
    acc = env.rec("account.account", account_id)
    return bool(acc and (acc.get("reconcile") or acc.get("account_type") in RESIDUAL_TYPES))


def _account_display(env: Env, rec: Record) -> str:
    return f"{rec.get('code')} {rec.get('name')}"


DISPLAY["account.account"] = _account_display


@hook(PRE_CREATE, "account.account")
def _pre_account(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    code = vals.get("code")
    if code and account_by_code(env, str(code)) is not None:
        from .errors import validation_error

        raise validation_error(
            "The operation cannot be completed: The code of the account must be unique per company!"
        )
    if "reconcile" not in vals and vals.get("account_type") in LIABLE_TYPES:
        vals["reconcile"] = True
    return vals


# -- money formatting ------------------------------------------------------------------------
def fmt_amount(env: Env, amount: float) -> str:
    """Odoo's format_amount for the company currency: "$ 1,234.50" with a no-break space."""
    cur = env.rec("res.currency", company(env).get("currency_id"))
    symbol = cur.get("symbol") if cur else "$"
    return f"{symbol}\u00a0{amount:,.2f}"


# -- journal items ----------------------------------------------------------------------------
def amounts(balance: float) -> dict[str, Any]:
    balance = round2(balance)
    return {
        "debit": balance if balance > 0 else 0.0,
        "credit": -balance if balance < 0 else 0.0,
        "balance": balance,
        "amount_currency": balance,
    }


def residual_vals(env: Env, account_id: int | None, balance: float) -> dict[str, Any]:
    res = round2(balance) if tracks_residual(env, account_id) else 0.0
    return {
        "amount_residual": res,
        "amount_residual_currency": res,
        "reconciled": tracks_residual(env, account_id) and abs(res) < EPS,
    }


def new_line(env: Env, move_id: int, vals: dict[str, Any]) -> int:
    """A journal item from internal values (``balance`` signed)."""
    balance = float(vals.pop("balance", 0.0))
    rec = {
        "move_id": move_id,
        "display_type": "product",
        "quantity": 1.0,
        "currency_id": 1,
        "company_id": 1,
        "tax_ids": [],
        "sale_line_ids": [],
        **vals,
        **amounts(balance),
        **residual_vals(env, vals.get("account_id"), balance),
    }
    return env.new_raw(AML, rec)


def move_line_ids(env: Env, mid: int) -> list[int]:
    return sorted(env.s.referencing(AML, "move_id", mid))


def move_lines(env: Env, mid: int) -> list[Record]:
    table = env.table(AML)
    return [table[i] for i in move_line_ids(env, mid)]


def commercial_partner(env: Env, pid: int | None) -> int | None:
    seen = 0
    while pid and seen < 20:
        partner = env.rec("res.partner", pid)
        if partner is None or partner.get("is_company") or not partner.get("parent_id"):
            return pid
        pid = partner["parent_id"]
        seen += 1
    return pid


def line_amounts(env: Env, rec: Record) -> tuple[float, float]:
    """(subtotal, tax) of an invoice line."""
    qty = float(rec.get("quantity") or 0)
    price = float(rec.get("price_unit") or 0) * (1 - float(rec.get("discount") or 0) / 100.0)
    sub = round2(price * qty)
    return sub, tax_amount(env, rec.get("tax_ids") or [], sub, qty)


def is_product_line(rec: Record) -> bool:
    return rec.get("display_type") in (None, "product")


def liable_sign(move_type: str) -> int:
    """Sign of the receivable/payable item of an invoice (+1: a debit)."""
    return 1 if move_type in ("out_invoice", "in_refund") else -1


def _set(env: Env, rid: int, vals: dict[str, Any]) -> None:
    rec = env.table(AML)[rid]
    changed = {k: v for k, v in vals.items() if rec.get(k) != v}
    if changed:
        env.upd(AML, rid, changed)


def sync_invoice(env: Env, mid: int) -> None:
    """Rebuild a draft invoice's balances, tax lines and receivable line from its product
    lines (Odoo's ``_sync_dynamic_lines``)."""
    move = env.rec("account.move", mid)
    if move is None or move.get("move_type") not in INVOICE_TYPES or move.get("state") != "draft":
        return
    mtype = str(move["move_type"])
    sign = liable_sign(mtype)
    outbound = mtype.startswith("out")
    journal = env.rec("account.journal", move.get("journal_id"))
    default_account = (journal or {}).get("default_account_id") or account_by_type(
        env, "income" if outbound else "expense"
    )
    partner = commercial_partner(env, move.get("partner_id"))
    taxes: dict[int, float] = {}
    untaxed = 0.0
    tax_total = 0.0
    lines = move_lines(env, mid)
    for line in lines:
        if not is_product_line(line):
            continue
        sub, tax = line_amounts(env, line)
        qty = float(line.get("quantity") or 0)
        untaxed += sub
        tax_total += tax
        for tid in line.get("tax_ids") or []:
            taxes[tid] = taxes.get(tid, 0.0) + tax_amount(env, [tid], sub, qty)
        account = line.get("account_id") or default_account
        _set(
            env,
            line["id"],
            {
                "account_id": account,
                "partner_id": partner,
                **amounts(-sign * sub),
                **residual_vals(env, account, -sign * sub),
            },
        )
    total = round2(round2(untaxed) + round2(tax_total))
    tax_account = account_by_code(env, "251000") or account_by_type(env, "liability_current")
    existing_tax = {ln.get("tax_line_id"): ln for ln in lines if ln.get("display_type") == "tax"}
    for tid, amount in taxes.items():
        tax_rec = env.rec("account.tax", tid) or {}
        vals = {"account_id": tax_account, "partner_id": partner, "name": tax_rec.get("name")}
        if tid in existing_tax:
            line = existing_tax.pop(tid)
            bal = -sign * round2(amount)
            _set(env, line["id"], {**vals, **amounts(bal), **residual_vals(env, tax_account, bal)})
        elif round2(amount):
            new_line(
                env,
                mid,
                {**vals, "display_type": "tax", "tax_line_id": tid, "balance": -sign * amount},
            )
    for line in existing_tax.values():
        env.unlink(AML, [line["id"]])
    # The receivable balances what the move holds (a cent of tax rounding included).
    others = [ln for ln in move_lines(env, mid) if ln.get("display_type") != "payment_term"]
    total = sign * round2(-sum(float(ln.get("balance") or 0) for ln in others))
    terms = [ln for ln in lines if ln.get("display_type") == "payment_term"]
    account = receivable_account(env) if outbound else account_by_type(env, "liability_payable")
    vals = {
        "account_id": account,
        "partner_id": partner,
        "name": move.get("payment_reference") or "",
        "date_maturity": move.get("invoice_date_due") or move.get("invoice_date") or False,
    }
    if not any(is_product_line(ln) for ln in lines):  # nothing to invoice yet
        for extra in terms:
            env.unlink(AML, [extra["id"]])
    elif terms:
        _set(env, terms[0]["id"], {**vals, **amounts(sign * total)})
        _set(env, terms[0]["id"], residual_vals(env, account, sign * total))
        for extra in terms[1:]:
            env.unlink(AML, [extra["id"]])
    else:
        new_line(env, mid, {**vals, "display_type": "payment_term", "balance": sign * total})


def check_balanced(env: Env, mid: int) -> None:
    move = env.must("account.move", mid)
    lines = move_lines(env, mid)
    if not lines:
        return
    debit = round2(sum(float(ln.get("debit") or 0) for ln in lines))
    credit = round2(sum(float(ln.get("credit") or 0) for ln in lines))
    if abs(debit - credit) < EPS:
        return
    journal = env.rec("account.journal", move.get("journal_id"))
    raise user_error(
        "An error has occurred.\n\n"
        f"The move ({env.display_name('account.move', mid)}) is not balanced.\n"
        f"The total of debits equals {fmt_amount(env, debit)} and the total of credits "
        f"equals {fmt_amount(env, credit)}.\n"
        f'You might want to specify a default account on journal "{(journal or {}).get("name")}" '
        "to automatically balance each move."
    )


@hook(PRE_CREATE, AML)
def _pre_aml(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    move = env.rec("account.move", vals.get("move_id"))
    if move is not None and move.get("move_type") in INVOICE_TYPES:
        vals.setdefault("display_type", "product")
        product = env.rec("product.product", vals.get("product_id"))
        if product is not None and vals.get("display_type") == "product":
            if "name" not in vals:
                vals["name"] = env.display_name("product.product", product["id"])
            vals.setdefault("price_unit", product.get("list_price") or 0.0)
            if "tax_ids" not in vals and str(move.get("move_type")).startswith("out"):
                vals["tax_ids"] = [[6, 0, list(product.get("taxes_id") or [])]]
        return vals
    if "balance" in vals and "debit" not in vals and "credit" not in vals:
        bal = float(vals.pop("balance") or 0)
        vals["debit"], vals["credit"] = (bal, 0.0) if bal > 0 else (0.0, -bal)
    vals.setdefault("display_type", "product")
    return vals


@hook(POST_CREATE, AML)
def _post_aml(env: Env, rid: int, vals: dict[str, Any]) -> None:
    line = env.must(AML, rid)
    move = env.must("account.move", line["move_id"])
    if move.get("move_type") in INVOICE_TYPES:
        sync_invoice(env, move["id"])
        return
    bal = round2(float(line.get("debit") or 0) - float(line.get("credit") or 0))
    env.upd(AML, rid, {**amounts(bal), **residual_vals(env, line.get("account_id"), bal)})


RECONCILIATION_FIELDS = ("account_id", "date", "balance", "debit", "credit", "partner_id")


@hook(PRE_WRITE, AML)
def _pre_aml_write(env: Env, ids: list[int], vals: dict[str, Any]) -> dict[str, Any]:
    for rid in ids:
        line = env.must(AML, rid)
        if not any(f in vals and vals[f] != line.get(f) for f in RECONCILIATION_FIELDS):
            continue
        if partials_of(env, rid):
            move = env.must("account.move", line["move_id"])
            raise user_error(
                "You cannot do this modification on a reconciled journal entry. You can just "
                "change some non legal fields or you must unreconcile first.\n"
                f"Journal Entry (id): {move.get('name')} ({move['id']})"
            )
        if "tax_ids" in vals and move_state(env, line) == "posted":
            raise user_error(
                "You cannot modify the taxes related to a posted journal item, you should reset "
                "the journal entry to draft to do so."
            )
    return vals


@hook(POST_WRITE, AML)
def _post_aml_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    moves: set[int] = set()
    for rid in ids:
        line = env.must(AML, rid)
        moves.add(line["move_id"])
        move = env.must("account.move", line["move_id"])
        if move.get("move_type") in INVOICE_TYPES and move.get("state") == "draft":
            continue
        if any(f in vals for f in ("debit", "credit", "balance", "account_id")):
            if "balance" in vals and "debit" not in vals and "credit" not in vals:
                bal = round2(float(line.get("balance") or 0))
            else:
                bal = round2(float(line.get("debit") or 0) - float(line.get("credit") or 0))
            env.upd(AML, rid, {**amounts(bal), **residual_vals(env, line.get("account_id"), bal)})
    for mid in moves:
        sync_invoice(env, mid)
        if any(f in vals for f in ("debit", "credit", "balance")):
            check_balanced(env, mid)


def move_state(env: Env, line: Record) -> Any:
    move = env.rec("account.move", line.get("move_id"))
    return move.get("state") if move else False


def _move_field(fname: str) -> Any:
    def fn(env: Env, rec: Record) -> Any:
        move = env.rec("account.move", rec.get("move_id"))
        return move.get(fname) if move else None

    return fn


compute(AML, "date")(_move_field("date"))
compute(AML, "move_name")(_move_field("name"))
compute(AML, "parent_state")(_move_field("state"))
compute(AML, "journal_id")(_move_field("journal_id"))
compute(AML, "ref")(_move_field("ref"))


@compute(AML, "account_type")
def account_type(env: Env, rec: Record) -> Any:
    acc = env.rec("account.account", rec.get("account_id"))
    return acc.get("account_type") if acc else None


@compute(AML, "price_subtotal")
def _c_aml_sub(env: Env, rec: Record) -> float:
    return line_amounts(env, rec)[0] if is_product_line(rec) else 0.0


@compute(AML, "price_total")
def _c_aml_total(env: Env, rec: Record) -> float:
    if not is_product_line(rec):
        return 0.0
    sub, tax = line_amounts(env, rec)
    return round2(sub + tax)


def _aml_display(env: Env, rec: Record) -> str:
    move = env.rec("account.move", rec.get("move_id")) or {}
    name = rec.get("name") or (
        env.display_name("product.product", rec["product_id"]) if rec.get("product_id") else ""
    )
    ref = move.get("ref")
    parts = [move.get("name"), f"({ref})" if ref else None, name]
    return " ".join(str(p) for p in parts if p)


DISPLAY[AML] = _aml_display


# -- reconciliation ---------------------------------------------------------------------------
def partials_of(env: Env, line_id: int) -> list[int]:
    return sorted(
        env.s.referencing(PARTIAL, "debit_move_id", line_id)
        | env.s.referencing(PARTIAL, "credit_move_id", line_id)
    )


def counterpart(partial: Record, line_id: int) -> int:
    if partial.get("debit_move_id") == line_id:
        return int(partial["credit_move_id"])
    return int(partial["debit_move_id"])
