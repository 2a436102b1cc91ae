"""Magento stock publication against the Magento stand-in over HTTP: MSI source items in batches
per source, only changes (the publication core's change detection, through a real worker), the
ATP split over several sources by Odoo's free stock per warehouse, legacy stock items where MSI
is off, and the levels read back for reconciliation."""

from __future__ import annotations

import math
from typing import Any

import pytest

from apps.core.errors import ConfigurationError
from apps.inventory.detection import cursor_key, stock_poll
from apps.inventory.models import SkuStock, StockCursor
from apps.inventory.publishers import StockTarget, publisher_for
from apps.inventory.publishers.magento import MagentoPublisher, split
from apps.sales_channels.models import ChannelWarehouse
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.worker import wait_for
from tests.inventory.core_helpers import (
    bind_catalog,
    free_qty,
    odoo_products,
    set_on_hand,
    warehouse,
)
from tests.inventory.publish_helpers import fresh_cache
from tests.orders import conftest as orders_fixtures
from tests.sales_channels.magento_outbound_helpers import (
    magento_channel,
    source_item_writes,
    source_levels,
)

from .test_e2e import worker_env

__all__ = ["fresh_cache"]
sandbox_settings = orders_fixtures.sandbox_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def targets(quantities: dict[str, int]) -> list[StockTarget]:
    return [StockTarget(sku=s, external_id=s, quantity=q) for s, q in quantities.items()]


def publisher(standin: ChannelStandin, **options: Any) -> MagentoPublisher:
    found = publisher_for(magento_channel(standin, **options))
    assert isinstance(found, MagentoPublisher)
    return found


def test_split_adds_up_to_the_total() -> None:
    assert split(10, [("a", 1), ("b", 1), ("c", 1)]) == {"a": 4, "b": 3, "c": 3}
    assert split(8, [("default", 30), ("eu", 10)]) == {"default": 6, "eu": 2}
    assert split(5, [("default", 0), ("eu", -3)]) == {"default": 5, "eu": 0}
    assert split(0, [("default", 7), ("eu", 1)]) == {"default": 0, "eu": 0}


def test_msi_source_items_go_in_batches_per_source(
    magento_standin: ChannelStandin, settings: Any
) -> None:
    settings.HUB_MAGENTO_STOCK_BATCH = 2
    pub = publisher(magento_standin, magento_sources={"WH": "default"})
    # when five SKUs are published (one of them to zero)
    wanted = {"SKU-001": 7, "SKU-002": 0, "SKU-003": 12, "SKU-004": 1, "SKU-005": 30}
    outcomes = pub.publish(targets(wanted))
    # then Magento got three calls on the one source, of at most two items each
    assert [o.ok for o in outcomes] == [True] * 5
    assert magento_standin.stats()["batches"] == {"source-items:default": [2, 2, 1]}
    assert pub.calls == 3
    levels = source_levels(magento_standin)
    assert {s: levels[(s, "default")] for s in wanted} == wanted
    sent = [i for w in source_item_writes(magento_standin) for i in w["body"]["sourceItems"]]
    assert {i["sku"]: i["status"] for i in sent}["SKU-002"] == 0  # out of stock at zero
    assert all(i["source_code"] == "default" and i["status"] == 1 for i in sent if i["quantity"])


def test_a_refused_batch_is_sent_item_by_item(magento_standin: ChannelStandin) -> None:
    pub = publisher(magento_standin, magento_sources={"WH": "default"})
    outcomes = {o.sku: o for o in pub.publish(targets({"SKU-001": 4, "NOPE": 2, "SKU-002": 9}))}
    # only the unknown SKU fails, with Magento's reason; the others are on the store
    assert outcomes["SKU-001"].ok and outcomes["SKU-002"].ok
    assert not outcomes["NOPE"].ok and 'SKU "NOPE" does not exist' in outcomes["NOPE"].error
    levels = source_levels(magento_standin)
    assert levels[("SKU-001", "default")] == 4 and levels[("SKU-002", "default")] == 9
    # the batch, then each of its three items alone
    assert [len(w["body"]["sourceItems"]) for w in source_item_writes(magento_standin)] == [
        3,
        1,
        1,
        1,
    ]


def test_legacy_stock_items_where_msi_is_off(magento_standin: ChannelStandin) -> None:
    magento_standin.set_config(msi_enabled=False)
    pub = publisher(magento_standin)  # no magento_sources: MSI off
    assert [o.ok for o in pub.publish(targets({"SKU-001": 3, "SKU-002": 0}))] == [True, True]
    assert magento_standin.levels()["SKU-001"] == 3 and magento_standin.levels()["SKU-002"] == 0
    # one item-id read and one PUT per SKU, no source items
    calls = magento_standin.stats()["calls"]
    assert calls.get("stock_item_get") == 2 and calls.get("stock_item_save") == 2
    assert not source_item_writes(magento_standin)
    puts = [w for w in magento_standin.received() if w["method"] == "PUT"]
    assert puts[1]["body"] == {"stockItem": {"qty": 0, "is_in_stock": False}}
    # a second publication reuses the cached item ids
    assert [o.ok for o in pub.publish(targets({"SKU-001": 5}))] == [True]
    assert magento_standin.stats()["calls"].get("stock_item_get") == 2
    assert magento_standin.levels()["SKU-001"] == 5


