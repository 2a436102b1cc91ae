"""Magento orders: Adobe I/O events are triggers, so the handler re-reads the order over REST.

An event (`com.adobe.commerce.*`: an order placed or saved, an invoice saved or paid) names the
order in `data.value` (`entity_id`, or `order_id` for invoices; the receiver put it in the
event's `entity_key`); the handler reads `GET /V1/orders/{id}` (one call), translates it
(apps.sales_channels.translators.magento) and hands it to order_ingest. An event that names only
an `increment_id` is resolved with one orders search.

The polling backstop records the orders it lists as events of the same shape, whose
`data.value` is the complete REST order it just read: those are translated as they are (no
second read). The ledger orders the events of one order; order_ingest keeps the newest
`updated_at` whatever the arrival order.
"""

from __future__ import annotations

import json
from typing import Any

from apps.core.errors import PermanentError
from apps.sales_channels.magento import ORDER_EVENTS, magento_client
from apps.sales_channels.models import Channel
from apps.sales_channels.polling import POLL_HEADER
from apps.sales_channels.translators import order_from_magento

from .services import order_ingest

MAGENTO_ORDER_EVENTS = ORDER_EVENTS  # the topics this module's handler is registered for


def _value(event: Any) -> dict[str, Any]:
    try:
        body = json.loads(bytes(event.body))
    except (ValueError, TypeError) as exc:
        raise PermanentError(f"Magento event body is not JSON: {exc}", field="body") from exc
    data = body.get("data") if isinstance(body, dict) else None
    value = data.get("value") if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise PermanentError("Magento event without data.value", field="data.value")
    return value


def magento_order_read(*, channel: Channel, value: dict[str, Any], entity_key: str) -> Any:
    """The REST order an event names: by entity id, else by increment id (one search)."""
    client = magento_client(channel)
    order_id = entity_key.removeprefix("order:") if entity_key.startswith("order:") else ""
    order_id = order_id or str(value.get("entity_id") or value.get("order_id") or "")
    if order_id:
        return client.request("GET", f"orders/{order_id}")
    increment = str(value.get("increment_id") or "")
    if not increment:
        raise PermanentError(
            "Magento order event names no entity_id, order_id or increment_id",
            field="data.value",
            channel=channel.code,
        )
    found, _ = client.search_page("orders", [("increment_id", increment, "eq")], 1)
    if not found:
        raise PermanentError(
            f"Magento order {increment} not found", channel=channel.code, increment_id=increment
        )
    return found[0]


def magento_order_event_handle(event: Any) -> int:
    """Read (or, for a polled event, take) the order, translate it and ingest it."""
    channel = Channel.objects.filter(code=event.channel_code).first()
    if channel is None or channel.kind != Channel.Kind.MAGENTO:
        raise PermanentError(f"{event.channel_code} is not a Magento channel")
    value = _value(event)
    headers = getattr(event, "headers", None) or {}
    polled = headers.get(POLL_HEADER) == "poll" and isinstance(value.get("items"), list)
    order = (
        value
        if polled
        else magento_order_read(
            channel=channel, value=value, entity_key=str(getattr(event, "entity_key", ""))
        )
    )
    if not isinstance(order, dict):
        raise PermanentError("Magento answered no order object", channel=channel.code)
    canonical = order_from_magento(order, channel=channel.code)
    return order_ingest(order=canonical, actor=f"webhook:{event.topic}").pk
