"""Invoicing: customer invoices from orders or created directly, posting, credit notes.

The journal items behind them (receivable, tax and income lines, reconciliation) live in
``ledger``; payments in ``payment``; bank statement lines in ``bank``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from textwrap import shorten
from typing import Any

from . import bank as _bank  # noqa: F401  (registers model behaviour)
from . import payment as _payment  # noqa: F401
from .errors import VALUE_ERROR, OdooError, user_error
from .ledger import (
    INVOICE_TYPES,
    check_balanced,
    line_amounts,
    move_line_ids,
    move_lines,
    partials_of,
    sync_invoice,
)
from .orm import (
    DISPLAY,
    POST_CREATE,
    POST_WRITE,
    PRE_CREATE,
    Env,
    compute,
    hook,
    ids_arg,
    method,
    round2,
)
from .reconcile import move_residual, reconcile, refresh_payment_state
from .sale import _c_sol_to_invoice, order_lines
from .store import Record, today_str


def journal_of_type(env: Env, jtype: str) -> int | None:
    for jid, rec in sorted(env.table("account.journal").items()):
        if rec.get("type") == jtype:
            return jid
    return None


def move_amounts(env: Env, rec: Record) -> tuple[float, float]:
    untaxed = tax = 0.0
    for line in move_lines(env, rec["id"]):
        if line.get("display_type") not in (None, "product"):
            continue
        sub, t = line_amounts(env, line)
        untaxed += sub
        tax += t
    return round2(untaxed), round2(tax)


@compute("account.move", "amount_untaxed")
def _c_am_untaxed(env: Env, rec: Record) -> float:
    return move_amounts(env, rec)[0] if rec.get("move_type") in INVOICE_TYPES else 0.0


@compute("account.move", "amount_tax")
def _c_am_tax(env: Env, rec: Record) -> float:
    return move_amounts(env, rec)[1] if rec.get("move_type") in INVOICE_TYPES else 0.0


@compute("account.move", "amount_total")
def _c_am_total(env: Env, rec: Record) -> float:
    if rec.get("move_type") not in INVOICE_TYPES:  # an entry: the sum of its debits
        return round2(sum(float(ln.get("debit") or 0) for ln in move_lines(env, rec["id"])))
    untaxed, tax = move_amounts(env, rec)
    return round2(untaxed + tax)


@compute("account.move", "amount_residual")
def _c_am_residual(env: Env, rec: Record) -> float:
    return move_residual(env, rec)


DRAFT_LABELS = {
    "out_invoice": "Draft Invoice",
    "out_refund": "Draft Credit Note",
    "in_invoice": "Draft Bill",
    "in_refund": "Draft Vendor Credit Note",
    "entry": "Draft Entry",
}


def _am_display(env: Env, rec: Record) -> str:
    """Odoo 17's ``_get_move_display_name(show_ref=True)``."""
    name = ""
    if rec.get("state") == "draft":
        name = DRAFT_LABELS.get(str(rec.get("move_type")), "Draft Entry") + " "
    if not rec.get("name") or rec.get("name") == "/":
        name += f"(* {rec['id']})"
    else:
        name += str(rec["name"])
    if rec.get("ref"):
        name += f" ({shorten(str(rec['ref']), width=50)})"
    return name


DISPLAY["account.move"] = _am_display


