"""What each row of the matrix sends: the API operations (keyed like the OpenAPI document,
"METHOD /path/{param}/") and the other URLs, each built against the own channel's objects.

A recipe returns the request; the objects it needs are made inside the row's savepoint, so
every identity meets them as they were made.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from apps.sales_channels.models import Channel
from tests.fixtures.channels import sign_base64
from tests.fulfillment.conftest import make_order, make_shipment
from tests.orders.conftest import b2b_payload

from .world import DEAD_URL, Call, World, build


def _shipped(w: World) -> Any:
    order = make_order(w.own, f"SEC-{uuid.uuid4().hex[:6]}")
    make_shipment(order, picking_id=order.pk + 7000, name=f"WH/OUT/{order.pk}")
    return order


def _endpoint(w: World) -> Any:
    from apps.events.services import endpoint_create

    ep, _ = endpoint_create(url=f"{DEAD_URL}/hook", event_types=["*"], channel=w.own)
    return ep


def _return(w: World) -> Any:
    from apps.returns.services import b2b_return_request

    order = _shipped(w)
    return b2b_return_request(order=order, lines=[{"sku": "MUG", "quantity": 1, "reason": "x"}])


def _order_marker(w: World) -> tuple[Any, tuple[str, ...]]:
    order = make_order(w.own, f"SEC-{uuid.uuid4().hex[:6]}")
    return order, (order.external_id,)


def _get_order(suffix: str) -> Callable[[World], Call]:
    def call(w: World) -> Call:
        order, markers = _order_marker(w)
        return Call("GET", f"/api/v1/orders/{order.pk}/{suffix}", markers=markers)

    return call


def _endpoint_call(method: str, suffix: str = "", data: Any = None) -> Callable[[World], Call]:
    def call(w: World) -> Call:
        ep = _endpoint(w)
        path = f"/api/v1/webhook-endpoints/{ep.uid}/{suffix}"
        return Call(method, path, data=data, json=data is not None, markers=(ep.uid,))

    return call


def _list(path: str, make: Callable[[World], tuple[str, ...]]) -> Callable[[World], Call]:
    def call(w: World) -> Call:
        return Call("GET", path, markers=make(w))

    return call


def _prices(w: World) -> Call:
    from apps.pricing.refresh import state

    state()  # the engine's state row exists in a running hub; a first read would make it
    return Call("GET", "/api/v1/prices/?sku=SEC-SKU")


def _orders_post(w: World) -> Call:
    return Call(
        "POST", "/api/v1/orders/", data=b2b_payload(f"SEC-{uuid.uuid4().hex[:6]}"), json=True
    )


def _returns_post(w: World) -> Call:
    order = _shipped(w)
    body = {"order_id": order.pk, "lines": [{"sku": "MUG", "quantity": 1, "reason": "broken"}]}
    return Call("POST", "/api/v1/returns/", data=body, json=True)


def _return_get(w: World) -> Call:
    ret = _return(w)
    return Call("GET", f"/api/v1/returns/{ret.pk}/", markers=(ret.external_id,))


def _shipment_event(w: World) -> Call:
    order = make_order(w.own, f"SEC-{uuid.uuid4().hex[:6]}")
    shipment = make_shipment(order, picking_id=order.pk + 9000, name=f"WH/OUT/{order.pk}")
    body = {"status": "delivered", "happened_at": timezone.now().isoformat()}
    return Call("POST", f"/api/v1/shipments/{shipment.pk}/events/", data=body, json=True)


def _events(w: World) -> tuple[str, ...]:
    from apps.events.publish import event_publish

    event = event_publish(
        type="stock.threshold_breached",
        entity_key=f"sku:{w.own.code}:SEC-SKU",
        channel=w.own,
        payload={
            "channel": w.own.code,
            "sku": "SEC-SKU",
            "available": 1,
            "previous": 9,
            "threshold": 5,
            "direction": "below",
        },
        ring=False,
    )
    assert event is not None
    return (event.uid,)


def _orders(w: World) -> tuple[str, ...]:
    return _order_marker(w)[1]


def _endpoints(w: World) -> tuple[str, ...]:
    return (_endpoint(w).uid,)


API: dict[str, Callable[[World], Call]] = {
    "GET /api/schema/": lambda w: Call("GET", "/api/schema/"),
    "GET /api/v1/channel/": lambda w: Call("GET", "/api/v1/channel/", markers=(w.own.code,)),
    "GET /api/v1/channels/{code}/": lambda w: Call(
        "GET", f"/api/v1/channels/{w.own.code}/", markers=(w.own.code,)
    ),
    "GET /api/v1/events/": _list("/api/v1/events/", _events),
    "GET /api/v1/events/types/": lambda w: Call("GET", "/api/v1/events/types/"),
    "GET /api/v1/events/types/{name}/": lambda w: Call(
        "GET", "/api/v1/events/types/order.accepted/"
    ),
    "GET /api/v1/inventory/": lambda w: Call("GET", "/api/v1/inventory/?sku=SEC-SKU"),
    "GET /api/v1/orders/": _list("/api/v1/orders/", _orders),
    "POST /api/v1/orders/": _orders_post,
    "GET /api/v1/orders/{order_id}/": _get_order(""),
    "GET /api/v1/orders/{order_id}/invoices/": _get_order("invoices/"),
    "GET /api/v1/orders/{order_id}/shipments/": _get_order("shipments/"),
    "GET /api/v1/prices/": _prices,
    "POST /api/v1/returns/": _returns_post,
    "GET /api/v1/returns/{return_id}/": _return_get,
    "POST /api/v1/shipments/{shipment_id}/events/": _shipment_event,
    "GET /api/v1/webhook-endpoints/": _list("/api/v1/webhook-endpoints/", _endpoints),
    "POST /api/v1/webhook-endpoints/": lambda w: Call(
        "POST",
        "/api/v1/webhook-endpoints/",
        data={"url": f"{DEAD_URL}/new", "event_types": ["order.accepted"]},
        json=True,
    ),
    "GET /api/v1/webhook-endpoints/{endpoint_id}/": _endpoint_call("GET"),
    "PATCH /api/v1/webhook-endpoints/{endpoint_id}/": _endpoint_call(
        "PATCH", data={"description": "changed"}
    ),
    "DELETE /api/v1/webhook-endpoints/{endpoint_id}/": _endpoint_call("DELETE"),
    "POST /api/v1/webhook-endpoints/{endpoint_id}/recover/": _endpoint_call(
        "POST", "recover/", data={"since": "2020-01-01T00:00:00Z"}
    ),
    "POST /api/v1/webhook-endpoints/{endpoint_id}/rotate-secret/": _endpoint_call(
        "POST", "rotate-secret/", data={}
    ),
    "POST /ops/pipeline-check": lambda w: Call("POST", "/ops/pipeline-check"),
    "GET /ops/pipeline-check/{correlation_id}": lambda w: Call(
        "GET", "/ops/pipeline-check/sec-check-1"
    ),
}


def _issue_needing_a_product(w: World) -> Any:
    from apps.core.errors import MappingMissing
    from apps.inbox.services import issue_report

    event = _event(w)
    error = MappingMissing("SKU SEC-MISSING is not mapped", channel=w.own.code, sku="SEC-MISSING")
    return issue_report(
        error=error,
        key=f"sku:SEC-MISSING@{w.own.code}",
        row=event,
        channel_code=w.own.code,
        sku="SEC-MISSING",
    )


def _event(w: World) -> Any:
    from tests.ledger.helpers import record

    return record("test.mapping", channel=w.own.code, sku="SEC-MISSING", order="#SEC")


def _image(w: World) -> Call:
    from apps.catalog.models import CatalogImage

    image = build(CatalogImage, checksum="a" * 64, content=b"\x89PNG", content_type="image/png")
    return Call("GET", f"/catalog/images/{image.checksum}")


def _webhook(kind: str) -> Callable[[World], Call]:
    """A delivery to a real channel of `kind`, signed with the wrong secret (or not at all)."""

    def make(w: World) -> Call:
        from apps.sales_channels.services import channel_create

        code = f"sec-{kind.replace('_', '-')}"
        if kind in Channel.Kind.values:
            secret = "whsec_c2VjLXJpZ2h0LXNlY3JldC0xMjM0NTY3OA=="
            channel_create(code=code, kind=kind, secret=secret)
        body = b'{"id": 1}'
        headers = {
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": "sec-1",
            "X-Shopify-Shop-Domain": "sec.myshopify.com",
            "X-Shopify-Hmac-Sha256": sign_base64("sec-wrong-secret", body),
            "X-WC-Webhook-Topic": "order.created",
            "X-WC-Webhook-Signature": sign_base64("sec-wrong-secret", body),
            "Webhook-Id": "msg_sec1",
            "Webhook-Timestamp": str(int(timezone.now().timestamp())),
            "Webhook-Signature": "v1," + sign_base64("sec-wrong-secret", body),
        }
        return Call("POST", f"/webhooks/{kind}/{code}/", data={"id": 1}, json=True, headers=headers)

    return make


def _handshake(w: World) -> Call:
    from apps.sales_channels.services import channel_create

    channel_create(code="sec-magento", kind="magento")
    return Call("GET", "/webhooks/magento/sec-magento/?challenge=sec-challenge")


def _hint(suffix: str) -> Callable[[World], Call]:
    return lambda w: Call(
        "POST", f"/webhooks/odoo/sec-wrong-token/{suffix}", data={"ids": [1]}, json=True
    )


for _kind in Channel.Kind.values:
    API[f"POST /webhooks/{_kind}/{{channel_code}}/"] = _webhook(_kind)
API["GET /webhooks/magento/{channel_code}/"] = _handshake
API["POST /webhooks/odoo/{token}/"] = _hint("")
API["POST /webhooks/odoo/{token}/pickings/"] = _hint("pickings/")


# The URLs outside the API document and the admin: route pattern -> (method, recipe).
PAGES: dict[str, tuple[str, Callable[[World], Call]]] = {
    "api/docs/": ("GET", lambda w: Call("GET", "/api/docs/")),
    "healthz": ("GET", lambda w: Call("GET", "/healthz")),
    "readyz": ("GET", lambda w: Call("GET", "/readyz")),
    "metrics": ("GET", lambda w: Call("GET", "/metrics")),
    "ops/": ("GET", lambda w: Call("GET", "/ops/")),
    "ops/fix/<int:pk>/": (
        "POST",
        lambda w: Call(
            "POST", f"/ops/fix/{_issue_needing_a_product(w).pk}/", data={"odoo_id": "11"}
        ),
    ),
    "catalog/images/<str:checksum>": ("GET", _image),
    # A kind the hub does not receive (each kind it does is an API operation).
    "webhooks/<str:kind>/<slug:channel_code>/": ("POST", _webhook("sec_unknown_kind")),
}
