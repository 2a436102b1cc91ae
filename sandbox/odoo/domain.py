"""Odoo domain parsing (prefix notation) and the small helpers shared by the evaluator.

Evaluation itself lives in ``orm.Env`` because leaves need field values, many2one
traversal and computed fields.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .errors import value_error

# A parsed domain node: ("&", a, b) | ("|", a, b) | ("!", a) | ("leaf", path, op, value)
# | ("true",) | ("false",)
Node = tuple[Any, ...]

OPERATORS = {
    "=",
    "!=",
    "<>",
    "<",
    "<=",
    ">",
    ">=",
    "in",
    "not in",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
    "child_of",
    "parent_of",
    "=?",
}
NEGATIVE = {"!=": "=", "<>": "=", "not in": "in", "not like": "like", "not ilike": "ilike"}


def leaf_repr(leaf: list[Any] | tuple[Any, ...]) -> str:
    """Render a leaf the way Odoo's error messages do (a Python tuple repr)."""
    return repr(tuple(leaf))


def parse(domain: Any) -> Node:
    """Parse a domain list into a tree; top-level terms are implicitly AND-ed."""
    if domain in (None, False):
        return ("true",)
    if not isinstance(domain, list):
        raise value_error(f"Invalid domain: {domain!r}")
    pos = 0

    def expr() -> Node:
        nonlocal pos
        if pos >= len(domain):
            raise value_error(f"Invalid domain {domain!r}: missing operand")
        item = domain[pos]
        pos += 1
        if item in ("&", "|"):
            left = expr()
            right = expr()
            return (item, left, right)
        if item == "!":
            return ("!", expr())
        if isinstance(item, (list, tuple)) and len(item) == 3:
            path, op, value = item
            if path in (1, True) and op == "=" and value == 1:
                return ("true",)
            if path in (0, False) and op == "=" and value == 1:
                return ("false",)
            if not isinstance(path, str) or not isinstance(op, str):
                raise value_error(f"Invalid leaf {leaf_repr(item)}")
            op = op.lower()
            if op not in OPERATORS:
                raise value_error(f"Invalid leaf {leaf_repr(item)}")
            return ("leaf", path, op, value, item)
        raise value_error(f"Invalid leaf {item!r}")

    terms: list[Node] = []
    while pos < len(domain):
        terms.append(expr())
    if not terms:
        return ("true",)
    node = terms[0]
    for term in terms[1:]:
        node = ("&", node, term)
    return node


def top_level_leaves(node: Node) -> list[Node]:
    """Leaves that every match must satisfy (used to narrow candidates via indexes)."""
    if node[0] == "leaf":
        return [node]
    if node[0] == "&":
        return top_level_leaves(node[1]) + top_level_leaves(node[2])
    return []


def mentions(node: Node, field: str) -> bool:
    if node[0] == "leaf":
        return bool(node[1] == field or node[1].startswith(field + "."))
    return any(mentions(child, field) for child in node[1:] if isinstance(child, tuple))


@lru_cache(maxsize=2048)
def like_regex(pattern: str, wrap: bool, ignore_case: bool) -> re.Pattern[str]:
    """Translate an SQL LIKE pattern to a regex. ``like``/``ilike`` wrap it in ``%...%``."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
    body = "".join(out)
    if wrap:
        body = ".*" + body + ".*"
    return re.compile("^" + body + "$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def parse_order(order: str) -> list[tuple[str, bool]]:
    """``"name desc, id"`` -> ``[("name", True), ("id", False)]`` (True = descending)."""
    terms: list[tuple[str, bool]] = []
    for part in order.split(","):
        words = part.strip().split()
        if not words:
            continue
        desc = len(words) > 1 and words[1].lower() == "desc"
        terms.append((words[0], desc))
    return terms
