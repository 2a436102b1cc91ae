"""The outbox: business events commit or roll back with the change that causes them.

Orders through the real intake and state machine, stock through the real inventory publication
(sandbox Odoo and the Shopify stand-in over HTTP); payloads checked against the schema files
with jsonschema directly, independently of the publisher's own check.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import transaction
from jsonschema import Draft202012Validator

from apps.events.catalog import SCHEMA_DIR
from apps.events.models import BusinessEvent
from apps.events.publish import EventSchemaError, event_publish
from apps.inventory.models import SkuStock
from apps.inventory.services import mark_dirty, publish_channel
from apps.inventory.thresholds import crossing, threshold_crossings_publish
from apps.orders.models import ChannelOrder, HoldReason, OrderState, OrderTransition
from apps.orders.services import order_ingest, order_transition
from apps.sales_channels.models import Channel, ChannelWarehouse
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators import order_from_shopify
from tests.inventory.core_helpers import (
    bind_catalog,
    odoo_products,
    pending_order,
    standin_channel,
    warehouse,
)
from tests.orders import conftest as orders_fixtures
from tests.orders.conftest import bind, shopify_payload

from .conftest import fan_out, make_channel, order_payload

sandbox_settings = orders_fixtures.sandbox_settings  # the sandbox-pointed settings fixture

pytestmark = pytest.mark.usefixtures("webhook_settings", "rings")


def schema_errors(event: BusinessEvent) -> list[str]:
    """Validate against the schema file itself (not through the publisher's catalog)."""
    path = SCHEMA_DIR / f"{event.type}.v{event.version}.json"
    validator = Draft202012Validator(json.loads(path.read_text()))
    return [e.message for e in validator.iter_errors(event.payload)]


def shop(code: str = "shop", state: str = Channel.State.ACTIVE) -> Channel:
    channel, _ = channel_create(code=code, kind="shopify", state=state)
    return channel


def ingest(code: str = "shop", **changes: Any) -> ChannelOrder:
    return order_ingest(order=order_from_shopify(shopify_payload(**changes), channel=code))


def hold_then_fail(row: ChannelOrder) -> None:
    with transaction.atomic():
        assert order_transition(
            order=row, to=OrderState.HELD, actor="test", hold_reason=HoldReason.RISK
        )
        assert BusinessEvent.objects.filter(type="order.held").count() == 1  # inside: there
        raise RuntimeError("the caller fails after the move")


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transition_leaves_no_event_committed_one_leaves_exactly_one(rings) -> None:
    # given a ready order (every SKU bound), committed
    channel = shop()
    bind(channel, "TSHIRT-BLU-M", 1)
    bind(channel, "MUG-WHT-11OZ", 3)
    row = ingest()
    assert row.state == OrderState.READY
    rings_before = rings.fanout
    # when it is held inside a transaction that then fails
    with pytest.raises(RuntimeError):
        hold_then_fail(row)
    # then neither the move nor its event exists, and no fan-out was rung for it
    assert not BusinessEvent.objects.filter(type="order.held").exists()
    assert ChannelOrder.objects.get(pk=row.pk).state == OrderState.READY
    assert not OrderTransition.objects.filter(order=row, to_state=OrderState.HELD).exists()
    assert rings.fanout == rings_before
    # when the same move commits
    row.refresh_from_db()
    assert order_transition(
        order=row,
        to=OrderState.HELD,
        actor="test",
        reason="big basket",
        hold_reason=HoldReason.RISK,
    )
    # then exactly one event, of the right type, with a schema-valid payload, and one ring
    [event] = BusinessEvent.objects.filter(type="order.held")
    assert event.entity_key == f"order:{row.odoo_ref}" and event.channel_id == channel.pk
    assert schema_errors(event) == []
    assert event.payload["order"]["state"] == "held"
    assert event.payload["order"]["reference"] == row.odoo_ref
    assert event.payload["hold"] == {"reason": "risk", "detail": "big basket"}
    assert rings.fanout == rings_before + 1


@pytest.mark.django_db
def test_intake_publishes_accepted_held_released_in_order(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a channel where only the T-shirt is mapped
    channel = shop()
    bind(channel, "TSHIRT-BLU-M", 1)
    # when an order with an unmapped mug arrives, then the mug gets mapped
    row = ingest(order_id=4242)
    with django_capture_on_commit_callbacks(execute=True):
        bind(channel, "MUG-WHT-11OZ", 3)
    row.refresh_from_db()
    assert row.state == OrderState.READY
    # then accepted, held (unknown SKU) and released, for the same entity, each schema-valid
    events = list(BusinessEvent.objects.order_by("id"))
    assert [e.type for e in events] == ["order.accepted", "order.held", "order.released"]
    assert {e.entity_key for e in events} == {f"order:{row.odoo_ref}"}
    assert all(schema_errors(e) == [] for e in events), [schema_errors(e) for e in events]
    accepted, held, released = events
    assert accepted.payload["order"]["external_id"] == "4242"
    assert accepted.occurred_at == row.received_at
    assert sorted(ln["sku"] for ln in accepted.payload["order"]["lines"]) == [
        "MUG-WHT-11OZ",
        "TSHIRT-BLU-M",
    ]
    assert held.payload["hold"]["reason"] == "unknown_sku"
    assert "MUG-WHT-11OZ" in held.payload["hold"]["detail"]
    assert released.payload["released_from"] == "unknown_sku"
    assert released.payload["order"]["state"] == "ready"
    # and the fan-out gives them the pull cursor in that order
    fan_out()
    seqs = list(BusinessEvent.objects.order_by("id").values_list("seq", flat=True))
    assert seqs == sorted(seqs) and None not in seqs and len(set(seqs)) == 3


@pytest.mark.django_db
def test_shadow_channel_orders_publish_nothing() -> None:
    channel = shop(state=Channel.State.SHADOW)
    bind(channel, "TSHIRT-BLU-M", 1)
    row = ingest()
    assert ChannelOrder.objects.filter(pk=row.pk).exists()
    assert not BusinessEvent.objects.exists()


@pytest.mark.django_db
def test_payload_breaking_its_schema_raises_and_records_nothing() -> None:
    channel = make_channel()
    bad = order_payload(channel, "X-1")
    bad["order"]["total"] = 19.9  # a number, not a "19.90" string
    with pytest.raises(EventSchemaError, match="total"), transaction.atomic():
        event_publish(type="order.accepted", entity_key="order:x", channel=channel, payload=bad)
    assert not BusinessEvent.objects.exists()


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (None, 3, "below"),  # first computation, already low
        (None, 4, "below"),  # at the threshold counts as low
        (None, 9, None),
        (10, 4, "below"),
        (10, 5, None),
        (4, 2, None),  # staying low says nothing more
        (4, 5, "recovered"),
        (2, 4, None),
        (9, 12, None),
    ],
)
def test_crossing(previous: int | None, current: int, expected: str | None) -> None:
    assert crossing(previous=previous, current=current, threshold=4) == expected