@hook(PRE_CREATE, "account.move")
def _pre_am(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    mtype = vals.get("move_type") or env.ctx.get("default_move_type") or "entry"
    if not vals.get("journal_id"):
        vals["journal_id"] = journal_of_type(
            env,
            "sale"
            if mtype.startswith("out")
            else "purchase"
            if mtype.startswith("in")
            else "general",
        )
    vals.setdefault("date", vals.get("invoice_date") or today_str())
    return vals


def create_invoice_from_order(env: Env, sid: int) -> int | None:
    order = env.must("sale.order", sid)
    lines = [
        ln
        for ln in order_lines(env, sid)
        if not ln.get("display_type") and _c_sol_to_invoice(env, ln) > 1e-9
    ]
    if not lines:
        return None
    inv = env.create_one(
        "account.move",
        {
            "move_type": "out_invoice",
            "partner_id": order.get("partner_invoice_id") or order.get("partner_id"),
            "partner_shipping_id": order.get("partner_shipping_id"),
            "invoice_origin": order.get("name"),
            "ref": order.get("client_order_ref") or False,
            "currency_id": order.get("currency_id") or 1,
        },
    )
    for ln in lines:
        qty = _c_sol_to_invoice(env, ln)
        aml = env.new_raw(
            "account.move.line",
            {
                "move_id": inv,
                "product_id": ln.get("product_id"),
                "name": ln.get("name"),
                "quantity": qty,
                "price_unit": ln.get("price_unit") or 0.0,
                "discount": ln.get("discount") or 0.0,
                "tax_ids": list(ln.get("tax_id") or []),
                "sale_line_ids": [ln["id"]],
                "display_type": "product",
            },
        )
        env.upd(
            "sale.order.line", ln["id"], {"invoice_lines": [*(ln.get("invoice_lines") or []), aml]}
        )
    sync_invoice(env, inv)
    env.upd("sale.order", sid, {"invoice_ids": [*(order.get("invoice_ids") or []), inv]})
    return inv


def invoices_action(env: Env, order_id: int | None, invoice_ids: list[int]) -> dict[str, Any]:
    """The act_window create_invoices returns (shape copied from a real 17.0 server)."""
    order = env.rec("sale.order", order_id) if order_id else None
    action: dict[str, Any] = {
        "id": 256,
        "name": "Invoices",
        "type": "ir.actions.act_window",
        "xml_id": "account.action_move_out_invoice_type",
        "help": '<p class="o_view_nocontent_smiling_face">Create a customer invoice</p>',
        "binding_model_id": False,
        "binding_type": "action",
        "binding_view_types": "list,form",
        "display_name": "Invoices",
        "view_id": [679, "account.out.invoice.tree"],
        "domain": "[('move_type', '=', 'out_invoice')]",
        "context": {
            "default_move_type": "out_invoice",
            "default_partner_id": order.get("partner_id") if order else False,
            "default_partner_shipping_id": order.get("partner_shipping_id") if order else False,
            "default_invoice_payment_term_id": None,
            "default_invoice_origin": order.get("name") if order else False,
        },
        "res_model": "account.move",
        "target": "current",
        "view_mode": "tree,kanban,form,activity",
        "mobile_view_mode": "kanban",
        "views": [[686, "form"], [679, "tree"], [False, "kanban"], [False, "activity"]],
        "limit": 80,
        "groups_id": [],
        "search_view_id": [689, "account.invoice.select"],
        "filter": False,
    }
    if len(invoice_ids) == 1:
        action["res_id"] = invoice_ids[0]
    else:
        action["domain"] = [["id", "in", invoice_ids]]
    return action


def sequence_name(env: Env, move: Record) -> str:
    """Odoo 17's starting sequences: INV/2026/00001 in sales, bank and cash journals (R in
    front for credit notes), MISC/2026/12/0001 (monthly) in the others."""
    day = str(move.get("date") or today_str())
    year = day[:4] or str(datetime.now(UTC).year)
    journal = env.rec("account.journal", move.get("journal_id")) or {}
    code = str(journal.get("code") or "MISC")
    prefix = f"R{code}" if move.get("move_type") in ("out_refund", "in_refund") else code
    if journal.get("type") in ("sale", "bank", "cash"):
        return f"{prefix}/{year}/{env.s.next_seq(f'{prefix}/{year}'):05d}"
    key = f"{prefix}/{year}/{day[5:7] or '01'}"
    return f"{key}/{env.s.next_seq(key):04d}"


def post_move(env: Env, mid: int) -> None:
    inv = env.must("account.move", mid)
    if inv.get("state") != "draft":
        raise user_error(f"The entry {_am_display(env, inv)} (id {mid}) is already posted.")
    if not move_line_ids(env, mid):
        raise user_error("You need to add a line before posting.")
    vals: dict[str, Any] = {"state": "posted", "posted_before": True}
    is_invoice = inv.get("move_type") in INVOICE_TYPES
    if is_invoice and not inv.get("invoice_date"):
        vals["invoice_date"] = inv.get("date") or today_str()
    if is_invoice and not inv.get("invoice_date_due"):
        vals["invoice_date_due"] = vals.get("invoice_date") or inv.get("invoice_date")
    if not inv.get("name") or inv.get("name") == "/":
        vals["name"] = sequence_name(env, inv)
    if inv.get("move_type") == "out_invoice" and not inv.get("payment_reference"):
        vals["payment_reference"] = vals.get("name") or inv.get("name")
    sync_invoice(env, mid)
    check_balanced(env, mid)
    env.upd("account.move", mid, vals)
    for line in move_lines(env, mid):
        if line.get("display_type") == "payment_term":
            env.upd(
                "account.move.line",
                line["id"],
                {"name": vals.get("payment_reference") or inv.get("payment_reference") or ""},
            )
    if inv.get("reversed_entry_id"):
        _reconcile_reversed(env, mid)
    refresh_payment_state(env, mid)
    partner = env.rec("res.partner", inv.get("partner_id"))
    if partner is not None and str(inv.get("move_type", "")).startswith("out"):
        env.upd(
            "res.partner",
            partner["id"],
            {"customer_rank": int(partner.get("customer_rank") or 0) + 1},
        )


@method("account.move", "action_post")
def am_post(env: Env, model: str, ids: list[int]) -> bool:
    for mid in ids:
        post_move(env, mid)
    return False  # Odoo 17's action_post returns False even on success


@method("account.move", "button_draft")
def am_draft(env: Env, model: str, ids: list[int]) -> None:
    for mid in ids:
        env.must("account.move", mid)
        if any(partials_of(env, lid) for lid in move_line_ids(env, mid)):
            raise user_error("You cannot reset to draft a paid or partially paid entry.")
        env.upd("account.move", mid, {"state": "draft"})
        refresh_payment_state(env, mid)
    return None


@method("account.move", "button_cancel")
def am_cancel(env: Env, model: str, ids: list[int]) -> None:
    for mid in ids:
        inv = env.must("account.move", mid)
        if inv.get("state") != "draft":
            raise user_error("Only draft journal entries can be cancelled.")
        env.upd("account.move", mid, {"state": "cancel"})
    return None


@compute("res.partner", "credit")
def _c_partner_credit(env: Env, rec: Record) -> float:
    """Open receivables of the commercial entity: posted customer invoices not fully paid."""
    root = rec["id"]
    seen = 0
    while seen < 20:
        parent_rec = env.rec("res.partner", root)
        if parent_rec is None or parent_rec.get("is_company") or not parent_rec.get("parent_id"):
            break
        root = parent_rec["parent_id"]
        seen += 1
    family = env.hierarchy("res.partner", [root], "child_of")
    total = 0.0
    for pid in family:
        for mid in env.s.referencing("account.move", "partner_id", pid):
            inv = env.table("account.move")[mid]
            if inv.get("state") != "posted":
                continue
            sign = {"out_invoice": 1.0, "out_refund": -1.0}.get(str(inv.get("move_type")), 0.0)
            total += sign * _c_am_residual(env, inv)
    return round2(total)


# -- credit notes ---------------------------------------------------------------------------
def _reconcile_reversed(env: Env, note_id: int) -> None:
    """Posting a move whose reversed_entry_id is a posted move reconciles the two (17's
    ``_post`` -> ``_reconcile_reversed_moves``): their open items account by account. An
    invoice settled only by its reversals becomes ``reversed``; a credit note with nothing left
    to match (the invoice was paid) stays open, an outstanding credit."""
    note = env.must("account.move", note_id)
    inv = env.rec("account.move", note.get("reversed_entry_id"))
    if inv is None or inv.get("state") != "posted":
        return
    lines = [
        ln
        for mid in (inv["id"], note_id)
        for ln in move_lines(env, mid)
        if ln.get("display_type") == "payment_term" and not ln.get("reconciled")
    ]
    for account in dict.fromkeys(ln.get("account_id") for ln in lines):
        group = [ln["id"] for ln in lines if ln.get("account_id") == account]
        if len(group) > 1:
            reconcile(env, group)


@hook(POST_CREATE, "account.move")
def _post_am(env: Env, mid: int, vals: dict[str, Any]) -> None:
    """An invoice gets its receivable and tax lines; an entry must balance (Odoo checks it at
    create); lines linked to order lines put the move on the orders."""
    sync_invoice(env, mid)
    check_balanced(env, mid)
    link_sale_lines(env, mid)


@hook(POST_WRITE, "account.move")
def _post_am_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    if not {"invoice_line_ids", "line_ids", "partner_id", "journal_id"} & set(vals):
        return
    for mid in ids:
        sync_invoice(env, mid)
        if {"invoice_line_ids", "line_ids"} & set(vals):
            check_balanced(env, mid)
            link_sale_lines(env, mid)


def link_sale_lines(env: Env, mid: int) -> None:
    """Lines linked to order lines put the move on the orders (``invoice_ids``, computed from
    the lines' ``invoice_lines`` in Odoo)."""
    for lid in move_line_ids(env, mid):
        line = env.table("account.move.line")[lid]
        for sol_id in line.get("sale_line_ids") or []:
            sol = env.rec("sale.order.line", sol_id)
            if sol is None:
                continue
            if lid not in (sol.get("invoice_lines") or []):
                env.upd(
                    "sale.order.line",
                    sol_id,
                    {"invoice_lines": [*(sol.get("invoice_lines") or []), lid]},
                )
            order = env.must("sale.order", sol["order_id"])
            if mid not in (order.get("invoice_ids") or []):
                env.upd(
                    "sale.order",
                    order["id"],
                    {"invoice_ids": [mid, *(order.get("invoice_ids") or [])]},
                )


@hook(PRE_CREATE, "account.move.reversal")
def _pre_reversal(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    if not vals.get("move_ids") and env.ctx.get("active_model") == "account.move":
        vals["move_ids"] = [[6, 0, ids_arg(env.ctx.get("active_ids") or env.ctx.get("active_id"))]]
    return vals


@compute("account.move.reversal", "residual")
def _c_rev_residual(env: Env, rec: Record) -> float:
    return round2(
        sum(_c_am_residual(env, env.must("account.move", m)) for m in rec.get("move_ids") or [])
    )


@compute("account.move.reversal", "move_type")
def _c_rev_type(env: Env, rec: Record) -> Any:
    types = {env.must("account.move", m).get("move_type") for m in rec.get("move_ids") or []}
    return types.pop() if len(types) == 1 else False


def _reverse(env: Env, ids: list[int]) -> dict[str, Any]:
    if len(ids) != 1:
        raise OdooError(VALUE_ERROR, f"Expected singleton: account.move.reversal{tuple(ids)!r}")
    wiz = env.must("account.move.reversal", ids[0])
    new: list[int] = []
    for mid in wiz.get("move_ids") or []:
        inv = env.must("account.move", mid)
        if inv.get("state") != "posted":
            raise user_error("You can only reverse posted moves.")
        mtype = {"out_invoice": "out_refund", "in_invoice": "in_refund"}.get(
            str(inv.get("move_type")), "entry"
        )
        reason = wiz.get("reason")
        ref = f"Reversal of: {inv.get('name')}" + (f", {reason}" if reason else "")
        lines = []
        for ln in move_lines(env, mid):
            if ln.get("display_type") not in (None, "product"):
                continue
            lines.append(
                [
                    0,
                    0,
                    {
                        "product_id": ln.get("product_id"),
                        "name": ln.get("name"),
                        "quantity": ln.get("quantity"),
                        "price_unit": ln.get("price_unit"),
                        "discount": ln.get("discount") or 0.0,
                        "tax_ids": [[6, 0, list(ln.get("tax_ids") or [])]],
                        "sale_line_ids": [[6, 0, list(ln.get("sale_line_ids") or [])]],
                        "display_type": ln.get("display_type") or "product",
                        "account_id": ln.get("account_id"),
                    },
                ]
            )
        new.append(
            env.create_one(
                "account.move",
                {
                    "move_type": mtype,
                    "partner_id": inv.get("partner_id"),
                    "partner_shipping_id": inv.get("partner_shipping_id"),
                    "currency_id": inv.get("currency_id"),
                    "journal_id": wiz.get("journal_id") or inv.get("journal_id"),
                    "invoice_origin": inv.get("invoice_origin"),
                    "reversed_entry_id": mid,
                    "ref": ref,
                    "date": wiz.get("date") or today_str(),
                    "invoice_date": wiz.get("date") or today_str(),
                    "invoice_line_ids": lines,
                },
            )
        )
    env.upd("account.move.reversal", ids[0], {"new_move_ids": new})
    action: dict[str, Any] = {
        "name": "Reverse Moves",
        "type": "ir.actions.act_window",
        "res_model": "account.move",
    }
    if len(new) == 1:
        action.update(view_mode="form", res_id=new[0])
    else:
        action.update(view_mode="tree,form", domain=[["id", "in", new]])
    action["context"] = {"default_move_type": "out_refund"}
    return action


@method("account.move.reversal", "refund_moves")
def reversal_refund(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    return _reverse(env, ids)


@method("account.move.reversal", "reverse_moves")
def reversal_reverse(env: Env, model: str, ids: list[int], is_modify: bool = False) -> Any:
    if is_modify:
        raise user_error("The sandbox does not modify moves (reverse_moves(is_modify=True)).")
    return _reverse(env, ids)


@method("account.move.reversal", "modify_moves")
def reversal_modify(env: Env, model: str, ids: list[int]) -> Any:
    if len(ids) != 1:
        raise OdooError(VALUE_ERROR, f"Expected singleton: account.move.reversal{tuple(ids)!r}")
    raise user_error("The sandbox does not modify moves (modify_moves).")


@method("account.move", "action_reverse")
def am_action_reverse(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    """The "Credit Note" button: the stored act_window of the reversal wizard, whose context is
    the string "{}" with no active_ids (transcript 14 #14)."""
    for mid in ids:
        env.must("account.move", mid)
    return {
        "id": 241,
        "name": "Credit Note",
        "type": "ir.actions.act_window",
        "xml_id": "account.action_view_account_move_reversal",
        "help": False,
        "binding_model_id": [450, "Journal Entry"],
        "binding_type": "action",
        "binding_view_types": "list",
        "display_name": "Reverse",
        "view_id": [659, "account.move.reversal.form"],
        "domain": False,
        "context": "{}",
        "res_id": 0,
        "res_model": "account.move.reversal",
        "target": "new",
        "view_mode": "tree,form",
        "mobile_view_mode": "kanban",
        "views": [[659, "form"], [False, "tree"]],
        "limit": 80,
        "groups_id": [],
        "search_view_id": False,
        "filter": False,
    }
