"""Pacing the push into one Odoo (apps/orders/pacing.py): push slots, linger, the batch clock.

Against the sandbox over HTTP, in-process. Pushes from other processes are stood in for by
holding the push slot the way they would (the same cache keys), so nothing depends on timing.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.odoo.client import get_client
from apps.odoo.protection import ConcurrencyCap, SlotLease, connection_id
from apps.orders import pacing, push
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.translators import order_from_shopify
from tests.fixtures.worker import wait_for

from .conftest import shopify_payload
from .helpers import sale_orders

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(sandbox_settings: Any, make_channel: Any, bind_all: Any, settings: SettingsWrapper) -> Any:
    settings.HUB_ODOO_MAX_CONCURRENT_PUSHES = 1
    settings.HUB_ORDER_PUSH_LINGER_SECONDS = 0.3
    settings.HUB_ORDER_PUSH_LINGER_BATCH = 10
    channel = make_channel()
    bind_all(channel)
    return channel


def ingest(order_id: int) -> ChannelOrder:
    return order_ingest(order=order_from_shopify(shopify_payload(order_id), channel="shop"))


def push_slots() -> ConcurrencyCap:
    """The push slots of the configured Odoo, as another worker process sees them."""
    cfg = get_client().config
    key, _ = connection_id(cfg.url, cfg.db)
    return ConcurrencyCap(key=f"{key}:push", slots=1, lease_seconds=60, wait_seconds=0)


def creates(sandbox: Any) -> int:
    return int(sandbox.stats()["calls"].get("sale.order.create", 0))


def test_a_push_waits_while_another_holds_the_odoo_then_takes_everything_due(
    shop: Any, sandbox_settings: Any, settings: SettingsWrapper
) -> None:
    sb = sandbox_settings
    settings.HUB_ORDER_PUSH_SLOT_WAIT_SECONDS = 0.2
    rows = [ingest(1001 + i) for i in range(3)]
    sb.reset_stats()
    # given another process's push holding the only push slot of this Odoo
    other = push_slots().acquire()
    assert other is not None
    # when a push starts, it waits, claims nothing and leaves the orders ready
    assert order_push_due() == 0
    assert {r.state for r in ChannelOrder.objects.filter(pk__in=[r.pk for r in rows])} == {
        OrderState.READY
    }
    assert creates(sb) == 0
    # and once the other push let go, the next one takes all of them in ONE batch
    other.release()
    assert order_push_due() == 3
    assert creates(sb) == 1
    for n in range(3):
        assert len(sale_orders(sb, f"shop:{1001 + n}")) == 1
    assert push_slots().holders() == 0


def test_the_slot_covers_the_odoo_calls_and_not_the_bookkeeping(
    shop: Any, sandbox_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(1001)
    held_during: dict[str, int] = {}
    held_at_bind: list[int] = []
    real_call, real_bind = push._RpcCounter.call, push._bind

    def call(self: Any, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        held_during[f"{model}.{method}"] = push_slots().holders()
        return real_call(self, model, method, *args, **kwargs)

    def bind(**kwargs: Any) -> None:
        held_at_bind.append(push_slots().holders())
        real_bind(**kwargs)

    monkeypatch.setattr(push._RpcCounter, "call", call)
    monkeypatch.setattr(push, "_bind", bind)
    assert order_push_due() == 1
    # every Odoo call of the batch ran inside the slot...
    assert set(held_during) >= {
        "sale.order.search_read",
        "sale.order.create",
        "sale.order.action_confirm",
        "sale.order.read",
    }
    assert set(held_during.values()) == {1}
    # ...and the bind ran after the next push could already start
    assert held_at_bind == [0]
    assert ChannelOrder.objects.get(external_id="1001").state == OrderState.IN_ODOO


def test_the_slot_is_given_back_when_odoo_fails(shop: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    row = ingest(1001)
    sb.set_faults(drop_after_commit=1)  # the create commits and its answer is lost
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.READY and row.next_attempt_at is not None
    assert push_slots().holders() == 0
    # and the retry finds the committed order instead of creating a second one
    ChannelOrder.objects.update(next_attempt_at=None)
    assert order_push_due() == 1
    assert len(sale_orders(sb, "shop:1001")) == 1
    assert push_slots().holders() == 0


def test_no_limit_takes_no_slot(
    shop: Any, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HUB_ODOO_MAX_CONCURRENT_PUSHES = 0
    other = push_slots().acquire()  # would block a limited push
    assert other is not None
    ingest(1001)
    assert order_push_due() == 1
    other.release()


def test_a_burst_still_arriving_lingers_into_one_batch(
    shop: Any, sandbox_settings: Any, monkeypatch: pytest.MonkeyPatch, settings: SettingsWrapper
) -> None:
    sb = sandbox_settings
    settings.HUB_ORDER_PUSH_LINGER_SECONDS = 60  # the arrivals end it here, not the clock
    ingest(1001)
    sb.reset_stats()
    arriving = iter(range(1002, 1006))  # four more orders, one per look
    looks: list[float] = []

    def arrive(seconds: float) -> None:
        looks.append(seconds)
        n = next(arriving, None)
        if n is not None:
            ingest(n)

    monkeypatch.setattr(pacing, "_pause", arrive)
    # when the push starts on an idle Odoo while orders keep arriving
    assert order_push_due() == 5
    # then it waited while they came (four looks with an arrival, two without) and sent ONE batch
    assert len(looks) == 6
    assert creates(sb) == 1
    assert ChannelOrder.objects.filter(state=OrderState.IN_ODOO).count() == 5


def test_a_lone_order_waits_two_looks_and_a_full_enough_batch_none(
    shop: Any, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks: list[float] = []
    monkeypatch.setattr(pacing, "_pause", looks.append)
    ingest(1001)
    assert order_push_due() == 1
    assert looks == [pacing.LINGER_LOOK_SECONDS] * pacing.LINGER_QUIET_LOOKS
    # enough orders due already: no linger at all
    settings.HUB_ORDER_PUSH_LINGER_BATCH = 2
    looks.clear()
    ingest(1002)
    ingest(1003)
    assert order_push_due() == 2
    assert looks == []


def test_linger_stops_at_its_time_limit(
    shop: Any, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    arrivals = iter(range(1002, 1100))
    looks: list[float] = []

    def arrive(seconds: float) -> None:
        looks.append(seconds)
        ingest(next(arrivals))

    monkeypatch.setattr(pacing, "_pause", arrive)
    # orders keep coming forever; the linger limit (not the batch size) ends the wait
    settings.HUB_ORDER_PUSH_LINGER_BATCH = 1000
    settings.HUB_ORDER_PUSH_LINGER_SECONDS = 0.5
    ingest(1001)
    pushed = order_push_due(limit=1000)
    assert pushed == len(looks) + 1 and 1 < pushed < 1000
    # and 0 turns it off
    settings.HUB_ORDER_PUSH_LINGER_SECONDS = 0
    looks.clear()
    ingest(2001)
    assert order_push_due() == 1 and looks == []


def test_each_batch_logs_where_its_time_went(shop: Any, caplog: pytest.LogCaptureFixture) -> None:
    ingest(1001)
    ingest(1002)
    with caplog.at_level(logging.INFO, logger="apps.orders.push"):
        assert order_push_due() == 2
    lines = [r.getMessage() for r in caplog.records if " done: " in r.getMessage()]
    assert len(lines) == 1
    fields = dict(kv.split("=", 1) for kv in lines[0].split(" done: ")[1].split())
    assert fields["orders"] == "2"
    for rpc in ("sale.order.search_read", "sale.order.create", "sale.order.action_confirm"):
        calls, seconds = fields[f"rpc:{rpc}"].split("/")
        assert calls == "1" and float(seconds) > 0
    hub_steps = [k for k in fields if k not in ("orders", "t0", "wall") and ":" not in k]
    parts = sum(float(fields[k]) for k in hub_steps)
    rpcs = sum(float(v.split("/")[1]) for k, v in fields.items() if k.startswith("rpc:"))
    # the parts add up to (at most) the wall time
    assert parts + rpcs <= float(fields["wall"]) + 0.01


def test_the_batch_size_follows_odoos_measured_cost_per_order(
    shop: Any, sandbox_settings: Any, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = sandbox_settings
    settings.HUB_ORDER_PUSH_LINGER_SECONDS = 0
    for n in range(12):
        ingest(1001 + n)
    # given an Odoo whose confirm costs 5 ms per record touched, and a budget per call that
    # twelve orders' confirm overruns
    sb.set_faults(per_record_ms=5)
    settings.HUB_ORDER_PUSH_BATCH_SECONDS = 0.05
    client = get_client()
    assert pacing.batch_limit(client) == 100  # nothing measured yet
    known_at_release: list[Any] = []
    real_release = SlotLease.release

    def release(self: SlotLease) -> None:
        if ":push:" in self.key:  # the push slot (the client's call slots use the same class)
            known_at_release.append(pacing.cache.get(pacing._cost_key(client)))
        real_release(self)

    monkeypatch.setattr(SlotLease, "release", release)
    assert order_push_due() == 12
    per_order = pacing.cache.get(pacing._cost_key(client))
    assert per_order > 0.05 / 12  # the batch's confirm took longer than the budget
    # known before the slot went to the next push, which sizes its batch on it
    assert known_at_release == [per_order]
    # when more orders wait, the next push takes only what fits the budget
    for n in range(30):
        ingest(2001 + n)
    expected = max(pacing.MIN_BATCH, int(0.05 / per_order))
    assert expected < 30
    assert pacing.batch_limit(client) == expected
    assert order_push_due() == expected
    # and without a budget (0), the configured size again
    settings.HUB_ORDER_PUSH_BATCH_SECONDS = 0
    sb.set_faults(per_record_ms=0)
    assert order_push_due() == 30 - expected


def test_a_call_that_timed_out_is_retried_only_after_odoo_had_time_to_finish_it(
    shop: Any, sandbox_settings: Any, settings: SettingsWrapper
) -> None:
    sb = sandbox_settings
    ingest(1001)
    assert order_push_due() == 1  # the customer exists in Odoo now
    settings.HUB_ORDER_RETRY_BASE_SECONDS = 0.01
    settings.ODOO_TIMEOUT_READ = 0.5
    row = ingest(1002)
    # given an Odoo that commits the create but answers after the hub stopped waiting
    sb.set_faults(per_record_ms=200)
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.READY and "timeout" in row.last_error
    # then the retry waits the read timeout, not the (tiny) backoff
    assert row.next_attempt_at is not None and row.updated_at is not None
    assert (row.next_attempt_at - row.updated_at).total_seconds() >= 0.45
    # and when it runs, it finds the order Odoo committed meanwhile instead of creating another
    sb.set_faults(per_record_ms=0)
    wait_for(lambda: len(sale_orders(sb, "shop:1002")) == 1, timeout=10)
    ChannelOrder.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert order_push_due() == 1
    found = sale_orders(sb, "shop:1002")
    assert len(found) == 1 and found[0]["state"] == "sale"
