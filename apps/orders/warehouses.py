"""Which warehouse ships an order, and the split plan when no single one can."""

from __future__ import annotations

from typing import Any

from apps.sales_channels.models import Channel

from .batch import BatchContext
from .conf import setting
from .models import ChannelOrder


def default_warehouse(ctx: BatchContext, channel: Channel) -> int | None:
    if channel.pk not in ctx.warehouses:
        first = channel.warehouses.order_by("priority", "odoo_warehouse_id").first()
        ctx.warehouses[channel.pk] = first.odoo_warehouse_id if first else None
    return ctx.warehouses[channel.pk]


def choose_warehouses(ctx: BatchContext, rows: list[ChannelOrder]) -> dict[int, int]:
    """Order id -> the first of its channel's warehouses (by priority) whose free stock fills
    the whole order, else the preferred one (Odoo backorders there).

    One stock read per warehouse for the whole batch, and the batch's own orders consume the
    free stock they are given, so two orders do not both count on the last units.
    Channels with a single warehouse need no read.
    """
    by_channel: dict[int, list[ChannelOrder]] = {}
    for row in rows:
        by_channel.setdefault(row.channel_id, []).append(row)
    out: dict[int, int] = {}
    for group in by_channel.values():
        whs = list(
            group[0]
            .channel.warehouses.order_by("priority", "odoo_warehouse_id")
            .values_list("odoo_warehouse_id", flat=True)
        )
        if len(whs) < 2:
            continue
        needs: dict[int, dict[int, int]] = {}
        for row in group:
            need = needs.setdefault(row.pk, {})
            for ln in row.lines.all():
                if ln.product_id:
                    need[ln.product_id] = need.get(ln.product_id, 0) + ln.quantity
        pids = sorted({p for need in needs.values() for p in need})
        levels = ctx.gateway.stock_levels(product_ids=pids, warehouse_ids=whs)
        free = {wh: {p: lvl.free_qty for p, lvl in levels.get(wh, {}).items()} for wh in whs}
        split = _split_allowed(group[0].channel)
        plans: list[ChannelOrder] = []
        for row in group:
            need = needs[row.pk]
            if row.odoo_parts:
                # Decided by an earlier attempt: keep it, the references must not change.
                alloc = {
                    int(part["warehouse_id"]): {int(p): q for p, q in part["qty"].items()}
                    for part in row.odoo_parts
                }
            else:
                chosen = next(
                    (wh for wh in whs if all(free[wh].get(p, 0.0) >= q for p, q in need.items())),
                    None,
                )
                if chosen is None and split:
                    alloc = _split_allocation(need, whs, free)
                else:
                    alloc = {chosen or whs[0]: dict(need)}
                if split:
                    row.odoo_parts = [
                        {
                            "ref": row.odoo_ref if len(alloc) == 1 else f"{row.odoo_ref}-W{wh}",
                            "warehouse_id": wh,
                            "qty": {str(p): q for p, q in qty.items()},
                        }
                        for wh, qty in alloc.items()
                    ]
                    plans.append(row)
            for wh, qty in alloc.items():
                for p, q in qty.items():
                    free[wh][p] = free[wh].get(p, 0.0) - q
            out[row.pk] = next(iter(alloc))
        if plans:
            # Stored before any Odoo write (see ChannelOrder.odoo_parts).
            ChannelOrder.objects.bulk_update(plans, ["odoo_parts"])
    return out


def _split_allowed(channel: Channel) -> bool:
    """Channels that may split an order over warehouses (HUB_ORDER_SPLIT_CHANNELS, codes)."""
    return channel.code in set(setting("HUB_ORDER_SPLIT_CHANNELS", ()) or ())


def _split_allocation(
    need: dict[int, int], whs: list[int], free: dict[int, dict[int, float]]
) -> dict[int, dict[int, int]]:
    """Each product from the warehouses in priority order, as far as their free stock goes;
    what nobody has is backordered in the preferred warehouse. Warehouses in priority order."""
    alloc: dict[int, dict[int, int]] = {}
    for p, q in need.items():
        left = q
        for wh in whs:
            take = min(left, max(0, int(free[wh].get(p, 0.0))))
            if take:
                alloc.setdefault(wh, {})[p] = alloc.get(wh, {}).get(p, 0) + take
                left -= take
            if not left:
                break
        if left:
            alloc.setdefault(whs[0], {})[p] = alloc.get(whs[0], {}).get(p, 0) + left
    return {wh: alloc[wh] for wh in whs if wh in alloc}


def split_vals(
    vals: dict[str, Any], parts: list[dict[str, Any]], n_goods: int
) -> list[dict[str, Any]]:
    """One sale order per planned warehouse: each goods line divided by the plan's quantities,
    the shipping lines on the first part."""
    remaining = [{int(p): int(q) for p, q in part["qty"].items()} for part in parts]
    per_part: list[list[dict[str, Any]]] = [[] for _ in parts]
    for line in vals["lines"][:n_goods]:
        left = int(line["qty"])
        for i, rem in enumerate(remaining):
            take = min(left, rem.get(line["product_id"], 0))
            if take:
                per_part[i].append({**line, "qty": take})
                rem[line["product_id"]] -= take
                left -= take
        if left:  # not in the plan (cannot happen for a plan made from these lines)
            per_part[0].append({**line, "qty": left})
    per_part[0] += vals["lines"][n_goods:]
    return [
        {**vals, "ref": part["ref"], "warehouse_id": part["warehouse_id"], "lines": lines}
        for part, lines in zip(parts, per_part, strict=True)
        if lines
    ]
