"""Which Odoo the sandbox presents itself as: 17 (default), 18 or 19.

``python -m sandbox.odoo --odoo-version 19`` applies a profile once at startup (one version per
process). Inside, the store keeps Odoo 17's shape; the renames below are applied at the wire, in
``Sandbox.execute`` (JSON-RPC, JSON-2 and the web client alike), so the whole sandbox behaves the
same on every version and only the names differ. The renames implemented (the ones the hub's
version adapters rely on, EXTERNAL_API.md §21, transcript 20):

| | 17 | 18 | 19 |
|---|---|---|---|
| ``common.version`` | 17.0 | 18.0 | 19.0 |
| storable product | ``detailed_type='product'`` | ``type='consu'`` + ``is_storable`` | same as 18 |
| return wizard button | ``create_returns`` | ``action_create_returns`` | same as 18 |
| return wizard line quantity | the delivered quantity | 0 | 0 |
| JSON-2 (``/json/2``, ``GET /web/version``) | no | no | yes |
| JSON-RPC ``error.code`` | 200 | 200 | 0 |
| ``account.payment`` ref (the register wizard's communication) | ``ref`` | ``memo`` | ``memo`` |
| ``account.move``'s payment | ``payment_id`` | ``origin_payment_id`` | same as 18 |
| ``res.users`` groups | ``groups_id`` | ``groups_id`` | ``group_ids`` |
| order line tax, unit | ``tax_id``, ``product_uom`` | as 17 | ``tax_ids``, ``product_uom_id`` |

What 18+ does beyond renames (payment states, removed company fields, window actions' keys, the
return wizard's action and ``action_create_returns_all``, the wording of a missing field's
error) is in since18.py. docs/sandbox.md lists the differences that are known and not emulated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from . import errors as _errors
from . import since18
from .errors import OdooError, value_error

PRODUCT_MODELS = ("product.product", "product.template")
STORABLE = "product"  # 17's detailed_type value for a storable product, kept in the store


@dataclass(frozen=True)
class Profile:
    major: int
    server_version: str
    json2: bool
    storable_flag: bool  # type consu + is_storable instead of detailed_type
    return_method: str
    return_lines_zero: bool
    jsonrpc_error_code: int

    @property
    def version_info(self) -> list[object]:
        return [self.major, 0, 0, "final", 0, ""]

    @property
    def serie(self) -> str:
        return f"{self.major}.0"


PROFILES: dict[int, Profile] = {
    17: Profile(17, "17.0-20240709", False, False, "create_returns", False, 200),
    18: Profile(18, "18.0", False, True, "action_create_returns", True, 200),
    19: Profile(19, "19.0", True, True, "action_create_returns", True, 0),
}
ACTIVE: Profile = PROFILES[17]


def apply(major: int) -> Profile:
    """Present the sandbox as Odoo ``major`` (process-wide; call once, before serving)."""
    global ACTIVE
    from . import server, stock
    from .orm import COMPUTES, METHODS, POST_CREATE
    from .schema import REGISTRY, Field

    profile = PROFILES[major]
    if profile.major == ACTIVE.major:
        return profile
    ACTIVE = profile
    server.VERSION_INFO.update(
        server_version=profile.server_version,
        server_version_info=profile.version_info,
        server_serie=profile.serie,
    )
    _errors.DEFAULT_CODE = profile.jsonrpc_error_code
    if profile.return_method != "create_returns":
        methods = METHODS["stock.return.picking"]
        action = since18.returns_action(methods.pop("create_returns")[0])
        methods[profile.return_method] = (action, True)
        methods["action_create_returns_all"] = (since18.returns_all(action), True)
    if profile.return_lines_zero:
        POST_CREATE["stock.return.picking"] = _zero_lines(POST_CREATE["stock.return.picking"])
    RENAMED_FIELDS.update(RENAMES_BY_VERSION.get(profile.major, {}))
    if profile.storable_flag:
        for model in PRODUCT_MODELS:
            REGISTRY[model].fields["is_storable"] = Field("boolean", "Track Inventory", store=False)
            COMPUTES[(model, "is_storable")] = _c_is_storable
    del stock  # imported for its registrations only
    return profile


def _c_is_storable(env: Any, rec: dict[str, Any]) -> bool:
    return rec.get("detailed_type") == STORABLE


def _zero_lines(hook: Any) -> Any:
    def post_create(env: Any, rid: int, vals: dict[str, Any]) -> None:
        hook(env, rid, vals)
        lines = sorted(env.s.referencing("stock.return.picking.line", "wizard_id", rid))
        if lines:
            env.write("stock.return.picking.line", lines, {"quantity": 0.0})

    return post_create


# --- the storable-product rename at the wire ------------------------------------------------


def wire_in(
    model: str, meth: str, margs: list[Any], kwargs: dict[str, Any], env: Any = None
) -> Any:
    """Rewrite a call made with the active version's names into the store's (17) names.
    Returns a function that rewrites the result back, or None. ``env`` (the call's) lets 18+
    answer what is more than a rename (since18.py)."""
    if ACTIVE.major < 18:
        return None
    names_out = _names_in(model, meth, margs, kwargs)
    shape_out = since18.wire_in(env, ACTIVE.major, model, meth, margs, kwargs)

    def out(result: Any) -> Any:
        if names_out is not None:
            result = names_out(result)
        return shape_out(result) if shape_out is not None else result

    return out


def _names_in(model: str, meth: str, margs: list[Any], kwargs: dict[str, Any]) -> Any:
    if not ACTIVE.storable_flag:
        return None
    if model in PRODUCT_MODELS:
        return _product_in(model, meth, margs, kwargs)
    for (parent, fname), line_model in LINE_FIELDS.items():
        if model == parent and line_model in RENAMED_FIELDS and meth in ("create", "write"):
            pos, name = (0, "vals_list") if meth == "create" else (1, "vals")
            _map_arg(margs, pos, kwargs, name, partial(_lines, fname=fname, line_model=line_model))
    renames = RENAMED_FIELDS.get(model)
    if renames:
        return _renamed_in(model, renames, meth, margs, kwargs)
    if model == "sale.order.line" and meth in ("read", "search_read") and not renames:
        return _rows_out(lambda row: _consu(row, "product_type"))
    return None


def _product_in(model: str, meth: str, margs: list[Any], kwargs: dict[str, Any]) -> Any:
    if meth in ("search", "search_read", "search_count", "read_group"):
        if margs:
            margs[0] = _domain(model, margs[0])
        if "domain" in kwargs:
            kwargs["domain"] = _domain(model, kwargs["domain"])
    if meth == "create":
        _map_arg(margs, 0, kwargs, "vals_list", lambda v: _vals(model, v))
    if meth == "write":
        _map_arg(margs, 1, kwargs, "vals", lambda v: _vals(model, v, create=False))
    if meth == "fields_get":
        return _fields_get_out
    if meth in ("read", "search_read"):
        pos = 1
        if len(margs) > pos and margs[pos]:
            margs[pos] = _fields(model, margs[pos])
        elif kwargs.get("fields"):
            kwargs["fields"] = _fields(model, kwargs["fields"])
        return _rows_out(_product_row)
    return None


def _lines(vals: Any, fname: str, line_model: str) -> Any:
    """Rename the values inside ``[0, 0, {...}]`` / ``[1, id, {...}]`` line commands."""
    if not isinstance(vals, dict) or not isinstance(vals.get(fname), list):
        return vals
    renames = RENAMED_FIELDS[line_model]
    old_names = set(renames.values())
    cmds = []
    for cmd in vals[fname]:
        if isinstance(cmd, list) and len(cmd) == 3 and isinstance(cmd[2], dict):
            for key in cmd[2]:
                if key in old_names:  # the old name is refused, as on the real server
                    raise _invalid(line_model, key, "line")
            cmd = [cmd[0], cmd[1], {renames.get(k, k): v for k, v in cmd[2].items()}]
        cmds.append(cmd)
    return {**vals, fname: cmds}


def _map_arg(margs: list[Any], pos: int, kwargs: dict[str, Any], name: str, fn: Any) -> None:
    """Rewrite the values of a create or write, passed by position or by name (JSON-2)."""

    def each(value: Any) -> Any:
        return [fn(v) for v in value] if isinstance(value, list) else fn(value)

    if len(margs) > pos:
        margs[pos] = each(margs[pos])
    elif name in kwargs:
        kwargs[name] = each(kwargs[name])


# model -> {the new name: the store's (17) name}, per version (filled by ``apply``)
RENAMED_FIELDS: dict[str, dict[str, str]] = {}
RENAMES_18: dict[str, dict[str, str]] = {
    "account.payment": {"memo": "ref"},
    "account.move": {"origin_payment_id": "payment_id"},
}
RENAMES_BY_VERSION: dict[int, dict[str, dict[str, str]]] = {
    18: RENAMES_18,
    19: {
        **RENAMES_18,
        "sale.order.line": {"tax_ids": "tax_id", "product_uom_id": "product_uom"},
        "res.users": {"group_ids": "groups_id"},
    },
}
# one2many fields whose line commands carry a renamed model's values
LINE_FIELDS = {("sale.order", "order_line"): "sale.order.line"}


def _renamed_in(
    model: str, renames: dict[str, str], meth: str, margs: list[Any], kwargs: dict[str, Any]
) -> Any:
    old_names = set(renames.values())

    def name(fname: Any) -> Any:
        if fname in old_names:
            raise _invalid(model, str(fname), "read")
        return renames.get(fname, fname)

    def domain(dom: Any) -> Any:
        if not isinstance(dom, list):
            return dom
        out = []
        for leaf in dom:
            if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and isinstance(leaf[0], str):
                if leaf[0] in old_names:
                    raise _invalid(model, leaf[0], "leaf", leaf)
                leaf = [renames.get(leaf[0], leaf[0]), *leaf[1:]]
            out.append(leaf)
        return out

    def vals(v: Any, where: str) -> Any:
        if not isinstance(v, dict):
            return v
        for key in v:
            if key in old_names:
                raise _invalid(model, str(key), where)
        return {renames.get(k, k): x for k, x in v.items()}

    if meth in ("search", "search_read", "search_count", "read_group"):
        if margs:
            margs[0] = domain(margs[0])
        if "domain" in kwargs:
            kwargs["domain"] = domain(kwargs["domain"])
    if meth == "create":
        _map_arg(margs, 0, kwargs, "vals_list", partial(vals, where="create"))
    if meth == "write":
        _map_arg(margs, 1, kwargs, "vals", partial(vals, where="write"))
    if meth in ("read", "search_read"):
        if len(margs) > 1 and isinstance(margs[1], list):
            margs[1] = [name(f) for f in margs[1]]
        elif isinstance(kwargs.get("fields"), list):
            kwargs["fields"] = [name(f) for f in kwargs["fields"]]
        back = {old: new for new, old in renames.items()}

        def row_out(row: dict[str, Any]) -> None:
            for old, new in back.items():
                if old in row:
                    row[new] = row.pop(old)

        return _rows_out(row_out)
    if meth == "fields_get":

        def fields_out(result: Any) -> Any:
            if isinstance(result, dict):
                for new, old in renames.items():
                    if old in result:
                        result[new] = result.pop(old)
            return result

        return fields_out
    return None


def _invalid(model: str, fname: str, where: str, leaf: Any = None) -> OdooError:
    """A field the active version does not have (its 17 name), worded as that version does."""
    return since18.invalid_field(ACTIVE.major, model, fname, where, leaf)


def _fields(model: str, fields: Any) -> Any:
    if not isinstance(fields, list):
        return fields
    if "detailed_type" in fields:
        raise _invalid(model, "detailed_type", "read")
    out = ["detailed_type" if f == "is_storable" else f for f in fields]
    return list(dict.fromkeys(out))


def _vals(model: str, vals: Any, create: bool = True) -> Any:
    if not isinstance(vals, dict):
        return vals
    vals = dict(vals)
    if "detailed_type" in vals:
        raise _invalid(model, "detailed_type", "create" if create else "write")
    ptype = vals.pop("type", None)
    if ptype is not None and ptype not in ("consu", "service", "combo"):
        raise value_error(f"Wrong value for product.template.type: {ptype!r}")
    storable = vals.pop("is_storable", None)
    if storable:
        vals["detailed_type"] = STORABLE
    elif ptype == "service" or storable is not None:
        vals["detailed_type"] = "service" if ptype == "service" else "consu"
    elif ptype is not None and create:
        vals["detailed_type"] = "consu"
    # a write of type "consu" alone keeps the product storable, as in 18+
    return vals


def _leaf(model: str, leaf: Any) -> Any:
    if not (isinstance(leaf, (list, tuple)) and len(leaf) == 3 and isinstance(leaf[0], str)):
        return leaf
    path, op, value = leaf
    last = path.rsplit(".", 1)[-1]
    if last == "detailed_type":
        raise _invalid(model, path, "leaf", leaf)
    if last == "is_storable":
        field = path[: -len("is_storable")] + "detailed_type"
        positive = bool(value) == (op in ("=", "=="))
        return [field, "=" if positive else "!=", STORABLE]
    if path == "type":
        values = value if isinstance(value, list) else [value]
        if "consu" in values:
            values = [*values, STORABLE]
        if op in ("=", "in"):
            return ["detailed_type", "in", values]
        if op in ("!=", "not in"):
            return ["detailed_type", "not in", values]
    return leaf


def _domain(model: str, domain: Any) -> Any:
    if not isinstance(domain, list):
        return domain
    return [_leaf(model, leaf) for leaf in domain]


def _consu(row: dict[str, Any], key: str) -> None:
    if row.get(key) == STORABLE:
        row[key] = "consu"


def _product_row(row: dict[str, Any]) -> None:
    if "detailed_type" in row:
        row["is_storable"] = row.pop("detailed_type") == STORABLE
    _consu(row, "type")


def _rows_out(fix: Any) -> Any:
    def out(result: Any) -> Any:
        if isinstance(result, list):
            for row in result:
                if isinstance(row, dict):
                    fix(row)
        return result

    return out


def _fields_get_out(result: Any) -> Any:
    if isinstance(result, dict):
        result.pop("detailed_type", None)
        if isinstance(result.get("type"), dict) and "selection" in result["type"]:
            result["type"]["selection"] = [
                ["consu", "Goods"],
                ["service", "Service"],
                ["combo", "Combo"],
            ]
    return result