@pytest.mark.django_db
def test_threshold_crossings_publish_uses_sku_threshold_else_channel() -> None:
    channel = make_channel(low_stock_threshold=5)
    rows = {
        "A": SkuStock(channel=channel, sku="A", atp=3),  # channel threshold 5: below
        "B": SkuStock(channel=channel, sku="B", atp=3, low_stock_threshold=2),  # own 2: fine
        "C": SkuStock(channel=channel, sku="C", atp=8, low_stock_threshold=10),  # own 10: below
        "D": SkuStock(channel=channel, sku="D", atp=9),  # recovered from 1
        "E": SkuStock(channel=channel, sku="E", atp=None),  # not computed: nothing
    }
    with transaction.atomic():
        n = threshold_crossings_publish(
            channel=channel, rows=rows, previous={"A": 7, "B": 7, "C": None, "D": 1, "E": 1}
        )
    events = {e.payload["sku"]: e for e in BusinessEvent.objects.all()}
    assert n == 3 and set(events) == {"A", "C", "D"}
    assert events["A"].payload == {
        "channel": channel.code,
        "sku": "A",
        "available": 3,
        "previous": 7,
        "threshold": 5,
        "direction": "below",
    }
    assert events["C"].payload["threshold"] == 10 and events["C"].payload["previous"] is None
    assert events["D"].payload["direction"] == "recovered"
    assert all(schema_errors(e) == [] for e in events.values())
    assert events["A"].entity_key == f"stock:{channel.code}:A"


@pytest.mark.django_db
def test_inventory_publication_reports_below_then_recovered(
    sandbox_settings: Any, shopify_standin: Any
) -> None:
    # given a Shopify channel (stand-in) selling WH, RED bound to a sandbox product
    sb = sandbox_settings
    channel = standin_channel(shopify_standin, "shop")
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=warehouse(sb)["id"])
    bind_catalog(channel, shopify_standin, {"RED": odoo_products(sb)["WIDGET-RED"]})
    mark_dirty(None, ["RED"], "test")
    publish_channel(channel)
    atp = SkuStock.objects.get(channel=channel, sku="RED").atp
    assert atp is not None and atp > 5
    assert not BusinessEvent.objects.exists()  # no threshold yet
    # and a threshold just under today's stock
    Channel.objects.filter(pk=channel.pk).update(low_stock_threshold=atp - 1)
    channel.refresh_from_db()
    # when an accepted order takes 3 (not in Odoo yet) and the SKU is published
    order = pending_order(channel, "LOW-1", {"RED": 3}, OrderState.READY)
    mark_dirty(None, ["RED"], "test")
    publish_channel(channel)
    # then one "below" event with the numbers
    [below] = BusinessEvent.objects.filter(type="stock.threshold_breached")
    assert below.payload == {
        "channel": "shop",
        "sku": "RED",
        "available": atp - 3,
        "previous": atp,
        "threshold": atp - 1,
        "direction": "below",
    }
    # when the order is cancelled and the SKU published again: "recovered"
    ChannelOrder.objects.filter(pk=order.pk).update(state=OrderState.CANCELLED)
    mark_dirty(None, ["RED"], "test")
    publish_channel(channel)
    events = list(BusinessEvent.objects.order_by("id"))
    assert [e.payload["direction"] for e in events] == ["below", "recovered"]
    assert events[1].payload["available"] == atp and events[1].payload["previous"] == atp - 3
    assert all(schema_errors(e) == [] for e in events)
    # and publishing unchanged stock again says nothing more
    mark_dirty(None, ["RED"], "test")
    publish_channel(channel)
    assert BusinessEvent.objects.count() == 2
