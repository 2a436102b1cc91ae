"""Finding done deliveries in the sandbox Odoo over HTTP (poll and hint), in-process: one
shipment per picking, backorders, the order's state and history, tracking updates, carriers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from apps.events.models import BusinessEvent
from apps.fulfillment.detection import (
    cursor_key,
    hint_picking_ids,
    picking_hints_process,
    shipments_poll,
)
from apps.fulfillment.models import PickingHint, Shipment, ShipmentCursor, ShipmentSync
from apps.mappings.models import ValueMap
from apps.orders.models import OrderState, OrderTransition
from apps.sales_channels.services import channel_create

from .conftest import push_order, ship

pytestmark = pytest.mark.django_db


def lines(shipment: Shipment) -> list[tuple[str, int, str]]:
    return [(ln.sku, ln.quantity, ln.external_line_id) for ln in shipment.lines.all()]


def history(order: Any) -> list[tuple[str, str, str]]:
    return [
        (t.from_state, t.to_state, t.reason)
        for t in OrderTransition.objects.filter(order=order, actor="fulfillment.detect")
    ]


def test_two_backorder_parts_make_two_shipments_and_the_order_ends_shipped(
    shop: Any, gateway: Any
) -> None:
    order = push_order()
    # when the warehouse ships one T-shirt (the mug and the other T-shirt go to a backorder)
    first = ship(gateway, order, quantities={"SKU-001": 1}, tracking="1Z-FIRST")
    counts = shipments_poll()
    # then one shipment with that line, the order partially shipped, one sync and one event
    assert counts["new"] == 1
    s1 = Shipment.objects.get(odoo_picking_id=first["id"])
    assert lines(s1) == [("TSHIRT-BLU-M", 1, "13456789012345")]
    assert s1.tracking_numbers == ["1Z-FIRST"]
    assert s1.odoo_picking_name == first["name"] and s1.backorder_of is None
    order.refresh_from_db()
    assert order.state == OrderState.PARTIALLY_SHIPPED
    # when the backorder ships
    second = ship(gateway, order, tracking="1Z-SECOND+1Z-THIRD")
    assert second["backorder_of"] == first["id"]
    assert shipments_poll()["new"] == 1
    # then a second shipment with only its own lines, and the order is shipped
    s2 = Shipment.objects.get(odoo_picking_id=second["id"])
    assert sorted(lines(s2)) == [
        ("MUG-WHT-11OZ", 1, "13456789012346"),
        ("TSHIRT-BLU-M", 1, "13456789012345"),
    ]
    assert s2.tracking_numbers == ["1Z-SECOND", "1Z-THIRD"]
    assert s2.backorder_of == first["id"]
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert [h[:2] for h in history(order)] == [
        ("in_odoo", "partially_shipped"),
        ("partially_shipped", "shipped"),
    ]
    assert first["name"] in history(order)[0][2] and "1Z-FIRST" in history(order)[0][2]
    assert ShipmentSync.objects.filter(action="create").count() == 2
    events = BusinessEvent.objects.filter(type="shipment.dispatched").order_by("id")
    assert [e.payload["shipment"]["partial"] for e in events] == [True, False]
    assert events[1].payload["shipment"]["tracking_numbers"] == ["1Z-SECOND", "1Z-THIRD"]
    assert events[0].entity_key == f"order:{order.odoo_ref}"


def test_each_picking_is_recorded_once_across_overlapping_polls_and_the_hint(
    shop: Any,
    gateway: Any,
    hint_token: str,
    client: Client,
    rings: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    order = push_order()
    done = ship(gateway, order, tracking="1Z-ONCE")
    # when Odoo's automation posts the hint (twice: Odoo retries nothing, but people do)
    url = f"/webhooks/odoo/{hint_token}/pickings/"
    body = {"_action": "Send Webhook Notification(#9)", "_model": "stock.picking", "id": done["id"]}
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            resp = client.post(url, body, content_type="application/json")
        assert resp.status_code == 202 and resp.json() == {"recorded": 1}
    assert [r[0] for r in rings] == ["fulfillment.pickinghint"] * 2
    # and the task reads them (one read for both), then the poll runs three times
    assert picking_hints_process(hint_id=PickingHint.objects.first().pk) == "new 1"
    results = [shipments_poll() for _ in range(3)]
    # then the picking is one shipment, one sync, one event, one history entry
    assert [r.get("seen") for r in results] == [1, 1, 1]
    assert Shipment.objects.count() == 1
    assert ShipmentSync.objects.count() == 1
    assert BusinessEvent.objects.filter(type="shipment.dispatched").count() == 1
    assert len(history(order)) == 1
    assert set(PickingHint.objects.values_list("state", flat=True)) == {"done"}
    cursor = ShipmentCursor.objects.get(key=cursor_key())
    assert cursor.value[:19] >= done["write_date"] and cursor.polled_at


def test_a_late_commit_behind_the_cursor_is_found_by_the_overlap(shop: Any, gateway: Any) -> None:
    """Odoo stamps write_date at the transaction's start: a delivery committed after a poll can
    sit behind the cursor. Without the overlap it would never be read."""
    order = push_order()
    done = ship(gateway, order)
    later = (
        dt.datetime.strptime(done["write_date"], "%Y-%m-%d %H:%M:%S") + dt.timedelta(seconds=60)
    ).strftime("%Y-%m-%d %H:%M:%S")
    ShipmentCursor.objects.update_or_create(key=cursor_key(), defaults={"value": f"{later}|0"})
    assert "new" not in shipments_poll(overlap_seconds=0)
    assert shipments_poll()["new"] == 1  # the default overlap (300 s) reaches back to it
    assert Shipment.objects.filter(odoo_picking_id=done["id"]).count() == 1


def test_a_tracking_number_changed_in_odoo_queues_one_tracking_update(
    shop: Any, gateway: Any, sandbox_settings: Any
) -> None:
    order = push_order()
    done = ship(gateway, order, tracking="1Z-OLD")
    shipments_poll()
    # when someone corrects the tracking number on the done delivery
    sandbox_settings.execute(
        "stock.picking", "write", [done["id"]], {"carrier_tracking_ref": "1Z-NEW"}
    )
    first = shipments_poll()
    again = shipments_poll()
    # then the shipment has the new number, and exactly one tracking update is queued
    assert first["tracking"] == 1 and "tracking" not in again
    shipment = Shipment.objects.get(odoo_picking_id=done["id"])
    assert shipment.tracking_numbers == ["1Z-NEW"]
    [update] = ShipmentSync.objects.filter(action="tracking")
    assert update.request["tracking_numbers"] == ["1Z-NEW"]
    assert update.request["previous"]["tracking_numbers"] == ["1Z-OLD"]
    assert update.entity_key == f"shipment:{shipment.pk}"
    assert "1Z-OLD → 1Z-NEW" in history(order)[-1][2]
    # a second change while that update still waits changes it instead of adding another
    sandbox_settings.execute(
        "stock.picking", "write", [done["id"]], {"carrier_tracking_ref": "1Z-NEWER"}
    )
    shipments_poll()
    [update] = ShipmentSync.objects.filter(action="tracking")
    assert update.request["tracking_numbers"] == ["1Z-NEWER"]
    assert update.request["previous"]["tracking_numbers"] == ["1Z-OLD"]


def test_the_carrier_is_mapped_to_the_channel_name(
    shop: Any, gateway: Any, sandbox_settings: Any
) -> None:
    [carrier] = sandbox_settings.execute(
        "delivery.carrier", "search_read", [["name", "=", "Express Delivery"]], fields=["name"]
    )
    ValueMap.objects.create(
        channel=shop,
        kind=ValueMap.Kind.TRACKING_COMPANY,
        channel_value="DHL Express",
        odoo_model="delivery.carrier",
        odoo_value=str(carrier["id"]),
    )
    order = push_order()
    ship(gateway, order, tracking="JD0001", carrier_id=carrier["id"])
    shipments_poll()
    shipment = Shipment.objects.get()
    assert (shipment.carrier, shipment.odoo_carrier) == ("DHL Express", "Express Delivery")
    event = BusinessEvent.objects.get(type="shipment.dispatched")
    assert event.payload["shipment"]["carrier"] == "DHL Express"


def test_deliveries_of_orders_the_hub_did_not_make_are_not_recorded(
    shop: Any, gateway: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    partner = sb.execute("res.partner", "create", {"name": "Walk-in"})
    [pid] = sb.execute("product.product", "search", [["default_code", "=", "SKU-001"]])
    so = sb.execute(
        "sale.order",
        "create",
        {"partner_id": partner, "order_line": [[0, 0, {"product_id": pid, "product_uom_qty": 1}]]},
    )
    sb.execute("sale.order", "action_confirm", [so])
    [picking] = sb.execute("sale.order", "read", [so], ["picking_ids"])[0]["picking_ids"]
    gateway.picking_validate(picking_id=picking)
    assert shipments_poll()["not_hub"] == 1
    assert not Shipment.objects.exists()


def test_a_b2b_order_ships_without_a_channel_sync(gateway: Any, bind_all: Any) -> None:
    """A B2B partner reads the API and the shipment.dispatched event: nothing to send."""
    from apps.orders.models import ChannelOrder
    from apps.orders.services import order_ingest, order_push_due
    from apps.sales_channels.translators import order_from_b2b
    from tests.orders.conftest import b2b_payload

    portal, _ = channel_create(code="portal", kind="b2b_api")
    bind_all(portal)
    order_ingest(order=order_from_b2b(b2b_payload("PO-1"), channel="portal"))
    order_push_due()
    order = ChannelOrder.objects.get(channel=portal)
    ship(gateway, order)
    shipments_poll()
    shipment = Shipment.objects.get(order=order)
    assert not shipment.syncs.exists()
    assert BusinessEvent.objects.filter(type="shipment.dispatched", channel=portal).count() == 1
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_hint_bodies() -> None:
    assert hint_picking_ids({"_model": "stock.picking", "_id": 5, "id": 5, "state": "done"}) == [5]
    assert hint_picking_ids([{"_model": "stock.move", "picking_id": 7}, {"id": "8"}]) == [7, 8]
    assert hint_picking_ids({"_model": "stock.picking", "id": 5, "state": "assigned"}) == []
    assert hint_picking_ids({"_model": "stock.quant", "id": 5}) == []
    assert hint_picking_ids("nonsense") == []


def test_the_receiver_refuses_bad_tokens_and_bodies(
    hint_token: str, client: Client, settings: Any, db: None
) -> None:
    url = f"/webhooks/odoo/{hint_token}/pickings/"
    body = {"_model": "stock.picking", "id": 1}
    assert (
        client.post("/webhooks/odoo/wrong/pickings/", body, "application/json").status_code == 404
    )
    assert client.post(url, "{nope", content_type="application/json").status_code == 400
    assert client.get(url).status_code == 405
    resp = client.post(url, {"_model": "stock.quant"}, content_type="application/json")
    assert resp.status_code == 202 and resp.json() == {"recorded": 0}
    settings.HUB_MAX_BODY_BYTES = 16
    assert client.post(url, body, content_type="application/json").status_code == 413
    settings.HUB_ODOO_WEBHOOK_TOKEN = ""
    assert client.post("/webhooks/odoo//pickings/", body, "application/json").status_code == 404
    assert not PickingHint.objects.exists()


def test_odoo_down_leaves_the_hints_for_later(
    shop: Any, gateway: Any, sandbox_settings: Any
) -> None:
    order = push_order()
    done = ship(gateway, order)
    from apps.fulfillment.detection import picking_hint_receive

    picking_hint_receive(body={"_model": "stock.picking", "id": done["id"]})
    sandbox_settings.set_faults(down=True)
    outcome = picking_hints_process(hint_id=0)
    assert outcome.startswith("retry")
    hint = PickingHint.objects.get()
    assert hint.state == "pending" and hint.attempts == 1 and hint.next_attempt_at
    sandbox_settings.set_faults(down=False)
    PickingHint.objects.update(next_attempt_at=None)
    assert picking_hints_process(hint_id=hint.pk) == "new 1"
