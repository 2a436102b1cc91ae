"""Polling backstop over HTTP against the channel stand-ins: orders the webhooks never brought
are recorded like deliveries; what the webhooks brought, and every overlap re-read, is a
duplicate; pages; a crash mid-run keeps the watermark at the last durable page."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from apps.core.errors import RateLimited
from apps.ledger.models import InboundEvent
from apps.ledger.services import inbound_event_record
from apps.orders.models import ChannelOrder
from apps.sales_channels import clients
from apps.sales_channels.models import Channel, ChannelSyncState
from apps.sales_channels.polling import channels_due_for_poll
from apps.webhooks.backstop import channel_orders_poll
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.channels import (
    SHOPIFY_SECRET,
    WOO_SECRET,
    channel_data,
    shopify_headers,
    sign_base64,
)
from tests.fixtures.worker import wait_for

from .standins import standin_channel

pytestmark = pytest.mark.django_db


def _payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(channel_data(name))
    data.update(changes)
    return data


@pytest.fixture
def shop(make_channel: Callable[..., Any], shopify_standin: ChannelStandin) -> Channel:
    return standin_channel(make_channel, shopify_standin, "poll-shop", secret=SHOPIFY_SECRET)


@pytest.fixture
def woo(make_channel: Callable[..., Any], woo_standin: ChannelStandin) -> Channel:
    return standin_channel(make_channel, woo_standin, "poll-woo", secret=WOO_SECRET)


def _deliver_shopify(channel: Channel, order: dict[str, Any], webhook_id: str) -> int:
    body = json.dumps(order).encode()
    resp = Client().generic(
        "POST",
        f"/webhooks/shopify/{channel.code}/",
        body,
        content_type="application/json",
        **shopify_headers(
            body,
            webhook_id=webhook_id,
            topic="orders/updated",
            shop=urlsplit(channel.api_base_url).netloc,
        ),
    )
    return resp.status_code


def _deliver_woo(channel: Channel, order: dict[str, Any]) -> int:
    body = json.dumps(order).encode()
    resp = Client().generic(
        "POST",
        f"/webhooks/woocommerce/{channel.code}/",
        body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_SIGNATURE=sign_base64(WOO_SECRET, body),
        HTTP_X_WC_WEBHOOK_TOPIC="order.updated",
        HTTP_X_WC_WEBHOOK_RESOURCE="order",
        HTTP_X_WC_WEBHOOK_EVENT="updated",
    )
    return resp.status_code


def _watermark(channel: Channel) -> dt.datetime | None:
    return ChannelSyncState.objects.get(channel=channel).orders_watermark


def test_shopify_webhook_then_poll_is_one_event_and_overlap_is_free(
    shop: Channel, shopify_standin: ChannelStandin
) -> None:
    # given an order the webhook delivered, exactly as the store lists it
    base = int(time.time()) - 1800
    payload = _payload("shopify_order.json", id=5001, updated_at_ts=base)
    shopify_standin.seed_order(**payload)
    [listed] = shopify_standin.api("GET", "orders.json?status=any").body["orders"]
    assert _deliver_shopify(shop, listed, "wh-5001") == 202
    # when the poll reads it
    first = channel_orders_poll(channel_code=shop.code)
    # then it is a duplicate: one event, and the watermark is the order's updated_at
    assert (first.recorded, first.duplicates) == (0, 1)
    assert InboundEvent.objects.filter(channel_code=shop.code).count() == 1
    assert _watermark(shop) == dt.datetime.fromtimestamp(base, dt.UTC)
    # when the order changes and the webhook is lost, the poll records the new version
    shopify_standin.seed_order(**{**payload, "updated_at_ts": base + 60})
    second = channel_orders_poll(channel_code=shop.code)
    assert (second.recorded, second.duplicates) == (1, 0)
    event = InboundEvent.objects.filter(channel_code=shop.code).first()
    assert event is not None
    assert (event.topic, event.entity_key, event.external_ref) == (
        "orders/updated",
        "order:5001",
        "5001",
    )
    assert json.loads(bytes(event.body))["total_price"] == payload["total_price"]
    # and the overlap's re-read costs nothing
    third = channel_orders_poll(channel_code=shop.code)
    assert (third.recorded, third.duplicates) == (0, 1)
    assert InboundEvent.objects.filter(channel_code=shop.code).count() == 2


def test_woocommerce_poll_and_webhook_share_the_dedupe_key(
    woo: Channel, woo_standin: ChannelStandin
) -> None:
    base = int(time.time()) - 1800
    delivered = woo_standin.seed_order(
        **_payload("woocommerce_order.json", id=727, updated_at_ts=base)
    )
    missed = woo_standin.seed_order(
        **_payload("woocommerce_order.json", id=728, updated_at_ts=base + 5)
    )
    # given order 727 came by webhook
    assert _deliver_woo(woo, woo_standin.api("GET", f"orders/{delivered['id']}").body) == 202
    # when polling
    result = channel_orders_poll(channel_code=woo.code)
    # then 727 is a duplicate and 728, which no webhook brought, is recorded
    assert (result.recorded, result.duplicates) == (1, 1)
    # and a late webhook of 728 finds the polled event
    assert _deliver_woo(woo, woo_standin.api("GET", f"orders/{missed['id']}").body) == 200
    assert sorted(
        InboundEvent.objects.filter(channel_code=woo.code).values_list("external_ref", flat=True)
    ) == ["727", "728"]


def test_paging_and_watermark_survive_a_failure_mid_run(
    shop: Channel, shopify_standin: ChannelStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clients, "SHOPIFY_PAGE_SIZE", 2)
    base = int(time.time()) - 3000
    for i in range(5):
        shopify_standin.seed_order(
            **_payload("shopify_order.json", id=6000 + i, updated_at_ts=base + i * 10)
        )
    # given the store refuses the second page (REST bucket of one call)
    shopify_standin.set_config(rest_bucket_size=1, rest_leak_rate=0.001)
    # when polling
    with pytest.raises(RateLimited):
        channel_orders_poll(channel_code=shop.code)
    # then the first page is recorded and the watermark is its newest order, no further
    assert InboundEvent.objects.filter(channel_code=shop.code).count() == 2
    assert _watermark(shop) == dt.datetime.fromtimestamp(base + 10, dt.UTC)
    # when the store is back, the next poll starts at the watermark minus the overlap
    shopify_standin.set_config(rest_bucket_size=40, rest_leak_rate=2)
    result = channel_orders_poll(channel_code=shop.code)
    assert (result.pages, result.recorded, result.duplicates) == (3, 3, 2)
    assert _watermark(shop) == dt.datetime.fromtimestamp(base + 40, dt.UTC)
    assert InboundEvent.objects.filter(channel_code=shop.code).count() == 5


def test_bigcommerce_poll_records_thin_events_unless_a_later_delivery_covered_them(
    make_channel: Callable[..., Any], bigcommerce_standin: ChannelStandin
) -> None:
    channel = standin_channel(make_channel, bigcommerce_standin, "poll-bc")
    base = int(time.time()) - 1800
    first = bigcommerce_standin.seed_order(updated_at_ts=base)["id"]
    second = bigcommerce_standin.seed_order(updated_at_ts=base + 5)["id"]
    # given a delivery for the first order arrived after its last change
    inbound_event_record(
        channel_code=channel.code,
        topic="store/order/updated",
        dedupe_key="webhook-id-1",
        body=json.dumps(
            {"scope": "store/order/updated", "data": {"type": "order", "id": first}}
        ).encode(),
        headers={},
        entity_key=f"order:{first}",
        external_ref=str(first),
    )
    result = channel_orders_poll(channel_code=channel.code)
    assert (result.recorded, result.duplicates) == (1, 1)
    polled = InboundEvent.objects.get(channel_code=channel.code, external_ref=str(second))
    body = json.loads(bytes(polled.body))
    assert polled.topic == "store/order/updated" and polled.entity_key == f"order:{second}"
    assert body["data"] == {"type": "order", "id": second}
    assert body["producer"] == f"stores/{bigcommerce_standin.store_hash}"


def test_paused_channel_is_not_polled_and_cadence_is_per_channel(
    make_channel: Callable[..., Any], shopify_standin: ChannelStandin
) -> None:
    standin_channel(make_channel, shopify_standin, "p-active")
    standin_channel(make_channel, shopify_standin, "p-shadow", state="shadow")
    standin_channel(make_channel, shopify_standin, "p-paused", state="paused")
    standin_channel(make_channel, shopify_standin, "p-off", orders_poll_enabled=False)
    make_channel("p-b2b", "b2b_api")
    shopify_standin.seed_order(financial_status="paid")
    assert set(channels_due_for_poll()) == {"p-active", "p-shadow"}
    # a paused channel is not polled even when asked directly: the store is not called
    assert channel_orders_poll(channel_code="p-paused").skipped
    assert "REST GET orders.json" not in shopify_standin.stats().get("calls", {})
    # once polled, a channel is due again only after its interval
    assert not channel_orders_poll(channel_code="p-active").skipped
    assert set(channels_due_for_poll()) == {"p-shadow"}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=301)
    assert set(channels_due_for_poll(now=later)) == {"p-active", "p-shadow"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_worker_turns_an_order_no_webhook_brought_into_a_channel_order(
    celery_worker_factory: Any, make_channel: Callable[..., Any], shopify_standin: ChannelStandin
) -> None:
    # given a shadow channel (recorded, never pushed: no Odoo needed) and an order on the store
    channel = standin_channel(
        make_channel, shopify_standin, "poll-worker", state="shadow", secret=SHOPIFY_SECRET
    )
    shopify_standin.seed_order(**_payload("shopify_order.json", id=7001))
    celery_worker_factory(queues="channel_io,intake,maintenance", concurrency=2)
    # when the fan-out's per-channel task runs in the worker
    from apps.webhooks.tasks import orders_poll

    orders_poll.delay(channel.code)
    # then the ledger's order handler made the order
    wait_for(
        lambda: ChannelOrder.objects.filter(channel=channel, external_id="7001").exists(),
        timeout=30,
    )
    # and the same order arriving by webhook afterwards stays one order
    [listed] = shopify_standin.api("GET", "orders.json?status=any").body["orders"]
    assert _deliver_shopify(channel, listed, "wh-7001") == 202
    wait_for(
        lambda: not InboundEvent.objects.filter(
            channel_code=channel.code, state="pending"
        ).exists(),
        timeout=30,
    )
    assert ChannelOrder.objects.filter(channel=channel, external_id="7001").count() == 1


def test_beat_fan_outs_ring_one_task_per_channel(
    make_channel: Callable[..., Any],
    shopify_standin: ChannelStandin,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
) -> None:
    from django.core.cache import cache

    from apps.webhooks import tasks

    standin_channel(make_channel, shopify_standin, "f-active")
    standin_channel(make_channel, shopify_standin, "f-paused", state="paused")
    make_channel("f-b2b", "b2b_api")
    polls: list[str] = []
    checks: list[tuple[str, bool]] = []
    monkeypatch.setattr(tasks.orders_poll, "delay", polls.append)
    monkeypatch.setattr(
        tasks.webhooks_check, "delay", lambda code, repair: checks.append((code, repair))
    )
    settings.HUB_WEBHOOKS_AUTO_REPAIR = False
    settings.HUB_PUBLIC_URL = "https://hub.example.test"
    for name in ("channels.orders_poll_fanout", "channels.webhooks_check_all"):
        cache.delete(f"periodic:period:{name}")
    assert tasks.orders_poll_fanout.run() == "ran"
    assert tasks.webhooks_check_all.run() == "ran"
    assert polls == ["f-active"]
    assert checks == [("f-active", False)]


@pytest.mark.parametrize("kind", ["woocommerce", "bigcommerce"])
def test_an_order_updated_mid_run_does_not_make_another_slip_past_a_page(
    kind: str,
    make_channel: Callable[..., Any],
    woo_standin: ChannelStandin,
    bigcommerce_standin: ChannelStandin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    standin = woo_standin if kind == "woocommerce" else bigcommerce_standin
    list_orders = {
        "woocommerce": clients.woocommerce_orders_updated,
        "bigcommerce": clients.bigcommerce_orders_updated,
    }[kind]
    monkeypatch.setattr(clients, "WOO_PAGE_SIZE", 2)
    monkeypatch.setattr(clients, "BIGCOMMERCE_PAGE_SIZE", 2)
    channel = standin_channel(make_channel, standin, f"seek-{kind}")
    base = int(time.time()) - 3000
    ids = [standin.seed_order(updated_at_ts=base + i * 10)["id"] for i in range(5)]
    since = dt.datetime.fromtimestamp(base - 60, dt.UTC)
    # given the first page was read
    pages = list_orders(channel=channel, since=since)
    seen = [o["id"] for o in next(pages)]
    assert seen == ids[:2]
    # when the first order changes (it moves to the end of the list) before the next page
    standin.seed_order(id=ids[0], updated_at_ts=base + 100)
    seen += [o["id"] for page in pages for o in page]
    # then no order was skipped, and the changed one came again at the end
    assert set(seen) == set(ids) and seen[-1] == ids[0]
