"""A deliberately small GraphQL executor for the Shopify stand-in.

Not a GraphQL engine: it parses documents (operations, variables with defaults, aliases,
arguments, inline fragments, named fragments, ``@include``/``@skip``), validates every selected
field against a static schema of the few types the hub uses, computes a Shopify-style query cost
and projects resolver output (plain dicts whose values may be ``callable(args)``) onto the
selection. Selecting a field the schema does not list is an ``undefinedField`` error, as on
Shopify, so a hub query that drifts from what the stand-in knows fails loudly instead of reading
``null``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_INPUT_ARRAY = 250  # shopify.dev/docs/api/usage/limits: input arrays hold at most 250 items
MAX_PAGE = 250  # connections: first/last at most 250


class GraphQLError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        path: list[Any] | None = None,
        line: int | None = None,
        column: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        self.line = line
        self.column = column
        self.extra = extra or {}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.line is not None:
            out["locations"] = [{"line": self.line, "column": self.column or 1}]
        if self.path is not None:
            out["path"] = self.path
        ext = dict(self.extra)
        if self.code:
            ext["code"] = self.code
        if ext:
            out["extensions"] = ext
        return out


# -- AST ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Enum:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None
    args: dict[str, Any]
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any] | None
    line: int
    column: int

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any]


@dataclass
class FragmentSpread:
    name: str
    directives: list[tuple[str, dict[str, Any]]]


@dataclass
class VarDef:
    name: str
    type: str
    default: Any
    has_default: bool


@dataclass
class Operation:
    kind: str  # query | mutation
    name: str | None
    var_defs: list[VarDef]
    directives: list[tuple[str, dict[str, Any]]]
    selections: list[Any]


@dataclass
class Document:
    operations: list[Operation] = field(default_factory=list)
    fragments: dict[str, InlineFragment] = field(default_factory=dict)


# -- lexer / parser -------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"(?P<ignore>[\s,\ufeff]+|#[^\n\r]*)"
    r'|(?P<block>"""(?:\\"""|[^"]|"(?!""))*""")'
    r'|(?P<string>"(?:\\.|[^"\\\n])*")'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[_A-Za-z][_0-9A-Za-z]*)"
    r"|(?P<spread>\.\.\.)"
    r"|(?P<punct>[!$()\:=@\[\]{}|&])"
)


@dataclass
class Token:
    kind: str
    value: str
    line: int
    column: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            raise GraphQLError(
                f'Parse error on "{source[pos]}" (error) at [{line}, {pos - line_start + 1}]',
                line=line,
                column=pos - line_start + 1,
            )
        kind = m.lastgroup or ""
        text = m.group(0)
        if kind != "ignore":
            tokens.append(Token(kind, text, line, pos - line_start + 1))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rindex("\n") + 1
        pos = m.end()
    tokens.append(Token("eof", "", line, pos - line_start + 1))
    return tokens


class Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, tok: Token) -> GraphQLError:
        shown = tok.value or "end of file"
        return GraphQLError(
            f'Parse error on "{shown}" ({tok.kind.upper()}) at [{tok.line}, {tok.column}]',
            line=tok.line,
            column=tok.column,
        )

    def expect(self, value: str) -> Token:
        tok = self.next()
        if tok.value != value or tok.kind in ("string", "block"):
            raise self.fail(tok)
        return tok

    def name(self) -> str:
        tok = self.next()
        if tok.kind != "name":
            raise self.fail(tok)
        return tok.value

    def at(self, value: str) -> bool:
        tok = self.peek()
        return tok.value == value and tok.kind not in ("string", "block")

    def document(self) -> Document:
        doc = Document()
        while self.peek().kind != "eof":
            tok = self.peek()
            if tok.value == "{":
                doc.operations.append(Operation("query", None, [], [], self.selection_set()))
            elif tok.value in ("query", "mutation", "subscription"):
                doc.operations.append(self.operation())
            elif tok.value == "fragment":
                self.next()
                fname = self.name()
                if self.name() != "on":
                    raise self.fail(self.tokens[self.i - 1])
                cond = self.name()
                dirs = self.directives()
                doc.fragments[fname] = InlineFragment(cond, dirs, self.selection_set())
            else:
                raise self.fail(tok)
        return doc

    def operation(self) -> Operation:
        kind = self.next().value
        if kind == "subscription":
            raise GraphQLError("Subscriptions are not supported by this stand-in")
        name = self.name() if self.peek().kind == "name" else None
        var_defs: list[VarDef] = []
        if self.at("("):
            self.next()
            while not self.at(")"):
                self.expect("$")
                vname = self.name()
                self.expect(":")
                vtype = self.type_ref()
                default, has_default = None, False
                if self.at("="):
                    self.next()
                    default, has_default = self.value(const=True), True
                self.directives()
                var_defs.append(VarDef(vname, vtype, default, has_default))
            self.next()
        dirs = self.directives()
        return Operation(kind, name, var_defs, dirs, self.selection_set())

    def type_ref(self) -> str:
        if self.at("["):
            self.next()
            inner = self.type_ref()
            self.expect("]")
            out = f"[{inner}]"
        else:
            out = self.name()
        if self.at("!"):
            self.next()
            out += "!"
        return out

    def directives(self) -> list[tuple[str, dict[str, Any]]]:
        out: list[tuple[str, dict[str, Any]]] = []
        while self.at("@"):
            self.next()
            dname = self.name()
            out.append((dname, self.arguments()))
        return out

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {}
        if self.at("("):
            self.next()
            while not self.at(")"):
                aname = self.name()
                self.expect(":")
                args[aname] = self.value()
            self.next()
        return args

    def selection_set(self) -> list[Any]:
        self.expect("{")
        out: list[Any] = []
        while not self.at("}"):
            if self.peek().kind == "eof":
                raise self.fail(self.peek())
            out.append(self.selection())
        self.next()
        if not out:
            raise self.fail(self.tokens[self.i - 1])
        return out

    def selection(self) -> Any:
        if self.peek().kind == "spread":
            self.next()
            if self.peek().value == "on":
                self.next()
                cond = self.name()
                dirs = self.directives()
                return InlineFragment(cond, dirs, self.selection_set())
            if self.at("{") or self.at("@"):
                dirs = self.directives()
                return InlineFragment(None, dirs, self.selection_set())
            return FragmentSpread(self.name(), self.directives())
        tok = self.peek()
        first = self.name()
        alias = None
        if self.at(":"):
            self.next()
            alias, first = first, self.name()
        args = self.arguments()
        dirs = self.directives()
        sels = self.selection_set() if self.at("{") else None
        return Field(first, alias, args, dirs, sels, tok.line, tok.column)

    def value(self, const: bool = False) -> Any:
        tok = self.next()
        if tok.kind == "punct" and tok.value == "$" and not const:
            return Var(self.name())
        if tok.kind == "number":
            return float(tok.value) if any(c in tok.value for c in ".eE") else int(tok.value)
        if tok.kind == "string":
            return json.loads(tok.value)
        if tok.kind == "block":
            return tok.value[3:-3].replace('\\"""', '"""')
        if tok.kind == "name":
            if tok.value in ("true", "false"):
                return tok.value == "true"
            if tok.value == "null":
                return None
            return Enum(tok.value)
        if tok.value == "[":
            items = []
            while not self.at("]"):
                items.append(self.value(const))
            self.next()
            return items
        if tok.value == "{":
            obj: dict[str, Any] = {}
            while not self.at("}"):
                key = self.name()
                self.expect(":")
                obj[key] = self.value(const)
            self.next()
            return obj
        raise self.fail(tok)


def parse(source: str) -> Document:
    return Parser(source).document()


