"""Fixtures for the shipment flow: a Shopify channel on the sandbox Odoo, an order pushed into
it, helpers to validate its deliveries (partially, with a backorder, with tracking), and rows
made directly for the tests that need no Odoo (sync, API, handlers).

The adapter tests (`test_adapters_*.py`) are the adapter engineer's and bring their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from apps.fulfillment.models import Shipment, ShipmentLine, ShipmentSync
from apps.odoo.gateway import OdooGateway
from apps.orders.models import ChannelOrder, OrderLine, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators import order_from_shopify
from tests.orders import conftest as orders_fixtures
from tests.orders.conftest import SKU_MAP, product_ids, shopify_payload

sandbox_settings = orders_fixtures.sandbox_settings
gateway = orders_fixtures.gateway
bind_all = orders_fixtures.bind_all

HINT_TOKEN = "picking-hint-" + "k" * 40


@pytest.fixture(autouse=True)
def _no_broker_rings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """In-process tests run the tasks themselves; rings are recorded, not sent. Tests with a
    real worker (marker `worker`) ring for real."""
    rung: list[tuple[str, Any]] = []
    if request.node.get_closest_marker("worker") is None:
        from apps.ledger import services as ledger

        def ring(*, model: Any, pk: Any, countdown: float | None = None) -> bool:
            rung.append((model._meta.label_lower, pk))
            return True

        monkeypatch.setattr(ledger, "work_ring", ring)
    return rung


@pytest.fixture
def rings(_no_broker_rings: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return _no_broker_rings


@pytest.fixture
def shop(sandbox_settings: Any, db: None, bind_all: Callable[[Channel], None]) -> Channel:
    """A Shopify channel whose SKUs are bound to sandbox products (no API: nothing is sent
    unless a test points it at a stand-in)."""
    channel, _ = channel_create(code="shop", kind="shopify")
    bind_all(channel)
    return channel


def push_order(order_id: int = 5001, channel: str = "shop", **changes: Any) -> ChannelOrder:
    """A Shopify order (2 x TSHIRT-BLU-M, 1 x MUG-WHT-11OZ) ingested and pushed to the sandbox."""
    row = order_ingest(
        order=order_from_shopify(shopify_payload(order_id, **changes), channel=channel)
    )
    order_push_due()
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO, (row.state, row.last_error)
    return row


def pickings_of(gateway: OdooGateway, order: ChannelOrder) -> list[dict[str, Any]]:
    """The order's outgoing pickings, oldest first, with their moves."""
    assert order.odoo_id
    info = gateway.sale_orders_read(order_ids=[order.odoo_id])[order.odoo_id]
    return sorted(gateway.pickings_read(picking_ids=info["picking_ids"]), key=lambda p: p["id"])


def open_picking(gateway: OdooGateway, order: ChannelOrder) -> dict[str, Any]:
    [picking] = [p for p in pickings_of(gateway, order) if p["state"] not in ("done", "cancel")]
    return picking


def ship(
    gateway: OdooGateway,
    order: ChannelOrder,
    *,
    quantities: dict[str, int] | None = None,
    tracking: str | None = None,
    carrier_id: int | None = None,
) -> dict[str, Any]:
    """Validate the order's open delivery: `quantities` by Odoo SKU ships part of it and leaves
    a backorder; None ships everything. Returns the picking as read after validation."""
    picking = open_picking(gateway, order)
    moves = None
    if quantities is not None:
        moves = {m["move_id"]: quantities.get(m["sku"], 0) for m in picking["moves"]}
        moves = {k: v for k, v in moves.items() if v}
    gateway.picking_validate(
        picking_id=picking["id"],
        quantities=moves,
        backorder=True,
        tracking_ref=tracking,
        carrier_id=carrier_id,
    )
    [done] = gateway.pickings_read(picking_ids=[picking["id"]])
    assert done["state"] == "done"
    return done


def odoo_skus() -> dict[str, str]:
    return dict(SKU_MAP)


def sandbox_product_ids(sandbox: Any) -> dict[str, int]:
    return product_ids(sandbox, list(SKU_MAP.values()))


# --- rows without Odoo ------------------------------------------------------------------------


def make_order(
    channel: Channel,
    external_id: str = "1001",
    *,
    lines: tuple[tuple[str, int, int], ...] = (("TSHIRT", 2, 11), ("MUG", 1, 12)),
    state: str = OrderState.IN_ODOO,
) -> ChannelOrder:
    """An order already in Odoo; `lines` are (SKU, quantity, Odoo product id)."""
    now = timezone.now()
    order = ChannelOrder.objects.create(
        channel=channel,
        external_id=external_id,
        number=f"#{external_id}",
        state=state,
        currency="USD",
        total=Decimal("50.00"),
        source_version=now,
        channel_created_at=now,
        odoo_ref=f"{channel.code}:{external_id}",
        odoo_id=int(external_id) if external_id.isdigit() else None,
        odoo_name=f"S{external_id}",
    )
    for i, (sku, qty, pid) in enumerate(lines):
        OrderLine.objects.create(
            order=order,
            position=i,
            external_line_id=f"L{i + 1}",
            sku=sku,
            quantity=qty,
            unit_price=Decimal("10"),
            product_id=pid,
        )
    return order


def make_shipment(
    order: ChannelOrder,
    *,
    picking_id: int = 501,
    name: str = "WH/OUT/00501",
    lines: tuple[tuple[str, int, int, str], ...] = (("TSHIRT", 2, 11, "L1"), ("MUG", 1, 12, "L2")),
    tracking: tuple[str, ...] = ("1Z999AA10123456784",),
    carrier: str = "UPS",
    sync: bool = True,
) -> Shipment:
    shipment = Shipment.objects.create(
        order=order,
        channel=order.channel,
        odoo_picking_id=picking_id,
        odoo_picking_name=name,
        odoo_write_date="2026-12-05 10:00:00",
        odoo_carrier="Standard Delivery",
        carrier=carrier,
        tracking_numbers=list(tracking),
        tracking_url="https://track.example/1Z",
        shipped_at=timezone.now() - dt.timedelta(minutes=1),
    )
    for sku, qty, pid, ext in lines:
        ShipmentLine.objects.create(
            shipment=shipment, sku=sku, quantity=qty, odoo_product_id=pid, external_line_id=ext
        )
    if sync:
        ShipmentSync.objects.create(
            shipment=shipment,
            action=ShipmentSync.Action.CREATE,
            entity_key=f"shipment:{shipment.pk}",
        )
    return shipment


@pytest.fixture
def hint_token(settings: Any) -> str:
    settings.HUB_ODOO_WEBHOOK_TOKEN = HINT_TOKEN
    return HINT_TOKEN
