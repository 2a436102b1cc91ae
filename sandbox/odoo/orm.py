"""The generic ORM layer: value conversion, create/write/unlink/read/search, domains.

Model-specific behaviour plugs in through the registries below (computed fields, display
names, create/write hooks, public methods), filled by ``stock``, ``sale``, ``account`` and
``misc``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from . import domain as dom
from .errors import (
    ACCESS_ERROR,
    ATTRIBUTE_ERROR,
    MISSING_ERROR,
    TYPE_ERROR,
    OdooError,
    validation_error,
    value_error,
)
from .schema import REGISTRY, Field, Model
from .store import Record, Store

Ctx = dict[str, Any]
ComputeFn = Callable[["Env", Record], Any]
HookFn = Callable[..., Any]

COMPUTES: dict[tuple[str, str], ComputeFn] = {}
DISPLAY: dict[str, Callable[[Env, Record], str]] = {}
PRE_CREATE: dict[str, HookFn] = {}
POST_CREATE: dict[str, HookFn] = {}
PRE_WRITE: dict[str, HookFn] = {}
POST_WRITE: dict[str, HookFn] = {}
PRE_UNLINK: dict[str, HookFn] = {}
# model -> method name -> (function, takes record ids as first argument)
METHODS: dict[str, dict[str, tuple[Callable[..., Any], bool]]] = {}

READ_METHODS = {
    "search",
    "search_read",
    "read",
    "search_count",
    "name_search",
    "fields_get",
    "default_get",
    "read_group",
    "check_access_rights",
    "address_get",
    "name_get",
    "context_get",
    "web_search_read",
    "web_read",
}


def compute(model: str, *fields: str) -> Callable[[ComputeFn], ComputeFn]:
    def deco(fn: ComputeFn) -> ComputeFn:
        for f in fields:
            COMPUTES[(model, f)] = fn
        return fn

    return deco


def method(model: str, name: str, records: bool = True) -> Callable[[HookFn], HookFn]:
    """Register a public RPC method. ``records`` methods receive the ids as first argument."""

    def deco(fn: HookFn) -> HookFn:
        METHODS.setdefault(model, {})[name] = (fn, records)
        return fn

    return deco


def hook(table: dict[str, HookFn], *models: str) -> Callable[[HookFn], HookFn]:
    def deco(fn: HookFn) -> HookFn:
        for m in models:
            table[m] = fn
        return fn

    return deco


def class_name(model: str) -> str:
    return "".join(part.capitalize() for part in model.replace("_", ".").split("."))


def round2(x: float) -> float:
    """Currency rounding, half away from zero like Odoo's float_round."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def ids_arg(value: Any) -> list[int]:
    if value is None or value is False:
        return []
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value if isinstance(v, int) and not isinstance(v, bool)]
    raise OdooError(TYPE_ERROR, f"Invalid record ids: {value!r}")


def mandatory_error(model: Model, fname: str) -> OdooError:
    f = model.fields[fname]
    return validation_error(
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. If possible, archive it "
        f"instead.\n\nModel: {model.description} ({model.name})\nField: {f.string} ({fname})\n"
    )


