"""Intake: upsert by (channel, external id), arrival order, import rules, SKU holds."""

from __future__ import annotations

from typing import Any

import pytest

from apps.mappings.models import Binding
from apps.orders.errors import OrderRejected, TransitionRefused
from apps.orders.models import ChannelOrder, HoldReason, OrderState, OrderTransition
from apps.orders.services import order_ingest, order_transition
from apps.sales_channels.translators import order_from_b2b, order_from_shopify

from .conftest import b2b_payload, bind, shopify_payload

pytestmark = pytest.mark.django_db


def ingest(channel_code: str = "shop", **changes: Any) -> ChannelOrder:
    return order_ingest(order=order_from_shopify(shopify_payload(**changes), channel=channel_code))


@pytest.fixture
def shop(make_channel: Any) -> Any:
    channel = make_channel()
    bind(channel, "TSHIRT-BLU-M", 1)
    bind(channel, "MUG-WHT-11OZ", 3)
    return channel


def test_new_order_with_known_skus_is_ready_with_history(shop: Any) -> None:
    # when
    row = ingest()
    # then
    row.refresh_from_db()
    assert row.state == OrderState.READY
    assert row.odoo_ref == f"shop:{row.external_id}"
    assert [ln.product_id for ln in row.lines.order_by("position")] == [1, 3]
    history = list(row.transitions.values_list("from_state", "to_state"))
    assert history == [("", "received"), ("received", "ready")]


def test_same_order_three_times_is_one_row(shop: Any) -> None:
    for _ in range(3):
        ingest()
    assert ChannelOrder.objects.count() == 1
    assert OrderTransition.objects.count() == 2


def test_update_before_create_keeps_the_newer_version(shop: Any) -> None:
    # given the update (newer updated_at, new note) arrives first
    ingest(updated_at="2025-01-14T12:00:00-05:00", note="updated")
    # when the create (older) arrives late
    row = ingest(updated_at="2025-01-14T10:00:00-05:00", note="original")
    # then the newer version stays
    row.refresh_from_db()
    assert row.payload["note"] == "updated"
    assert ChannelOrder.objects.count() == 1


def test_pending_payment_waits_then_imports_when_paid(shop: Any) -> None:
    row = ingest(financial_status="pending", updated_at="2025-01-14T10:00:00Z")
    row.refresh_from_db()
    assert (row.state, row.hold_reason) == (OrderState.HELD, HoldReason.AWAITING_PAYMENT)
    row = ingest(financial_status="paid", updated_at="2025-01-14T11:00:00Z")
    row.refresh_from_db()
    assert row.state == OrderState.READY


def test_unknown_sku_holds_and_mapping_releases(
    make_channel: Any, django_capture_on_commit_callbacks: Any
) -> None:
    # given a channel where only the T-shirt is mapped
    channel = make_channel()
    bind(channel, "TSHIRT-BLU-M", 1)
    row = ingest()
    row.refresh_from_db()
    assert (row.state, row.hold_reason) == (OrderState.HELD, HoldReason.UNKNOWN_SKU)
    assert "MUG-WHT-11OZ" in row.hold_detail
    # when the mug gets mapped (the signal releases after commit)
    with django_capture_on_commit_callbacks(execute=True):
        bind(channel, "MUG-WHT-11OZ", 3)
    # then the order is ready
    row.refresh_from_db()
    assert row.state == OrderState.READY
    assert row.hold_reason == ""


def test_cancel_before_push_cancels(shop: Any) -> None:
    ingest(updated_at="2025-01-14T10:00:00Z")
    row = ingest(
        updated_at="2025-01-14T11:00:00Z",
        cancelled_at="2025-01-14T11:00:00Z",
        cancel_reason="customer",
    )
    row.refresh_from_db()
    assert row.state == OrderState.CANCELLED


def test_bad_orders_are_refused_and_nothing_is_written(shop: Any) -> None:
    with pytest.raises(OrderRejected) as err:
        order_ingest(order=order_from_b2b(b2b_payload(currency="XYZ"), channel="shop"))
    assert err.value.context["field"] == "currency"
    assert ChannelOrder.objects.count() == 0


def test_transition_is_conditional(shop: Any) -> None:
    # given two copies of the same ready order (two workers)
    row = ingest()
    row.refresh_from_db()
    other = ChannelOrder.objects.get(pk=row.pk)
    # when both try to move it
    assert order_transition(order=row, to=OrderState.PUSHING, actor="a")
    assert not order_transition(order=other, to=OrderState.PUSHING, actor="b")
    # then only one history row was written for the move
    assert row.transitions.filter(to_state=OrderState.PUSHING).count() == 1
    with pytest.raises(TransitionRefused):
        order_transition(order=row, to=OrderState.SHIPPED, actor="a")


def test_binding_for_other_kind_does_nothing(shop: Any) -> None:
    Binding.objects.create(
        channel=shop,
        kind=Binding.Kind.CUSTOMER,
        external_id="c1",
        odoo_model="res.partner",
        odoo_id=9,
    )
