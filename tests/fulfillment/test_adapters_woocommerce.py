"""WooCommerce fulfilment adapter against the WooCommerce stand-in, with and without the
Shipment Tracking extension."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import PermanentError, RateLimited, TransientError
from apps.fulfillment.adapters import adapter_for
from apps.fulfillment.adapters.woocommerce import WooCommerceFulfilment, note_text, woo_provider
from apps.inventory.publishers.woocommerce import WooCommercePublisher
from tests.fixtures.channel_standins import ChannelStandin, http_call
from tests.fulfillment.adapter_helpers import (
    drop_answer_of,
    fresh_cache,
    shipment,
    standin_channel,
    writes,
)

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

TRACKING = "wp-json/wc-shipment-tracking/v3"


def trackings(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    answer = http_call(
        "GET",
        f"{standin.url}/{TRACKING}/orders/{order_id}/shipment-trackings",
        headers=standin.auth_headers(),
    )
    assert answer.status == 200, answer.body
    rows: list[dict[str, Any]] = answer.body
    return rows


def notes(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = standin.api("GET", f"orders/{order_id}/notes").body
    return rows


def status(standin: ChannelStandin, order_id: int) -> str:
    return str(standin.api("GET", f"orders/{order_id}").body["status"])


@pytest.fixture
def adapter(make_channel: Any, woo_standin: ChannelStandin) -> WooCommerceFulfilment:
    found = adapter_for(standin_channel(make_channel, woo_standin, "woo"))
    assert isinstance(found, WooCommerceFulfilment)
    return found


@pytest.fixture
def order(woo_standin: ChannelStandin) -> int:
    seeded = woo_standin.seed_order(
        status="processing",
        line_items=[{"sku": "SKU-001", "quantity": 3}, {"sku": "SKU-002", "quantity": 1}],
        meta_data=[{"key": "gift_wrap", "value": "yes"}],
    )
    return int(seeded["id"])


def test_budget_is_the_inventory_publishers(adapter: WooCommerceFulfilment) -> None:
    assert adapter.pub.budget.key == WooCommercePublisher(adapter.channel).budget.key


def test_with_extension_partial_then_final(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    woo_standin.set_config(shipment_tracking=True)
    # a first, partial shipment: one tracking item, the order stays processing
    one = adapter.fulfil(shipment(order, [("SKU-001", 2)], numbers=("1ZA",)))
    assert one.calls == 1 and one.ref["mechanism"] == "shipment_tracking"
    [item] = trackings(woo_standin, order)
    assert item["tracking_number"] == "1ZA" and item["tracking_provider"] == "UPS"
    assert item["tracking_link"] and item["date_shipped"] == "2025-03-04"
    assert status(woo_standin, order) == "processing"
    # the rest, with an unknown carrier: a custom provider with our link; then completed
    two = adapter.fulfil(
        shipment(
            order,
            [("SKU-001", 1), ("SKU-002", 1)],
            picking="WH/OUT/2",
            carrier="Acme Freight",
            numbers=("AC1",),
            url="https://acme.example/t/AC1",
            final=True,
        )
    )
    assert two.calls == 2 and two.ref["completed"]
    custom = trackings(woo_standin, order)[1]
    assert custom["tracking_provider"] == "Acme Freight"
    assert custom["tracking_link"] == "https://acme.example/t/AC1"
    assert status(woo_standin, order) == "completed"
    # the completing PUT carries the status and nothing else: no meta_data
    [put] = writes(woo_standin, f"orders/{order}", method="PUT")
    assert put["body"] == {"status": "completed"}
    meta = woo_standin.api("GET", f"orders/{order}").body["meta_data"]
    assert [m["key"] for m in meta] == ["gift_wrap"]


def test_without_extension_a_private_note_and_detection_once(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    # the first shipment finds out that the store has no extension (404 rest_no_route)
    one = adapter.fulfil(shipment(order, [("SKU-001", 2)], numbers=("1ZA",)))
    assert one.calls == 2 and one.ref["mechanism"] == "note"
    assert adapter.extension() is False
    [note] = notes(woo_standin, order)
    assert note["customer_note"] is False
    assert note["note"] == note_text(shipment(order, [("SKU-001", 2)], numbers=("1ZA",)))
    assert "WH/OUT/00001" in note["note"] and "1ZA" in note["note"] and "UPS" in note["note"]
    # the next one knows (cached per channel account): one note, and completed when final
    two = adapter.fulfil(
        shipment(
            order, [("SKU-001", 1), ("SKU-002", 1)], picking="P2", numbers=("1ZB",), final=True
        )
    )
    assert two.calls == 2  # the note and the PUT
    assert len(notes(woo_standin, order)) == 2 and status(woo_standin, order) == "completed"
    assert woo_standin.stats()["calls"]["no_route"] == 1


def test_completed_only_when_final(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    woo_standin.set_config(shipment_tracking=True)
    adapter.fulfil(shipment(order, [("SKU-001", 3)]))
    assert status(woo_standin, order) == "processing"
    assert writes(woo_standin, method="PUT") == []


def test_dropped_answer_after_tracking_post_is_not_repeated(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    woo_standin.set_config(shipment_tracking=True)
    ship = shipment(order, [("SKU-001", 2)])
    drop_answer_of(woo_standin, path="shipment-trackings", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(ship)
    # the retry reads the order's tracking items first and finds the number
    again = adapter.fulfil(ship)
    assert again.found_existing and again.calls == 1
    assert len(trackings(woo_standin, order)) == 1


def test_dropped_answer_after_note_is_not_repeated(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    adapter.fulfil(shipment(order, [("SKU-002", 1)], picking="P0", numbers=("0",)))  # detection
    ship = shipment(order, [("SKU-001", 2)], final=True)
    drop_answer_of(woo_standin, path="/notes", method="POST")
    with pytest.raises(TransientError):
        adapter.fulfil(ship)
    again = adapter.fulfil(shipment(order, [("SKU-001", 2)], final=True, retry=True))
    assert again.found_existing and again.calls == 2  # read the notes, then the PUT
    assert len(notes(woo_standin, order)) == 2 and status(woo_standin, order) == "completed"


def test_tracking_update_with_extension_replaces_the_item(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    woo_standin.set_config(shipment_tracking=True)
    made = adapter.fulfil(shipment(order, [("SKU-001", 2)], numbers=("OLD",)))
    updated = adapter.update_tracking(
        shipment(order, [("SKU-001", 2)], numbers=("NEW",), previous=made.ref)
    )
    # one POST for the new number, one DELETE for the old one
    assert updated.calls == 2
    assert [t["tracking_number"] for t in trackings(woo_standin, order)] == ["NEW"]
    assert list(updated.ref["tracking_items"]) == ["NEW"]


def test_tracking_update_without_extension_is_a_note(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    made = adapter.fulfil(shipment(order, [("SKU-001", 2)], numbers=("OLD",)))
    updated = adapter.update_tracking(
        shipment(order, [("SKU-001", 2)], numbers=("NEW",), previous=made.ref)
    )
    assert updated.calls == 1
    latest = notes(woo_standin, order)[0]["note"]
    assert latest.startswith("Tracking updated (WH/OUT/00001)") and "NEW" in latest


def test_unknown_order_is_permanent(adapter: WooCommerceFulfilment, woo_standin: Any) -> None:
    woo_standin.set_config(shipment_tracking=True)
    with pytest.raises(PermanentError):
        adapter.fulfil(shipment(999_999, [("SKU-001", 1)]))


def test_429_is_rate_limited(
    adapter: WooCommerceFulfilment, woo_standin: ChannelStandin, order: int
) -> None:
    woo_standin.set_config(
        fail_next=[{"status": 429, "headers": {"Retry-After": "120"}, "body": {"code": "x"}}]
    )
    with pytest.raises(RateLimited) as limited:
        adapter.fulfil(shipment(order, [("SKU-001", 1)]))
    assert limited.value.retry_after == 120


def test_provider_names() -> None:
    assert woo_provider("ups") == "UPS"
    assert woo_provider("FedEx") == "Fedex"
    assert woo_provider("Acme") == ""