# -- values ---------------------------------------------------------------------------------------
def resolve_value(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [resolve_value(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve_value(v, variables) for k, v in value.items()}
    return value


def coerce_variables(op: Operation, given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for vd in op.var_defs:
        if vd.name in given:
            out[vd.name] = given[vd.name]
        elif vd.has_default:
            out[vd.name] = vd.default if not isinstance(vd.default, Enum) else vd.default.name
        if vd.type.endswith("!") and out.get(vd.name) is None:
            raise GraphQLError(
                f"Variable ${vd.name} of type {vd.type} was provided invalid value",
                extra={
                    "value": None,
                    "problems": [{"path": [], "explanation": "Expected value to not be null"}],
                },
                code="INVALID_VARIABLE",
            )
    return out


def check_input_arrays(value: Any, path: list[Any]) -> None:
    """Shopify rejects any input array over 250 items before running anything."""
    if isinstance(value, list):
        if len(value) > MAX_INPUT_ARRAY:
            raise GraphQLError(
                f"The input array size of {len(value)} is greater than the maximum allowed "
                f"of {MAX_INPUT_ARRAY}.",
                code="MAX_INPUT_SIZE_EXCEEDED",
                path=path,
            )
        for i, v in enumerate(value):
            check_input_arrays(v, [*path, i])
    elif isinstance(value, dict):
        for k, v in value.items():
            check_input_arrays(v, [*path, k])


# -- schema-driven validation, cost and projection -----------------------------------------------
Schema = dict[str, dict[str, str | None]]  # type -> field -> type ("[T]" = list) or None (scalar)
INTERFACES: dict[str, set[str]] = {}


def _base(type_name: str) -> str:
    return type_name.strip("[]!")


def _included(dirs: list[tuple[str, dict[str, Any]]], variables: dict[str, Any]) -> bool:
    for name, args in dirs:
        cond = bool(resolve_value(args.get("if"), variables))
        if name == "skip" and cond:
            return False
        if name == "include" and not cond:
            return False
    return True


class Executor:
    def __init__(
        self,
        schema: Schema,
        interfaces: dict[str, set[str]],
        doc: Document,
        variables: dict[str, Any],
        op_label: str,
    ) -> None:
        self.schema = schema
        self.interfaces = interfaces
        self.doc = doc
        self.variables = variables
        self.op_label = op_label

    def _fits(self, cond: str | None, type_name: str) -> bool:
        if cond is None or cond == type_name:
            return True
        return type_name in self.interfaces.get(cond, set())

    def fields(self, selections: list[Any], type_name: str | None) -> list[tuple[Field, str]]:
        """Flatten fragments; yields (field, the type it is selected on). ``type_name`` None
        means "static": keep every fragment, each validated against its own type condition."""
        out: list[tuple[Field, str]] = []
        for sel in selections:
            if isinstance(sel, Field):
                if _included(sel.directives, self.variables):
                    out.append((sel, type_name or ""))
                continue
            if isinstance(sel, FragmentSpread):
                frag = self.doc.fragments.get(sel.name)
                if frag is None:
                    raise GraphQLError(
                        f"Fragment {sel.name} was used, but not defined", code="undefinedFragment"
                    )
                if not _included(sel.directives, self.variables):
                    continue
                sel = frag
            if not _included(sel.directives, self.variables):
                continue
            if type_name is None or self._fits(sel.type_condition, type_name):
                cond = sel.type_condition or type_name
                out.extend(self.fields(sel.selections, cond))
        return out

    def validate(self, selections: list[Any], type_name: str, path: list[Any]) -> None:
        for sel in selections:
            if isinstance(sel, Field):
                self._validate_field(sel, type_name, path)
            elif isinstance(sel, FragmentSpread):
                frag = self.doc.fragments.get(sel.name)
                if frag is None:
                    raise GraphQLError(
                        f"Fragment {sel.name} was used, but not defined", code="undefinedFragment"
                    )
                self.validate(frag.selections, frag.type_condition or type_name, path)
            else:
                cond = sel.type_condition or type_name
                if cond not in self.schema:
                    raise GraphQLError(
                        f"No such type {cond}, so it can't be a fragment condition",
                        code="undefinedType",
                    )
                self.validate(sel.selections, cond, path)

    def _validate_field(self, sel: Field, type_name: str, path: list[Any]) -> None:
        here = [*path, sel.key]
        if sel.name == "__typename":
            return
        fields = self.schema.get(type_name, {})
        if sel.name not in fields:
            raise GraphQLError(
                f"Field '{sel.name}' doesn't exist on type '{type_name}'",
                code="undefinedField",
                path=here,
                line=sel.line,
                column=sel.column,
                extra={"typeName": type_name, "fieldName": sel.name},
            )
        ftype = fields[sel.name]
        if ftype is None:
            if sel.selections:
                raise GraphQLError(
                    f"Selections can't be made on scalars (field '{sel.name}' returns a scalar)",
                    code="selectionMismatch",
                    path=here,
                    line=sel.line,
                    column=sel.column,
                )
            return
        if not sel.selections:
            raise GraphQLError(
                f"Field must have selections (field '{sel.name}' returns {_base(ftype)} but has "
                "no selections. Did you mean '" + sel.name + " { ... }'?)",
                code="selectionMismatch",
                path=here,
                line=sel.line,
                column=sel.column,
            )
        if _base(ftype).endswith("Connection"):
            args = {k: resolve_value(v, self.variables) for k, v in sel.args.items()}
            first, last = args.get("first"), args.get("last")
            if first is None and last is None:
                raise GraphQLError(
                    "you must provide one of first or last", path=here, line=sel.line
                )
            size = first if first is not None else last
            if not isinstance(size, int) or size < 0 or size > MAX_PAGE:
                raise GraphQLError(
                    f"The '{'first' if first is not None else 'last'}' argument on field "
                    f"'{sel.name}' must be between 0 and {MAX_PAGE}",
                    code="argumentLiteralsIncompatible",
                    path=here,
                    line=sel.line,
                )
        self.validate(sel.selections, _base(ftype), here)

    # -- cost -----------------------------------------------------------------------------------
    def requested_cost(self, selections: list[Any], type_name: str) -> int:
        """Shopify's rules: scalar 0, object 1, connection 2 + size x (object + children)."""
        total = 0
        for sel, on in self.fields(selections, None):
            owner = on or type_name
            ftype = self.schema.get(owner, {}).get(sel.name)
            if ftype is None or not sel.selections:
                continue
            base = _base(ftype)
            if base.endswith("Connection"):
                args = {k: resolve_value(v, self.variables) for k, v in sel.args.items()}
                size = args.get("first") if args.get("first") is not None else args.get("last")
                total += 2 + int(size or 0) * self._node_cost(sel.selections, base)
            else:
                total += 1 + self.requested_cost(sel.selections, base)
        return total

    def _node_cost(self, selections: list[Any], conn_type: str) -> int:
        node_type = _base(self.schema[conn_type]["nodes"] or "")
        cost = 1
        for sel, _ in self.fields(selections, None):
            if sel.name == "nodes" and sel.selections:
                cost = max(cost, 1 + self.requested_cost(sel.selections, node_type))
            elif sel.name == "edges" and sel.selections:
                for inner, _ in self.fields(sel.selections, None):
                    if inner.name == "node" and inner.selections:
                        cost = max(cost, 1 + self.requested_cost(inner.selections, node_type))
        return cost

    def actual_cost(self, selections: list[Any], type_name: str, value: Any) -> int:
        """Same rules, but a connection counts the nodes it really returned."""
        if value is None:
            return 0
        if isinstance(value, list):
            return sum(self.actual_cost(selections, type_name, v) for v in value)
        total = 0
        for sel, on in self.fields(
            selections, value.get("__typename") if isinstance(value, dict) else None
        ):
            owner = on or type_name
            ftype = self.schema.get(owner, {}).get(sel.name)
            if ftype is None or not sel.selections:
                continue
            child = value.get(sel.key) if isinstance(value, dict) else None
            base = _base(ftype)
            if base.endswith("Connection"):
                total += 2
                if isinstance(child, dict):
                    node_type = _base(self.schema[base]["nodes"] or "")
                    for inner, _ in self.fields(sel.selections, base):
                        if inner.name == "nodes" and inner.selections:
                            nodes = child.get(inner.key) or []
                            total += len(nodes) + self.actual_cost(
                                inner.selections, node_type, nodes
                            )
                            break
                        if inner.name == "edges" and inner.selections:
                            edges = child.get(inner.key) or []
                            for node_sel, _ in self.fields(inner.selections, None):
                                if node_sel.name == "node" and node_sel.selections:
                                    nodes = [e.get(node_sel.key) for e in edges]
                                    total += len(nodes) + self.actual_cost(
                                        node_sel.selections, node_type, nodes
                                    )
                            break
            elif child is not None:
                count = len(child) if isinstance(child, list) else 1
                total += count + self.actual_cost(sel.selections, base, child)
        return total

    # -- projection -----------------------------------------------------------------------------
    def project(self, value: Any, selections: list[Any], type_name: str) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [self.project(v, selections, type_name) for v in value]
        actual_type = str(value.get("__typename") or type_name)
        out: dict[str, Any] = {}
        for sel, _ in self.fields(selections, actual_type):
            if sel.name == "__typename":
                out[sel.key] = actual_type
                continue
            raw = value.get(sel.name)
            if callable(raw):
                args = {k: resolve_value(v, self.variables) for k, v in sel.args.items()}
                raw = raw(args)
            ftype = self.schema.get(actual_type, {}).get(sel.name)
            if sel.selections and ftype is not None:
                out[sel.key] = self.project(raw, sel.selections, _base(ftype))
            else:
                out[sel.key] = raw
        return out


Resolver = Callable[[dict[str, Any]], Any]
