"""The shipments API over HTTP: an order's shipments, carrier reports, delivery.confirmed,
idempotency, scopes, another channel's rows, and the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import BusinessEvent
from apps.fulfillment.models import ShipmentReport, ShipmentSync
from apps.sales_channels.models import Channel
from apps.sales_channels.services import api_token_create, channel_create

from .conftest import make_order, make_shipment

pytestmark = pytest.mark.django_db

HAPPENED = "2026-01-10T09:30:00Z"


def client_for(channel: Channel, *scopes: str) -> APIClient:
    client = APIClient()
    _, raw = api_token_create(channel=channel, scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def shop(db: None) -> Channel:
    channel, _ = channel_create(code="shop", kind="shopify")
    return channel


@pytest.fixture
def other(db: None) -> Channel:
    channel, _ = channel_create(code="portal", kind="b2b_api")
    return channel


def report(client: APIClient, shipment_id: int, body: Any, **headers: str) -> Any:
    return client.post(
        f"/api/v1/shipments/{shipment_id}/events/",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_an_orders_shipments(shop: Channel, other: Channel) -> None:
    order = make_order(shop)
    first = make_shipment(order, lines=(("TSHIRT", 1, 11, "L1"),))
    make_shipment(order, picking_id=502, name="WH/OUT/00502", sync=False)
    # when the channel's token asks
    resp = client_for(shop, "orders:read").get(f"/api/v1/orders/{order.pk}/shipments/")
    # then both shipments, oldest first, with lines, carrier, tracking and the Odoo picking
    assert resp.status_code == 200
    body = resp.json()
    assert body["order"] == order.pk and body["number"] == "#1001"
    assert body["state"] == "in_odoo"
    one, two = body["shipments"]
    assert one["id"] == first.pk and one["odoo_picking"] == "WH/OUT/00501"
    assert one["lines"] == [{"sku": "TSHIRT", "quantity": 1, "external_line_id": "L1"}]
    assert one["carrier"] == "UPS" and one["odoo_carrier"] == "Standard Delivery"
    assert one["tracking_numbers"] == ["1Z999AA10123456784"]
    assert one["tracking_url"] == "https://track.example/1Z"
    assert one["status"] == "dispatched" and one["delivered_at"] is None
    assert one["channel_sync"] == "pending" and two["channel_sync"] is None
    # another channel's token, a missing order, no token, the wrong scope
    assert client_for(other, "orders:read").get(f"/api/v1/orders/{order.pk}/shipments/").json() == {
        "error": "not_found",
        "field": None,
        "reason": "no such order",
    }
    assert (
        client_for(other, "orders:read").get(f"/api/v1/orders/{order.pk}/shipments/").status_code
        == 404
    )
    assert (
        client_for(shop, "orders:read").get("/api/v1/orders/999999/shipments/").status_code == 404
    )
    assert APIClient().get(f"/api/v1/orders/{order.pk}/shipments/").status_code == 401
    denied = client_for(shop, "inventory:read").get(f"/api/v1/orders/{order.pk}/shipments/")
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    # orders:write reads too, like the order API
    write = client_for(shop, "orders:write").get(f"/api/v1/orders/{order.pk}/shipments/")
    assert write.status_code == 200


def test_a_delivery_report_confirms_once_and_queues_the_channel_event(
    shop: Channel, django_capture_on_commit_callbacks: Any, rings: list[Any]
) -> None:
    shipment = make_shipment(make_order(shop))
    client = client_for(shop, "shipments:write")
    transit = {"status": "in_transit", "happened_at": "2026-01-09T12:00:00Z", "location": "Gent"}
    delivered = {"status": "delivered", "happened_at": HAPPENED, "message": "Left at the door"}
    with django_capture_on_commit_callbacks(execute=True):
        assert report(client, shipment.pk, transit).status_code == 201
        resp = report(client, shipment.pk, delivered)
    assert resp.status_code == 201
    body = resp.json()
    assert body["status"] == "delivered" and body["shipment_status"] == "delivered"
    assert body["delivered_at"] == "2026-01-10T09:30:00Z"
    shipment.refresh_from_db()
    assert shipment.status == "delivered" and shipment.delivered_at
    [event] = BusinessEvent.objects.filter(type="delivery.confirmed")
    assert event.payload["shipment"] == {
        "odoo_picking": "WH/OUT/00501",
        "tracking_numbers": ["1Z999AA10123456784"],
        "delivered_at": "2026-01-10T09:30:00Z",
    }
    assert event.payload["order"]["number"] == "#1001"
    # a late scan of an earlier moment does not move the status back, and confirms nothing
    late = {"status": "out_for_delivery", "happened_at": "2026-01-10T07:00:00Z"}
    assert report(client, shipment.pk, late).status_code == 201
    again = {"status": "delivered", "happened_at": "2026-01-10T10:00:00Z"}
    assert report(client, shipment.pk, again).status_code == 201
    shipment.refresh_from_db()
    assert shipment.status == "delivered"
    assert BusinessEvent.objects.filter(type="delivery.confirmed").count() == 1
    # every report queued one event sync for Shopify (its adapter adds fulfillment events)
    events = ShipmentSync.objects.filter(action="event").order_by("id")
    assert [e.request["status"] for e in events] == [
        "in_transit",
        "delivered",
        "out_for_delivery",
        "delivered",
    ]
    assert {e.entity_key for e in events} == {f"shipment:{shipment.pk}"}
    assert ("fulfillment.shipmentsync", events[0].pk) in rings


def test_an_idempotency_key_records_once(shop: Channel) -> None:
    shipment = make_shipment(make_order(shop))
    client = client_for(shop, "shipments:write")
    body = {"status": "in_transit", "happened_at": HAPPENED}
    first = report(client, shipment.pk, body, HTTP_IDEMPOTENCY_KEY="scan-1")
    second = report(client, shipment.pk, body, HTTP_IDEMPOTENCY_KEY="scan-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert ShipmentReport.objects.count() == 1
    assert ShipmentSync.objects.filter(action="event").count() == 1
    other = report(
        client, shipment.pk, {**body, "status": "failure"}, HTTP_IDEMPOTENCY_KEY="scan-1"
    )
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_conflict"
    assert other.json()["field"] == "Idempotency-Key"
    too_long = report(client, shipment.pk, body, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert too_long.status_code == 400
    # without a key, each post is a report
    assert report(client, shipment.pk, body).status_code == 201
    assert ShipmentReport.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "lost", "happened_at": HAPPENED}, "status"),
        ({"happened_at": HAPPENED}, "status"),
        ({"status": "delivered"}, "happened_at"),
        ({"status": "delivered", "happened_at": "yesterday"}, "happened_at"),
        ({"status": "delivered", "happened_at": "2026-01-10T09:30:00"}, "happened_at"),
        ({"status": "delivered", "happened_at": HAPPENED, "message": 42}, "message"),
        ({"status": "delivered", "happened_at": HAPPENED, "location": "x" * 201}, "location"),
    ],
)
def test_invalid_reports_are_refused_with_the_field(
    shop: Channel, body: dict[str, Any], field: str
) -> None:
    shipment = make_shipment(make_order(shop))
    resp = report(client_for(shop, "shipments:write"), shipment.pk, body)
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_request" and resp.json()["field"] == field
    assert set(resp.json()) == {"error", "field", "reason"}
    assert not ShipmentReport.objects.exists()


def test_a_report_from_the_future_matches_the_document_but_is_422(shop: Channel) -> None:
    shipment = make_shipment(make_order(shop))
    body = {"status": "delivered", "happened_at": "2999-01-01T00:00:00Z"}
    resp = report(client_for(shop, "shipments:write"), shipment.pk, body)
    assert resp.status_code == 422
    assert resp.json() == {
        "error": "unprocessable",
        "field": "happened_at",
        "reason": "is in the future",
    }
    assert not ShipmentReport.objects.exists()


def test_reports_need_the_scope_and_the_channels_own_shipment(
    shop: Channel, other: Channel
) -> None:
    shipment = make_shipment(make_order(shop))
    body = {"status": "delivered", "happened_at": HAPPENED}
    assert report(client_for(shop, "orders:read"), shipment.pk, body).status_code == 403
    assert report(client_for(other, "shipments:write"), shipment.pk, body).status_code == 404
    assert report(client_for(shop, "shipments:write"), 999999, body).status_code == 404
    assert report(APIClient(), shipment.pk, body).status_code == 401
    not_json = client_for(shop, "shipments:write").post(
        f"/api/v1/shipments/{shipment.pk}/events/", "{nope", content_type="application/json"
    )
    assert not_json.status_code == 400 and not_json.json()["error"] == "invalid_request"
    assert not ShipmentReport.objects.exists()


def test_b2b_reports_queue_no_channel_sync(other: Channel) -> None:
    shipment = make_shipment(make_order(other), sync=False)
    body = {"status": "delivered", "happened_at": HAPPENED}
    assert report(client_for(other, "shipments:write"), shipment.pk, body).status_code == 201
    assert not ShipmentSync.objects.exists()
    assert BusinessEvent.objects.filter(type="delivery.confirmed").count() == 1


def _ref(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def test_openapi_declares_bodies_answers_and_errors(db: None) -> None:
    doc = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    paths = doc["paths"]
    listing = paths["/api/v1/orders/{order_id}/shipments/"]["get"]
    events = paths["/api/v1/shipments/{shipment_id}/events/"]["post"]
    assert {"200", "401", "403", "404", "429"} <= set(listing["responses"])
    assert {"200", "201", "400", "401", "403", "404", "422", "429"} <= set(events["responses"])
    body = _ref(doc, events["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["required"]) == {"status", "happened_at"}
    assert set(_ref(doc, body["properties"]["status"])["enum"]) == {
        "in_transit",
        "out_for_delivery",
        "delivered",
        "failure",
    }
    assert {p["name"] for p in events["parameters"] if p["in"] == "header"} == {"Idempotency-Key"}
    for code in ("400", "404", "422"):
        error = _ref(doc, events["responses"][code]["content"]["application/json"]["schema"])
        assert set(error["properties"]) == {"error", "field", "reason"}
    shipments = _ref(doc, listing["responses"]["200"]["content"]["application/json"]["schema"])
    item = _ref(doc, shipments["properties"]["shipments"]["items"])
    assert {"odoo_picking", "lines", "carrier", "tracking_numbers", "tracking_url"} <= set(
        item["properties"]
    )
    assert events["security"] == [{"channelToken": ["shipments:write"]}]
