"""Small behaviours the JSON-2 recording (transcript 20) exercises, the same on 17, 18 and 19.

- ``product.product.get_contextual_price``: the price of one product for the context's
  ``pricelist``, ``quantity`` and ``date`` (the list price without a pricelist); one record
  only; Odoo's full rule evaluation is in pricelist_rules.py.
- ``res.partner``: a partner cannot be its own parent ("recursive Partner hierarchies").
"""

from __future__ import annotations

from typing import Any

from . import misc as _misc  # noqa: F401  (registers the res.partner write hook wrapped here)
from .errors import validation_error, value_error
from .orm import PRE_WRITE, Env, method
from .pricelist_rules import contextual_price


@method("product.product", "get_contextual_price")
def get_contextual_price(env: Env, model: str, ids: list[int]) -> float:
    if len(ids) != 1:
        raise value_error(f"Expected singleton: {model}{tuple(ids)!r}")
    pricelist = env.ctx.get("pricelist")
    qty = float(env.ctx.get("quantity") or 1.0)
    pl = pricelist if isinstance(pricelist, int) else None
    return contextual_price(env, pl, ids[0], qty, env.ctx.get("date"))


_partner_write = PRE_WRITE["res.partner"]


def _no_recursion(env: Env, ids: list[int], vals: dict[str, Any]) -> dict[str, Any]:
    parent = vals.get("parent_id")
    while isinstance(parent, int) and parent:
        if parent in ids:
            raise validation_error("You cannot create recursive Partner hierarchies.")
        rec = env.rec("res.partner", parent)
        parent = rec.get("parent_id") if rec else None
    result: dict[str, Any] = _partner_write(env, ids, vals)
    return result


PRE_WRITE["res.partner"] = _no_recursion
