"""Order deliveries also say whether the order is paid: after the order handler ingested it, a
paid order of a channel that registers payments gets a capture row (payments.capture_wanted).

The order handlers are wrapped, not replaced (the ledger keeps one handler per topic): the
order is ingested first, exactly as without this app, then the payment is looked at. A failure
here fails the delivery, which the ledger retries; the order upsert is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from apps.orders.models import ChannelOrder

from .payments import capture_wanted

ORDER_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "order.created",
    "order.updated",
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
)
WRAPPED = "finance_order_event"


def _order_id(result: Any) -> int | None:
    if isinstance(result, Mapping):
        result = result.get("order")
    return int(result) if isinstance(result, int) and not isinstance(result, bool) else None


def _body(event: Any) -> Mapping[str, Any]:
    try:
        data = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError, TypeError):
        return {}
    return data if isinstance(data, Mapping) else {}


def finance_order_event(previous: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def handle(event: Any) -> Any:
        result = previous(event) if previous is not None else None
        pk = _order_id(result)
        if pk is not None:
            order = ChannelOrder.objects.select_related("channel").filter(pk=pk).first()
            if order is not None:
                capture_wanted(order, _body(event))
        return result

    handle.__qualname__ = WRAPPED
    for attr in ("dry_run",):
        if previous is not None and hasattr(previous, attr):
            setattr(handle, attr, getattr(previous, attr))
    return handle


def register(register_event_handler: Callable[[str, Callable[[Any], Any]], Any]) -> None:
    from apps.ledger.registry import handler_for

    for topic in ORDER_TOPICS:
        previous = handler_for(topic)
        if getattr(previous, "__qualname__", "") == WRAPPED:
            continue  # ready() ran twice: already wrapped
        register_event_handler(topic, finance_order_event(previous))