class Env:
    """One RPC call's view of the store: user, context, caches and counters."""

    def __init__(self, store: Store, uid: int, ctx: Ctx | None = None) -> None:
        self.s = store
        self.uid = uid
        self.ctx: Ctx = ctx or {}
        self.cache: dict[Any, Any] = {}
        # What a PRE_* hook hands to its POST_* hook (the cache is cleared by every update).
        self.pending: dict[str, Any] = {}
        # Records read, and records written: they drive the per-record latency.
        self.reads: list[int] = [0]
        self.written: set[tuple[str, int]] = set()
        self.after_commit: list[Callable[[], None]] = []

    @property
    def touched(self) -> int:
        return self.reads[0] + len(self.written)

    def count_reads(self, n: int) -> None:
        self.reads[0] += n

    # -- low-level access used by business code ------------------------------------------
    def rec(self, model: str, rid: int | None) -> Record | None:
        return self.s.get(model, rid)

    def must(self, model: str, rid: int) -> Record:
        rec = self.s.get(model, rid)
        if rec is None:
            raise self.missing(model, [rid])
        return rec

    def table(self, model: str) -> dict[int, Record]:
        return self.s.tables[model]

    def children(self, model: str, fname: str, target: int) -> list[int]:
        return sorted(self.s.referencing(model, fname, target))

    def upd(self, model: str, rid: int, vals: Record) -> None:
        self.cache.clear()
        self.written.add((model, rid))
        self.s.update(model, rid, vals, self.uid)

    def new_raw(self, model: str, vals: Record) -> int:
        self.cache.clear()
        rid = self.s.new(model, vals, self.uid)
        self.written.add((model, rid))
        return rid

    def missing(self, model: str, ids: list[int]) -> OdooError:
        return OdooError(
            MISSING_ERROR,
            "Record does not exist or has been deleted.\n"
            f"(Record: {model}{tuple(ids)!r}, User: {self.uid})",
        )

    def with_ctx(self, **kw: Any) -> Env:
        """Same transaction, other context: caches and counters are shared."""
        env = Env(self.s, self.uid, {**self.ctx, **kw})
        env.after_commit = self.after_commit
        env.cache = self.cache
        env.pending = self.pending
        env.reads = self.reads
        env.written = self.written
        return env

    # -- model/field helpers ------------------------------------------------------------
    @staticmethod
    def model(name: str) -> Model:
        return REGISTRY[name]

    @staticmethod
    def field(model: str, fname: str) -> Field:
        f = REGISTRY[model].fields.get(fname)
        if f is None:
            raise value_error(f"Invalid field {fname!r} on model {model!r}")
        return f

    def display_name(self, model: str, rid: int | None) -> str:
        rec = self.s.get(model, rid)
        if rec is None:
            return ""
        fn = DISPLAY.get(model)
        if fn is not None:
            return fn(self, rec)
        rec_name = REGISTRY[model].rec_name
        val = rec.get(rec_name)
        return str(val) if val else f"{model},{rec['id']}"

    def raw(self, model: str, rec: Record, fname: str) -> Any:
        """Internal value: many2one -> id|None, x2many -> [ids], computed evaluated."""
        if fname == "display_name":
            fn = DISPLAY.get(model)
            return fn(self, rec) if fn else self.display_name(model, rec["id"])
        f = REGISTRY[model].fields[fname]
        if f.type == "one2many":
            assert f.comodel and f.inverse
            ids = self.s.referencing(f.comodel, f.inverse, rec["id"])
            return self.sort_ids(f.comodel, list(ids)) if len(ids) > 1 else list(ids)
        if not f.store:
            fn = COMPUTES.get((model, fname))
            return fn(self, rec) if fn else False
        val = rec.get(fname)
        if val is None and f.type == "many2many":
            return []
        return val

    def fmt(self, model: str, fname: str, value: Any, load: Any = "_classic_read") -> Any:
        f = REGISTRY[model].fields[fname]
        t = f.type
        if t == "many2one":
            if not value:
                return False
            assert f.comodel
            if load != "_classic_read":
                return value
            return [value, self.display_name(f.comodel, value)]
        if t in ("one2many", "many2many"):
            return list(value or [])
        if t in ("float", "monetary"):
            return float(value or 0.0)
        if t == "integer":
            return int(value or 0)
        if t == "boolean":
            return bool(value)
        if t == "datetime" and isinstance(value, str) and value:
            return value[:19]  # PostgreSQL keeps microseconds; Odoo sends whole seconds
        if value is None or value == "":
            return False  # Odoo sends false, never null, for unset values
        return value

    # -- conversion of client values ------------------------------------------------------
    def convert(self, model: str, vals: dict[str, Any]) -> tuple[Record, dict[str, Any]]:
        """Client values -> stored values. x2many one2many commands are returned apart
        because they need the parent id."""
        mdef = REGISTRY[model]
        out: Record = {}
        o2m_cmds: dict[str, Any] = {}
        for fname, value in vals.items():
            f = mdef.fields.get(fname)
            if f is None:
                raise value_error(f"Invalid field {fname!r} on model {model!r}")
            if fname in (
                "id",
                "create_date",
                "write_date",
                "create_uid",
                "write_uid",
                "display_name",
            ):
                continue
            if f.type == "one2many":
                o2m_cmds[fname] = value
                continue
            if not f.store:
                continue  # Odoo silently ignores computed fields without an inverse
            out[fname] = self.convert_value(model, fname, f, value)
        return out, o2m_cmds

    def convert_value(self, model: str, fname: str, f: Field, value: Any) -> Any:
        t = f.type
        if t == "many2one":
            if isinstance(value, (list, tuple)) and value:
                value = value[0]
            if value in (False, None, 0):
                return None
            if not isinstance(value, int) or isinstance(value, bool):
                raise value_error(f"Wrong value for {model}.{fname}: {value!r}")
            assert f.comodel
            if not REGISTRY[f.comodel].extra.get("stub") and self.s.get(f.comodel, value) is None:
                # PostgreSQL refuses the foreign key; Odoo 17 reports it this way.
                raise mandatory_error(REGISTRY[model], fname)
            return value
        if t == "many2many":
            return self.m2m_commands(f, value, [])
        if t == "selection":
            if value in (False, None, ""):
                return None
            options = [k for k, _ in (f.selection or [])]
            if value not in options:
                owner = f.owner or model
                raise value_error(f"Wrong value for {owner}.{fname}: {value!r}")
            return value
        if t in ("float", "monetary"):
            if value in (False, None):
                return 0.0
            try:
                return float(value)
            except (TypeError, ValueError):
                raise value_error(f"could not convert string to float: {value!r}") from None
        if t == "integer":
            if value in (False, None):
                return 0
            try:
                return int(value)
            except (TypeError, ValueError):
                raise value_error(f"invalid literal for int() with base 10: {value!r}") from None
        if t == "boolean":
            return bool(value)
        if value is False or value is None:
            return None
        if t in ("char", "text") and not isinstance(value, str):
            return str(value)
        return value

    def m2m_commands(self, f: Field, value: Any, current: list[int]) -> list[int]:
        ids = list(current)
        if value in (False, None):
            return []
        if not isinstance(value, (list, tuple)):
            raise value_error(f"Wrong value for many2many field: {value!r}")
        assert f.comodel
        for cmd in value:
            if isinstance(cmd, int) and not isinstance(cmd, bool):
                # A plain list of ids means "replace with these" in Odoo 17.
                ids = [c for c in value if isinstance(c, int)]
                break
            if not isinstance(cmd, (list, tuple)) or not cmd:
                raise value_error(f"Invalid command {cmd!r}")
            code = cmd[0]
            if code == 0:
                ids.append(self.create_one(f.comodel, dict(cmd[2] or {})))
            elif code == 1:
                self.write(f.comodel, [cmd[1]], dict(cmd[2] or {}))
            elif code == 2:
                self.unlink(f.comodel, [cmd[1]])
                ids = [i for i in ids if i != cmd[1]]
            elif code == 3:
                ids = [i for i in ids if i != cmd[1]]
            elif code == 4:
                if cmd[1] not in ids:
                    ids.append(cmd[1])
            elif code == 5:
                ids = []
            elif code == 6:
                ids = list(cmd[2] or [])
            else:
                raise value_error(f"Invalid command {cmd!r}")
        for rid in ids:
            if self.s.get(f.comodel, rid) is None and f.comodel in self.s.tables:
                raise self.missing(f.comodel, [rid])
        return ids

    def o2m_commands(self, model: str, rid: int, fname: str, value: Any) -> None:
        f = REGISTRY[model].fields[fname]
        assert f.comodel and f.inverse
        comodel, inverse = f.comodel, f.inverse
        inverse_required = REGISTRY[comodel].fields[inverse].required
        if value in (False, None):
            return
        if (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(c, int) and not isinstance(c, bool) for c in value)
        ):
            value = [[6, 0, list(value)]]
        for cmd in value:
            if not isinstance(cmd, (list, tuple)) or not cmd:
                raise value_error(f"Invalid command {cmd!r}")
            code = cmd[0]
            if code == 0:
                self.create_one(comodel, {**(cmd[2] or {}), inverse: rid}, top=False)
            elif code == 1:
                self.write(comodel, [cmd[1]], dict(cmd[2] or {}))
            elif code == 2 or (code == 3 and inverse_required):
                self.unlink(comodel, [cmd[1]])
            elif code == 3:
                self.upd(comodel, cmd[1], {inverse: None})
            elif code == 4:
                self.must(comodel, cmd[1])
                self.upd(comodel, cmd[1], {inverse: rid})
            elif code in (5, 6):
                keep = set(cmd[2] or []) if code == 6 else set()
                for child in list(self.s.referencing(comodel, inverse, rid)):
                    if child not in keep:
                        if inverse_required:
                            self.unlink(comodel, [child])
                        else:
                            self.upd(comodel, child, {inverse: None})
                for child in keep:
                    self.must(comodel, child)
                    self.upd(comodel, child, {inverse: rid})
            else:
                raise value_error(f"Invalid command {cmd!r}")

    # -- CRUD -----------------------------------------------------------------------------
    def defaults(self, model: str, fnames: list[str] | None = None, top: bool = True) -> Record:
        mdef = REGISTRY[model]
        out: Record = {}
        for fname, f in mdef.fields.items():
            if fnames is not None and fname not in fnames:
                continue
            if top and f"default_{fname}" in self.ctx:
                out[fname] = self.ctx[f"default_{fname}"]
            elif f.default is not None and f.store:
                out[fname] = (
                    f.default(self)
                    if callable(f.default)
                    else (list(f.default) if isinstance(f.default, list) else f.default)
                )
        return out

    def create_one(self, model: str, vals: dict[str, Any], top: bool = False) -> int:
        if not isinstance(vals, dict):
            raise OdooError(TYPE_ERROR, f"create() values must be a dict, got {vals!r}")
        mdef = REGISTRY[model]
        vals = dict(vals)
        for fname in vals:
            if fname not in mdef.fields:
                raise value_error(f"Invalid field {fname!r} on model {model!r}")
        pre = PRE_CREATE.get(model)
        if pre is not None:
            vals = pre(self, vals) or vals
        defaults = self.defaults(model, top=top)
        merged = {**defaults, **vals}
        stored, o2m = self.convert(model, merged)
        for fname, f in mdef.fields.items():
            if (
                f.required
                and f.store
                and stored.get(fname) in (None, "", False)
                and f.type != "boolean"
            ):
                raise mandatory_error(mdef, fname)
        rid = self.new_raw(model, stored)
        for fname, cmds in o2m.items():
            self.o2m_commands(model, rid, fname, cmds)
        post = POST_CREATE.get(model)
        if post is not None:
            post(self, rid, vals)
        return rid

    def create(self, model: str, vals_list: Any) -> Any:
        if isinstance(vals_list, dict):
            return self.create_one(model, vals_list, top=True)
        if isinstance(vals_list, list):
            return [self.create_one(model, v, top=True) for v in vals_list]
        raise OdooError(
            TYPE_ERROR,
            f"create() argument must be a dict or a list of dicts, got {type(vals_list).__name__}",
        )

    def write(self, model: str, ids: list[int], vals: dict[str, Any]) -> bool:
        if not isinstance(vals, dict):
            raise OdooError(TYPE_ERROR, "write() values must be a dict")
        mdef = REGISTRY[model]
        missing = [i for i in ids if self.s.get(model, i) is None]
        if missing:
            raise self.missing(model, missing)
        for fname in vals:
            if fname not in mdef.fields:
                raise value_error(f"Invalid field {fname!r} on model {model!r}")
        pre = PRE_WRITE.get(model)
        if pre is not None:
            vals = pre(self, ids, dict(vals)) or vals
        stored, o2m = self.convert(model, vals)
        for fname, value in list(stored.items()):
            f = mdef.fields[fname]
            if f.required and value in (None, "") and f.type != "boolean":
                raise mandatory_error(mdef, fname)
        for rid in ids:
            if stored:
                self.upd(model, rid, stored)
            for fname, cmds in o2m.items():
                self.o2m_commands(model, rid, fname, cmds)
        post = POST_WRITE.get(model)
        if post is not None:
            post(self, ids, vals)
        return True

    def unlink(self, model: str, ids: list[int]) -> bool:
        missing = [i for i in ids if self.s.get(model, i) is None]
        if missing:
            raise self.missing(model, missing)
        pre = PRE_UNLINK.get(model)
        if pre is not None:
            pre(self, ids)
        mdef = REGISTRY[model]
        for rid in ids:
            if self.s.get(model, rid) is None:
                continue
            for f in mdef.fields.values():
                if f.type != "one2many" or (f.comodel == model and f.inverse == "parent_id"):
                    continue
                assert f.comodel and f.inverse
                children = list(self.s.referencing(f.comodel, f.inverse, rid))
                if not children:
                    continue
                if REGISTRY[f.comodel].fields[f.inverse].required:
                    self.unlink(f.comodel, children)
                else:
                    for c in children:
                        self.upd(f.comodel, c, {f.inverse: None})
            self.cache.clear()
            self.written.add((model, rid))
            self.s.delete(model, rid)
        return True

    def read(
        self,
        model: str,
        ids: list[int],
        fields: list[str] | None = None,
        load: Any = "_classic_read",
    ) -> list[Record]:
        mdef = REGISTRY[model]
        if fields:
            for fname in fields:
                if fname not in mdef.fields:
                    raise value_error(f"Invalid field {fname!r} on model {model!r}")
            names = [f for f in fields if f != "id"]
        else:
            names = [f for f in mdef.fields if f not in ("id", "password")]
        out: list[Record] = []
        seen: set[int] = set()
        for rid in ids:
            rec = self.s.get(model, rid)
            if rec is None or rid in seen:
                continue  # Odoo 17 silently drops unknown ids from read()
            seen.add(rid)
            row: Record = {"id": rid}
            for fname in names:
                if fname == "password":
                    row[fname] = ""  # Odoo never sends a password back
                    continue
                row[fname] = self.fmt(model, fname, self.raw(model, rec, fname), load)
            out.append(row)
        self.count_reads(len(out))
        return out

    # -- search ---------------------------------------------------------------------------
    def search(
        self, model: str, domain: Any = None, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        for name, val in (("limit", limit), ("offset", offset)):
            if val not in (None, False) and (not isinstance(val, int) or isinstance(val, bool)):
                raise OdooError(
                    "psycopg2.errors.InvalidTextRepresentation",
                    f'invalid input syntax for type bigint: "{val}"\n'
                    f"LINE 1: ...{name.upper()} '{val}'\n",
                )
        node = dom.parse(domain)
        self.validate_domain(model, node)
        mdef = REGISTRY[model]
        candidates = self.narrow(model, node)
        active_test = (
            "active" in mdef.fields
            and self.ctx.get("active_test", True)
            and not dom.mentions(node, "active")
        )
        table = self.s.tables[model]
        result: list[int] = []
        for rid in candidates if candidates is not None else list(table):
            rec = table.get(rid)
            if rec is None:
                continue
            if active_test and rec.get("active") is False:
                continue
            if self.eval(model, node, rec):
                result.append(rid)
        result = self.sort_ids(model, result, order or None, user_order=bool(order))
        start = offset or 0
        result = result[start : start + limit] if limit else result[start:]
        return result

    def narrow(self, model: str, node: dom.Node) -> set[int] | None:
        """Use ids and many2one indexes of mandatory leaves to avoid full scans."""
        best: set[int] | None = None
        for leaf in dom.top_level_leaves(node):
            _, path, op, value, _orig = leaf
            if op not in ("=", "in") or "." in path:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                continue
            if path == "id":
                ids = set(values)
            else:
                f = REGISTRY[model].fields.get(path)
                if f is None or f.type != "many2one" or not f.store:
                    continue
                ids = set()
                for v in values:
                    ids |= self.s.referencing(model, path, v)
            best = ids if best is None else best & ids
        return best

    def validate_domain(self, model: str, node: dom.Node) -> None:
        if node[0] == "leaf":
            path = node[1]
            current = model
            for part in path.split("."):
                f = REGISTRY[current].fields.get(part)
                if f is None:
                    raise value_error(
                        f"Invalid field {current}.{part} in leaf {dom.leaf_repr(node[4])}"
                    )
                if f.comodel:
                    current = f.comodel
            return
        for child in node[1:]:
            if isinstance(child, tuple):
                self.validate_domain(model, child)

    def eval(self, model: str, node: dom.Node, rec: Record) -> bool:
        kind = node[0]
        if kind == "leaf":
            return self.eval_leaf(model, node[1], node[2], node[3], rec)
        if kind == "&":
            return self.eval(model, node[1], rec) and self.eval(model, node[2], rec)
        if kind == "|":
            return self.eval(model, node[1], rec) or self.eval(model, node[2], rec)
        if kind == "!":
            return not self.eval(model, node[1], rec)
        return bool(kind == "true")

    def eval_leaf(self, model: str, path: str, op: str, value: Any, rec: Record) -> bool:
        if op == "=?":
            if value in (False, None):
                return True
            op = "="
        if op in dom.NEGATIVE:
            return not self.eval_leaf(model, path, dom.NEGATIVE[op], value, rec)
        head, _, rest = path.partition(".")
        f = REGISTRY[model].fields[head]
        raw = rec["id"] if head == "id" else self.raw(model, rec, head)
        if rest:
            assert f.comodel
            targets = raw if isinstance(raw, list) else ([raw] if raw else [])
            if not targets:
                # No related record: only "= False"-like tests can hold.
                return op in ("=", "in") and (
                    value is False or (isinstance(value, list) and False in value)
                )
            for t in targets:
                sub = self.s.get(f.comodel, t)
                if sub is not None and self.eval_leaf(f.comodel, rest, op, value, sub):
                    return True
            return False
        if op in ("child_of", "parent_of"):
            comodel = model if head == "id" else f.comodel
            assert comodel
            related = self.hierarchy(comodel, value, op)
            vals = raw if isinstance(raw, list) else [raw]
            return any(v in related for v in vals)
        if f.type in ("one2many", "many2many"):
            items = raw or []
            if value is False and op == "=":
                return not items
            if op in ("=", "in"):
                wanted = value if isinstance(value, (list, tuple)) else [value]
                if any(isinstance(w, str) for w in wanted):
                    return any(
                        self.match_name(f.comodel or "", i, "=", w) for i in items for w in wanted
                    )
                return bool(set(items) & set(wanted))
            return any(self.match_name(f.comodel or "", i, op, value) for i in items)
        if f.type == "many2one" and isinstance(value, str) and op not in ("in",):
            return bool(raw) and self.match_name(f.comodel or "", raw, op, value)
        return compare(raw, op, value, f.type)

    def match_name(self, comodel: str, rid: int, op: str, value: Any) -> bool:
        name = self.display_name(comodel, rid)
        if op in ("=", "in"):
            return bool(name == value)
        return compare(name, op, value, "char")

    def hierarchy(self, model: str, value: Any, op: str) -> set[int]:
        roots = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(r, str) for r in roots):
            roots = [
                rid
                for rid in self.s.tables[model]
                if any(self.display_name(model, rid) == r for r in roots)
            ]
        parent = REGISTRY[model].parent
        result: set[int] = set()
        if op == "child_of":
            todo = [r for r in roots if isinstance(r, int)]
            while todo:
                rid = todo.pop()
                if rid in result:
                    continue
                result.add(rid)
                if parent:
                    todo.extend(self.s.referencing(model, parent, rid))
        else:
            for r in roots:
                cur: int | None = r
                while cur and cur not in result:
                    result.add(cur)
                    rec = self.s.get(model, cur)
                    cur = rec.get(parent) if rec is not None and parent else None
        return result

    def sort_ids(
        self, model: str, ids: list[int], order: str | None = None, user_order: bool = False
    ) -> list[int]:
        mdef = REGISTRY[model]
        terms = dom.parse_order(order or mdef.order)
        if user_order:
            for fname, _ in terms:
                if fname not in mdef.fields:
                    raise value_error(f"Invalid field {fname!r} on model {model!r}")
        terms = [(f, d) for f, d in terms if f in mdef.fields]
        if not any(f == "id" for f, _ in terms):
            terms.append(("id", False))
        table = self.s.tables[model]
        out = list(ids)
        for fname, desc in reversed(terms):
            f = mdef.fields[fname]

            def key(rid: int, fname: str = fname, f: Field = f) -> tuple[bool, Any]:
                rec = table.get(rid)
                if rec is None:
                    return (True, 0)
                val = rid if fname == "id" else self.raw(model, rec, fname)
                if f.type == "many2one" and val:
                    val = self.display_name(f.comodel or "", val).casefold()
                elif isinstance(val, str):
                    val = val.casefold()
                elif isinstance(val, list):
                    val = len(val)
                if val is None or (val is False and f.type not in ("boolean",)):
                    return (True, 0)
                return (False, val)

            out.sort(key=key, reverse=desc)
        return out


