"""Channel fulfillment webhooks: the hub's own echo is ignored; a fulfillment made elsewhere
opens "fulfilled outside Odoo" in the inbox; nothing ever touches Odoo."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from apps.fulfillment.handlers import ids_in
from apps.fulfillment.models import ShipmentSync
from apps.inbox.models import Issue
from apps.ledger.models import InboundEvent
from apps.ledger.services import event_process, inbound_event_record
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.fixtures.channels import BIGCOMMERCE_SECRET, SHOPIFY_SECRET, shopify_headers

from .conftest import make_order, make_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db: None) -> Channel:
    channel, _ = channel_create(
        code="shop",
        kind="shopify",
        secret=SHOPIFY_SECRET,
        api_base_url="https://acme.myshopify.com",
    )
    channel.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    return channel


def shopify_fulfillment(order_id: str, fid: int, *numbers: str, status: str = "success") -> Any:
    return {
        "id": fid,
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fid}",
        "order_id": int(order_id),
        "status": status,
        "name": "#1001.1",
        "tracking_company": "UPS",
        "tracking_number": numbers[0] if numbers else None,
        "tracking_numbers": list(numbers),
        "line_items": [{"id": 1, "sku": "TSHIRT", "quantity": 1}],
    }


def deliver(channel: Channel, topic: str, body: Any, key: str) -> str:
    event, _ = inbound_event_record(
        channel_code=channel.code,
        topic=topic,
        dedupe_key=key,
        body=json.dumps(body).encode(),
        headers={},
    )
    return event_process(event_id=event.pk)


def effect(key: str) -> Any:
    return InboundEvent.objects.get(dedupe_key=key).effects[-1]["result"]


def test_the_hubs_own_fulfillment_is_an_echo(shop: Channel) -> None:
    order = make_order(shop)
    shipment = make_shipment(order)
    ShipmentSync.objects.filter(shipment=shipment).update(
        state="done", result={"fulfillment_id": "gid://shopify/Fulfillment/255858046"}
    )
    # by the id the adapter stored
    assert (
        deliver(shop, "fulfillments/create", shopify_fulfillment("1001", 255858046), "a") == "done"
    )
    assert effect("a") == "echo"
    # by a tracking number of a hub shipment (the id not stored yet, the sync done)
    body = shopify_fulfillment("1001", 77, "1Z999AA10123456784")
    assert deliver(shop, "fulfillments/create", body, "b") == "done"
    assert effect("b") == "echo"
    assert not Issue.objects.exists()


def test_a_fulfillment_made_on_the_channel_opens_fulfilled_outside_odoo(shop: Channel) -> None:
    order = make_order(shop)
    # when the merchant marks the order shipped in Shopify (no hub shipment at all)
    body = shopify_fulfillment("1001", 4242, "MANUAL-1")
    assert deliver(shop, "fulfillments/create", body, "m") == "done"
    # then one inbox item on the order, with a suggestion, and nothing else changes
    assert effect("m") == "fulfilled outside Odoo"
    issue = Issue.objects.get()
    assert issue.category == "data_conflict"
    assert "outside Odoo" in issue.title and "MANUAL-1" in issue.title
    assert issue.channel_code == "shop" and issue.order_number == "#1001"
    assert "validate the delivery of S1001 in Odoo" in issue.suggested_action
    assert issue.rows.get().object_id == str(order.pk)
    order.refresh_from_db()
    assert order.state == "in_odoo"
    # the same fulfillment again (Shopify retries) is the same item
    assert deliver(shop, "fulfillments/create", body, "m2") == "done"
    assert Issue.objects.count() == 1


def test_a_fulfillment_while_the_hub_is_fulfilling_is_looked_at_again(shop: Channel) -> None:
    order = make_order(shop)
    make_shipment(order, tracking=())  # its create sync is pending
    assert deliver(shop, "fulfillments/create", shopify_fulfillment("1001", 5), "r") == "retry"
    assert not Issue.objects.exists()


def test_other_orders_and_cancelled_fulfillments_are_ignored(shop: Channel) -> None:
    make_order(shop)
    assert deliver(shop, "fulfillments/create", shopify_fulfillment("999", 1), "x") == "done"
    assert effect("x") == "not a hub order"
    cancelled = shopify_fulfillment("1001", 2, status="cancelled")
    assert deliver(shop, "fulfillments/create", cancelled, "y") == "done"
    assert effect("y") == "not a shipment"
    assert not Issue.objects.exists()


def test_bigcommerce_shipments(db: None) -> None:
    bc, _ = channel_create(code="bc", kind="bigcommerce", secret=BIGCOMMERCE_SECRET)
    order = make_order(bc, "120")
    shipment = make_shipment(order)
    ShipmentSync.objects.filter(shipment=shipment).update(state="done", result={"id": 7})
    echo = {
        "scope": "store/shipment/created",
        "data": {"type": "shipment", "id": 7, "orderId": 120},
    }
    assert deliver(bc, "store/shipment/created", echo, "e") == "done"
    assert effect("e") == "echo"
    other = {
        "scope": "store/shipment/created",
        "data": {"type": "shipment", "id": 8, "orderId": 120},
    }
    assert deliver(bc, "store/shipment/created", other, "o") == "done"
    assert effect("o") == "fulfilled outside Odoo"
    assert Issue.objects.get().order_number == "#120"


def test_through_the_signed_webhook(shop: Channel, django_capture_on_commit_callbacks: Any) -> None:
    make_order(shop)
    body = json.dumps(shopify_fulfillment("1001", 31, "ELSEWHERE")).encode()
    with django_capture_on_commit_callbacks(execute=False):
        resp = Client().generic(
            "POST",
            "/webhooks/shopify/shop/",
            body,
            content_type="application/json",
            **shopify_headers(body, topic="fulfillments/create", webhook_id="wh-77"),
        )
    assert resp.status_code in (200, 202)
    event = InboundEvent.objects.get(dedupe_key="wh-77")
    assert event.topic == "fulfillments/create" and event.entity_key == "order:1001"
    assert event_process(event_id=event.pk) == "done"
    assert Issue.objects.get().category == "data_conflict"


def test_ids_the_adapters_may_store() -> None:
    result = {
        "fulfillment_id": "gid://shopify/Fulfillment/9",
        "order_id": "gid://shopify/Order/1001",
        "shipments": [{"id": 3, "order_address_id": 5}],
        "trackingIds": [11, "12"],
        "location_id": 4,
    }
    assert ids_in(result) == {"9", "3", "11", "12"}
