"""Channel inventory webhooks: echo suppression.

A channel tells us when a stock level changed (Shopify ``inventory_levels/update``, WooCommerce
``product.updated``). When the value equals what we last published it is our own write coming
back and changes nothing; any other value means someone changed stock on the channel, so the SKU
is marked dirty and the next publication puts ATP back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.db.models import Q

from apps.sales_channels.models import Channel

from .models import SkuStock
from .services import mark_dirty

logger = logging.getLogger(__name__)

SHOPIFY_TOPIC = "inventory_levels/update"
WOOCOMMERCE_TOPIC = "product.updated"


class EventLike(Protocol):
    channel_code: str
    topic: str
    body: bytes


def _json(body: Any) -> Mapping[str, Any] | None:
    raw = bytes(body) if isinstance(body, memoryview) else body
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _shopify_variant(channel: Channel, inventory_item_id: Any) -> str:
    """The variant (our external id) of a Shopify inventory item, from the ids the publisher
    resolved when it last wrote stock. Real ``inventory_levels/update`` bodies carry only the
    item id; an item we never wrote to is not our echo anyway."""
    if not inventory_item_id:
        return ""
    from .publishers import publisher_for

    key_for = getattr(publisher_for(channel), "key_for", None)  # the HTTP publishers' cache
    return str(key_for("item", str(inventory_item_id)) or "") if callable(key_for) else ""


def _levels(channel: Channel, data: Mapping[str, Any]) -> list[tuple[str, str, int | None]]:
    """[(sku, external id, quantity)] a delivery reports (sku or id may be empty)."""
    if channel.kind == Channel.Kind.SHOPIFY:
        variant = str(data.get("variant_id") or "") or _shopify_variant(
            channel, data.get("inventory_item_id")
        )
        return [(str(data.get("sku") or ""), variant, _int(data.get("available")))]
    out = [
        (str(data.get("sku") or ""), str(data.get("id") or ""), _int(data.get("stock_quantity")))
    ]
    for var in data.get("variations") or []:
        if isinstance(var, Mapping):
            out.append(
                (
                    str(var.get("sku") or ""),
                    str(var.get("id") or ""),
                    _int(var.get("stock_quantity")),
                )
            )
    return out


def inventory_event_handle(event: EventLike) -> int:
    """Mark dirty the SKUs whose reported level is not our own echo; returns how many."""
    channel = Channel.objects.filter(code=event.channel_code).first()
    data = _json(event.body)
    if channel is None or data is None or not channel.inventory_enabled:
        return 0
    changed: list[str] = []
    for sku, ext, qty in _levels(channel, data):
        cond = Q()
        if sku:
            cond |= Q(sku=sku)
        if ext:
            cond |= Q(external_id=ext)
        row = SkuStock.objects.filter(Q(channel=channel) & cond).first() if cond else None
        if row is None:
            if sku:
                changed.append(sku)  # first sight: let the binding decide
            else:
                logger.debug(
                    "inventory webhook %s on %s: no SKU we can map", event.topic, channel.code
                )
            continue
        if qty is not None and qty == row.published_qty:
            continue  # our own write coming back
        changed.append(row.sku)
    if not changed:
        return 0
    return mark_dirty([channel.pk], changed, "channel")


def register(register_event_handler: Callable[[str, Callable[[Any], Any]], Any]) -> None:
    for topic in (SHOPIFY_TOPIC, WOOCOMMERCE_TOPIC):
        register_event_handler(topic, inventory_event_handle)
