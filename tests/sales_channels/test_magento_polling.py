"""Magento polling (the primary intake of Magento Open Source) against the stand-in:
`searchCriteria` on `updated_at` >= watermark - overlap, oldest first, paged; the same ledger and
dedupe as the other channels; an I/O event received after a change covers it."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest

from apps.ledger.models import InboundEvent
from apps.ledger.services import inbound_event_record
from apps.sales_channels.models import Channel, ChannelSyncState
from apps.sales_channels.polling import MAGENTO_POLL_TOPIC, POLL_HEADER
from apps.webhooks.backstop import channel_orders_poll
from tests.fixtures.channel_standins import ChannelStandin

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(make_channel: Any, magento_standin: ChannelStandin) -> Channel:
    made: Channel = make_channel(
        "mg-poll",
        "magento",
        api_base_url=magento_standin.url,
        access_token=magento_standin.access_token,
    )
    return made


def seed(mg: ChannelStandin, n: int, start: float, step: float = 1.0) -> None:
    for i in range(n):
        mg.seed_order(
            lines=[{"sku": "SKU-001", "qty": 1, "price": "9.99"}], updated_at_ts=start + i * step
        )


def test_poll_records_every_order_once_over_pages(
    channel: Channel, magento_standin: ChannelStandin
) -> None:
    start = time.time() - 3600
    seed(magento_standin, 230, start)
    first = channel_orders_poll(channel_code=channel.code)
    # each next page starts again at the previous page's newest second (seek, not page number):
    # the two boundary orders come twice, and are ledger duplicates
    assert (first.recorded, first.duplicates, first.pages) == (230, 2, 3)
    events = InboundEvent.objects.filter(channel_code=channel.code)
    assert events.count() == 230
    event = events.get(external_ref="17")
    assert event.topic == MAGENTO_POLL_TOPIC and event.entity_key == "order:17"
    assert event.headers[POLL_HEADER] == "poll"
    body = json.loads(bytes(event.body))
    assert body["data"]["value"]["entity_id"] == 17
    assert body["data"]["value"]["grand_total"] == "9.99"  # Decimal kept as its digits
    newest = dt.datetime.fromtimestamp(int(start + 229), dt.UTC)
    state = ChannelSyncState.objects.get(channel=channel)
    assert state.orders_watermark == newest
    # the next poll re-reads the overlap: every order is a duplicate, nothing new is recorded
    second = channel_orders_poll(channel_code=channel.code)
    assert second.recorded == 0 and second.duplicates > 0
    assert InboundEvent.objects.filter(channel_code=channel.code).count() == 230
    # the filter the stand-in saw: updated_at gteq, sorted oldest first then by id
    calls = magento_standin.stats()["calls"]
    assert calls["orders_search"] >= 4


def test_a_full_page_within_one_second_is_stepped_through(
    channel: Channel, magento_standin: ChannelStandin
) -> None:
    # 150 orders all saved in the same second: seeking past the second is impossible, the
    # poll steps through it by page number, and never asks for a page past the end (Magento
    # would answer the last page again)
    seed(magento_standin, 150, time.time() - 600, step=0)
    result = channel_orders_poll(channel_code=channel.code)
    assert result.recorded == 150
    assert set(
        InboundEvent.objects.filter(channel_code=channel.code).values_list(
            "external_ref", flat=True
        )
    ) == {str(n) for n in range(1, 151)}


def test_an_order_changed_after_the_watermark_is_recorded_again(
    channel: Channel, magento_standin: ChannelStandin
) -> None:
    seed(magento_standin, 3, time.time() - 900)
    channel_orders_poll(channel_code=channel.code)
    # order 2 saved again after that poll (a status change): a new version, a new event
    magento_standin.seed_order(
        entity_id=2,
        lines=[{"sku": "SKU-001", "qty": 1}],
        updated_at_ts=time.time() + 2,
        io_event=False,
    )
    result = channel_orders_poll(channel_code=channel.code)
    assert result.recorded == 1
    assert InboundEvent.objects.filter(channel_code=channel.code, external_ref="2").count() == 2


def test_an_io_event_received_after_the_change_covers_it(
    channel: Channel, magento_standin: ChannelStandin
) -> None:
    seed(magento_standin, 2, time.time() - 300)
    # an I/O event of order 1 arrived after its last change: its handler re-reads the order,
    # so the poll has nothing to add for it
    inbound_event_record(
        channel_code=channel.code,
        topic="com.adobe.commerce.observer.sales_order_save_commit_after",
        dedupe_key="evt-from-adobe",
        body=b'{"data": {"value": {"entity_id": "1"}}}',
        headers={},
        entity_key="order:1",
        external_ref="1",
    )
    result = channel_orders_poll(channel_code=channel.code)
    assert (result.recorded, result.duplicates) == (1, 1)
    assert not InboundEvent.objects.filter(
        channel_code=channel.code, dedupe_key__startswith="poll:order:1:"
    ).exists()


def test_a_paused_or_poll_disabled_channel_is_skipped(channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(orders_poll_enabled=False)
    assert channel_orders_poll(channel_code=channel.code).skipped
