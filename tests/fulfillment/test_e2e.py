"""End to end, over HTTP everywhere: an order in the Shopify stand-in and the sandbox Odoo, its
delivery validated in two backorder parts, the hub's poll (and hint) → a real Celery worker on
`channel_io` → the real Shopify adapter → two fulfillments with the right lines on the stand-in,
and the order `shipped`. Then a dropped answer after `fulfillmentCreate` makes no second one,
and a tracking number changed in Odoo reaches Shopify once."""

from __future__ import annotations

from typing import Any

import pytest

from apps.fulfillment.detection import shipments_poll
from apps.fulfillment.models import Shipment, ShipmentSync
from apps.mappings.models import ValueMap
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators import order_from_shopify
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.worker import wait_for
from tests.orders.conftest import shopify_payload

from .adapter_helpers import drop_answer_of, writes
from .conftest import ship

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STATE = """
query($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillments(first: 20) {
    id name trackingInfo { company number }
    fulfillmentLineItems(first: 20) { nodes { quantity lineItem { sku } } }
  }
} }
"""


def worker_env(sb: Any) -> dict[str, str]:
    return {
        "ODOO_URL": sb.url.rstrip("/"),
        "ODOO_DB": sb.db,
        "ODOO_USER": sb.user,
        "ODOO_PASSWORD": sb.password,
        "HUB_RETRY_BASE_SECONDS": "0.3",
    }


def fulfillments(standin: ChannelStandin, order_id: int) -> tuple[str, list[dict[str, Any]]]:
    answer = standin.graphql(STATE, {"id": f"gid://shopify/Order/{order_id}"})
    order = answer.body["data"]["order"]
    found = [
        {
            "lines": {
                n["lineItem"]["sku"]: n["quantity"] for n in f["fulfillmentLineItems"]["nodes"]
            },
            "numbers": [t["number"] for t in f["trackingInfo"]],
            "company": {t["company"] for t in f["trackingInfo"]},
        }
        for f in order["fulfillments"]
    ]
    return str(order["displayFulfillmentStatus"]), found


def ups_is_standard_delivery(channel: Channel) -> None:
    """The Odoo carrier "Standard Delivery" is called UPS on the channel."""
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.TRACKING_COMPANY,
        channel_value="UPS",
        odoo_model="delivery.carrier",
        odoo_value="Standard Delivery",
    )


@pytest.fixture
def shopify_order(
    sandbox_settings: Any, shopify_standin: ChannelStandin, bind_all: Any
) -> tuple[Channel, ChannelOrder, int]:
    """A Shopify order (2 x TSHIRT-BLU-M, 1 x MUG-WHT-11OZ) in the stand-in, in the hub and
    confirmed in the sandbox Odoo; the Odoo carrier "Standard Delivery" maps to UPS."""
    channel, _ = channel_create(
        code="shop",
        kind="shopify",
        api_base_url=shopify_standin.base_url,
        access_token=shopify_standin.access_token,
    )
    bind_all(channel)
    ups_is_standard_delivery(channel)
    oid = 7_300_001
    payload = shopify_payload(oid)
    for n, line in enumerate(payload["line_items"], start=1):
        line["id"] = oid * 100 + n  # the stand-in's line item ids
    shopify_standin.seed_order(**payload)
    order = order_ingest(order=order_from_shopify(payload, channel="shop"))
    order_push_due()
    order.refresh_from_db()
    assert order.state == OrderState.IN_ODOO
    return channel, order, oid


def carrier_id(sb: Any) -> int:
    [row] = sb.execute(
        "delivery.carrier", "search_read", [["name", "=", "Standard Delivery"]], fields=["id"]
    )
    return int(row["id"])


def synced(count: int, action: str = "create") -> bool:
    rows = ShipmentSync.objects.filter(action=action)
    return rows.count() == count and all(r.state == "done" for r in rows)