def compare(raw: Any, op: str, value: Any, ftype: str) -> bool:
    empty = raw is None or raw is False or raw == "" or raw == []
    if ftype == "boolean":
        raw = bool(raw)
        empty = False
    if op == "=":
        if value is False or value is None:
            return empty if ftype != "boolean" else raw is False
        if empty:
            return False
        return bool(_num(raw, ftype) == _num(value, ftype))
    if op == "in":
        vals = value if isinstance(value, (list, tuple)) else [value]
        if empty:
            return any(v is False or v is None for v in vals)
        return _num(raw, ftype) in [_num(v, ftype) for v in vals if v is not False]
    if op in ("<", "<=", ">", ">="):
        if empty and ftype not in ("float", "monetary", "integer"):
            return False
        if value is False or value is None:
            return False
        a = _num(raw if not empty else 0, ftype)
        b = _num(value, ftype)
        try:
            if op == "<":
                return bool(a < b)
            if op == "<=":
                return bool(a <= b)
            if op == ">":
                return bool(a > b)
            return bool(a >= b)
        except TypeError:
            return False
    if op in ("like", "ilike", "=like", "=ilike"):
        if value is False or value is None:
            return empty
        if empty:
            return False
        rx = dom.like_regex(str(value), op in ("like", "ilike"), op in ("ilike", "=ilike"))
        return rx.match(str(raw)) is not None
    return False


