"""What Odoo 18 and 19 answer differently beyond a field's new name (versions.py renames those).

Applied by ``versions.apply`` when the sandbox presents itself as 18 or 19; the store keeps 17's
shape and these rewrite the answers at the wire, with the call's ``Env`` at hand. Each one was
read from the real 18.0 and 19.0 servers (tests/data/odoo/transcripts/18 and 19):

- ``account.payment.state``: 18 gave payments their own states. A posted payment is ``paid``
  when its liquidity item is matched with the bank (or its account does not reconcile), or when
  every invoice it pays is paid; else ``in_process``. ``cancel`` became ``canceled``
  (``rejected`` is never reached here). Domains on ``state`` are answered exactly.
- ``res.company``'s Outstanding Receipts/Payments fields are gone (the chart's external id
  ``account.<company>_account_journal_payment_debit_account_id`` names the account).
- ``ir.actions.act_window`` read as a whole record (create_invoices' action): 18 added ``path``
  and ``embedded_action_ids`` and says ``list`` for ``tree``; 19 renamed ``groups_id`` to
  ``group_ids`` and added ``cache``.
- ``stock.return.picking``: ``action_create_returns`` answers a form action whose context is the
  call's own; ``action_create_returns_all`` sets every line to what is left to return first.
- ``res.partner``'s pricelist: 18 stores the partner's own in the company-dependent
  ``specific_property_product_pricelist`` (the store's ``property_product_pricelist``; writing
  either sets it) and computes ``property_product_pricelist`` from it; 19 computes none while
  the "Pricelists" setting is off, as on a new database (``false`` for every partner). 19 also
  removed ``res.partner.mobile``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import KEY_ERROR, OdooError, value_error
from .ledger import EPS
from .orm import Env
from .payment import PAYMENT, _c_pay_invoices, _payment_lines

PAYMENT_STATES_18 = [
    ["draft", "Draft"],
    ["in_process", "In Process"],
    ["paid", "Paid"],
    ["canceled", "Canceled"],
    ["rejected", "Rejected"],
]
# model -> fields 18 removed (the store keeps them for the sandbox's own use)
REMOVED_FIELDS: dict[str, set[str]] = {
    "res.company": {
        "account_journal_payment_debit_account_id",
        "account_journal_payment_credit_account_id",
    },
}
# the same, removed by 19
REMOVED_FIELDS_19: dict[str, set[str]] = {"res.partner": {"mobile"}}
# The customer-invoices action as create_invoices answers it, per version (ids of the real
# demo databases; only the keys are compared by the replays).
INVOICE_ACTION_XMLID = "account.action_move_out_invoice_type"
INVOICE_ACTION: dict[int, dict[str, Any]] = {
    18: {
        "id": 262,
        "path": "invoicing",
        "view_id": [709, "account.out.invoice.list"],
        "domain": "[('move_type', 'in', ['out_invoice', 'out_refund'])]",
        "views": [[716, "form"], [709, "list"], [False, "kanban"], [False, "activity"]],
        "search_view_id": [719, "account.invoice.select"],
    },
    19: {
        "id": 261,
        "path": "invoicing",
        "view_id": [738, "account.out.invoice.list"],
        "domain": "[('move_type', 'in', ['out_invoice', 'out_refund', 'out_receipt'])]",
        "views": [[744, "form"], [738, "list"], [False, "kanban"], [False, "activity"]],
        "search_view_id": [747, "account.invoice.select"],
    },
}

WireOut = Callable[[Any], Any]


# -- a field the version does not have ------------------------------------------------------------
def invalid_field(major: int, model: str, fname: str, where: str, leaf: Any = None) -> OdooError:
    """What the real server answers for a field it lacks, by where the call named it: ``read``
    (fields to read), ``leaf`` (a domain), ``create``, ``write`` or ``line`` (a one2many
    command). Read from real 17, 18 and 19 servers: 19 reworded all but the line's, and its
    write fails on the bare name (a KeyError)."""
    if where == "leaf":
        word = "condition" if major >= 19 else "leaf"
        path = leaf[0] if isinstance(leaf, (list, tuple)) and leaf else fname
        return value_error(f"Invalid field {model}.{path} in {word} {tuple(leaf or ())!r}")
    if major >= 19 and where == "read":
        return value_error(f"Invalid field {fname!r} on {model!r}")
    if major >= 19 and where == "create":
        return value_error(f"Invalid field {fname!r} in {model!r}")
    if major >= 19 and where == "write":
        return OdooError(KEY_ERROR, fname)
    return value_error(f"Invalid field {fname!r} on model {model!r}")


# -- account.payment's states ---------------------------------------------------------------------
def payment_state(env: Env, rec: dict[str, Any]) -> str:
    """18's ``_compute_state`` over the store's 17 state."""
    state = str(rec.get("state") or "draft")
    if state == "cancel":
        return "canceled"
    if state != "posted":
        return state
    liquidity, _, _ = _payment_lines(env, rec)
    accounts = [env.rec("account.account", ln.get("account_id")) or {} for ln in liquidity]
    residual = sum(float(ln.get("amount_residual") or 0) for ln in liquidity)
    if abs(residual) < EPS or not any(acc.get("reconcile") for acc in accounts):
        return "paid"
    invoices = _c_pay_invoices(env, rec)
    moves = env.table("account.move")
    if invoices and all(moves[i].get("payment_state") == "paid" for i in invoices if i in moves):
        return "paid"
    return "in_process"


def _payment_domain(env: Env, domain: Any) -> Any:
    """Leaves on ``state`` become leaves on the ids whose 18 state matches."""
    if not isinstance(domain, list):
        return domain
    out: list[Any] = []
    for leaf in domain:
        if (
            isinstance(leaf, (list, tuple))
            and len(leaf) == 3
            and leaf[0] == "state"
            and leaf[1] in ("=", "!=", "in", "not in")
        ):
            wanted = set(leaf[2]) if isinstance(leaf[2], (list, tuple)) else {leaf[2]}
            hit = sorted(
                pid for pid, rec in env.table(PAYMENT).items() if payment_state(env, rec) in wanted
            )
            out.append(["id", "in" if leaf[1] in ("=", "in") else "not in", hit])
        else:
            out.append(leaf)
    return out


def _payment_in(env: Env, meth: str, margs: list[Any], kwargs: dict[str, Any]) -> WireOut | None:
    if meth in ("search", "search_read", "search_count", "read_group"):
        if margs:
            margs[0] = _payment_domain(env, margs[0])
        if "domain" in kwargs:
            kwargs["domain"] = _payment_domain(env, kwargs["domain"])
    if meth in ("read", "search_read"):

        def rows_out(result: Any) -> Any:
            table = env.table(PAYMENT)
            for row in result if isinstance(result, list) else []:
                if isinstance(row, dict) and "state" in row and row.get("id") in table:
                    row["state"] = payment_state(env, table[row["id"]])
            return result

        return rows_out
    if meth == "fields_get":

        def fields_out(result: Any) -> Any:
            state = result.get("state") if isinstance(result, dict) else None
            if isinstance(state, dict) and "selection" in state:
                state["selection"] = [list(s) for s in PAYMENT_STATES_18]
            return result

        return fields_out
    return None


# -- fields 18 removed ----------------------------------------------------------------------------
def removed_fields(major: int) -> dict[str, set[str]]:
    """model -> the fields version ``major`` (18+) no longer has."""
    out = {m: set(f) for m, f in REMOVED_FIELDS.items()}
    if major >= 19:
        for model, fields in REMOVED_FIELDS_19.items():
            out.setdefault(model, set()).update(fields)
    return out


def _removed_in(
    major: int, model: str, meth: str, margs: list[Any], kwargs: dict[str, Any]
) -> WireOut | None:
    gone = removed_fields(major)[model]

    def check(names: Any, where: str = "read") -> None:
        for name in names if isinstance(names, (list, tuple, dict)) else []:
            if name in gone:
                raise invalid_field(major, model, str(name), where)

    if meth in ("search", "search_read", "search_count", "read_group"):
        domain = margs[0] if margs else kwargs.get("domain")
        for leaf in domain if isinstance(domain, list) else []:
            if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and leaf[0] in gone:
                raise invalid_field(major, model, str(leaf[0]), "leaf", leaf)
    if meth in ("create", "write"):
        pos = 0 if meth == "create" else 1
        vals = margs[pos] if len(margs) > pos else kwargs.get("vals_list" if pos == 0 else "vals")
        for v in vals if isinstance(vals, list) else [vals]:
            check(v, meth)
    if meth in ("read", "search_read", "fields_get"):
        names = margs[1] if meth == "read" and len(margs) > 1 else kwargs.get("fields")
        if meth == "search_read" and len(margs) > 1:
            names = margs[1]
        if meth != "fields_get":  # fields_get leaves a field it lacks out (read from 18, 19)
            check(names)

        def drop(result: Any) -> Any:
            rows = result if isinstance(result, list) else [result]
            for row in rows:
                if isinstance(row, dict):
                    for name in gone:
                        row.pop(name, None)
            return result

        return drop
    return None


# -- res.partner's pricelist ---------------------------------------------------------------------
PARTNER = "res.partner"
OWN_PRICELIST = "specific_property_product_pricelist"
PRICELIST = "property_product_pricelist"  # the store's field: the partner's own pricelist


def _partner_vals(vals: Any) -> Any:
    if not isinstance(vals, dict) or OWN_PRICELIST not in vals:
        return vals
    out = {k: v for k, v in vals.items() if k != OWN_PRICELIST}
    out.setdefault(PRICELIST, vals[OWN_PRICELIST])
    return out


def _partner_in(major: int, meth: str, margs: list[Any], kwargs: dict[str, Any]) -> WireOut | None:
    """``specific_property_product_pricelist`` is the store's ``property_product_pricelist``;
    19 reads ``property_product_pricelist`` as ``false`` (the "Pricelists" setting is off)."""
    if meth in ("create", "write"):
        pos, name = (0, "vals_list") if meth == "create" else (1, "vals")
        value = margs[pos] if len(margs) > pos else kwargs.get(name)
        value = (
            [_partner_vals(v) for v in value] if isinstance(value, list) else _partner_vals(value)
        )
        if len(margs) > pos:
            margs[pos] = value
        elif name in kwargs:
            kwargs[name] = value
        return None
    if meth in ("search", "search_read", "search_count", "read_group"):
        domain = margs[0] if margs else kwargs.get("domain")
        for i, leaf in enumerate(domain if isinstance(domain, list) else []):
            if isinstance(leaf, list) and len(leaf) == 3 and leaf[0] == OWN_PRICELIST:
                domain[i] = [PRICELIST, *leaf[1:]]
    if meth == "fields_get":

        def fields_out(result: Any) -> Any:
            if isinstance(result, dict) and isinstance(result.get(PRICELIST), dict):
                result[OWN_PRICELIST] = {**result[PRICELIST], "string": "Pricelist"}
                result[PRICELIST] = {**result[PRICELIST], "store": False}
            return result

        return fields_out
    if meth not in ("read", "search_read"):
        return None
    pos = 1 if len(margs) > 1 else -1
    names = margs[pos] if pos > 0 else kwargs.get("fields")
    asked = list(names) if isinstance(names, list) and names else None
    if asked and OWN_PRICELIST in asked:
        store_names = list(dict.fromkeys(PRICELIST if n == OWN_PRICELIST else n for n in asked))
        if pos > 0:
            margs[pos] = store_names
        else:
            kwargs["fields"] = store_names

    def rows_out(result: Any) -> Any:
        for row in result if isinstance(result, list) else []:
            if not isinstance(row, dict) or PRICELIST not in row:
                continue
            own = row[PRICELIST]
            if asked is None or OWN_PRICELIST in asked:
                row[OWN_PRICELIST] = own
            if asked is not None and PRICELIST not in asked:
                del row[PRICELIST]
            elif major >= 19:
                row[PRICELIST] = False
        return result

    return rows_out


# -- window actions -------------------------------------------------------------------------------
def act_window_out(major: int, result: Any) -> Any:
    """A whole ir.actions.act_window record as 18/19 read it."""
    if not (
        isinstance(result, dict)
        and result.get("type") == "ir.actions.act_window"
        and "xml_id" in result
    ):
        return result
    out = {}
    for key, value in result.items():
        if key == "groups_id" and major >= 19:
            key = "group_ids"
        if key == "view_mode" and isinstance(value, str):
            value = ",".join("list" if v == "tree" else v for v in value.split(","))
        if key == "views" and isinstance(value, list):
            value = [
                [v[0], _view(v[1])] if isinstance(v, list) and len(v) == 2 else v for v in value
            ]
        out[key] = value
    out.setdefault("path", False)
    out.setdefault("embedded_action_ids", [])
    if major >= 19:
        out.setdefault("cache", True)
    if out.get("xml_id") == INVOICE_ACTION_XMLID:
        shaped = INVOICE_ACTION[major]
        for key, value in shaped.items():
            if key == "domain" and isinstance(out.get("domain"), list):
                continue  # several invoices: the action is narrowed to their ids
            out[key] = value
        ctx = out.get("context")
        if major >= 19 and isinstance(ctx, dict):
            ctx.pop("default_invoice_origin", None)
    return out


def _view(mode: Any) -> Any:
    return "list" if mode == "tree" else mode


# -- the return wizard ----------------------------------------------------------------------------
def call_context(env: Env) -> dict[str, Any]:
    """The context the caller passed (the sandbox's own keys start with "_")."""
    return {k: v for k, v in env.ctx.items() if not str(k).startswith("_")}


def returns_action(create_returns: Callable[..., Any]) -> Callable[..., Any]:
    def action_create_returns(env: Env, model: str, ids: list[int]) -> Any:
        action = create_returns(env, model, ids)
        # 18+: a plain form action whose context is self.env.context (transcripts 18/34, 20 #57)
        return {**action, "view_mode": "form", "context": call_context(env)}

    return action_create_returns


def returns_all(action_create_returns: Callable[..., Any]) -> Callable[..., Any]:
    def action_create_returns_all(env: Env, model: str, ids: list[int]) -> Any:
        """Every line set to what its move delivered less what was returned already."""
        wiz = env.must(model, ids[0]) if ids else None
        if wiz is None:
            raise value_error(f"Expected singleton: {model}()")
        moves = env.table("stock.move")
        for lid in sorted(env.s.referencing("stock.return.picking.line", "wizard_id", ids[0])):
            line = env.table("stock.return.picking.line")[lid]
            move = env.rec("stock.move", line.get("move_id"))
            if move is None or move.get("state") == "cancel":
                continue
            returned = sum(
                float(moves[r].get("quantity") or 0)
                for r in env.s.referencing("stock.move", "origin_returned_move_id", move["id"])
                if moves[r].get("state") != "cancel"
            )
            qty = round(float(move.get("quantity") or 0) - returned, 6)
            env.write("stock.return.picking.line", [lid], {"quantity": qty})
        return action_create_returns(env, model, ids)

    return action_create_returns_all


# -- at the wire ----------------------------------------------------------------------------------
def wire_in(
    env: Env | None, major: int, model: str, meth: str, margs: list[Any], kwargs: dict[str, Any]
) -> WireOut | None:
    """Rewrite an 18/19 call's arguments for the store; the function rewrites the answer."""
    outs: list[WireOut] = []
    if model == PAYMENT and env is not None:
        fn = _payment_in(env, meth, margs, kwargs)
        if fn is not None:
            outs.append(fn)
    if model in removed_fields(major):
        fn = _removed_in(major, model, meth, margs, kwargs)
        if fn is not None:
            outs.append(fn)
    if model == PARTNER:
        fn = _partner_in(major, meth, margs, kwargs)
        if fn is not None:
            outs.append(fn)

    def out(result: Any) -> Any:
        for fn in outs:
            result = fn(result)
        return act_window_out(major, result)

    return out