def test_two_backorder_parts_become_two_shopify_fulfillments_and_the_order_ships(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    shopify_standin: ChannelStandin,
    shopify_order: Any,
) -> None:
    sb = sandbox_settings
    _, order, oid = shopify_order
    celery_worker_factory(queues="channel_io", **worker_env(sb))
    # when the warehouse ships one T-shirt, and the hub polls
    ship(gateway, order, quantities={"SKU-001": 1}, tracking="1ZFIRST", carrier_id=carrier_id(sb))
    shipments_poll()
    # then the worker tells Shopify: one fulfillment of exactly that
    wait_for(lambda: synced(1), timeout=30)
    status, made = fulfillments(shopify_standin, oid)
    assert status == "PARTIALLY_FULFILLED"
    assert made == [{"lines": {"TSHIRT-BLU-M": 1}, "numbers": ["1ZFIRST"], "company": {"UPS"}}]
    # when the backorder ships, and the hub polls again
    ship(gateway, order, tracking="1ZSECOND", carrier_id=carrier_id(sb))
    shipments_poll()
    wait_for(lambda: synced(2), timeout=30)
    # then a second fulfillment with the rest; the order is shipped on both sides
    status, made = fulfillments(shopify_standin, oid)
    assert status == "FULFILLED"
    assert [f["lines"] for f in made] == [
        {"TSHIRT-BLU-M": 1},
        {"TSHIRT-BLU-M": 1, "MUG-WHT-11OZ": 1},
    ]
    assert [f["numbers"] for f in made] == [["1ZFIRST"], ["1ZSECOND"]]
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    # the polls that overlap change nothing: still two fulfillments
    shipments_poll()
    assert len(writes(shopify_standin, "fulfillmentCreate")) == 2
    results = ShipmentSync.objects.filter(action="create").values_list("result", flat=True)
    assert all(r["fulfillment_ids"] for r in results)


def test_a_dropped_answer_makes_no_second_fulfillment_and_a_tracking_change_arrives_once(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    shopify_standin: ChannelStandin,
    shopify_order: Any,
) -> None:
    sb = sandbox_settings
    _, order, oid = shopify_order
    # given Shopify makes the fulfillment but its answer never arrives
    drop_answer_of(shopify_standin, body="fulfillmentCreate")
    celery_worker_factory(queues="channel_io", **worker_env(sb))
    done = ship(gateway, order, tracking="1ZDROP", carrier_id=carrier_id(sb))
    shipments_poll()
    # then the retry reads first, finds it, and makes no second one
    wait_for(lambda: synced(1), timeout=40)
    row = ShipmentSync.objects.get(action="create")
    assert row.attempts == 1 and row.result["found_ids"]
    status, made = fulfillments(shopify_standin, oid)
    assert status == "FULFILLED" and len(made) == 1
    assert len(writes(shopify_standin, "fulfillmentCreate")) == 1
    # when the tracking number is corrected in Odoo
    sb.execute("stock.picking", "write", [done["id"]], {"carrier_tracking_ref": "1ZFIXED"})
    shipments_poll()
    shipments_poll()
    # then Shopify's fulfillment carries it, through one update
    wait_for(lambda: synced(1, "tracking"), timeout=30)
    _, made = fulfillments(shopify_standin, oid)
    assert [f["numbers"] for f in made] == [["1ZFIXED"]]
    assert len(writes(shopify_standin, "fulfillmentTrackingInfoUpdate")) == 1
    assert Shipment.objects.get().tracking_numbers == ["1ZFIXED"]


def test_the_odoo_hint_ships_without_a_poll(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    shopify_standin: ChannelStandin,
    shopify_order: Any,
    live_server: Any,
    settings: Any,
) -> None:
    from django.core.management import call_command

    sb = sandbox_settings
    _, order, oid = shopify_order
    settings.HUB_ODOO_WEBHOOK_TOKEN = "ship-hint-" + "q" * 40
    # given the shipment rule installed in Odoo, posting to the hub's receiver
    url = f"{live_server.url}/webhooks/odoo/{settings.HUB_ODOO_WEBHOOK_TOKEN}/pickings/"
    call_command("odoo", "install-shipment-webhook", "--url", url)
    celery_worker_factory(queues="odoo,channel_io", concurrency=2, **worker_env(sb))
    # when the delivery is validated in Odoo (no poll runs in this test)
    ship(gateway, order, tracking="1ZHINT", carrier_id=carrier_id(sb))
    # then Odoo's post is read by the worker, recorded, and sent to Shopify
    wait_for(lambda: synced(1), timeout=30)
    status, made = fulfillments(shopify_standin, oid)
    assert status == "FULFILLED"
    assert made == [
        {
            "lines": {"TSHIRT-BLU-M": 2, "MUG-WHT-11OZ": 1},
            "numbers": ["1ZHINT"],
            "company": {"UPS"},
        }
    ]
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert Shipment.objects.count() == 1