def _num(v: Any, ftype: str) -> Any:
    if ftype in ("float", "monetary"):
        try:
            return float(v)
        except (TypeError, ValueError):
            return v
    return v


# -- generic public methods -------------------------------------------------------------------
def check_kwargs(
    fn: Callable[..., Any], owner: str, name: str, args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Reproduce Python's TypeError texts for bad RPC arguments, as Odoo lets them through."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())[2:]  # drop env, model
    accepted = {p.name for p in params}
    has_var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    for k in kwargs:
        if k not in accepted and not has_var_kw:
            raise OdooError(
                TYPE_ERROR, f"{owner}.{name}() got an unexpected keyword argument '{k}'"
            )
    positional = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD,)]
    has_var_pos = any(p.kind == p.VAR_POSITIONAL for p in params)
    if len(args) > len(positional) and not has_var_pos:
        raise OdooError(
            TYPE_ERROR,
            f"{owner}.{name}() takes {len(positional) + 1} positional "
            f"arguments but {len(args) + 1} were given",
        )


def g_search(
    env: Env, model: str, domain: Any = None, offset: Any = 0, limit: Any = None, order: Any = None
) -> list[int]:
    ids = env.search(model, domain, offset, limit, order)
    env.count_reads(len(ids))
    return ids


def g_search_read(
    env: Env,
    model: str,
    domain: Any = None,
    fields: Any = None,
    offset: Any = 0,
    limit: Any = None,
    order: Any = None,
    load: Any = "_classic_read",
) -> list[Record]:
    if fields:
        for fname in fields:
            env.field(model, fname)
    ids = env.search(model, domain, offset, limit, order)
    return env.read(model, ids, fields or None, load)


