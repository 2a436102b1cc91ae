"""Ledger handlers: a recorded webhook delivery -> canonical order -> order_ingest.

Registered in OrdersConfig.ready when apps.ledger is installed. A handler runs inside the
ledger's processing of one InboundEvent; raising a PermanentError sends that event to the inbox,
a TransientError retries it. Per-order ordering is the ledger's (entity_key); order_ingest is
safe in any arrival order anyway (older versions never overwrite newer ones).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from apps.core.canonical import Order
from apps.core.errors import PermanentError
from apps.sales_channels.models import Channel
from apps.sales_channels.translators import order_from_shopify, order_from_woocommerce

from .services import order_ingest

logger = logging.getLogger(__name__)


class EventLike(Protocol):
    channel_code: str
    topic: str
    body: bytes


SHOPIFY_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "orders/edited",
)
WOOCOMMERCE_TOPICS = ("order.created", "order.updated")

Translator = Callable[..., Order]
TRANSLATORS: dict[str, Translator] = {
    Channel.Kind.SHOPIFY: order_from_shopify,
    Channel.Kind.WOOCOMMERCE: order_from_woocommerce,
}


def _json(body: bytes | memoryview | str) -> Mapping[str, Any]:
    raw = bytes(body) if isinstance(body, memoryview) else body
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(f"order webhook body is not JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise PermanentError("order webhook body is not a JSON object", field="body")
    return data


def order_event_handle(event: EventLike) -> int:
    """Translate and ingest one order delivery; returns the ChannelOrder id."""
    kind = Channel.objects.filter(code=event.channel_code).values_list("kind", flat=True).first()
    translate = TRANSLATORS.get(str(kind))
    if translate is None:
        raise PermanentError(
            f"no order translator for channel {event.channel_code} ({kind})",
            channel=event.channel_code,
            topic=event.topic,
        )
    order = translate(_json(event.body), channel=event.channel_code)
    row = order_ingest(order=order, actor=f"webhook:{event.topic}")
    return row.pk


def register(register_event_handler: Callable[[str, Callable[[Any], Any]], Any]) -> None:
    from .bigcommerce import BIGCOMMERCE_TOPICS, bigcommerce_order_event_handle

    for topic in SHOPIFY_TOPICS + WOOCOMMERCE_TOPICS:
        register_event_handler(topic, order_event_handle)
    # BigCommerce callbacks carry only the order id: that handler fetches the order first.
    for topic in BIGCOMMERCE_TOPICS:
        register_event_handler(topic, bigcommerce_order_event_handle)
    # Adobe I/O events are triggers too: the Magento handler re-reads the order over REST.
    from .magento import MAGENTO_ORDER_EVENTS, magento_order_event_handle

    for topic in MAGENTO_ORDER_EVENTS:
        register_event_handler(topic, magento_order_event_handle)
