"""Inventory core over real boundaries (sandbox Odoo over HTTP, channel stand-ins over HTTP),
in-process: ATP, publication of changes only, order-driven dirty marks, the poll, hints."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from apps.core.errors import TransientError
from apps.inventory import services
from apps.inventory.atp import compute_atp
from apps.inventory.detection import cursor_key, hint_product_ids, stock_poll
from apps.inventory.models import SkuStock, StockCursor
from apps.inventory.services import mark_dirty, publish_channel
from apps.orders.models import OrderState
from apps.sales_channels.models import ChannelWarehouse
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

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(sandbox_settings: Any, shopify_standin: Any) -> Any:
    """A Shopify channel selling WH only, with a buffer and a share, and three bound SKUs."""
    sb = sandbox_settings
    channel = standin_channel(
        shopify_standin, "shop", stock_buffer=5, allocation_share=Decimal("0.5")
    )
    wh = warehouse(sb)
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=wh["id"])
    pids = odoo_products(sb)
    bind_catalog(channel, shopify_standin, {"RED": pids["WIDGET-RED"], "TEE": pids["SKU-001"]})
    return channel, pids, wh


def expected_atp(sb: Any, pid: int, wh: int, buffer: int, share: Decimal, pending: int) -> int:
    return max(0, math.floor((free_qty(sb, pid, [wh]) - buffer) * share - pending))


def test_atp_applies_buffer_share_and_pending_orders(shop: Any, sandbox_settings: Any) -> None:
    channel, pids, wh = shop
    # given an order the hub accepted for RED that is not in Odoo yet, and one already in Odoo
    pending_order(channel, "A-1", {"RED": 3}, OrderState.READY)
    pending_order(channel, "A-2", {"RED": 50}, OrderState.IN_ODOO)
    # when ATP is computed
    res = compute_atp(channel)
    # then it is (free_qty in WH - buffer) x share - the pending 3 only
    red = res["RED"]
    assert red.pending_orders == 3 and red.buffer == 5 and red.share == Decimal("0.5")
    assert red.free_qty == free_qty(sandbox_settings, pids["WIDGET-RED"], [wh["id"]])
    assert red.atp == expected_atp(
        sandbox_settings, pids["WIDGET-RED"], wh["id"], 5, Decimal("0.5"), 3
    )
    assert set(res) == {"RED", "TEE"}


def test_publish_sends_only_changed_values(
    shop: Any, shopify_standin: Any, sandbox_settings: Any
) -> None:
    channel, pids, wh = shop
    # given both SKUs dirty
    assert mark_dirty(None, ["RED", "TEE"], "test") == 2
    # when published
    first = publish_channel(channel)
    # then the stand-in holds ATP, and the rows are clean with published_qty recorded
    levels = shopify_standin.levels()
    rows = {r.sku: r for r in SkuStock.objects.filter(channel=channel)}
    assert first.published == 2 and first.failed == 0
    assert levels["RED"] == rows["RED"].atp == rows["RED"].published_qty
    assert levels["RED"] == expected_atp(
        sandbox_settings, pids["WIDGET-RED"], wh["id"], 5, Decimal("0.5"), 0
    )
    assert not any(r.dirty for r in rows.values())
    writes = shopify_standin.stats()["items_written"]
    # when marked again without a stock change
    mark_dirty(None, ["RED", "TEE"], "test")
    second = publish_channel(channel)
    # then nothing is sent again
    assert (second.checked, second.changed, second.published) == (2, 0, 0)
    assert shopify_standin.stats()["items_written"] == writes
    assert not SkuStock.objects.filter(dirty=True).exists()


def test_accepted_order_marks_dirty_and_lowers_published_atp(
    shop: Any, shopify_standin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    channel, _, _ = shop
    mark_dirty(None, ["RED"], "test")
    publish_channel(channel)
    before = shopify_standin.levels()["RED"]
    # when the hub accepts an order for 4 RED that is not pushed yet
    with django_capture_on_commit_callbacks(execute=True):
        pending_order(channel, "B-1", {"RED": 4}, OrderState.RECEIVED)
    # then RED is dirty, and the next publication lowers the channel's stock by 4
    assert SkuStock.objects.get(channel=channel, sku="RED").dirty
    publish_channel(channel)
    assert shopify_standin.levels()["RED"] == max(0, before - 4)


def test_poll_marks_products_changed_in_odoo(shop: Any, sandbox_settings: Any) -> None:
    channel, pids, wh = shop
    sb = sandbox_settings
    StockCursor.objects.create(key=cursor_key(), value="2000-01-01 00:00:00")
    stock_poll()  # the seed data: everything written at reset
    SkuStock.objects.update(dirty=False, dirty_since=None)
    sb.reset_stats()
    # when stock of WIDGET-RED changes in Odoo
    set_on_hand(sb, pids["WIDGET-RED"], wh["stock"], 7)
    marked = stock_poll()
    # then RED is dirty after two RPCs, and the watermark moved
    assert marked >= 1
    assert SkuStock.objects.get(channel=channel, sku="RED").dirty
    calls = sb.stats()["calls"]
    assert calls.get("stock.quant.search_read") == 1 and calls.get("stock.move.search_read") == 1
    assert StockCursor.objects.get(key=cursor_key()).value > "2000-01-01 00:00:00"


def test_hint_bodies_name_products_not_quantities() -> None:
    bodies = [
        {"_model": "stock.quant", "_id": 48, "id": 48, "product_id": 43, "quantity": 99.0},
        {
            "_model": "stock.quant",
            "id": 49,
            "location_id": 14,
            "product_id": 43,
            "quantity": -151.0,
        },
        {"_model": "stock.move", "id": 7, "product_id": [44, "Widget"]},
        {"_model": "product.product", "_id": 45, "id": 45},
        {"_model": "stock.quant", "product_id": False},
        "junk",
    ]
    assert hint_product_ids(bodies) == [43, 44, 45]


@pytest.fixture
def hint_token(settings: Any) -> str:
    settings.HUB_ODOO_WEBHOOK_TOKEN = "t0k3n-" + "x" * 40
    return str(settings.HUB_ODOO_WEBHOOK_TOKEN)


def test_odoo_hint_with_wrong_quantity_does_not_leak(
    shop: Any,
    shopify_standin: Any,
    hint_token: str,
    client: Any,
    sandbox_settings: Any,
) -> None:
    channel, pids, wh = shop
    body = {"_model": "stock.quant", "id": 1, "product_id": pids["WIDGET-RED"], "quantity": 99999.0}
    # when Odoo posts a hint with an absurd quantity
    resp = client.post(f"/webhooks/odoo/{hint_token}/", body, content_type="application/json")
    # then the SKU is dirty, and what gets published is ATP from Odoo's free_qty
    assert resp.status_code == 202 and resp.json()["marked"] == 1
    assert SkuStock.objects.get(channel=channel, sku="RED").dirty
    publish_channel(channel)
    level = shopify_standin.levels()["RED"]
    assert level == expected_atp(
        sandbox_settings, pids["WIDGET-RED"], wh["id"], 5, Decimal("0.5"), 0
    )
    assert level != 99999 and level < 1000


def test_odoo_hint_receiver_refuses_bad_tokens_and_bodies(
    hint_token: str, client: Any, settings: Any, db: None
) -> None:
    body = {"_model": "stock.quant", "product_id": 1}
    assert (
        client.post("/webhooks/odoo/wrong/", body, content_type="application/json").status_code
        == 404
    )
    bad = client.post(f"/webhooks/odoo/{hint_token}/", "{nope", content_type="application/json")
    assert bad.status_code == 400
    settings.HUB_MAX_BODY_BYTES = 64
    big = client.post(
        f"/webhooks/odoo/{hint_token}/", {"x": "y" * 200}, content_type="application/json"
    )
    assert big.status_code == 413
    settings.HUB_ODOO_WEBHOOK_TOKEN = ""
    assert client.post("/webhooks/odoo//", body, content_type="application/json").status_code == 404
    assert (
        client.post("/webhooks/odoo/x/", body, content_type="application/json").status_code == 404
    )


def test_odoo_down_keeps_skus_dirty_then_publishes(
    shop: Any,
    shopify_standin: Any,
    sandbox_settings: Any,
) -> None:
    channel, _, _ = shop
    mark_dirty(None, ["RED", "TEE"], "test")
    sandbox_settings.set_faults(down=True)
    # when Odoo is down, the publication raises a transient error and sends nothing
    with pytest.raises(TransientError):
        publish_channel(channel)
    assert SkuStock.objects.filter(channel=channel, dirty=True).count() == 2
    assert shopify_standin.stats()["items_written"] == 0
    # when Odoo is back, the same SKUs are published
    sandbox_settings.set_faults(down=False)
    summary = publish_channel(channel)
    assert summary.published == 2
    assert not SkuStock.objects.filter(channel=channel, dirty=True).exists()


def test_burst_of_changes_is_coalesced(
    sandbox_settings: Any,
    woo_standin: Any,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """10,000 change signals over 1,000 SKUs: 1,000 dirty rows, one ring, ceil(1000/100) calls."""
    sb = sandbox_settings
    channel = standin_channel(woo_standin, "woo")
    pids = list(
        odoo_products(sb, ("WIDGET-RED", "SKU-001", "SKU-002", "SKU-004", "SKU-005")).values()
    )
    catalog = {f"B-{i:04d}": pids[i % len(pids)] for i in range(1000)}
    bind_catalog(channel, woo_standin, catalog, stock=0)
    rings: list[int] = []
    monkeypatch.setattr(services, "_send", lambda cid, countdown: rings.append(cid))
    skus = list(catalog)
    # when 10,000 changes arrive in 10 bursts (each SKU changed 10 times)
    for _ in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            mark_dirty(None, skus, "test")
    # then 1,000 rows are dirty and the doorbell rang once
    assert SkuStock.objects.filter(channel=channel, dirty=True).count() == 1000
    assert rings == [channel.pk]
    # and one publication sends them in ceil(1000 / 100) batch calls
    summary = publish_channel(channel)
    assert summary.published == 1000
    batches = woo_standin.stats()["calls"].get("POST products/batch", 0)
    assert batches == math.ceil(1000 / 100)
    assert woo_standin.stats()["throttled"] == 0


def test_install_stock_webhook_is_idempotent(sandbox_settings: Any, db: None) -> None:
    sb = sandbox_settings
    url = "http://127.0.0.1:9/webhooks/odoo/abc/"
    call_command("odoo", "install-stock-webhook", "--url", url)
    call_command("odoo", "install-stock-webhook", "--url", url + "?v=2")
    rules = sb.execute(
        "base.automation", "search_read", [], fields=["name", "trigger", "action_server_ids"]
    )
    assert len(rules) == 1 and rules[0]["trigger"] == "on_create_or_write"
    action = sb.execute(
        "ir.actions.server", "read", rules[0]["action_server_ids"], ["state", "webhook_url"]
    )
    assert action[0]["state"] == "webhook" and action[0]["webhook_url"] == url + "?v=2"


class _Event:
    def __init__(self, channel_code: str, topic: str, body: dict[str, Any]) -> None:
        import json

        self.channel_code, self.topic, self.body = channel_code, topic, json.dumps(body).encode()


def test_channel_inventory_webhook_echo_changes_nothing(shop: Any, db: None) -> None:
    from apps.inventory.handlers import inventory_event_handle
    from apps.ledger.registry import handler_for

    channel, pids, _ = shop
    # given RED published at 12 on the channel
    SkuStock.objects.create(
        channel=channel,
        sku="RED",
        odoo_product_id=pids["WIDGET-RED"],
        external_id="1",
        published_qty=12,
    )
    assert handler_for("inventory_levels/update") is inventory_event_handle
    assert handler_for("product.updated") is inventory_event_handle
    # when the channel reports 12 (our own write coming back): nothing changes
    echo = _Event("shop", "inventory_levels/update", {"sku": "RED", "available": 12})
    assert inventory_event_handle(echo) == 0
    assert not SkuStock.objects.get(sku="RED").dirty
    # when it reports another value (someone edited stock on the channel): RED is dirty
    edit = _Event("shop", "inventory_levels/update", {"sku": "RED", "available": 30})
    assert inventory_event_handle(edit) == 1
    assert SkuStock.objects.get(sku="RED").dirty
    # an unmappable delivery is ignored
    assert inventory_event_handle(_Event("shop", "inventory_levels/update", {"available": 1})) == 0


def test_shopify_echo_by_inventory_item_id_only(shop: Any, db: None) -> None:
    from apps.inventory.handlers import inventory_event_handle
    from apps.inventory.publishers import publisher_for

    channel, _, _ = shop
    # given stock published to the stand-in (the publisher resolved each variant's item)
    publish_channel(channel, force=True)
    red = SkuStock.objects.get(channel=channel, sku="RED")
    gid = publisher_for(channel).cached("item", [red.external_id])[red.external_id]
    item_id = int(str(gid).rsplit("/", 1)[1])
    # when Shopify reports the level as it really does: item id and quantity, no SKU
    echo = {"inventory_item_id": item_id, "location_id": 1, "available": red.published_qty}
    assert inventory_event_handle(_Event("shop", "inventory_levels/update", echo)) == 0
    assert not SkuStock.objects.get(pk=red.pk).dirty
    # and a different value for the same item marks it dirty
    edit = dict(echo, available=(red.published_qty or 0) + 7)
    assert inventory_event_handle(_Event("shop", "inventory_levels/update", edit)) == 1
    assert SkuStock.objects.get(pk=red.pk).dirty


def test_metrics_show_freshness_and_publish_latency(shop: Any, client: Any) -> None:
    channel, _, _ = shop
    mark_dirty(None, ["RED"], "test")
    text = client.get("/metrics").content.decode()
    assert 'hub_inventory_oldest_dirty_seconds{channel="shop"}' in text
    publish_channel(channel)
    text = client.get("/metrics").content.decode()
    assert 'hub_inventory_oldest_dirty_seconds{channel="shop"}' not in text
    assert 'hub_inventory_publish_latency_seconds_count{channel="shop"}' in text


def test_publish_task_one_at_a_time_and_channel_refusal_goes_to_inbox(shop: Any) -> None:
    from django.core.cache import cache

    from apps.core.errors import LockContention
    from apps.inbox.models import Issue
    from apps.inventory.services import publish_task_run

    channel, _, _ = shop
    mark_dirty(None, ["RED"], "test")
    # a publication of the channel is running: the task comes back later, nothing is lost
    cache.add(f"inventory:publish:lock:{channel.pk}", "someone", timeout=30)
    with pytest.raises(LockContention):
        publish_task_run(channel_id=channel.pk)
    cache.delete(f"inventory:publish:lock:{channel.pk}")
    # the channel refuses our credentials: an inbox issue for the channel, SKUs stay dirty
    channel.access_token = "shpat_wrong"
    channel.save()
    assert publish_task_run(channel_id=channel.pk)["published"] == 0
    issue = Issue.objects.get(key=f"inventory:publish:{channel.code}")
    assert issue.channel_code == "shop"
    assert SkuStock.objects.get(channel=channel, sku="RED").dirty


def test_order_transition_marks_dirty_and_sweep_rings_dirty_channels_once(
    shop: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from apps.inventory.services import publish_sweep
    from apps.orders.services import order_transition

    channel, _, _ = shop
    with django_capture_on_commit_callbacks(execute=True):
        order = pending_order(channel, "C-1", {"TEE": 2}, OrderState.RECEIVED)
    SkuStock.objects.update(dirty=False, dirty_since=None)
    # when the order moves (here: accepted, ready to push), its SKU is dirty again
    with django_capture_on_commit_callbacks(execute=True):
        assert order_transition(order=order, to=OrderState.READY, actor="test")
    assert SkuStock.objects.get(channel=channel, sku="TEE").dirty
    # the sweep rings the channel once, not again while that ring is pending
    rings: list[int] = []
    monkeypatch.setattr(services, "_send", lambda cid, countdown: rings.append(cid))
    from django.core.cache import cache

    cache.clear()
    assert publish_sweep() == 1 and publish_sweep() == 0
    assert rings == [channel.pk]
    # that ring's message is lost (a restart, a hub moved to another Odoo): once its publish is
    # overdue by the grace period, the sweep rings again instead of waiting for the key to expire
    import time as _time

    real = _time.time
    monkeypatch.setattr(services.time, "time", lambda: real() + 31)
    assert publish_sweep() == 1 and publish_sweep() == 0
    assert rings == [channel.pk, channel.pk]


def test_a_shipment_or_a_history_note_does_not_mark_the_order_skus_dirty(
    shop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Shipping moves an order among in_odoo / partially_shipped / shipped: Odoo's on-hand and
    reserved drop together, and the order was no longer pending, so nothing to re-publish."""
    from apps.orders.services import order_note, order_transition

    channel, _, _ = shop
    with django_capture_on_commit_callbacks(execute=True):
        order = pending_order(channel, "C-2", {"TEE": 2}, OrderState.IN_ODOO)
    SkuStock.objects.update(dirty=False, dirty_since=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_transition(order=order, to=OrderState.PARTIALLY_SHIPPED, actor="test")
        order_note(order=order, actor="test", reason="shipment WH/OUT/00042")
        assert order_transition(order=order, to=OrderState.SHIPPED, actor="test")
    assert not SkuStock.objects.get(channel=channel, sku="TEE").dirty
