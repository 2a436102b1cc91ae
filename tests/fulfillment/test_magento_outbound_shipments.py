"""Magento shipments against the Magento stand-in over HTTP: ``POST order/{id}/ship`` with items
and tracks; a lost answer adopted on the retry (exactly one shipment); and, through a real
worker, an Odoo delivery that reaches Magento once although the first answer is lost."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import PermanentError, TransientError
from apps.fulfillment.adapters import adapter_for
from apps.fulfillment.adapters.magento import MagentoFulfilment, carrier_fields
from apps.fulfillment.detection import shipments_poll
from apps.fulfillment.models import ShipmentSync
from apps.inventory.publishers.magento import MagentoPublisher
from apps.orders.models import OrderState
from apps.orders.services import order_push_due
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.worker import wait_for
from tests.fulfillment.adapter_helpers import drop_answer_of, fresh_cache, shipment, writes
from tests.sales_channels.magento_outbound_helpers import (
    magento_adapter,
    magento_channel,
    search,
    tshirts_and_mug_ingested,
)

from .conftest import ship
from .test_e2e import carrier_id, synced, ups_is_standard_delivery, worker_env

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def adapter(magento_standin: ChannelStandin) -> MagentoFulfilment:
    return magento_adapter(magento_standin, adapter_for, MagentoFulfilment)


@pytest.fixture
def order(magento_standin: ChannelStandin) -> int:
    """Order 1: item 101 = 3 x SKU-001, item 102 = 1 x SKU-002 (paid, so invoiced)."""
    seeded = magento_standin.seed_order(
        lines=[{"sku": "SKU-001", "qty": 3, "price": "10.00"}, {"sku": "SKU-002", "qty": 1}]
    )
    return int(seeded["entity_id"])


def shipments(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    return search(standin, "shipments", order_id=order_id)


def items(s: dict[str, Any]) -> dict[int, int]:
    return {i["order_item_id"]: i["qty"] for i in s["items"]}


def calls(standin: ChannelStandin) -> dict[str, int]:
    result: dict[str, int] = standin.stats()["calls"]
    return result


def test_the_budget_is_the_stock_publishers(adapter: MagentoFulfilment) -> None:
    assert adapter.pub.budget.key == MagentoPublisher(adapter.channel).budget.key


def test_carriers() -> None:
    assert carrier_fields("UPS") == {"carrier_code": "ups", "title": "United Parcel Service"}
    assert carrier_fields("Fed-Ex")["carrier_code"] == "fedex"
    assert carrier_fields("PostNL") == {"carrier_code": "custom", "title": "PostNL"}


def test_a_partial_shipment_with_tracks_then_the_rest(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin, order: int
) -> None:
    url = "https://carrier.example/track?n=1ZA"
    one = adapter.fulfil(shipment(order, [("SKU-001", 2)], numbers=("1ZA",), url=url))
    # the order (its items) and the ship call: no shipments read on a first try
    assert one.calls == 2 and not one.found_existing
    assert "shipments_search" not in calls(magento_standin)
    [first] = shipments(magento_standin, order)
    assert items(first) == {order * 100 + 1: 2}
    assert [(t["carrier_code"], t["title"], t["track_number"]) for t in first["tracks"]] == [
        ("ups", "United Parcel Service", "1ZA")
    ]
    assert first["comments"][0]["comment"] == f"Shipment WH/OUT/00001\nTracking: {url}"
    assert first["comments"][0]["is_visible_on_front"] == 0
    assert one.ref["shipment_ids"] == [first["entity_id"]]
    assert magento_standin.api("GET", f"orders/{order}").body["state"] == "processing"
    # the rest, two parcels of a carrier Magento does not know
    two = adapter.fulfil(
        shipment(
            order,
            [("SKU-001", 1), ("SKU-002", 1)],
            picking="WH/OUT/00002",
            carrier="PostNL",
            numbers=("3SA", "3SB"),
            final=True,
        )
    )
    second = shipments(magento_standin, order)[1]
    assert items(second) == {order * 100 + 1: 1, order * 100 + 2: 1}
    assert [(t["carrier_code"], t["title"]) for t in second["tracks"]] == [("custom", "PostNL")] * 2
    assert two.ref["track_numbers"] == ["3SA", "3SB"]
    # Magento completes a fully shipped, invoiced order itself
    assert magento_standin.api("GET", f"orders/{order}").body["state"] == "complete"


def test_a_lost_answer_is_adopted_on_the_retry(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin, order: int
) -> None:
    # given Magento makes the shipment but its answer never arrives
    drop_answer_of(magento_standin, path=f"/V1/order/{order}/ship", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(shipment(order, [("SKU-001", 2)]))
    [made] = shipments(magento_standin, order)
    # when the sync runs again (our attempt mark says a write may have happened)
    again = adapter.fulfil(shipment(order, [("SKU-001", 2)]))
    # then it reads the order's shipments first and adopts that one: still exactly one
    assert again.found_existing and again.ref["shipment_ids"] == [made["entity_id"]]
    assert again.ref["found_ids"] == [made["entity_id"]]
    assert len(shipments(magento_standin, order)) == 1
    assert len(writes(magento_standin, "/ship", method="POST")) == 1
    assert again.calls == 2  # the order and the shipments search


def test_the_retry_reads_comments_where_the_list_has_none(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin, order: int
) -> None:
    magento_standin.set_config(list_comments=False)
    drop_answer_of(magento_standin, path=f"/V1/order/{order}/ship", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(shipment(order, [("SKU-001", 1)], numbers=()))
    again = adapter.fulfil(shipment(order, [("SKU-001", 1)], numbers=(), retry=True))
    assert again.found_existing and len(shipments(magento_standin, order)) == 1
    assert calls(magento_standin).get("comments_list") == 1


def test_a_shipment_of_another_picking_is_not_ours(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin, order: int
) -> None:
    adapter.fulfil(shipment(order, [("SKU-001", 1)], picking="P1", numbers=("1ZX",)))
    # a retry of another picking with the same number ships its own unit
    result = adapter.fulfil(
        shipment(order, [("SKU-001", 1)], picking="P2", numbers=("1ZX",), retry=True)
    )
    assert not result.found_existing
    assert [items(s) for s in shipments(magento_standin, order)] == [{order * 100 + 1: 1}] * 2


def test_shipped_outside_the_hub_is_refused_and_sends_nothing(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin, order: int
) -> None:
    answer = magento_standin.api(
        "POST", f"order/{order}/ship", {"items": [{"order_item_id": order * 100 + 1, "qty": 3}]}
    )
    assert answer.status == 200
    with pytest.raises(PermanentError) as caught:
        adapter.fulfil(shipment(order, [("SKU-001", 1)]))
    assert caught.value.context["reason"] == "already_fulfilled"
    assert caught.value.context["odoo_picking_name"] == "WH/OUT/00001"
    assert len(shipments(magento_standin, order)) == 1
    with pytest.raises(PermanentError, match="no SKU NOPE"):
        adapter.fulfil(shipment(order, [("NOPE", 1)]))


def test_a_configurable_product_ships_on_its_parent_line(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin
) -> None:
    magento_standin.add_products([{"sku": "TEE-M", "stock": 5, "group": "Tee"}])
    oid = int(magento_standin.seed_order(lines=[{"sku": "TEE-M", "qty": 2}])["entity_id"])
    adapter.fulfil(shipment(oid, [("TEE-M", 2)]))
    parent, child = magento_standin.api("GET", f"orders/{oid}").body["items"]
    assert parent["product_type"] == "configurable" and child["parent_item_id"] == parent["item_id"]
    assert items(shipments(magento_standin, oid)[0]) == {parent["item_id"]: 2}
    assert parent["qty_shipped"] == child["qty_shipped"] == 2


def test_a_tracking_change_replaces_the_numbers_once(
    adapter: MagentoFulfilment, magento_standin: ChannelStandin, order: int
) -> None:
    made = adapter.fulfil(shipment(order, [("SKU-001", 1)], numbers=("1ZA", "1ZB")))
    changed = shipment(order, [("SKU-001", 1)], numbers=("1ZB", "1ZC"), previous=made.ref)
    adapter.update_tracking(changed)
    adapter.update_tracking(changed)  # a repeat changes nothing
    [s] = shipments(magento_standin, order)
    assert sorted(t["track_number"] for t in s["tracks"]) == ["1ZB", "1ZC"]
    assert len(writes(magento_standin, "/shipment/track", method="POST")) == 1
    assert len(writes(magento_standin, "/shipment/track", method="DELETE")) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_odoo_delivery_reaches_magento_once_through_the_worker(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    magento_standin: ChannelStandin,
    bind_all: Any,
) -> None:
    sb = sandbox_settings
    # given a Magento order in the stand-in, in the hub and confirmed in the sandbox Odoo
    channel = magento_channel(magento_standin)
    bind_all(channel)
    ups_is_standard_delivery(channel)
    oid, row = tshirts_and_mug_ingested(magento_standin, channel)
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    # and Magento's answer to the ship call is lost once
    drop_answer_of(magento_standin, path=f"/V1/order/{oid}/ship", method="POST")
    celery_worker_factory(queues="channel_io", **worker_env(sb))
    # when the warehouse ships everything and the hub polls
    ship(gateway, row, tracking="1ZMAGENTO", carrier_id=carrier_id(sb))
    shipments_poll()
    # then the retry adopts the shipment the lost answer made: exactly one, with UPS tracking
    wait_for(lambda: synced(1), timeout=40)
    sync = ShipmentSync.objects.get(action="create")
    assert sync.result["found_ids"] and sync.result["shipment_ids"] == sync.result["found_ids"]
    [made] = shipments(magento_standin, oid)
    assert [(t["carrier_code"], t["track_number"]) for t in made["tracks"]] == [
        ("ups", "1ZMAGENTO")
    ]
    assert len(writes(magento_standin, "/ship", method="POST")) == 1
    assert magento_standin.api("GET", f"orders/{oid}").body["state"] == "complete"
    # and the acknowledgement left exactly one comment with the Odoo reference
    wait_for(lambda: row.odoo_ref in str(magento_standin.api("GET", f"orders/{oid}").body), 20)
    histories = magento_standin.api("GET", f"orders/{oid}").body["status_histories"]
    assert [h for h in histories if row.odoo_ref in h["comment"]] != []
    assert len([h for h in histories if row.odoo_ref in h["comment"]]) == 1
