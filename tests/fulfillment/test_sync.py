"""Telling the channel, the hub's own logic: a fake adapter stands in for the platforms here
(the real adapters against the stand-ins are in test_e2e.py and the adapter tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from apps.core.errors import PermanentError, RateLimited, TransientError
from apps.fulfillment import sync as sync_module
from apps.fulfillment.adapters import ChannelResult, FulfilmentAdapter, ShipmentToSend
from apps.fulfillment.models import ShipmentSync
from apps.fulfillment.sync import shipment_sync_run
from apps.inbox.models import Issue
from apps.inbox.services import issue_row_retry
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create

from .conftest import make_order, make_shipment

pytestmark = pytest.mark.django_db


@dataclass
class FakeAdapter(FulfilmentAdapter):
    """Records every call; answers with what the test queued (an exception or a result)."""

    channel: Channel
    answers: list[Any] = field(default_factory=list)
    calls: list[tuple[str, ShipmentToSend, dict[str, Any]]] = field(default_factory=list)

    def _answer(self, name: str, ship: ShipmentToSend, **kw: Any) -> ChannelResult:
        self.calls.append((name, ship, kw))
        answer = self.answers.pop(0) if self.answers else ChannelResult(ref={"id": "gid://x/1"})
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, ChannelResult)
        return answer

    def fulfil(self, ship: ShipmentToSend) -> ChannelResult:
        return self._answer("fulfil", ship)

    def update_tracking(self, ship: ShipmentToSend) -> ChannelResult:
        return self._answer("update_tracking", ship)

    def report_event(
        self, ship: ShipmentToSend, *, status: str, happened_at: str, message: str = ""
    ) -> ChannelResult:
        return self._answer("report_event", ship, status=status, happened_at=happened_at)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, db: None) -> FakeAdapter:
    channel, _ = channel_create(code="shop", kind="shopify")
    adapter = FakeAdapter(channel)
    monkeypatch.setattr(sync_module, "adapter_for", lambda ch: adapter)
    return adapter


def create_row(shipment: Any) -> ShipmentSync:
    return ShipmentSync.objects.get(shipment=shipment, action="create")


def test_a_create_sends_the_lines_and_tracking_and_stores_the_channels_record(
    fake: FakeAdapter,
) -> None:
    order = make_order(fake.channel)
    shipment = make_shipment(order)
    fake.answers = [ChannelResult(ref={"fulfillment_id": "gid://shopify/Fulfillment/9"}, calls=2)]
    assert shipment_sync_run(sync_id=create_row(shipment).pk) == "done"
    [(name, ship, _)] = fake.calls
    assert name == "fulfil"
    assert [(ln.sku, ln.quantity, ln.external_line_id) for ln in ship.lines] == [
        ("TSHIRT", 2, "L1"),
        ("MUG", 1, "L2"),
    ]
    assert ship.tracking_numbers == ("1Z999AA10123456784",) and ship.carrier == "UPS"
    assert ship.order_number == "#1001" and ship.odoo_picking_name == "WH/OUT/00501"
    assert ship.final is True and ship.notify_customer is True and ship.retry is False
    row = create_row(shipment)
    assert row.state == "done"
    assert row.result == {"fulfillment_id": "gid://shopify/Fulfillment/9"}
    assert row.request["sent"]["tracking_numbers"] == ["1Z999AA10123456784"]
    # a second message for the same row does nothing
    assert shipment_sync_run(sync_id=row.pk) == "not-claimable"
    assert len(fake.calls) == 1


def test_a_partial_shipment_is_not_final_and_notification_follows_the_channel(
    fake: FakeAdapter,
) -> None:
    Channel.objects.filter(pk=fake.channel.pk).update(notify_customer_on_shipment=False)
    order = make_order(fake.channel)
    shipment = make_shipment(order, lines=(("TSHIRT", 1, 11, "L1"),))
    shipment_sync_run(sync_id=create_row(shipment).pk)
    [(_, ship, _)] = fake.calls
    assert ship.final is False and ship.notify_customer is False


def test_transient_failures_retry_with_due_times_then_succeed(
    fake: FakeAdapter, rings: list[Any]
) -> None:
    shipment = make_shipment(make_order(fake.channel))
    row = create_row(shipment)
    fake.answers = [TransientError("timeout reading the answer")]
    assert shipment_sync_run(sync_id=row.pk) == "retry"
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("pending", 1) and row.next_attempt_at
    assert rings == [("fulfillment.shipmentsync", row.pk)]  # short wait: a countdown
    # not due yet: nothing happens
    assert shipment_sync_run(sync_id=row.pk) == "not-claimable"
    ShipmentSync.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert shipment_sync_run(sync_id=row.pk) == "done"
    # the retry tells the adapter it was tried before (it reads before it writes)
    assert [c[1].retry for c in fake.calls] == [False, True]


def test_rate_limits_wait_without_spending_an_attempt(fake: FakeAdapter) -> None:
    row = create_row(make_shipment(make_order(fake.channel)))
    fake.answers = [RateLimited("429", retry_after=2.0)]
    assert shipment_sync_run(sync_id=row.pk) == "retry"
    row.refresh_from_db()
    assert row.attempts == 0 and row.state == "pending"
    assert 1.5 < (row.next_attempt_at - timezone.now()).total_seconds() <= 2.0


def test_a_refusal_fails_the_row_with_an_inbox_item_then_retry_works(
    fake: FakeAdapter, django_capture_on_commit_callbacks: Any
) -> None:
    order = make_order(fake.channel)
    shipment = make_shipment(order)
    row = create_row(shipment)
    fake.answers = [PermanentError("line item not found on the order", field="line_items")]
    assert shipment_sync_run(sync_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.state == "failed"
    issue = Issue.objects.get()
    assert issue.channel_code == "shop" and issue.order_number == "#1001"
    assert "WH/OUT/00501" in issue.title and "1Z999AA10123456784" in issue.title
    assert "line item not found" in issue.title
    assert issue.replay_task == "fulfillment.sync"
    assert "WH/OUT/00501" in issue.suggested_action
    # Retry from the inbox: the row is pending again, and goes through
    issue_row = issue.rows.get()
    with django_capture_on_commit_callbacks(execute=False):
        assert issue_row_retry(issue_row=issue_row, user=None)
    assert shipment_sync_run(sync_id=row.pk) == "done"
    issue.refresh_from_db()
    assert issue.status == "resolved"


def test_exhausted_retries_go_to_the_inbox(fake: FakeAdapter, settings: Any) -> None:
    settings.HUB_LEDGER_MAX_ATTEMPTS = 2
    row = create_row(make_shipment(make_order(fake.channel)))
    fake.answers = [TransientError("down"), TransientError("down")]
    assert shipment_sync_run(sync_id=row.pk) == "retry"
    ShipmentSync.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert shipment_sync_run(sync_id=row.pk) == "failed"
    assert Issue.objects.get().replay_kwargs == {"sync_id": row.pk}


def test_an_unknown_carrier_suggests_the_value_map(fake: FakeAdapter) -> None:
    from apps.core.errors import MappingMissing

    shipment = make_shipment(make_order(fake.channel), carrier="")
    fake.answers = [MappingMissing("Shopify does not know the carrier 'Standard Delivery'")]
    shipment_sync_run(sync_id=create_row(shipment).pk)
    issue = Issue.objects.get()
    assert "Tracking company" in issue.suggested_action
    assert "Standard Delivery" in issue.suggested_action


def test_a_tracking_update_waits_for_the_create_and_is_skipped_when_already_sent(
    fake: FakeAdapter,
) -> None:
    shipment = make_shipment(make_order(fake.channel))
    create = create_row(shipment)
    update = ShipmentSync.objects.create(
        shipment=shipment, action="tracking", entity_key=create.entity_key
    )
    # the update cannot run before the create
    assert shipment_sync_run(sync_id=update.pk) == "not-claimable"
    assert shipment_sync_run(sync_id=create.pk) == "done"
    # the create already sent the current tracking: nothing more to send
    assert shipment_sync_run(sync_id=update.pk) == "skipped"
    assert [c[0] for c in fake.calls] == ["fulfil"]
    # a real change is sent, with the create's record
    type(shipment).objects.filter(pk=shipment.pk).update(tracking_numbers=["1Z-NEW"])
    again = ShipmentSync.objects.create(
        shipment=shipment, action="tracking", entity_key=create.entity_key
    )
    assert shipment_sync_run(sync_id=again.pk) == "done"
    name, ship, _ = fake.calls[-1]
    assert name == "update_tracking" and ship.tracking_numbers == ("1Z-NEW",)
    assert ship.previous_result == {"id": "gid://x/1"}  # the create's record


def test_a_tracking_update_of_a_failed_create_is_left_to_the_create(fake: FakeAdapter) -> None:
    shipment = make_shipment(make_order(fake.channel))
    create = create_row(shipment)
    ShipmentSync.objects.filter(pk=create.pk).update(state="failed")
    update = ShipmentSync.objects.create(
        shipment=shipment, action="tracking", entity_key=create.entity_key
    )
    assert shipment_sync_run(sync_id=update.pk) == "ignored"
    assert fake.calls == []


def test_shadow_channels_record_what_would_be_sent(fake: FakeAdapter) -> None:
    Channel.objects.filter(pk=fake.channel.pk).update(state="shadow")
    row = create_row(make_shipment(make_order(fake.channel)))
    assert shipment_sync_run(sync_id=row.pk) == "shadow"
    row.refresh_from_db()
    assert row.state == "done" and row.result == {"shadow": True}
    assert row.request["would_send"]["lines"][0]["sku"] == "TSHIRT"
    assert fake.calls == []


def test_paused_channels_wait_and_disabled_ones_are_skipped(fake: FakeAdapter) -> None:
    Channel.objects.filter(pk=fake.channel.pk).update(state="paused")
    order = make_order(fake.channel)
    row = create_row(make_shipment(order))
    assert shipment_sync_run(sync_id=row.pk) == "paused"
    row.refresh_from_db()
    assert row.state == "pending" and row.attempts == 0
    Channel.objects.filter(pk=fake.channel.pk).update(state="active", fulfillment_enabled=False)
    ShipmentSync.objects.filter(pk=row.pk).update(next_attempt_at=None)
    assert shipment_sync_run(sync_id=row.pk) == "ignored"
    assert fake.calls == []


def test_an_adapter_crash_is_not_retried_blindly(fake: FakeAdapter) -> None:
    row = create_row(make_shipment(make_order(fake.channel)))
    fake.answers = [KeyError("fulfillmentOrders")]
    assert shipment_sync_run(sync_id=row.pk) == "failed"
    assert Issue.objects.get().category == "unknown"


def test_a_tracking_change_after_the_sync_rows_were_purged_still_reaches_the_channel(
    fake: FakeAdapter,
) -> None:
    from apps.ledger.services import events_purge

    shipment = make_shipment(make_order(fake.channel))
    fake.answers = [ChannelResult(ref={"fulfillment_ids": ["gid://shopify/Fulfillment/5"]})]
    assert shipment_sync_run(sync_id=create_row(shipment).pk) == "done"
    shipment.refresh_from_db()
    assert shipment.channel_result == {"fulfillment_ids": ["gid://shopify/Fulfillment/5"]}
    assert shipment.channel_sent["tracking_numbers"] == ["1Z999AA10123456784"]
    # when the retention purge deletes the finished sync rows
    assert events_purge(days=0)["fulfillment.shipmentsync"] == 1
    # and the tracking number changes months later
    type(shipment).objects.filter(pk=shipment.pk).update(tracking_numbers=["1Z-LATE"])
    update = ShipmentSync.objects.create(
        shipment=shipment, action="tracking", entity_key=f"shipment:{shipment.pk}"
    )
    assert shipment_sync_run(sync_id=update.pk) == "done"
    name, ship, _ = fake.calls[-1]
    assert name == "update_tracking"
    assert ship.previous_result == {"fulfillment_ids": ["gid://shopify/Fulfillment/5"]}
    shipment.refresh_from_db()
    assert shipment.channel_sent["tracking_numbers"] == ["1Z-LATE"]
