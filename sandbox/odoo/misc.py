"""Partners, products, users, API keys, modules and automation rules."""

from __future__ import annotations

import json
from typing import Any

from .errors import OdooError, user_error, validation_error, value_error
from .orm import (
    DISPLAY,
    POST_CREATE,
    POST_WRITE,
    PRE_CREATE,
    PRE_WRITE,
    Env,
    compute,
    hook,
    method,
    round2,
)
from .sale import address_get
from .schema import REGISTRY, TEMPLATE_FIELDS
from .store import Record

ADDRESS_FIELDS = ("street", "street2", "city", "zip", "state_id", "country_id")


# -- res.partner --------------------------------------------------------------------------
def _partner_display(env: Env, rec: Record) -> str:
    name = rec.get("name") or ""
    parent = env.rec("res.partner", rec.get("parent_id"))
    if parent is not None and not rec.get("is_company"):
        if not name:
            labels = dict(REGISTRY["res.partner"].fields["type"].selection or [])
            name = labels.get(str(rec.get("type")), "")
        return f"{_partner_display(env, parent)}, {name}"
    return str(name)


DISPLAY["res.partner"] = _partner_display


@compute("res.partner", "complete_name")
def _c_partner_complete(env: Env, rec: Record) -> str:
    return _partner_display(env, rec)


@compute("res.partner", "company_type")
def _c_partner_ctype(env: Env, rec: Record) -> str:
    return "company" if rec.get("is_company") else "person"


@compute("res.partner", "commercial_partner_id")
def _c_partner_commercial(env: Env, rec: Record) -> int:
    cur = rec
    for _ in range(20):
        parent = env.rec("res.partner", cur.get("parent_id"))
        if cur.get("is_company") or parent is None:
            return int(cur["id"])
        cur = parent
    return int(cur["id"])


def _check_partner_name(vals: dict[str, Any], current: Record | None = None) -> None:
    merged = {**(current or {}), **vals}
    if (merged.get("type") or "contact") == "contact" and not merged.get("name"):
        raise validation_error("The operation cannot be completed: Contacts require a name")


