"""A hub pointed at another Odoo (an upgrade onto a new server, a restored copy): every Odoo-side
cursor is per server and database, so the new server starts its own, with one full read, and
the old server's cursor is left as it was.

Two sandbox processes are the two servers: the session's sandbox (A) and a second one (B).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.fulfillment.detection import cursor_key as pickings_cursor_key
from apps.fulfillment.detection import shipments_poll
from apps.fulfillment.models import ShipmentCursor
from apps.inventory.detection import cursor_key, stock_poll
from apps.inventory.models import SkuStock, StockCursor
from apps.returns.receipts import cursor_key as receipts_cursor_key
from apps.returns.receipts import receipts_poll
from apps.sales_channels.models import ChannelWarehouse
from tests.fixtures.sandbox import OdooSandbox, SandboxProcess, start_sandbox
from tests.orders import conftest as orders_fixtures

from .core_helpers import bind_catalog, odoo_products, set_on_hand, standin_channel, warehouse

sandbox_settings = orders_fixtures.sandbox_settings

pytestmark = pytest.mark.django_db

STAMP = "%Y-%m-%d %H:%M:%S"


@pytest.fixture(scope="module")
def server_b() -> Iterator[SandboxProcess]:
    proc = start_sandbox()
    try:
        yield proc
    finally:
        proc.stop()


def _point(settings: SettingsWrapper, sb: OdooSandbox) -> None:
    settings.ODOO_URL = sb.url.rstrip("/")
    settings.ODOO_DB = sb.db


def test_a_second_server_gets_its_own_cursors_and_its_changes_promptly(
    sandbox_settings: Any,
    settings: SettingsWrapper,
    shopify_standin: Any,
    server_b: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    a: OdooSandbox = sandbox_settings
    b = OdooSandbox(server_b.url)
    b.reset()
    # given a channel whose SKUs the hub polled on server A, and whose cursor there is ahead of
    # server B's clock (another machine, a restored copy: A's stamps are not B's)
    channel = standin_channel(shopify_standin, "shop")
    wh = warehouse(a)
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh["id"])
    pids = odoo_products(a)
    bind_catalog(channel, shopify_standin, {"RED": pids["WIDGET-RED"], "TEE": pids["SKU-001"]})
    stock_poll()
    shipments_poll()
    receipts_poll()
    key_a = cursor_key()
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)).strftime(STAMP)
    StockCursor.objects.filter(key=key_a).update(value=ahead)
    pick_a = ShipmentCursor.objects.get(key=pickings_cursor_key()).value
    recv_a = ShipmentCursor.objects.get(key=receipts_cursor_key()).value
    SkuStock.objects.update(dirty=False, dirty_since=None)

    # when the hub is pointed at server B (same SKUs, same product ids in both seeds)
    _point(settings, b)
    key_b = cursor_key()
    assert key_b != key_a and pickings_cursor_key() != receipts_cursor_key()
    # then its first poll starts B's own cursor and reads every bound SKU once (a full read;
    # the poll itself may mark them too: B's seed was written seconds ago)
    assert stock_poll() >= 2
    assert "2 SKU rows marked for a full read" in caplog.text
    row_b = StockCursor.objects.get(key=key_b)
    assert row_b.value < ahead and row_b.server == f"{b.db}@127.0.0.1:{server_b.port}"
    assert set(SkuStock.objects.filter(dirty=True).values_list("sku", flat=True)) == {"RED", "TEE"}
    SkuStock.objects.update(dirty=False, dirty_since=None)
    # when stock of WIDGET-RED changes in B, the next poll marks it (no waiting for A's stamp)
    b_wh = warehouse(b)
    set_on_hand(b, odoo_products(b)["WIDGET-RED"], b_wh["stock"], 3)
    assert stock_poll() >= 1
    assert SkuStock.objects.get(channel=channel, sku="RED").dirty
    # and the picking polls start B's own cursors too
    shipments_poll()
    receipts_poll()
    assert ShipmentCursor.objects.filter(key__startswith="odoo.pickings@").count() == 2
    assert ShipmentCursor.objects.filter(key__startswith="odoo.return_receipts@").count() == 2

    # and A's cursors are untouched, so going back to A continues where it was
    assert StockCursor.objects.get(key=key_a).value == ahead
    _point(settings, a)
    assert ShipmentCursor.objects.get(key=pickings_cursor_key()).value == pick_a
    assert ShipmentCursor.objects.get(key=receipts_cursor_key()).value == recv_a
    caplog.clear()
    stock_poll()
    assert "full read" not in caplog.text  # A's cursor exists: no second full read
    assert StockCursor.objects.count() == 2


def test_the_first_server_of_a_hub_is_not_a_full_read(
    sandbox_settings: Any, shopify_standin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    a: OdooSandbox = sandbox_settings
    channel = standin_channel(shopify_standin, "shop", allocation_share=Decimal("1"))
    pids = odoo_products(a)
    bind_catalog(channel, shopify_standin, {"RED": pids["WIDGET-RED"]})
    # a hub that never polled an Odoo starts from now (the initial state is `inventory sync`)
    stock_poll()
    assert "full read" not in caplog.text
    assert StockCursor.objects.get().key == cursor_key()
    # and an older hub's single unkeyed cursor counts as another server: one full read
    StockCursor.objects.all().delete()
    StockCursor.objects.create(key="odoo.stock", value="2000-01-01 00:00:00")
    stock_poll()
    assert "1 SKU rows marked for a full read" in caplog.text
    assert StockCursor.objects.get(key="odoo.stock").value == "2000-01-01 00:00:00"
