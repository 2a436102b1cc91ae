"""Exact accounting after the faults: what the channel had accepted against what Odoo, the hub
and the channel stand-in hold. Pure: the observations come in as plain data (observe.py reads
them), so tests/chaos can prove that every kind of damage is counted.

- **accepted**: orders with at least one delivery the hub answered 2xx;
- **sale orders**: every sale order whose ``origin`` is one of the channel's references
  (``<channel>:<order id>``, a recreated edit's ``…~e<hash>``, a split's ``…-W<id>``);
- **duplicates**: orders with more than one open sale order, or a reference used twice;
- **lost**: accepted orders that are not cancelled and have no open sale order, or no hub row;
- **wrong state**: a cancelled order with an open sale order; an open sale order whose lines
  are not those of the newest accepted version; a hub state other than the expected one, or an
  edit still pending; a shipped order whose channel fulfilments differ from its validated
  pickings;
- **phantoms**: sale orders of orders the channel never sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .plan import Expected, Plan, expected

OPEN = ("draft", "sent", "sale", "done")


@dataclass(frozen=True)
class SaleOrder:
    origin: str
    name: str
    state: str
    lines: Mapping[int, float]  # product id -> ordered quantity (lines with quantity > 0)


@dataclass(frozen=True)
class HubOrder:
    state: str
    edit_pending: bool = False


@dataclass
class Accounting:
    accepted: int = 0
    sale_orders: int = 0
    open_sale_orders: int = 0
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    phantoms: list[str] = field(default_factory=list)
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.accepted > 0 and not (
            self.duplicates or self.lost or self.wrong or self.phantoms
        )

    def rows(self) -> list[tuple[str, str, str]]:
        """(measure, value, must be) for the report's table."""
        return [
            ("orders accepted (at least one 2xx delivery)", str(self.accepted), ""),
            ("sale orders in Odoo with the channel's references", str(self.sale_orders), ""),
            ("open sale orders", str(self.open_sale_orders), ""),
            ("orders with a duplicate sale order", str(len(self.duplicates)), "0"),
            ("lost orders", str(len(self.lost)), "0"),
            ("orders in the wrong final state", str(len(self.wrong)), "0"),
            ("sale orders of orders never sent", str(len(self.phantoms)), "0"),
        ]


def base_ref(origin: str, channel: str) -> str | None:
    """The channel order id a sale order belongs to (None: not one of the channel's)."""
    prefix = f"{channel}:"
    if not origin.startswith(prefix):
        return None
    ref = origin[len(prefix) :]
    for sep in ("~e", "-W"):
        ref = ref.split(sep, 1)[0]
    return ref


def account(
    plan: Plan,
    *,
    channel: str,
    accepted_versions: Mapping[int, set[int]],
    sale_orders: list[SaleOrder],
    hub: Mapping[str, HubOrder],
    products: Mapping[str, int],
    shipped: Mapping[int, int] | None = None,
    fulfilments: Mapping[int, int] | None = None,
) -> Accounting:
    """``shipped``: pickings validated per order index; ``fulfilments``: the stand-in's
    fulfilments per order index (read for the shipped orders only)."""
    shipped = shipped or {}
    fulfilments = fulfilments or {}
    acc = Accounting(sale_orders=len(sale_orders))
    by_ref: dict[str, list[SaleOrder]] = {}
    origins: dict[str, int] = {}
    for so in sale_orders:
        origins[so.origin] = origins.get(so.origin, 0) + 1
        ref = base_ref(so.origin, channel)
        if ref is not None:
            by_ref.setdefault(ref, []).append(so)
    acc.open_sale_orders = sum(so.state in OPEN for so in sale_orders)
    reused = {o for o, n in origins.items() if n > 1}
    planned = {o.ref for o in plan.orders}
    for ref, sos in sorted(by_ref.items()):
        if ref not in planned or not accepted_versions.get(int(ref) - plan.orders[0].order_id):
            acc.phantoms.extend(f"{so.origin} ({so.name})" for so in sos)
    for order in plan.orders:
        want = expected(order, set(accepted_versions.get(order.n, ())), shipped.get(order.n, 0))
        if want is None:
            continue
        acc.accepted += 1
        acc.by_state[want.state] = acc.by_state.get(want.state, 0) + 1
        sos = by_ref.get(order.ref, [])
        open_sos = [so for so in sos if so.state in OPEN]
        label = f"order {order.ref} (#C{order.n})"
        if len(open_sos) > 1 or any(so.origin in reused for so in sos):
            names = ", ".join(f"{so.name} {so.state} {so.origin}" for so in sos)
            acc.duplicates.append(f"{label}: {names}")
        row = hub.get(order.ref)
        if row is None or (not want.cancelled and not open_sos):
            acc.lost.append(
                f"{label}: hub row {'missing' if row is None else row.state}, "
                f"{len(sos)} sale orders, none open"
            )
            continue
        problem = _problem(want, open_sos, row, products, fulfilments.get(order.n, 0))
        if problem:
            acc.wrong.append(f"{label}: {problem}")
    return acc


def _problem(
    want: Expected,
    open_sos: list[SaleOrder],
    row: HubOrder,
    products: Mapping[str, int],
    fulfilments: int,
) -> str:
    if want.cancelled and open_sos:
        return f"cancelled on the channel, open in Odoo ({open_sos[0].name})"
    if not want.cancelled:
        lines = {products[sku]: float(qty) for sku, qty in want.lines.items()}
        got = {pid: qty for pid, qty in open_sos[0].lines.items() if qty}
        if got != lines:
            return f"Odoo {open_sos[0].name} has lines {got}, the newest version {lines}"
    if row.state != want.state:
        return f"hub state {row.state}, expected {want.state}"
    if row.edit_pending and not want.cancelled:  # an edit of a cancelled order is void
        return "an edit is still pending in the hub"
    if want.fulfilments and fulfilments != want.fulfilments:
        return f"{fulfilments} channel fulfilments for {want.fulfilments} validated pickings"
    return ""
