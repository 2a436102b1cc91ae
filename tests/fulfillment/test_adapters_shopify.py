"""Shopify fulfilment adapter against the Shopify stand-in over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import PermanentError, RateLimited, TransientError
from apps.fulfillment.adapters import adapter_for
from apps.fulfillment.adapters.shopify import (
    ShopifyFulfilment,
    shopify_company,
    tracking_input,
)
from apps.inventory.publishers.shopify import ShopifyPublisher
from tests.fixtures.channel_standins import ChannelStandin
from tests.fulfillment.adapter_helpers import (
    drop_answer_of,
    fresh_cache,
    shipment,
    standin_channel,
    writes,
)

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

STATE = """
query($id: ID!) { order(id: $id) {
  displayFulfillmentStatus
  fulfillmentOrders(first: 5) { nodes { status lineItems(first: 20) { nodes {
    remainingQuantity lineItem { sku } } } } }
  fulfillments(first: 20) {
    id name displayStatus trackingInfo { company number url }
    fulfillmentLineItems(first: 20) { nodes { quantity lineItem { sku } } }
  }
} }
"""


def state(standin: ChannelStandin, order: dict[str, Any]) -> dict[str, Any]:
    answer = standin.graphql(STATE, {"id": order["admin_graphql_api_id"]})
    result: dict[str, Any] = answer.body["data"]["order"]
    return result


def lines_of(fulfillment: dict[str, Any]) -> dict[str, int]:
    return {
        n["lineItem"]["sku"]: n["quantity"] for n in fulfillment["fulfillmentLineItems"]["nodes"]
    }


@pytest.fixture
def adapter(make_channel: Any, shopify_standin: ChannelStandin) -> ShopifyFulfilment:
    found = adapter_for(standin_channel(make_channel, shopify_standin, "shop"))
    assert isinstance(found, ShopifyFulfilment)
    return found


@pytest.fixture
def order(shopify_standin: ChannelStandin) -> dict[str, Any]:
    return shopify_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 3}, {"sku": "SKU-002", "quantity": 2}]
    )


def test_budget_is_the_inventory_publishers(adapter: ShopifyFulfilment) -> None:
    # Same account key: stock publication and fulfilment spend one shared budget.
    assert adapter.pub.budget.key == ShopifyPublisher(adapter.channel).budget.key


def test_partial_shipment_then_the_rest(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    # given a first picking with part of the order, sent with a lower-case carrier name
    first = shipment(order["id"], [("SKU-001", 2)], carrier="ups", numbers=("1ZA",))
    # when it is fulfilled
    one = adapter.fulfil(first)
    # then one read and one write made exactly that fulfillment
    assert one.calls == 2 and not one.found_existing
    now = state(shopify_standin, order)
    assert now["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    [made] = now["fulfillments"]
    assert lines_of(made) == {"SKU-001": 2}
    assert made["trackingInfo"][0]["company"] == "UPS" and made["trackingInfo"][0]["number"]
    assert one.ref["fulfillment_ids"] == [made["id"]]
    [create] = writes(shopify_standin, "fulfillmentCreate")
    sent = create["body"]["variables"]["fulfillment"]
    # only the shipped quantity, the carrier in Shopify's spelling, and no URL of ours: Shopify
    # builds the link for a carrier of its list
    assert sent["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"][0]["quantity"] == 2
    assert sent["trackingInfo"] == {"company": "UPS", "number": "1ZA"}
    assert sent["notifyCustomer"] is True
    # when the backorder ships the rest
    rest = shipment(
        order["id"],
        [("SKU-001", 1), ("SKU-002", 2)],
        picking="WH/OUT/00002",
        numbers=("1ZB",),
        final=True,
    )
    two = adapter.fulfil(rest)
    # then a second fulfillment with its own lines, and the order is fulfilled
    assert two.calls == 2
    now = state(shopify_standin, order)
    assert now["displayFulfillmentStatus"] == "FULFILLED"
    assert [lines_of(f) for f in now["fulfillments"]] == [
        {"SKU-001": 2},
        {"SKU-001": 1, "SKU-002": 2},
    ]
    assert len(writes(shopify_standin, "fulfillmentCreate")) == 2


def test_lines_map_by_channel_line_id_before_sku(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin
) -> None:
    # given an order with the same SKU on two lines
    order = shopify_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-001", "quantity": 1}]
    )
    second_line = str(order["id"] * 100 + 2)  # the stand-in's line ids: order id * 100 + n
    # when the picking names the channel line
    adapter.fulfil(shipment(order["id"], [("SKU-001", 1, second_line)]))
    # then that line is fulfilled, not the first one with the SKU
    nodes = state(shopify_standin, order)["fulfillmentOrders"]["nodes"][0]["lineItems"]["nodes"]
    assert [n["remainingQuantity"] for n in nodes] == [1, 0]


def test_dropped_answer_after_create_does_not_create_a_second(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    ship = shipment(order["id"], [("SKU-001", 2)])
    # given Shopify makes the fulfillment but its answer is lost
    drop_answer_of(shopify_standin, path="graphql", body="fulfillmentCreate")
    with pytest.raises(TransientError) as lost:
        adapter.fulfil(ship)
    assert lost.value.context["channel_calls"] == 2
    assert lost.value.context["odoo_picking_name"] == "WH/OUT/00001"
    # when the work row tries again
    again = adapter.fulfil(shipment(order["id"], [("SKU-001", 2)], retry=True))
    # then the earlier fulfillment is found by its tracking number and nothing more is made
    assert again.found_existing
    assert again.calls == 2  # the read and the candidate's lines
    [made] = state(shopify_standin, order)["fulfillments"]
    assert again.ref["fulfillment_ids"] == [made["id"]] and lines_of(made) == {"SKU-001": 2}
    assert len(writes(shopify_standin, "fulfillmentCreate")) == 1


def test_dropped_answer_without_tracking_is_recognised_too(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    # given an earlier fulfillment of the same lines without tracking (another picking's)
    adapter.fulfil(shipment(order["id"], [("SKU-001", 1)], picking="WH/OUT/1", numbers=()))
    ship = shipment(order["id"], [("SKU-001", 1)], picking="WH/OUT/2", numbers=(), url="")
    drop_answer_of(shopify_standin, path="graphql", body="fulfillmentCreate")
    with pytest.raises(TransientError):
        adapter.fulfil(ship)
    # when the second picking is retried (nothing but the attempt mark tells the two apart)
    again = adapter.fulfil(ship)
    # then only the fulfillment made since that attempt is taken as ours
    assert again.found_existing
    fulfillments = state(shopify_standin, order)["fulfillments"]
    assert len(fulfillments) == 2 and again.ref["fulfillment_ids"] == [fulfillments[1]["id"]]


def test_tracking_changed_between_two_tries_still_finds_the_first(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    drop_answer_of(shopify_standin, path="graphql", body="fulfillmentCreate")
    with pytest.raises(TransientError):
        adapter.fulfil(shipment(order["id"], [("SKU-001", 2)], numbers=("OLD",)))
    # Odoo's tracking reference changed before the retry: the number cannot recognise it, our
    # attempt mark can (it appeared since the attempt and its lines are ours)
    again = adapter.fulfil(shipment(order["id"], [("SKU-001", 2)], numbers=("NEW",), retry=True))
    assert again.found_existing and again.calls == 3  # read, its lines, the tracking fix
    [f] = state(shopify_standin, order)["fulfillments"]
    assert [t["number"] for t in f["trackingInfo"]] == ["NEW"]


def test_a_new_picking_with_identical_lines_is_not_mistaken_for_an_earlier_one(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    adapter.fulfil(shipment(order["id"], [("SKU-001", 1)], picking="WH/OUT/1", numbers=()))
    second = adapter.fulfil(shipment(order["id"], [("SKU-001", 1)], picking="WH/OUT/2", numbers=()))
    assert not second.found_existing and second.calls == 2
    assert len(state(shopify_standin, order)["fulfillments"]) == 2


def test_tracking_update_once(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    made = adapter.fulfil(shipment(order["id"], [("SKU-001", 3), ("SKU-002", 2)]))
    # when Odoo's tracking reference changes to two parcels of an unknown carrier
    changed = shipment(
        order["id"],
        [("SKU-001", 3), ("SKU-002", 2)],
        carrier="Acme Freight",
        numbers=("AC1", "AC2"),
        url="https://acme.example/t",
        previous=made.ref,
    )
    updated = adapter.update_tracking(changed)
    # then one call replaced the tracking with the full list, URLs included (no Shopify link)
    assert updated.calls == 1
    [f] = state(shopify_standin, order)["fulfillments"]
    assert [(t["company"], t["number"], t["url"]) for t in f["trackingInfo"]] == [
        ("Acme Freight", "AC1", "https://acme.example/t"),
        ("Acme Freight", "AC2", "https://acme.example/t"),
    ]
    [update] = writes(shopify_standin, "fulfillmentTrackingInfoUpdate")
    assert update["body"]["variables"]["tracking"] == {
        "company": "Acme Freight",
        "numbers": ["AC1", "AC2"],
        "urls": ["https://acme.example/t", "https://acme.example/t"],
    }


def test_over_shipping_is_permanent_and_nothing_is_sent(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    adapter.fulfil(shipment(order["id"], [("SKU-001", 2)]))
    with pytest.raises(PermanentError) as refused:
        adapter.fulfil(shipment(order["id"], [("SKU-001", 2)], picking="P2", numbers=("X",)))
    assert refused.value.context["reason"] == "already_fulfilled"
    assert "1 left" in refused.value.message
    assert len(writes(shopify_standin, "fulfillmentCreate")) == 1


def test_user_errors_are_permanent_with_their_text(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    # given Shopify refuses the write (someone fulfilled in between our read and our write)
    refusal = {
        "data": {
            "fulfillmentCreate": {
                "fulfillment": None,
                "userErrors": [
                    {
                        "field": ["fulfillment"],
                        "message": "Invalid fulfillment order line item quantity requested.",
                    }
                ],
            }
        }
    }
    shopify_standin.set_config(
        fail_next=[
            {
                "path_contains": "graphql",
                "body_contains": "fulfillmentCreate",
                "status": 200,
                "body": refusal,
            }
        ]
    )
    with pytest.raises(PermanentError) as refused:
        adapter.fulfil(shipment(order["id"], [("SKU-001", 1)]))
    assert "Invalid fulfillment order line item quantity requested." in refused.value.message


def test_closed_fulfillment_order_is_refused_by_the_stand_in(
    shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    q = """query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 1) { nodes { id } } } }"""
    fo = shopify_standin.graphql(q, {"id": order["admin_graphql_api_id"]}).body["data"]["order"][
        "fulfillmentOrders"
    ]["nodes"][0]["id"]
    create = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
      fulfillment { id } userErrors { field message } } }"""
    all_of_it = {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}}
    assert (
        shopify_standin.graphql(create, all_of_it).body["data"]["fulfillmentCreate"]["userErrors"]
        == []
    )
    again = shopify_standin.graphql(create, all_of_it).body["data"]["fulfillmentCreate"]
    assert again["fulfillment"] is None
    assert "unfulfillable status= closed" in again["userErrors"][0]["message"]