@hook(PRE_CREATE, "res.partner")
def _pre_partner(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    _check_partner_name(vals)
    if "company_type" in vals:
        vals["is_company"] = vals.pop("company_type") == "company"
    parent = env.rec(
        "res.partner", vals.get("parent_id") if isinstance(vals.get("parent_id"), int) else None
    )
    if parent is not None and (vals.get("type") or "contact") == "contact":
        # Contact-type children share the company's address, as in Odoo.
        for f in ADDRESS_FIELDS:
            if f not in vals and parent.get(f) is not None:
                vals[f] = parent.get(f)
    return vals


@hook(PRE_WRITE, "res.partner")
def _pre_partner_write(env: Env, ids: list[int], vals: dict[str, Any]) -> dict[str, Any]:
    if "name" in vals or "type" in vals:
        for pid in ids:
            _check_partner_name(vals, env.must("res.partner", pid))
    if "company_type" in vals:
        vals = dict(vals)
        vals["is_company"] = vals.pop("company_type") == "company"
    return vals


@method("res.partner", "address_get")
def partner_address_get(env: Env, model: str, ids: list[int], adr_pref: Any = None) -> Any:
    prefs = list(adr_pref or ["contact"])
    if "contact" not in prefs:
        prefs.append("contact")
    pid = ids[0] if ids else 0
    env.must("res.partner", pid)
    result = address_get(env, pid, prefs)
    return dict(sorted(result.items()))


# -- products -----------------------------------------------------------------------------
SHARED = list(TEMPLATE_FIELDS)


def _check_barcodes(env: Env, pid: int) -> None:
    product = env.must("product.product", pid)
    code = product.get("barcode")
    if not code:
        return
    dups = [r for r, rec in env.table("product.product").items() if rec.get("barcode") == code]
    if len(dups) > 1:
        names = ", ".join(env.display_name("product.product", d) for d in sorted(dups))
        raise validation_error(
            f'Barcode(s) already assigned:\n\n- Barcode "{code}" already assigned to '
            f"product(s): {names}\n\nNote: products that you don't have access to will not be "
            "shown above."
        )


def _product_vals(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    if "type" in vals and "detailed_type" not in vals:
        vals["detailed_type"] = vals["type"]
    if "detailed_type" in vals:
        vals["type"] = vals["detailed_type"]
    if "lst_price" in vals and "list_price" not in vals:
        vals["list_price"] = vals.pop("lst_price")
    return vals


def _default_taxes(env: Env) -> list[int]:
    company = env.rec("res.company", 1)
    tax = company.get("_default_sale_tax") if company else None
    return [tax] if tax else []


@hook(PRE_CREATE, "product.product")
def _pre_product(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    vals = _product_vals(env, vals)
    vals.setdefault("taxes_id", [[6, 0, _default_taxes(env)]])
    return vals


@hook(POST_CREATE, "product.product")
def _post_product(env: Env, rid: int, vals: dict[str, Any]) -> None:
    product = env.must("product.product", rid)
    if product.get("product_tmpl_id"):
        return
    tmpl_vals = {f: product.get(f) for f in SHARED}
    tmpl = env.new_raw("product.template", tmpl_vals)
    env.upd("product.product", rid, {"product_tmpl_id": tmpl})
    _check_barcodes(env, rid)


@hook(POST_WRITE, "product.product")
def _post_product_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    for pid in ids:
        product = env.must("product.product", pid)
        shared = {f: product.get(f) for f in SHARED if f in vals or f == "type"}
        if product.get("product_tmpl_id"):
            env.upd("product.template", product["product_tmpl_id"], shared)
        if "barcode" in vals:
            _check_barcodes(env, pid)


@hook(PRE_WRITE, "product.product", "product.template")
def _pre_product_write(env: Env, ids: list[int], vals: dict[str, Any]) -> dict[str, Any]:
    return _product_vals(env, dict(vals))


@hook(PRE_CREATE, "product.template")
def _pre_template(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    vals = _product_vals(env, vals)
    vals.setdefault("taxes_id", [[6, 0, _default_taxes(env)]])
    return vals


@hook(POST_CREATE, "product.template")
def _post_template(env: Env, rid: int, vals: dict[str, Any]) -> None:
    tmpl = env.must("product.template", rid)
    pid = env.new_raw(
        "product.product", {**{f: tmpl.get(f) for f in SHARED}, "product_tmpl_id": rid}
    )
    _check_barcodes(env, pid)


@hook(POST_WRITE, "product.template")
def _post_template_write(env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    for tid in ids:
        tmpl = env.must("product.template", tid)
        shared = {f: tmpl.get(f) for f in SHARED if f in vals or f == "type"}
        for pid in env.s.referencing("product.product", "product_tmpl_id", tid):
            env.upd("product.product", pid, shared)
            if "barcode" in vals:
                _check_barcodes(env, pid)


def _product_display(env: Env, rec: Record) -> str:
    code = rec.get("default_code")
    return f"[{code}] {rec.get('name')}" if code else str(rec.get("name") or "")


DISPLAY["product.product"] = _product_display
DISPLAY["product.template"] = _product_display


@compute("product.product", "lst_price")
def _c_lst(env: Env, rec: Record) -> float:
    return float(rec.get("list_price") or 0)


@compute("product.product", "code")
def _c_code(env: Env, rec: Record) -> Any:
    return rec.get("default_code")


@compute("product.template", "product_variant_id")
def _c_variant(env: Env, rec: Record) -> Any:
    ids = sorted(env.s.referencing("product.product", "product_tmpl_id", rec["id"]))
    return ids[0] if ids else None


def _pricelist_display(env: Env, rec: Record) -> str:
    cur = env.rec("res.currency", rec.get("currency_id"))
    return f"{rec.get('name')} ({cur.get('name')})" if cur else str(rec.get("name"))


DISPLAY["product.pricelist"] = _pricelist_display


@compute("product.category", "complete_name")
def _c_categ(env: Env, rec: Record) -> str:
    parent = env.rec("product.category", rec.get("parent_id"))
    return f"{_c_categ(env, parent)} / {rec.get('name')}" if parent else str(rec.get("name"))


DISPLAY["product.category"] = _c_categ


# -- users & API keys ---------------------------------------------------------------------
@hook(PRE_CREATE, "res.users")
def _pre_user(env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    login = vals.get("login")
    if login and any(u.get("login") == login for u in env.table("res.users").values()):
        raise validation_error(
            "The operation cannot be completed: You can not have two users with the same login !"
        )
    if not vals.get("partner_id") and vals.get("name"):
        vals["partner_id"] = env.create_one(
            "res.partner",
            {"name": vals["name"], "email": vals.get("email") if "@" in str(login) else login},
        )
    vals.pop("email", None)
    if "groups_id" not in vals:
        internal = [
            g for g, rec in env.table("res.groups").items() if rec.get("_key") == "internal"
        ]
        vals["groups_id"] = [[6, 0, internal]]
    return vals


@hook(POST_CREATE, "res.users")
def _post_user(env: Env, rid: int, vals: dict[str, Any]) -> None:
    user = env.must("res.users", rid)
    portal = {g for g, rec in env.table("res.groups").items() if rec.get("_key") == "portal"}
    env.upd("res.users", rid, {"share": bool(portal & set(user.get("groups_id") or []))})


@method("res.users", "context_get", records=False)
def users_context_get(env: Env, model: str) -> dict[str, Any]:
    user = env.must("res.users", env.uid)
    return {"lang": user.get("lang") or "en_US", "tz": user.get("tz") or False, "uid": env.uid}


@method("res.users.apikeys.description", "make_key")
def make_key(env: Env, model: str, ids: list[int]) -> Any:
    if not env.ctx.get("_web_session"):
        raise user_error("This method can only be accessed over HTTP")
    desc = env.must("res.users.apikeys.description", ids[0])
    from .server import new_api_key  # local import: server imports this module

    key = new_api_key(env, env.uid, str(desc.get("name")))
    return {
        "type": "ir.actions.act_window",
        "res_model": "res.users.apikeys.show",
        "name": "API Key Ready",
        "views": [[False, "form"]],
        "target": "new",
        "context": {"default_key": key},
    }


@method("res.users.apikeys", "remove")
def apikey_remove(env: Env, model: str, ids: list[int]) -> Any:
    for kid in ids:
        key = env.must("res.users.apikeys", kid)
        if key.get("user_id") != env.uid:
            raise OdooError(
                "odoo.exceptions.AccessError",
                "You can not remove API keys unless they're yours or you are a system user",
            )
    env.unlink("res.users.apikeys", ids)
    return {"type": "ir.actions.act_window_close"}


# -- modules ------------------------------------------------------------------------------
@method("ir.module.module", "button_immediate_install")
def module_install(env: Env, model: str, ids: list[int]) -> Any:
    for mid in ids:
        env.must("ir.module.module", mid)
        env.upd("ir.module.module", mid, {"state": "installed", "latest_version": "17.0.1.0"})
    return {"type": "ir.actions.act_url", "target": "self", "url": "/web"}


@method("ir.module.module", "button_immediate_upgrade")
def module_upgrade(env: Env, model: str, ids: list[int]) -> Any:
    return module_install(env, model, ids)


# -- automation ---------------------------------------------------------------------------
@compute("base.automation", "url")
def _c_auto_url(env: Env, rec: Record) -> str:
    if rec.get("trigger") == "on_webhook":
        return f"/web/hook/{rec.get('_uuid', rec['id'])}"
    return ""


def _model_name(env: Env, rec: Record) -> Any:
    model = env.rec("ir.model", rec.get("model_id"))
    return model.get("model") if model else None


compute("base.automation", "model_name")(_model_name)
compute("ir.actions.server", "model_name")(_model_name)


@hook(POST_CREATE, "base.automation")
def _post_automation(env: Env, rid: int, vals: dict[str, Any]) -> None:
    auto = env.must("base.automation", rid)
    labels = dict(REGISTRY["ir.actions.server"].fields["state"].selection or [])
    for aid in env.s.referencing("ir.actions.server", "base_automation_id", rid):
        action = env.table("ir.actions.server")[aid]
        upd: dict[str, Any] = {
            "usage": "base_automation",
            "model_id": action.get("model_id") or auto.get("model_id"),
        }
        if action.get("state") in labels:
            # Odoo 17 names automation actions after their type.
            upd["name"] = labels[str(action["state"])]
        env.upd("ir.actions.server", aid, upd)


@compute("ir.actions.server", "webhook_sample_payload")
def _c_sample(env: Env, rec: Record) -> Any:
    if rec.get("state") != "webhook":
        return None
    model = _model_name(env, rec)
    payload: dict[str, Any] = {"_model": model, "_name": rec.get("name"), "id": 1}
    for fid in rec.get("webhook_field_ids") or []:
        field = env.rec("ir.model.fields", fid)
        if field is not None:
            payload[str(field.get("name"))] = 0
    return json.dumps(dict(sorted(payload.items())), indent=4)


@compute("ir.model.data", "complete_name")
def _c_xml_id(env: Env, rec: Record) -> str:
    return f"{rec.get('module')}.{rec.get('name')}"


@method("ir.model.data", "check_object_reference", records=False)
def imd_check_object_reference(
    env: Env, model: str, module: Any, xml_id: Any, raise_on_access_error: Any = False
) -> list[Any]:
    """[model, res_id] of an external id; [model, False] when the record is not readable."""
    found = next(
        (
            rec
            for rec in env.table("ir.model.data").values()
            if rec.get("module") == module and rec.get("name") == xml_id
        ),
        None,
    )
    if found is None or str(found.get("model")) not in REGISTRY:
        raise value_error(f"External ID not found in the system: {module}.{xml_id}")
    target, res_id = str(found["model"]), found.get("res_id")
    if env.rec(target, res_id) is not None:
        return [target, res_id]
    if raise_on_access_error:
        raise OdooError(
            "odoo.exceptions.AccessError",
            f"Not enough access rights on the external ID '{module}.{xml_id}'",
        )
    return [target, False]


@compute("sale.order.line", "product_type")
def _c_sol_product_type(env: Env, rec: Record) -> Any:
    product = env.rec("product.product", rec.get("product_id"))
    return product.get("detailed_type") if product else None


@compute("sale.order", "amount_invoiced")
def _c_so_invoiced(env: Env, rec: Record) -> float:
    """Posted invoices less posted credit notes, taxes included."""
    total = 0.0
    for mid in rec.get("invoice_ids") or []:
        move = env.rec("account.move", mid)
        if move is None or move.get("state") != "posted":
            continue
        sign = {"out_invoice": 1.0, "out_refund": -1.0}.get(str(move.get("move_type")), 0.0)
        total += sign * float(env.raw("account.move", move, "amount_total") or 0)
    return round2(total)


@compute("sale.order", "amount_to_invoice")
def _c_so_to_invoice(env: Env, rec: Record) -> float:
    return round2(float(env.raw("sale.order", rec, "amount_total") or 0) - _c_so_invoiced(env, rec))
