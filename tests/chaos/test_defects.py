"""The defects the chaos run found in the hub (docs/reliability.md, "Chaos run"), each proven
fixed through the real boundaries: the sandbox Odoo, the Shopify stand-in, a real worker, a
cache at a port where nothing listens."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction

from apps.inbox.models import Issue
from apps.ledger.models import InboundEvent
from apps.ledger.registry import register_event_handler
from apps.ledger.services import event_process, inbound_event_record
from apps.orders.cancel import order_cancel
from apps.orders.customers import _creating
from apps.orders.edits import _push_edit, order_push_edit
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due, orders_followup_sweep
from apps.orders.transitions import order_lease, order_lease_release
from apps.sales_channels.translators import order_from_shopify
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.worker import broker_purge, wait_for
from tests.orders.conftest import shopify_payload
from tests.orders.helpers import order_lines, sale_orders
from tests.orders.test_worker_e2e import worker_env

DEAD_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: Redis is stopped
    }
}


def ingest(order_id: int, **changes: Any) -> ChannelOrder:
    payload = shopify_payload(order_id, **changes)
    return order_ingest(order=order_from_shopify(payload, channel="shop"))


def edit(order_id: int, qty: int = 3, at: str = "2025-01-14T12:00:00Z") -> ChannelOrder:
    """Line 0 (25.00 a unit) from 2 to `qty` units, the totals adjusted."""
    payload = shopify_payload(order_id, updated_at=at)
    line = payload["line_items"][0]
    line["quantity"] = line["current_quantity"] = qty
    line.pop("price_set", None)
    for key in ("total_price", "subtotal_price", "total_line_items_price"):
        payload.pop(f"{key}_set", None)
    more = Decimal(25 * (qty - 3))
    payload["total_price"] = str(Decimal("91.74") + more)
    payload["subtotal_price"] = str(Decimal("81.25") + more)
    payload["total_line_items_price"] = str(Decimal("87.50") + more)
    return order_ingest(order=order_from_shopify(payload, channel="shop"))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_cancellations_edits_and_acknowledgements_whose_message_was_lost_are_rung_again(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    shopify_standin: ChannelStandin,
    make_channel: Any,
    bind_all: Any,
    settings: Any,
) -> None:
    sb = sandbox_settings
    channel = make_channel(
        api_base_url=shopify_standin.url, access_token=shopify_standin.access_token
    )
    bind_all(channel)
    ids = [shopify_standin.seed_order(line_items=[{"sku": "TSHIRT-BLU-M"}])["id"] for _ in "ab"]
    for oid in ids:
        ingest(oid, updated_at="2025-01-14T10:00:00Z")
    assert order_push_due() == 2
    # given a cancellation of one order and an edit of the other, after the push
    cancelled = ingest(ids[0], updated_at="2025-01-14T11:00:00Z", cancelled_at="2025-01-14T11:00Z")
    edited = edit(ids[1])
    assert cancelled.state == OrderState.CANCEL_REQUESTED and edited.edit_payload is not None
    # when every message they rang is lost (Redis stopped, a worker killed holding them)
    broker_purge()
    celery_worker_factory(queues="intake,odoo,channel_io", concurrency=2, **worker_env(sb))
    settings.HUB_LEDGER_RING_GRACE_SECONDS = 0
    # then the sweep rings them again and the worker finishes each
    assert orders_followup_sweep() == 3  # the cancel, the edit and its order's acknowledgement

    def done() -> bool:
        rows = {r.pk: r for r in ChannelOrder.objects.all()}
        return (
            rows[cancelled.pk].state == OrderState.CANCELLED
            and rows[edited.pk].edit_payload is None
            and all(r.ack_state == "done" for r in rows.values() if r.pk != cancelled.pk)
        )

    wait_for(done, timeout=60)
    [so] = sale_orders(sb, f"shop:{ids[0]}")
    assert so["state"] == "cancel"
    [so] = sale_orders(sb, f"shop:{ids[1]}")
    assert [ln["product_uom_qty"] for ln in order_lines(sb, so["order_line"])][0] == 3.0
    # and nothing is left for the next sweep
    assert orders_followup_sweep() == 0


@pytest.mark.django_db
def test_a_follow_up_runs_once_at_a_time(
    sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    bind_all(make_channel())
    ingest(31, updated_at="2025-01-14T10:00:00Z")
    order_push_due()
    row = ingest(31, updated_at="2025-01-14T11:00:00Z", cancelled_at="2025-01-14T11:00:00Z")
    # while one run holds the order (a duplicate message, or the sweep's ring, arrives)
    token = order_lease(order=row)
    assert token and order_lease(order=row) is None
    assert order_cancel(order_id=row.pk) == "busy"
    assert sale_orders(sandbox_settings, "shop:31")[0]["state"] == "sale"
    # once it is released, the next run does the work
    order_lease_release(order_id=row.pk, token=token)
    assert order_cancel(order_id=row.pk) == OrderState.CANCELLED
    assert sale_orders(sandbox_settings, "shop:31")[0]["state"] == "cancel"


@pytest.mark.django_db
def test_an_edit_arriving_while_the_previous_one_is_applied_is_applied_next(
    sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    sb = sandbox_settings
    bind_all(make_channel())
    ingest(35, updated_at="2025-01-14T10:00:00Z")
    order_push_due()
    first = edit(35, qty=3, at="2025-01-14T12:00:00Z").edit_payload
    row = ChannelOrder.objects.get(external_id="35")
    # given a worker has read the first edit, and the second arrives before it finishes
    edit(35, qty=5, at="2025-01-14T13:00:00Z")
    assert _push_edit(row=row, data=first, actor="test") == "updated"
    # then Odoo has the first, and the second is still pending rather than dropped
    row.refresh_from_db()
    assert row.edit_payload is not None and row.edit_payload["lines"][0]["qty"] == 5
    assert order_push_edit(order_id=row.pk) == "updated"
    [so] = sale_orders(sb, "shop:35")
    assert order_lines(sb, so["order_line"])[0]["product_uom_qty"] == 5.0
    row.refresh_from_db()
    assert row.edit_payload is None


@pytest.mark.django_db
def test_a_customer_new_to_two_batches_at_once_is_created_once(
    sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    sb = sandbox_settings
    bind_all(make_channel())
    row = ingest(41, updated_at="2025-01-14T10:00:00Z")
    ref = f"shop:customer:{row.customer_external_id}"
    # given another push batch is creating this customer right now
    with _creating({ref}):
        assert order_push_due() == 1
        row.refresh_from_db()
        # then this batch waits for it instead of creating a second partner
        assert row.state == OrderState.READY and "being created" in row.last_error
        assert sb.execute("res.partner", "search", [["ref", "=", ref]]) == []
    # and once the other batch is done, the retry creates (or finds) exactly one
    ChannelOrder.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert order_push_due() == 1
    row.refresh_from_db()
    assert row.state == OrderState.IN_ODOO
    assert len(sb.execute("res.partner", "search", [["ref", "=", ref]])) == 1


def cache_handler(event: Any) -> None:
    cache.add(f"chaos-test:{event.pk}", 1, timeout=5)


register_event_handler("test.chaos-cache", cache_handler)


@pytest.mark.django_db(transaction=True)
def test_a_stopped_redis_fails_no_doorbell_and_no_event(
    sandbox_settings: Any, make_channel: Any, bind_all: Any, settings: Any
) -> None:
    bind_all(make_channel())
    settings.CACHES = DEAD_CACHE
    # an order recorded while the shared cache is down: its post-commit push ring must not raise
    with transaction.atomic():
        row = ingest(51, updated_at="2025-01-14T10:00:00Z")
    assert ChannelOrder.objects.get(pk=row.pk).state == OrderState.READY
    # an event whose handler meets the dead cache is retried later, not failed into the inbox
    with transaction.atomic():
        event, _ = inbound_event_record(
            channel_code="shop",
            topic="test.chaos-cache",
            dedupe_key="chaos-cache-1",
            body=json.dumps({"n": 1}).encode(),
            headers={},
        )
    assert event_process(event_id=event.pk) == "retry"
    event.refresh_from_db()
    assert event.state == "pending" and event.next_attempt_at is not None
    assert not Issue.objects.exists()
    # with the cache back, the retry succeeds
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=dt.datetime.now(dt.UTC))
    assert event_process(event_id=event.pk) == "done"


@pytest.mark.django_db(transaction=True)
def test_a_periodic_job_that_meets_a_database_restart_holds_no_lock(settings: Any) -> None:
    from django.db import OperationalError, connection

    from apps.core.periodic import REGISTRY, run_guarded

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    job = REGISTRY["fulfillment.poll_odoo"]
    # given the database goes away just as a periodic job starts (PostgreSQL restarting): the
    # next connection goes to a port where nothing listens (SQLite: a folder that is not there)
    sqlite = connection.vendor == "sqlite"
    key, gone = ("NAME", "/nonexistent/hub.sqlite3") if sqlite else ("PORT", "1")
    kept = connection.settings_dict[key]
    connection.close()
    connection.settings_dict[key] = gone
    try:
        with pytest.raises(OperationalError):
            run_guarded(job, lambda: "polled")
    finally:
        connection.close()
        connection.settings_dict[key] = kept
    # when the next period comes, the job runs: the failed start left no "still going" lock
    cache.delete(f"periodic:period:{job.name}")
    assert run_guarded(job, lambda: "polled") == "ran"


@pytest.mark.django_db(transaction=True)
def test_sweeps_do_not_pile_duplicates_onto_a_backlog(
    sandbox_settings: Any, make_channel: Any, bind_all: Any, settings: Any
) -> None:
    from celery import current_app

    from apps.core.queues import queue_depths
    from apps.ledger.services import work_sweep

    settings.HUB_LEDGER_RING_GRACE_SECONDS = 0
    settings.HUB_SWEEP_MAX_QUEUE = 5
    settings.HUB_DOORBELL_WINDOW_MS = 0  # rings at commit, not from a thread after the purge
    bind_all(make_channel())
    ingest(61, updated_at="2025-01-14T10:00:00Z")
    order_push_due()
    ingest(61, updated_at="2025-01-14T11:00:00Z", cancelled_at="2025-01-14T11:00:00Z")
    with transaction.atomic():
        inbound_event_record(
            channel_code="shop",
            topic="test.chaos-cache",
            dedupe_key="chaos-backlog-1",
            body=b"{}",
            headers={},
        )
    # given the queues hold a backlog (no worker reads them)
    queues = ["maintenance", "intake", "odoo", "channel_io"]
    broker_purge()
    for queue in queues:
        for _ in range(5):
            current_app.send_task("core.heartbeat", queue=queue)
    before = queue_depths(queues)
    assert min(before.values()) >= 5
    # then the sweeps ring nothing more onto them
    assert work_sweep()["ledger.inboundevent"] == 0
    assert orders_followup_sweep() == 0
    assert queue_depths(queues) == before
    # once the queues have drained, they ring what is still undone
    broker_purge()
    assert work_sweep()["ledger.inboundevent"] == 1
    assert orders_followup_sweep() == 1  # the cancellation


@pytest.mark.django_db
def test_a_periodic_tick_may_wait_in_a_busy_queue_longer_than_its_period(capsys: Any) -> None:
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    call_command("sync_schedules")
    # a 15 s poll behind a queue that takes a minute must still run, not expire unread
    poll = PeriodicTask.objects.get(name="fulfillment.poll_odoo")
    assert poll.interval is not None and poll.interval.every == 15
    assert poll.expire_seconds is not None and poll.expire_seconds >= 300
    hourly = PeriodicTask.objects.get(name="channels.webhooks_check_all")
    assert hourly.expire_seconds == 3600


@pytest.mark.django_db(transaction=True)
def test_event_doorbells_queue_one_drain_until_a_drain_starts(settings: Any) -> None:
    from apps.core.queues import queue_depths
    from apps.ledger.services import events_drain

    settings.HUB_DOORBELL_WINDOW_MS = 0  # ring at every commit: the worst case
    broker_purge()

    def accept(n: int) -> None:
        with transaction.atomic():
            inbound_event_record(
                channel_code="shop",
                topic="test.chaos-cache",
                dedupe_key=f"chaos-drain-{n}",
                body=b"{}",
                headers={},
            )

    # when five deliveries are accepted while no worker has started a drain yet
    for n in range(5):
        accept(n)
    # then one drain waits in the queue, not five that would find nothing to do
    assert queue_depths(["maintenance"])["maintenance"] == 1
    # and once a drain starts, the next delivery rings again
    assert events_drain() == 5
    accept(5)
    assert queue_depths(["maintenance"])["maintenance"] == 2


@pytest.mark.django_db
def test_a_change_while_a_push_is_retried_reaches_the_sale_order_a_lost_answer_created(
    sandbox_settings: Any, make_channel: Any, bind_all: Any
) -> None:
    sb = sandbox_settings
    bind_all(make_channel())
    ingest(71, updated_at="2025-01-14T10:00:00Z")  # the customer is in Odoo from now on
    order_push_due()
    # given a push whose sale orders are created in Odoo but whose answer is lost
    ingest(72, updated_at="2025-01-14T10:00:00Z")
    ingest(73, updated_at="2025-01-14T10:00:00Z")
    sb.set_faults(drop_rate=1.0, drop_methods=["create"])
    assert order_push_due() == 2
    sb.set_faults(drop_rate=0.0, drop_methods=[])
    assert [so["state"] for so in sale_orders(sb, "shop:72") + sale_orders(sb, "shop:73")] == [
        "draft",
        "draft",
    ]
    # when, before the retry, the channel cancels one order and edits the other
    cancelled = ingest(72, updated_at="2025-01-14T11:00:00Z", cancelled_at="2025-01-14T11:00Z")
    edited = edit(73, qty=4)
    # then both wait for the push instead of changing only the hub's row
    assert cancelled.state == OrderState.READY and cancelled.cancel_wanted
    assert edited.state == OrderState.READY and edited.edit_payload is not None
    assert edited.lines.get(position=0).quantity == 2
    # and the retry binds the sale orders it finds, then cancels one and edits the other
    ChannelOrder.objects.update(next_attempt_at=None)
    assert order_push_due() == 2
    cancelled.refresh_from_db()
    assert cancelled.state == OrderState.CANCEL_REQUESTED
    assert order_cancel(order_id=cancelled.pk) == OrderState.CANCELLED
    assert order_push_edit(order_id=edited.pk) == "updated"
    [so72] = sale_orders(sb, "shop:72")
    [so73] = sale_orders(sb, "shop:73")
    assert so72["state"] == "cancel" and so73["state"] == "sale"
    assert order_lines(sb, so73["order_line"])[0]["product_uom_qty"] == 4.0