def g_read(
    env: Env, model: str, ids: Any, fields: Any = None, load: Any = "_classic_read"
) -> list[Record]:
    return env.read(model, ids_arg(ids), fields or None, load)


def g_search_count(env: Env, model: str, domain: Any = None, limit: Any = None) -> int:
    return len(env.search(model, domain, 0, limit, None))


def g_create(env: Env, model: str, vals_list: Any) -> Any:
    result = env.create(model, vals_list)
    return result


def g_write(env: Env, model: str, ids: Any, vals: Any) -> bool:
    return env.write(model, ids_arg(ids), vals)


def g_unlink(env: Env, model: str, ids: Any) -> bool:
    return env.unlink(model, ids_arg(ids))


def g_name_search(
    env: Env,
    model: str,
    name: str = "",
    args: Any = None,
    operator: str = "ilike",
    limit: int = 100,
) -> list[list[Any]]:
    ids = env.search(model, args or [], 0, None, None)
    out: list[list[Any]] = []
    for rid in ids:
        rec = env.rec(model, rid)
        assert rec is not None
        label = env.display_name(model, rid)
        candidates = [label]
        if model == "product.product":
            candidates += [rec.get("default_code") or "", rec.get("barcode") or ""]
        if model == "res.partner":
            candidates += [rec.get("email") or "", rec.get("ref") or ""]
        if not name or any(compare(c, operator, name, "char") for c in candidates if c):
            out.append([rid, label])
        if limit and len(out) >= limit:
            break
    env.count_reads(len(out))
    return out


