"""BigCommerce orders: the webhook is thin (`data.id`), so the handler fetches the order.

`store/order/created`, `store/order/updated` and `store/order/statusUpdated` (and the polling
backstop's `store/order/updated`) → v2 `GET /orders/<id>`, `GET /orders/<id>/products` (paged,
204 = end) and `GET /orders/<id>/shipping_addresses` → the BigCommerce translator →
order_ingest. Three reads per delivery; the ledger orders the deliveries of one order.
"""

from __future__ import annotations

import json
from typing import Any

from apps.core import shapes
from apps.core.errors import PermanentError
from apps.core.shapes import ID
from apps.sales_channels.clients import answer
from apps.sales_channels.models import Channel
from apps.sales_channels.translators import order_from_bigcommerce

from .acknowledge import ChannelHttp
from .services import order_ingest

BIGCOMMERCE_TOPICS = ("store/order/created", "store/order/updated", "store/order/statusUpdated")
PAGE = 250


def _rows(http: ChannelHttp, resp: Any) -> list[dict[str, Any]]:
    """A v2 list: 204 (or no body) is an empty one; anything but a list of objects is a
    BadPartnerAnswer (an order read as "no products" would be ingested without lines)."""
    if resp.status_code == 204:
        return []
    rows: list[dict[str, Any]] = answer(
        resp, [dict], channel=http.channel, operation="orders.fetch", empty=[]
    )
    return rows


def bigcommerce_order_fetch(*, channel: Channel, order_id: int) -> dict[str, Any]:
    """The order with `products` and `shipping_addresses` lists, as the translator wants."""
    http = ChannelHttp(channel)
    http.session.headers.update(
        {"X-Auth-Token": channel.access_token, "Accept": "application/json"}
    )
    base = channel.api_base_url.rstrip("/") + f"/v2/orders/{order_id}"
    with shapes.about(order_external_id=str(order_id)):
        order: dict[str, Any] = http.json("GET", base, {"id": ID}, "orders.fetch")
        products = _products(http, base)
        try:
            addresses = _rows(http, http.call("GET", base + "/shipping_addresses"))
        except shapes.BadPartnerAnswer:
            raise
        except PermanentError:
            addresses = []  # an order without shipping (digital goods) answers 404
    return {"order": order, "products": products, "shipping_addresses": addresses}


def _products(http: ChannelHttp, base: str) -> list[dict[str, Any]]:
    products: list[dict[str, Any]] = []
    for page in range(1, 1000):
        rows = _rows(
            http, http.call("GET", base + "/products", params={"page": page, "limit": PAGE})
        )
        products += rows
        if len(rows) < PAGE:
            break
    return products


def bigcommerce_order_event_handle(event: Any) -> int:
    """Fetch, translate and ingest the order a thin BigCommerce callback names."""
    try:
        body = json.loads(bytes(event.body))
        order_id = int(body["data"]["id"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(
            f"BigCommerce order callback without data.id: {exc}", field="data.id"
        ) from exc
    channel = Channel.objects.filter(code=event.channel_code).first()
    if channel is None or channel.kind != Channel.Kind.BIGCOMMERCE:
        raise PermanentError(f"{event.channel_code} is not a BigCommerce channel")
    fetched = bigcommerce_order_fetch(channel=channel, order_id=order_id)
    order = order_from_bigcommerce(
        fetched["order"],
        products=fetched["products"],
        shipping_addresses=fetched["shipping_addresses"],
        channel=channel.code,
    )
    return order_ingest(order=order, actor=f"webhook:{event.topic}").pk
