"""Low-stock alerts: `stock.threshold_breached` when a SKU's ATP crosses its threshold.

The threshold is the SKU's own (`SkuStock.low_stock_threshold`), else its channel's
(`Channel.low_stock_threshold`); with neither, nothing is published. "Below" means at or under
the threshold. An event goes out when ATP moves from above to at-or-below (`direction: below`,
also on the first computation when it is already low) and from at-or-below back above
(`direction: recovered`); a SKU staying low publishes nothing more.
"""

from __future__ import annotations

from collections.abc import Mapping

from apps.events.publish import event_publish
from apps.sales_channels.models import Channel

from .models import SkuStock


def crossing(*, previous: int | None, current: int, threshold: int) -> str | None:
    """`below`, `recovered` or None for a move from `previous` to `current`."""
    low_now = current <= threshold
    if previous is None:
        return "below" if low_now else None
    low_before = previous <= threshold
    if low_now and not low_before:
        return "below"
    if low_before and not low_now:
        return "recovered"
    return None


def threshold_crossings_publish(
    *, channel: Channel, rows: Mapping[str, SkuStock], previous: Mapping[str, int | None]
) -> int:
    """Publish one event per SKU whose ATP crossed its threshold; returns how many."""
    published = 0
    for sku, prev in previous.items():
        row = rows[sku]
        threshold = (
            row.low_stock_threshold
            if row.low_stock_threshold is not None
            else channel.low_stock_threshold
        )
        if threshold is None or row.atp is None:
            continue
        direction = crossing(previous=prev, current=row.atp, threshold=threshold)
        if direction is None:
            continue
        event_publish(
            type="stock.threshold_breached",
            entity_key=f"stock:{channel.code}:{sku}",
            channel=channel,
            payload={
                "channel": channel.code,
                "sku": sku,
                "available": int(row.atp),
                "previous": prev,
                "threshold": int(threshold),
                "direction": direction,
            },
        )
        published += 1
    return published