def g_name_get(env: Env, model: str, ids: Any) -> list[list[Any]]:
    return [[rid, env.display_name(model, rid)] for rid in ids_arg(ids) if env.rec(model, rid)]


def g_fields_get(
    env: Env, model: str, allfields: Any = None, attributes: Any = None
) -> dict[str, Any]:
    mdef = REGISTRY[model]
    out: dict[str, Any] = {}
    for fname, f in mdef.fields.items():
        if allfields and fname not in allfields:
            continue
        desc: dict[str, Any] = {
            "type": f.type,
            "string": f.string,
            "readonly": f.readonly,
            "required": f.required,
            "store": f.store,
            "sortable": f.store,
            "searchable": True,
        }
        if f.selection is not None:
            desc["selection"] = [list(s) for s in f.selection]
        if f.comodel:
            desc["relation"] = f.comodel
        if f.inverse:
            desc["relation_field"] = f.inverse
        if attributes:
            desc = {k: v for k, v in desc.items() if k in attributes}
        out[fname] = dict(sorted(desc.items()))
    return out


def g_default_get(env: Env, model: str, fields_list: Any) -> dict[str, Any]:
    raw = env.defaults(model, list(fields_list or []))
    out: dict[str, Any] = {}
    for fname, val in raw.items():
        f = REGISTRY[model].fields[fname]
        out[fname] = val if f.type != "many2one" else (val or False)
    return out


