"""How much of an order has left the warehouse: shipment lines on the order's lines.

The order's lines carry the Odoo product each SKU is bound to (`OrderLine.product_id`); Odoo's
moves carry the product and the quantity shipped. Products are the common key: a sale order
line id is not stored on the hub's order lines, and the channel's SKU need not be Odoo's code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Sum

from apps.orders.models import ChannelOrder, OrderLine

from .models import ShipmentLine


@dataclass(frozen=True)
class Move:
    """What one product shipped in one picking (its done moves added up)."""

    product_id: int
    sku: str  # Odoo's internal reference
    quantity: int


@dataclass
class Allocated:
    sku: str
    quantity: int
    external_line_id: str
    product_id: int


def allocate(
    moves: Sequence[Move], order_lines: Sequence[OrderLine], before: Mapping[int, int]
) -> list[Allocated]:
    """The shipment's lines, on the order's lines (the channel's SKU and line id).

    A product can be on several order lines: what earlier shipments took fills them in order
    first, then this picking's quantity fills what is left; anything beyond the order goes to
    the product's last line. A product not on the order (added in Odoo) keeps Odoo's code.
    """
    by_product: dict[int, list[OrderLine]] = {}
    for ln in order_lines:
        if ln.product_id:
            by_product.setdefault(int(ln.product_id), []).append(ln)
    out: list[Allocated] = []
    for move in moves:
        lines = by_product.get(move.product_id, [])
        if not lines:
            sku = move.sku or f"odoo-product-{move.product_id}"
            out.append(Allocated(sku, move.quantity, "", move.product_id))
            continue
        taken_before = before.get(move.product_id, 0)
        left = move.quantity
        mine: list[Allocated] = []
        for ln in lines:
            used = min(ln.quantity, taken_before)
            taken_before -= used
            take = min(ln.quantity - used, left)
            if take > 0:
                mine.append(Allocated(ln.sku, take, ln.external_line_id, move.product_id))
                left -= take
        if left > 0:
            last = lines[-1]
            if mine and mine[-1].external_line_id == last.external_line_id:
                mine[-1].quantity += left
            else:
                mine.append(Allocated(last.sku, left, last.external_line_id, move.product_id))
        out += mine
    return out


def shipped_by_product(order: ChannelOrder, *, up_to_shipment: int | None = None) -> dict[int, int]:
    """Units shipped so far per Odoo product (optionally only by shipments up to an id)."""
    qs = ShipmentLine.objects.filter(shipment__order=order, odoo_product_id__isnull=False)
    if up_to_shipment is not None:
        qs = qs.filter(shipment_id__lte=up_to_shipment)
    rows = qs.values("odoo_product_id").annotate(n=Sum("quantity"))
    return {int(r["odoo_product_id"]): int(r["n"] or 0) for r in rows}


def fully_shipped(order_lines: Sequence[OrderLine], shipped: Mapping[int, int]) -> bool:
    """Every product of the order has left in at least the ordered quantity."""
    ordered: dict[int, int] = {}
    for ln in order_lines:
        if ln.product_id:
            ordered[int(ln.product_id)] = ordered.get(int(ln.product_id), 0) + ln.quantity
    return bool(ordered) and all(shipped.get(pid, 0) >= q for pid, q in ordered.items())
