"""BigCommerce fulfilment adapter against the BigCommerce stand-in (v2 shipments)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import PermanentError, RateLimited, TransientError
from apps.fulfillment.adapters import adapter_for
from apps.fulfillment.adapters.bigcommerce import BigCommerceFulfilment, carrier_fields
from apps.inventory.publishers.bigcommerce import BigCommercePublisher
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


def shipments(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    answer = standin.api("GET", f"v2/orders/{order_id}/shipments")
    return [] if answer.status == 204 else list(answer.body)


def items(s: dict[str, Any]) -> dict[int, int]:
    return {i["order_product_id"]: i["quantity"] for i in s["items"]}


def calls(standin: ChannelStandin) -> dict[str, int]:
    result: dict[str, int] = standin.stats()["calls"]
    return result


@pytest.fixture
def adapter(make_channel: Any, bigcommerce_standin: ChannelStandin) -> BigCommerceFulfilment:
    found = adapter_for(standin_channel(make_channel, bigcommerce_standin, "bc"))
    assert isinstance(found, BigCommerceFulfilment)
    return found


@pytest.fixture
def order(bigcommerce_standin: ChannelStandin) -> int:
    seeded = bigcommerce_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 3}, {"sku": "SKU-002", "quantity": 1}]
    )
    return int(seeded["id"])


def product_ids(order_id: int) -> tuple[int, int]:
    return order_id * 10 + 1, order_id * 10 + 2  # the stand-in's order product ids


def test_budget_is_the_inventory_publishers(adapter: BigCommerceFulfilment) -> None:
    assert adapter.pub.budget.key == BigCommercePublisher(adapter.channel).budget.key


def test_partial_shipment_then_the_rest(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    p1, p2 = product_ids(order)
    one = adapter.fulfil(shipment(order, [("SKU-001", 2)], numbers=("1ZA",)))
    # the order's products (lines and address) and the POST: no shipments read on a first try
    assert one.calls == 2 and not one.found_existing
    assert "GET v2/orders/{id}/shipments" not in calls(bigcommerce_standin)
    [first] = shipments(bigcommerce_standin, order)
    assert items(first) == {p1: 2}
    assert first["shipping_provider"] == "ups" and first["tracking_number"] == "1ZA"
    assert first["generated_tracking_link"] and first["order_address_id"] == order * 10
    assert one.ref["shipment_ids"] == [first["id"]]
    assert bigcommerce_standin.api("GET", f"v2/orders/{order}").body["status_id"] == 3
    two = adapter.fulfil(
        shipment(
            order, [("SKU-001", 1), ("SKU-002", 1)], picking="P2", numbers=("1ZB",), final=True
        )
    )
    assert two.calls == 2
    assert [items(s) for s in shipments(bigcommerce_standin, order)] == [
        {p1: 2},
        {p1: 1, p2: 1},
    ]
    assert bigcommerce_standin.api("GET", f"v2/orders/{order}").body["status_id"] == 2


def test_line_id_is_the_order_product_id(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    _, p2 = product_ids(order)
    adapter.fulfil(shipment(order, [("renamed-sku", 1, str(p2))]))
    [made] = shipments(bigcommerce_standin, order)
    assert items(made) == {p2: 1}


def test_dropped_answer_after_post_does_not_ship_twice(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    ship = shipment(order, [("SKU-001", 3)])
    drop_answer_of(bigcommerce_standin, path="/shipments", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(ship)
    # read before write on the retry: the shipment with our tracking number is ours
    again = adapter.fulfil(shipment(order, [("SKU-001", 3)], retry=True))
    assert again.found_existing and again.calls == 2  # products and shipments, no POST
    assert len(shipments(bigcommerce_standin, order)) == 1
    assert len(writes(bigcommerce_standin, "/shipments", method="POST")) == 1


def test_dropped_answer_without_tracking_is_recognised_by_picking(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    ship = shipment(order, [("SKU-001", 1)], numbers=(), url="")
    drop_answer_of(bigcommerce_standin, path="/shipments", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(ship)
    again = adapter.fulfil(ship)  # no retry flag: our own attempt mark says "read first"
    assert again.found_existing
    [made] = shipments(bigcommerce_standin, order)
    assert "WH/OUT/00001" in made["comments"]


def test_tracking_changed_between_two_tries_still_finds_the_first(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    drop_answer_of(bigcommerce_standin, path="/shipments", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(shipment(order, [("SKU-001", 3)], numbers=("OLD",)))
    again = adapter.fulfil(shipment(order, [("SKU-001", 3)], numbers=("NEW",), retry=True))
    assert again.found_existing and again.calls == 3  # products, shipments, the tracking fix
    [made] = shipments(bigcommerce_standin, order)
    assert made["tracking_number"] == "NEW" and made["comments"] == "Shipment WH/OUT/00001"


def test_read_before_write_on_a_retry_ships_only_what_is_missing(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin
) -> None:
    # given an order at two addresses, of which an earlier try shipped the first only
    seeded = bigcommerce_standin.seed_order(
        line_items=[
            {"sku": "SKU-001", "quantity": 1},
            {"sku": "SKU-002", "quantity": 1, "address": 2},
        ],
        shipping_addresses=[{"city": "Austin"}, {"city": "Boston"}],
    )
    oid = int(seeded["id"])
    p1, p2 = oid * 10 + 1, oid * 10 + 2
    bigcommerce_standin.api(
        "POST",
        f"v2/orders/{oid}/shipments",
        {
            "order_address_id": oid * 10,
            "items": [{"order_product_id": p1, "quantity": 1}],
            "tracking_number": "1ZA",
            "shipping_provider": "ups",
        },
    )
    # when the retry comes
    done = adapter.fulfil(
        shipment(oid, [("SKU-001", 1), ("SKU-002", 1)], numbers=("1ZA",), retry=True)
    )
    # then the shipments were read before anything was written, and only the second address
    # got a shipment
    ops = [w["op"] for w in bigcommerce_standin.received()]
    assert ops.count("POST v2/orders/{id}/shipments") == 2
    assert done.calls == 3 and not done.found_existing and len(done.ref["found_ids"]) == 1
    made = shipments(bigcommerce_standin, oid)
    assert [items(s) for s in made] == [{p1: 1}, {p2: 1}]
    assert made[1]["order_address_id"] == oid * 10 + 1


def test_over_shipping_is_permanent(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    adapter.fulfil(shipment(order, [("SKU-001", 3)]))
    with pytest.raises(PermanentError) as refused:
        adapter.fulfil(shipment(order, [("SKU-001", 1)], picking="P2", numbers=("X",)))
    assert refused.value.context["reason"] == "already_fulfilled"
    assert len(shipments(bigcommerce_standin, order)) == 1


def test_the_platforms_over_shipping_error_is_permanent(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    # BigCommerce itself refuses (someone shipped between our read and our write)
    p1, _ = product_ids(order)
    bigcommerce_standin.set_config(
        fail_next=[
            {
                "path_contains": "/shipments",
                "method": "POST",
                "status": 400,
                "body": [{"status": 400, "message": f"order product {p1}: quantity too high"}],
            }
        ]
    )
    with pytest.raises(PermanentError) as refused:
        adapter.fulfil(shipment(order, [("SKU-001", 1)]))
    assert "quantity too high" in refused.value.message


def test_unknown_sku_is_permanent(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    with pytest.raises(PermanentError) as unknown:
        adapter.fulfil(shipment(order, [("NOPE", 1)]))
    assert unknown.value.context["reason"] == "line_not_found"
    assert writes(bigcommerce_standin) == []


def test_429_is_rate_limited(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    bigcommerce_standin.set_config(
        fail_next=[{"status": 429, "headers": {"X-Retry-After": "120"}, "body": {}}]
    )
    with pytest.raises(RateLimited) as limited:
        adapter.fulfil(shipment(order, [("SKU-001", 1)]))
    assert limited.value.retry_after == 120


def test_tracking_update_once(
    adapter: BigCommerceFulfilment, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    made = adapter.fulfil(shipment(order, [("SKU-001", 1)], numbers=("OLD",)))
    updated = adapter.update_tracking(
        shipment(order, [("SKU-001", 1)], carrier="dhl", numbers=("NEW",), previous=made.ref)
    )
    assert updated.calls == 1
    [s] = shipments(bigcommerce_standin, order)
    assert s["tracking_number"] == "NEW" and s["tracking_carrier"] == "dhl"
    assert s["shipping_provider"] == "" and items(s) == {product_ids(order)[0]: 1}
    assert len(writes(bigcommerce_standin, "/shipments/", method="PUT")) == 1


def test_carrier_fields() -> None:
    assert carrier_fields("UPS", "u") == {"shipping_provider": "ups"}
    assert carrier_fields("Australia Post", "") == {"shipping_provider": "auspost"}
    assert carrier_fields("carrier_12", "") == {"shipping_provider": "carrier_12"}
    assert carrier_fields("DHL Express", "") == {"tracking_carrier": "dhl"}
    assert carrier_fields("dhl-germany", "") == {"tracking_carrier": "dhl-germany"}
    assert carrier_fields("Acme Freight", "https://a/1") == {"tracking_link": "https://a/1"}
    assert carrier_fields("Acme Freight", "") == {}