def g_read_group(
    env: Env,
    model: str,
    domain: Any,
    fields: Any,
    groupby: Any,
    offset: int = 0,
    limit: Any = None,
    orderby: Any = False,
    lazy: bool = True,
) -> list[Record]:
    gb_list = [groupby] if isinstance(groupby, str) else list(groupby or [])
    if not gb_list:
        raise value_error("read_group() needs a groupby")
    gb_field = gb_list[0].split(":")[0]
    f = env.field(model, gb_field)
    if not f.store:
        raise value_error(f"Cannot group on non-stored field {gb_field!r}")
    sums: list[str] = []
    for spec in fields or []:
        fname = spec.split(":")[0]
        env.field(model, fname)
        if (
            REGISTRY[model].fields[fname].type in ("float", "monetary", "integer")
            and fname != gb_field
        ):
            sums.append(fname)
    ids = env.search(model, domain, 0, None, None)
    groups: dict[Any, list[int]] = {}
    for rid in ids:
        rec = env.rec(model, rid)
        assert rec is not None
        key = env.raw(model, rec, gb_field)
        groups.setdefault(key if not isinstance(key, list) else tuple(key), []).append(rid)
    base = list(domain or [])
    out: list[Record] = []
    for key, members in groups.items():
        row: Record = {gb_field: env.fmt(model, gb_field, key)}
        row["__count" if not lazy else f"{gb_field}_count"] = len(members)
        for fname in sums:
            row[fname] = sum(
                float(env.raw(model, env.rec(model, m) or {}, fname) or 0) for m in members
            )
        leaf = [gb_field, "=", key if key is not None else False]
        row["__domain"] = ["&"] * len(base) + base + [leaf] if base else [leaf]
        out.append(row)
    env.count_reads(len(out))
    return out[offset : offset + limit] if limit else out[offset:]


