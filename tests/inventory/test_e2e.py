"""End to end: sandbox Odoo -> hub (poll or Odoo webhook hint) -> a real worker -> the Shopify
and WooCommerce stand-ins, over HTTP everywhere."""

from __future__ import annotations

import math
import time
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from apps.inventory.detection import cursor_key, stock_poll
from apps.inventory.models import SkuStock, StockCursor
from apps.inventory.services import mark_dirty
from apps.orders.models import OrderState
from apps.sales_channels.models import ChannelWarehouse
from tests.fixtures.worker import wait_for
from tests.orders import conftest as orders_fixtures

from .core_helpers import (
    bind_catalog,
    free_qty,
    odoo_products,
    pending_order,
    set_on_hand,
    standin_channel,
    warehouse,
)

sandbox_settings = orders_fixtures.sandbox_settings  # the sandbox-pointed settings fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def worker_env(sb: Any) -> dict[str, str]:
    return {
        "ODOO_URL": sb.url.rstrip("/"),
        "ODOO_DB": sb.db,
        "ODOO_USER": sb.user,
        "ODOO_PASSWORD": sb.password,
        "ODOO_BREAKER_PROBE_SECONDS": "0.5",
        "HUB_RETRY_BASE_SECONDS": "0.3",
        "HUB_INVENTORY_COALESCE_SECONDS": "0.2",
    }


@pytest.fixture
def two_channels(
    sandbox_settings: Any, shopify_standin: Any, woo_standin: Any, settings: Any
) -> Any:
    """Shopify sells WH with a buffer of 2 and a 0.8 share; WooCommerce sells WH + WH2 whole,
    with 3 RED on an accepted order not pushed yet."""
    settings.HUB_INVENTORY_COALESCE_SECONDS = 0.2
    sb = sandbox_settings
    pids = odoo_products(sb)
    wh, wh2 = warehouse(sb, "WH"), warehouse(sb, "WH2")
    shop = standin_channel(shopify_standin, "shop", stock_buffer=2, allocation_share=Decimal("0.8"))
    woo = standin_channel(woo_standin, "woo")
    ChannelWarehouse.objects.create(channel=shop, odoo_warehouse_id=wh["id"])
    ChannelWarehouse.objects.create(channel=woo, odoo_warehouse_id=wh["id"])
    ChannelWarehouse.objects.create(channel=woo, odoo_warehouse_id=wh2["id"], priority=20)
    catalog = {"RED": pids["WIDGET-RED"], "TEE": pids["SKU-001"]}
    bind_catalog(shop, shopify_standin, catalog)
    bind_catalog(woo, woo_standin, catalog)
    pending_order(woo, "W-1", {"RED": 3}, OrderState.READY)

    def expected() -> dict[str, dict[str, int]]:
        red, tee = pids["WIDGET-RED"], pids["SKU-001"]
        both = [wh["id"], wh2["id"]]
        return {
            "shop": {
                "RED": max(0, math.floor((free_qty(sb, red, [wh["id"]]) - 2) * Decimal("0.8"))),
                "TEE": max(0, math.floor((free_qty(sb, tee, [wh["id"]]) - 2) * Decimal("0.8"))),
            },
            "woo": {
                "RED": max(0, math.floor(free_qty(sb, red, both) - 3)),
                "TEE": max(0, math.floor(free_qty(sb, tee, both))),
            },
        }

    return {"pids": pids, "wh": wh, "expected": expected}


def consistent(standins: dict[str, Any], want: dict[str, dict[str, int]]) -> bool:
    for code, standin in standins.items():
        levels = standin.levels()
        if any(levels.get(sku) != qty for sku, qty in want[code].items()):
            return False
    return True


def test_odoo_stock_change_reaches_both_channels_and_survives_an_outage(
    two_channels: Any,
    celery_worker_factory: Any,
    sandbox_settings: Any,
    shopify_standin: Any,
    woo_standin: Any,
) -> None:
    sb = sandbox_settings
    standins = {"shop": shopify_standin, "woo": woo_standin}
    celery_worker_factory(queues="channel_io", **worker_env(sb))
    # given the initial state published (the poll from the beginning marks every bound SKU)
    StockCursor.objects.create(key=cursor_key(), value="2000-01-01 00:00:00")
    stock_poll()
    wait_for(lambda: consistent(standins, two_channels["expected"]()), timeout=20)
    # when stock of WIDGET-RED changes in Odoo and the poll runs
    set_on_hand(sb, two_channels["pids"]["WIDGET-RED"], two_channels["wh"]["stock"], 250)
    assert stock_poll() >= 2  # RED on both channels
    # then both stand-ins show the new ATP (buffer, share and the pending order applied)
    want = two_channels["expected"]()
    wait_for(lambda: consistent(standins, want), timeout=20)
    assert want["woo"]["RED"] == math.floor(
        free_qty(
            sb,
            two_channels["pids"]["WIDGET-RED"],
            [two_channels["wh"]["id"], warehouse(sb, "WH2")["id"]],
        )
        - 3
    )
    # unchanged values are not sent again: the overlap re-marks RED, nothing is written
    written = {k: s.stats()["items_written"] for k, s in standins.items()}
    stock_poll()
    wait_for(lambda: not SkuStock.objects.filter(dirty=True).exists(), timeout=20)
    assert {k: s.stats()["items_written"] for k, s in standins.items()} == written
    # while Odoo is down, publication pauses and the SKUs stay dirty ...
    sb.set_faults(down=True)
    mark_dirty(None, ["RED"], "test")
    time.sleep(1.5)
    assert SkuStock.objects.filter(sku="RED", dirty=True).count() == 2
    assert {k: s.stats()["items_written"] for k, s in standins.items()} == written
    # ... and resumes when it is back, with the current values
    sb.set_faults(down=False)
    set_on_hand(sb, two_channels["pids"]["WIDGET-RED"], two_channels["wh"]["stock"], 90)
    wait_for(lambda: consistent(standins, two_channels["expected"]()), timeout=30)
    assert shopify_standin.stats()["throttled"] == 0 and woo_standin.stats()["throttled"] == 0


def test_odoo_webhook_hint_reaches_channels_without_a_poll(
    two_channels: Any,
    celery_worker_factory: Any,
    sandbox_settings: Any,
    shopify_standin: Any,
    woo_standin: Any,
    live_server: Any,
    settings: Any,
) -> None:
    sb = sandbox_settings
    standins = {"shop": shopify_standin, "woo": woo_standin}
    settings.HUB_ODOO_WEBHOOK_TOKEN = "hint-" + "k" * 40
    celery_worker_factory(queues="channel_io", **worker_env(sb))
    # given the rule installed in Odoo, posting to the hub's receiver
    url = f"{live_server.url}/webhooks/odoo/{settings.HUB_ODOO_WEBHOOK_TOKEN}/"
    call_command("odoo", "install-stock-webhook", "--url", url)
    # when stock changes in Odoo (no poll runs in this test)
    set_on_hand(sb, two_channels["pids"]["WIDGET-RED"], two_channels["wh"]["stock"], 33)
    # then Odoo's post marks RED dirty and the worker publishes ATP read from Odoo
    want = two_channels["expected"]()
    wait_for(
        lambda: all(s.levels().get("RED") == want[k]["RED"] for k, s in standins.items()),
        timeout=20,
    )
    assert SkuStock.objects.filter(sku="RED").count() == 2
    assert not SkuStock.objects.filter(sku="TEE").exists()  # only what the hint named