def test_unknown_sku_or_line_is_permanent(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    with pytest.raises(PermanentError) as unknown:
        adapter.fulfil(shipment(order["id"], [("NOPE", 1)]))
    assert unknown.value.context["reason"] == "line_not_found"
    assert unknown.value.context["channel_calls"] == 1  # the read only
    with pytest.raises(PermanentError):
        adapter.fulfil(shipment(order["id"], [("SKU-001", 1, "999")]))
    assert writes(shopify_standin) == []


def test_429_is_rate_limited(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    shopify_standin.set_config(
        fail_next=[{"path_contains": "graphql", "status": 429, "headers": {"Retry-After": "120"}}]
    )
    with pytest.raises(RateLimited) as limited:
        adapter.fulfil(shipment(order["id"], [("SKU-001", 1)]))
    assert limited.value.retry_after == 120


def test_throttled_is_waited_out(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 10,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 2000,
                    "currentlyAvailable": 0,
                    "restoreRate": 100,
                },
            }
        },
    }
    shopify_standin.set_config(
        fail_next=[
            {
                "path_contains": "graphql",
                "body_contains": "fulfillmentCreate",
                "status": 200,
                "body": throttled,
            }
        ]
    )
    done = adapter.fulfil(shipment(order["id"], [("SKU-001", 1)]))
    assert done.calls == 3 and len(state(shopify_standin, order)["fulfillments"]) == 1