def g_check_access_rights(
    env: Env, model: str, operation: str, raise_exception: bool = True
) -> bool:
    from .access import check_access

    try:
        check_access(env, model, operation)
    except OdooError:
        if raise_exception:
            raise
        return False
    return True


def g_copy(env: Env, model: str, ids: Any, default: Any = None) -> int:
    rid = ids_arg(ids)[0]
    rec = env.must(model, rid)
    mdef = REGISTRY[model]
    vals: dict[str, Any] = {}
    for fname, f in mdef.fields.items():
        if (
            not f.store
            or fname
            in ("id", "create_date", "write_date", "create_uid", "write_uid", "display_name")
            or f.type == "one2many"
        ):
            continue
        if rec.get(fname) is not None:
            vals[fname] = rec[fname]
    vals.update(default or {})
    if model in ("product.product", "product.template") and "barcode" not in (default or {}):
        vals["barcode"] = False
    return env.create_one(model, vals, top=True)


GENERIC: dict[str, tuple[Callable[..., Any], bool]] = {
    "search": (g_search, False),
    "search_read": (g_search_read, False),
    "read": (g_read, True),
    "search_count": (g_search_count, False),
    "create": (g_create, False),
    "write": (g_write, True),
    "unlink": (g_unlink, True),
    "name_search": (g_name_search, False),
    "name_get": (g_name_get, True),
    "fields_get": (g_fields_get, False),
    "default_get": (g_default_get, False),
    "read_group": (g_read_group, False),
    "check_access_rights": (g_check_access_rights, False),
    "copy": (g_copy, True),
}


def resolve_method(model: str, name: str) -> tuple[Callable[..., Any], bool, str]:
    if name.startswith("_"):
        raise OdooError(
            ACCESS_ERROR, f"Private methods (such as {name}) cannot be called remotely."
        )
    specific = METHODS.get(model, {}).get(name)
    if specific is not None:
        return specific[0], specific[1], class_name(model)
    generic = GENERIC.get(name)
    if generic is not None:
        return generic[0], generic[1], "BaseModel"
    raise OdooError(ATTRIBUTE_ERROR, f"The method '{name}' does not exist on the model '{model}'")


def call(env: Env, model: str, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    fn, records, owner = resolve_method(model, name)
    if records and not args:
        raise OdooError(
            TYPE_ERROR, f"{owner}.{name}() missing 1 required positional argument: 'self'"
        )
    check_kwargs(fn, owner, name, args, kwargs)
    if records:
        ids = ids_arg(args[0])
        return fn(env, model, ids, *args[1:], **kwargs)
    return fn(env, model, *args, **kwargs)