def test_sources_on_a_store_without_msi_are_a_configuration_error(
    magento_standin: ChannelStandin,
) -> None:
    magento_standin.set_config(msi_enabled=False)
    pub = publisher(magento_standin, magento_sources={"WH": "default"})
    with pytest.raises(ConfigurationError, match="empty magento_sources"):
        pub.publish(targets({"SKU-001": 1, "SKU-002": 2}))
    assert magento_standin.stats()["calls"].get("msi_off") == 1  # not retried item by item


def test_several_sources_need_warehouse_ids(magento_standin: ChannelStandin) -> None:
    pub = publisher(magento_standin, magento_sources={"WH": "default", "WH2": "eu"})
    with pytest.raises(ConfigurationError, match="key each source by Odoo warehouse id"):
        pub.publish(targets({"SKU-001": 1}))
    assert not source_item_writes(magento_standin)


def test_several_sources_share_atp_by_free_stock_per_warehouse(
    magento_standin: ChannelStandin, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    wh, wh2 = warehouse(sb, "WH"), warehouse(sb, "WH2")
    pids = odoo_products(sb)
    magento_standin.set_config(msi_sources=["default", "eu"])
    channel = magento_channel(
        magento_standin, magento_sources={str(wh["id"]): "default", str(wh2["id"]): "eu"}
    )
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh["id"])
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh2["id"], priority=20)
    bind_catalog(channel, magento_standin, {"RED": pids["WIDGET-RED"]})
    # given 30 free in WH and 10 in WH2
    set_on_hand(sb, pids["WIDGET-RED"], wh["stock"], 30)
    set_on_hand(sb, pids["WIDGET-RED"], wh2["stock"], 10)
    assert free_qty(sb, pids["WIDGET-RED"], [wh["id"]]) == 30
    assert free_qty(sb, pids["WIDGET-RED"], [wh2["id"]]) == 10
    # when an ATP of 8 is published
    pub = publisher_for(channel)
    assert [o.ok for o in pub.publish(targets({"RED": 8}))] == [True]
    # then each source holds its warehouse's share, one call per source, adding up to 8
    levels = source_levels(magento_standin)
    assert (levels[("RED", "default")], levels[("RED", "eu")]) == (6, 2)
    assert magento_standin.stats()["batches"] == {
        "source-items:default": [1],
        "source-items:eu": [1],
    }
    # and reconciliation reads the sum of the two sources back
    ext = str(next(p for p in magento_standin.products() if p["sku"] == "RED")["variant_id"])
    assert pub.read_levels([ext]) == {ext: 8}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_only_changes_reach_magento_through_the_worker(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    magento_standin: ChannelStandin,
    settings: Any,
) -> None:
    sb = sandbox_settings
    settings.HUB_INVENTORY_COALESCE_SECONDS = 0.2
    pids = odoo_products(sb)
    wh = warehouse(sb, "WH")
    channel = magento_channel(magento_standin, magento_sources={"WH": "default"})
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh["id"])
    bind_catalog(channel, magento_standin, {"RED": pids["WIDGET-RED"], "TEE": pids["SKU-001"]})
    celery_worker_factory(queues="channel_io", **worker_env(sb))

    def atp() -> dict[str, int]:
        return {
            "RED": math.floor(free_qty(sb, pids["WIDGET-RED"], [wh["id"]])),
            "TEE": math.floor(free_qty(sb, pids["SKU-001"], [wh["id"]])),
        }

    def shown() -> dict[str, Any]:
        levels = source_levels(magento_standin)
        return {s: levels.get((s, "default")) for s in ("RED", "TEE")}

    # given the first publication of every bound SKU (one batch on the source)
    StockCursor.objects.create(key=cursor_key(), value="2000-01-01 00:00:00")
    stock_poll()
    wait_for(lambda: shown() == atp(), timeout=20)
    first = source_item_writes(magento_standin)
    assert sorted(i["sku"] for w in first for i in w["body"]["sourceItems"]) == ["RED", "TEE"]
    # when the poll marks them again without a change, nothing is sent
    stock_poll()
    wait_for(lambda: not SkuStock.objects.filter(channel=channel, dirty=True).exists(), timeout=20)
    assert source_item_writes(magento_standin) == first
    # when RED changes in Odoo, only RED is sent
    set_on_hand(sb, pids["WIDGET-RED"], wh["stock"], 77)
    stock_poll()
    wait_for(lambda: shown() == atp(), timeout=20)
    assert shown()["RED"] == 77
    later = source_item_writes(magento_standin)[len(first) :]
    assert [[i["sku"] for i in w["body"]["sourceItems"]] for w in later] == [["RED"]]
