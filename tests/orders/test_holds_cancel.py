"""Credit and risk holds with the Approver's release; cancellations before/after push/shipment."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from apps.orders.models import ChannelOrder, HoldReason, OrderState
from apps.orders.services import order_cancel, order_ingest, order_push_due, order_release_hold
from apps.sales_channels.translators import order_from_b2b, order_from_shopify

from .conftest import b2b_payload, shopify_payload
from .helpers import sale_orders

pytestmark = pytest.mark.django_db


def big_acme_order(external_id: str, qty: int) -> dict[str, Any]:
    return b2b_payload(
        external_id,
        customer={"external_id": "ACME", "email": "orders@acme.example.com", "company": "Acme"},
        lines=[{"sku": "TSHIRT-BLU-M", "quantity": qty, "unit_price": "25.00"}],
        shipping={},
        totals={"total": str(25 * qty)},
    )


@pytest.fixture
def portal(sandbox_settings: Any, b2b: Any, bind_all: Any) -> Any:
    channel, _ = b2b
    bind_all(channel)
    return channel


def test_credit_hold_then_approver_release(portal: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    # given Acme (credit limit 50,000 in Odoo) orders 40,000 and then 20,000
    small = order_ingest(order=order_from_b2b(big_acme_order("C1", 1600), channel="portal"))
    big = order_ingest(order=order_from_b2b(big_acme_order("C2", 800), channel="portal"))
    # when both are pushed in one batch
    order_push_due()
    # then the first goes through and the second is held for credit, nothing sent for it
    small.refresh_from_db()
    big.refresh_from_db()
    assert small.state == OrderState.IN_ODOO
    assert (big.state, big.hold_reason) == (OrderState.HELD, HoldReason.CREDIT)
    assert "credit limit" in big.hold_detail
    assert sale_orders(sb, "portal:C2") == []
    # when an Approver releases it in the admin
    approver = User.objects.create_user("approver", password="pw", is_staff=True)
    approver.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["release_hold", "view_channelorder", "change_channelorder"]
        )
    )
    clerk = User.objects.create_user("clerk", password="pw", is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename="view_channelorder"))
    url = "/admin/orders/channelorder/"
    form = {"action": "release_hold", "_selected_action": [big.pk]}
    c = Client()
    c.force_login(clerk)
    c.post(url, form)
    big.refresh_from_db()
    assert big.state == OrderState.HELD  # no permission, no release
    c.force_login(approver)
    c.post(url, form)
    big.refresh_from_db()
    assert big.state == OrderState.READY and big.hold_approved_by == "user:approver"
    # then the next push sends it despite the limit
    order_push_due()
    big.refresh_from_db()
    assert big.state == OrderState.IN_ODOO
    assert len(sale_orders(sb, "portal:C2")) == 1


def test_risk_hold_for_big_orders(make_channel: Any, bind_all: Any) -> None:
    from decimal import Decimal

    shop = make_channel(risk_hold_amount=Decimal("50"))
    bind_all(shop)
    row = order_ingest(order=order_from_shopify(shopify_payload(1), channel="shop"))
    row.refresh_from_db()
    assert (row.state, row.hold_reason) == (OrderState.HELD, HoldReason.RISK)
    order_release_hold(order_id=row.pk, actor="user:boss")
    row.refresh_from_db()
    assert row.state == OrderState.READY


@pytest.fixture
def shop(sandbox_settings: Any, make_channel: Any, bind_all: Any) -> Any:
    channel = make_channel()
    bind_all(channel)
    return channel


def shopify(order_id: int, **changes: Any) -> ChannelOrder:
    return order_ingest(
        order=order_from_shopify(shopify_payload(order_id, **changes), channel="shop")
    )


def test_cancel_after_push_cancels_in_odoo(shop: Any, sandbox_settings: Any) -> None:
    row = shopify(10, updated_at="2025-01-14T10:00:00Z")
    order_push_due()
    # when the channel cancels the order
    row = shopify(10, updated_at="2025-01-14T11:00:00Z", cancelled_at="2025-01-14T11:00:00Z")
    row.refresh_from_db()
    assert row.state == OrderState.CANCEL_REQUESTED
    assert order_cancel(order_id=row.pk) == OrderState.CANCELLED
    [so] = sale_orders(sandbox_settings, "shop:10")
    assert so["state"] == "cancel"


def test_cancel_after_shipment_is_not_cancelled_in_odoo(
    shop: Any, sandbox_settings: Any, gateway: Any
) -> None:
    row = shopify(11, updated_at="2025-01-14T10:00:00Z")
    order_push_due()
    row.refresh_from_db()
    # given the goods left the warehouse
    info = gateway.sale_orders_read(order_ids=[row.odoo_id])[row.odoo_id]
    for picking in info["picking_ids"]:
        gateway.picking_validate(picking_id=picking)
    # when the channel cancels
    row = shopify(11, updated_at="2025-01-14T11:00:00Z", cancelled_at="2025-01-14T11:00:00Z")
    order_cancel(order_id=row.pk)
    # then the Odoo order stays, and the order is marked shipped (the inbox suggests a return)
    row.refresh_from_db()
    assert row.state == OrderState.SHIPPED
    [so] = sale_orders(sandbox_settings, "shop:11")
    assert so["state"] == "sale"


def test_cancel_while_pushing_is_applied_after_the_push(
    shop: Any, sandbox_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    row = shopify(12, updated_at="2025-01-14T10:00:00Z")
    ChannelOrder.objects.filter(pk=row.pk).update(cancel_wanted=True)  # arrived mid-push
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.CANCEL_REQUESTED


def test_status_update_after_push_is_not_an_edit_but_a_line_change_is(
    shop: Any, sandbox_settings: Any
) -> None:
    from apps.inbox.models import Issue

    shopify(13, updated_at="2025-01-14T10:00:00Z", financial_status="authorized")
    order_push_due()
    # a payment update: no inbox item
    shopify(13, updated_at="2025-01-14T11:00:00Z", financial_status="paid")
    assert not Issue.objects.filter(key__startswith="order_edit_after_push").exists()
    # a line edit: an inbox item for a person
    payload = shopify_payload(13, updated_at="2025-01-14T12:00:00Z")
    payload["line_items"][0]["quantity"] = 3
    payload["line_items"][0]["price"] = "25.00"
    payload["line_items"][0].pop("price_set", None)
    for key in ("total_price", "subtotal_price", "total_line_items_price"):
        payload.pop(f"{key}_set", None)
    payload["total_price"] = "91.74"
    payload["subtotal_price"] = "81.25"
    payload["total_line_items_price"] = "87.50"
    row = order_ingest(order=order_from_shopify(payload, channel="shop"))
    # an edit before shipping is applied in Odoo by orders.push_edit (tests/orders/test_edits.py)
    row.refresh_from_db()
    assert row.edit_payload is not None
    assert not Issue.objects.filter(key__startswith="order_edit_after_push").exists()


def test_unknown_sku_opens_one_inbox_item_per_sku_and_mapping_clears_it(
    make_channel: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.inbox.models import Issue

    from .conftest import bind

    channel = make_channel()
    bind(channel, "TSHIRT-BLU-M", 1)
    for n in (20, 21):
        order_ingest(order=order_from_shopify(shopify_payload(n), channel="shop"))
    issue = Issue.objects.get(key="sku:MUG-WHT-11OZ@shop")
    assert issue.sku == "MUG-WHT-11OZ" and issue.rows.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        bind(channel, "MUG-WHT-11OZ", 3)
    issue.refresh_from_db()
    assert issue.status != "open", issue.status