def test_5xx_is_transient(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    shopify_standin.set_config(fail_next=[{"path_contains": "graphql", "status": 502}])
    with pytest.raises(TransientError):
        adapter.fulfil(shipment(order["id"], [("SKU-001", 1)]))


def test_lines_at_two_locations_make_one_fulfillment_each(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin
) -> None:
    order = shopify_standin.seed_order(
        line_items=[
            {"sku": "SKU-001", "quantity": 1},
            {"sku": "SKU-002", "quantity": 1, "location_id": 68_000_000_002},
        ]
    )
    done = adapter.fulfil(shipment(order["id"], [("SKU-001", 1), ("SKU-002", 1)], final=True))
    assert done.calls == 3 and len(done.ref["fulfillment_ids"]) == 2
    now = state(shopify_standin, order)
    assert now["displayFulfillmentStatus"] == "FULFILLED"
    assert sorted(lines_of(f).popitem()[0] for f in now["fulfillments"]) == ["SKU-001", "SKU-002"]


def test_carrier_event(
    adapter: ShopifyFulfilment, shopify_standin: ChannelStandin, order: dict[str, Any]
) -> None:
    made = adapter.fulfil(shipment(order["id"], [("SKU-001", 1)]))
    ship = shipment(order["id"], [("SKU-001", 1)], previous=made.ref)
    result = adapter.report_event(ship, status="delivered", happened_at="2025-03-05T09:00:00Z")
    assert result.calls == 1 and result.ref["status"] == "DELIVERED"
    [f] = state(shopify_standin, order)["fulfillments"]
    assert f["displayStatus"] == "DELIVERED"
    assert adapter.report_event(ship, status="dispatched", happened_at="").skipped


def test_carrier_names_and_tracking_input() -> None:
    assert shopify_company("ups") == ("UPS", True)
    assert shopify_company("dhl express") == ("DHL Express", True)
    assert shopify_company("Acme Freight") == ("Acme Freight", False)
    ship = shipment(1, [("A", 1)], carrier="fedex", numbers=("1", "2"), url="https://x")
    assert tracking_input(ship) == {"company": "FedEx", "numbers": ["1", "2"]}
    ship = shipment(1, [("A", 1)], carrier="", numbers=("1",), url="https://x")
    assert tracking_input(ship) == {"number": "1", "url": "https://x"}
    assert tracking_input(shipment(1, [("A", 1)], carrier="", numbers=(), url="https://x")) == {}
