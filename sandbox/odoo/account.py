"""Invoicing: customer invoices from orders, posting, the payment register wizard.

No journal items, no reconciliation model: an invoice's residual is its total minus what the
sandbox's payments applied to it. That is enough for an integration reading payment_state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import VALUE_ERROR, OdooError, user_error
from .orm import DISPLAY, POST_CREATE, PRE_CREATE, Env, compute, hook, ids_arg, method, round2
from .sale import _c_sol_to_invoice, order_lines, tax_amount
from .store import Record, today_str


def journal_of_type(env: Env, jtype: str) -> int | None:
    for jid, rec in sorted(env.table("account.journal").items()):
        if rec.get("type") == jtype:
            return jid
    return None


def aml_amounts(env: Env, rec: Record) -> tuple[float, float]:
    qty = float(rec.get("quantity") or 0)
    price = float(rec.get("price_unit") or 0) * (1 - float(rec.get("discount") or 0) / 100.0)
    sub = round2(price * qty)
    return sub, tax_amount(env, rec.get("tax_ids") or [], sub, qty)


@compute("account.move.line", "price_subtotal")
def _c_aml_sub(env: Env, rec: Record) -> float:
    return aml_amounts(env, rec)[0]


@compute("account.move.line", "price_total")
def _c_aml_total(env: Env, rec: Record) -> float:
    sub, tax = aml_amounts(env, rec)
    return round2(sub + tax)


def move_amounts(env: Env, rec: Record) -> tuple[float, float]:
    untaxed = tax = 0.0
    for lid in env.s.referencing("account.move.line", "move_id", rec["id"]):
        line = env.table("account.move.line")[lid]
        if line.get("display_type") not in (None, "product"):
            continue
        sub, t = aml_amounts(env, line)
        untaxed += sub
        tax += t
    return round2(untaxed), round2(tax)


@compute("account.move", "amount_untaxed")
def _c_am_untaxed(env: Env, rec: Record) -> float:
    return move_amounts(env, rec)[0]


@compute("account.move", "amount_tax")
def _c_am_tax(env: Env, rec: Record) -> float:
    return move_amounts(env, rec)[1]


@compute("account.move", "amount_total")
def _c_am_total(env: Env, rec: Record) -> float:
    untaxed, tax = move_amounts(env, rec)
    return round2(untaxed + tax)


@compute("account.move", "amount_residual")
def _c_am_residual(env: Env, rec: Record) -> float:
    if rec.get("state") == "cancel":
        return 0.0
    return round2(_c_am_total(env, rec) - float(rec.get("amount_paid") or 0))


def _am_display(env: Env, rec: Record) -> str:
    if rec.get("name") and rec.get("name") != "/":
        return str(rec["name"])
    return f"Draft Invoice (* {rec['id']})"


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
    vals.setdefault("date", today_str())
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


@method("account.move", "action_post")
def am_post(env: Env, model: str, ids: list[int]) -> bool:
    year = datetime.now(UTC).year
    for mid in ids:
        inv = env.must("account.move", mid)
        if inv.get("state") != "draft":
            raise user_error(f"The entry {_am_display(env, inv)} (id {mid}) is already posted.")
        if not env.s.referencing("account.move.line", "move_id", mid):
            raise user_error("You need to add a line before posting.")
        vals: dict[str, Any] = {"state": "posted"}
        if not inv.get("invoice_date") and inv.get("move_type") != "entry":
            vals["invoice_date"] = today_str()
            vals["invoice_date_due"] = today_str()
        if not inv.get("name") or inv.get("name") == "/":
            prefix = {
                "out_invoice": "INV",
                "out_refund": "RINV",
                "in_invoice": "BILL",
                "in_refund": "RBILL",
            }.get(str(inv.get("move_type")), "MISC")
            vals["name"] = f"{prefix}/{year}/{env.s.next_seq(f'{prefix}/{year}'):05d}"
        env.upd("account.move", mid, vals)
        if inv.get("reversed_entry_id"):
            _reconcile_reversed(env, mid)
        partner = env.rec("res.partner", inv.get("partner_id"))
        if partner is not None and str(inv.get("move_type", "")).startswith("out"):
            env.upd(
                "res.partner",
                partner["id"],
                {"customer_rank": int(partner.get("customer_rank") or 0) + 1},
            )
    return False  # Odoo 17's action_post returns False even on success


@method("account.move", "button_draft")
def am_draft(env: Env, model: str, ids: list[int]) -> None:
    for mid in ids:
        inv = env.must("account.move", mid)
        if float(inv.get("amount_paid") or 0) > 0:
            raise user_error("You cannot reset to draft a paid or partially paid entry.")
        env.upd("account.move", mid, {"state": "draft"})
    return None


@method("account.move", "button_cancel")
def am_cancel(env: Env, model: str, ids: list[int]) -> None:
    for mid in ids:
        inv = env.must("account.move", mid)
        if inv.get("state") != "draft":
            raise user_error("Only draft journal entries can be cancelled.")
        env.upd("account.move", mid, {"state": "cancel"})
    return None


# -- payments -----------------------------------------------------------------------------
@hook(PRE_CREATE, "account.payment.register")
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
    residual = sum(_c_am_residual(env, inv) for inv in invoices)
    if residual <= 0:
        raise user_error(
            "You can't register a payment because there is nothing left to pay "
            "on the selected journal items."
        )
    vals.setdefault("amount", round2(residual))
    vals.setdefault("journal_id", journal_of_type(env, "bank"))
    vals.setdefault("payment_date", today_str())
    vals.setdefault("payment_method_line_id", 1)
    vals.setdefault("communication", " ".join(str(i.get("name")) for i in invoices))
    vals.setdefault("partner_id", invoices[0].get("partner_id"))
    vals["line_ids"] = [[6, 0, inv_ids]]
    return vals


@method("account.payment.register", "action_create_payments")
def register_create(env: Env, model: str, ids: list[int]) -> dict[str, Any]:
    wiz = env.must("account.payment.register", ids[0])
    year = datetime.now(UTC).year
    journal = env.rec("account.journal", wiz.get("journal_id"))
    code = journal.get("code") if journal else "BNK1"
    name = f"P{code}/{year}/{env.s.next_seq(f'P{code}/{year}'):05d}"
    remaining = float(wiz.get("amount") or 0)
    invoices = list(wiz.get("line_ids") or [])
    fully = True
    for inv_id in invoices:
        inv = env.must("account.move", inv_id)
        due = _c_am_residual(env, inv)
        applied = min(due, remaining)
        remaining = round2(remaining - applied)
        paid = round2(float(inv.get("amount_paid") or 0) + applied)
        left = round2(_c_am_total(env, inv) - paid)
        state = "paid" if left <= 0 else ("partial" if paid > 0 else "not_paid")
        fully = fully and left <= 0
        env.upd("account.move", inv_id, {"amount_paid": paid, "payment_state": state})
    pay = env.new_raw(
        "account.payment",
        {
            "name": name,
            "amount": float(wiz.get("amount") or 0),
            "state": "posted",
            "is_reconciled": fully,
            "is_matched": False,
            "journal_id": wiz.get("journal_id"),
            "partner_id": wiz.get("partner_id"),
            "payment_type": "inbound",
            "date": wiz.get("payment_date") or today_str(),
            "ref": wiz.get("communication"),
            "currency_id": wiz.get("currency_id") or 1,
            "reconciled_invoice_ids": invoices,
        },
    )
    return {
        "name": "Payments",
        "type": "ir.actions.act_window",
        "res_model": "account.payment",
        "context": {"create": False},
        "view_mode": "form",
        "res_id": pay,
    }


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
    ``_post`` -> ``_reconcile_reversed_moves``): as much as both have open. An invoice settled
    only by its reversals becomes ``reversed``; a credit note with nothing left to match (the
    invoice was paid) stays open, an outstanding credit."""
    note = env.must("account.move", note_id)
    inv = env.rec("account.move", note.get("reversed_entry_id"))
    if inv is None or inv.get("state") != "posted":
        return
    applied = min(_c_am_residual(env, note), _c_am_residual(env, inv))
    if applied <= 0:
        return
    for move in (note, inv):
        paid = round2(float(move.get("amount_paid") or 0) + applied)
        left = round2(_c_am_total(env, move) - paid)
        by_reversal = round2(float(move.get("amount_reversed") or 0) + applied)
        if left > 0:
            state = "partial"
        elif move is inv and by_reversal >= paid:
            state = "reversed"
        else:
            state = "paid"
        env.upd(
            "account.move",
            move["id"],
            {"amount_paid": paid, "amount_reversed": by_reversal, "payment_state": state},
        )


@hook(POST_CREATE, "account.move")
def _post_am(env: Env, mid: int, vals: dict[str, Any]) -> None:
    """Lines linked to order lines put the move on the orders (``invoice_ids``, computed from
    the lines' ``invoice_lines`` in Odoo)."""
    for lid in env.s.referencing("account.move.line", "move_id", mid):
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
        for lid in sorted(env.s.referencing("account.move.line", "move_id", mid)):
            ln = env.table("account.move.line")[lid]
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
