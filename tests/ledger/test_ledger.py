"""The ledger in-process: recording, claims, retries, order, sweeper, replay, retention."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from apps.core import workrow
from apps.core.errors import LockContention, TransientError
from apps.core.workrow import WorkState
from apps.inbox.models import Issue
from apps.ledger import services
from apps.ledger.models import InboundEvent
from tests.ledger import worker_tasks
from tests.ledger.helpers import key_of, record

pytestmark = pytest.mark.django_db


def test_record_is_idempotent_per_channel_and_dedupe_key(django_capture_on_commit_callbacks):
    # given a recorded delivery
    with django_capture_on_commit_callbacks() as callbacks:
        first = record("test.effect", dedupe="d-1")
    # when the channel delivers it again
    again, created = services.inbound_event_record(
        channel_code="shop1", topic="test.effect", dedupe_key="d-1", body=b"{}", headers={}
    )
    # then the original comes back and nothing new is stored; one doorbell was queued on commit
    assert not created and again.pk == first.pk
    assert InboundEvent.objects.count() == 1
    assert len(callbacks) == 1
    assert first.payload_hash and bytes(first.body).startswith(b"{")


def test_duplicate_inside_the_callers_transaction_leaves_it_usable():
    # given a delivery already recorded
    first = record("test.effect", dedupe="d-race")
    # when the same delivery is recorded again inside an open transaction
    with transaction.atomic():
        event, created = services.inbound_event_record(
            channel_code="shop1", topic="test.effect", dedupe_key="d-race", body=b"{}", headers={}
        )
        # then no statement failed (ON CONFLICT DO NOTHING): the transaction is still usable
        assert InboundEvent.objects.count() == 1
    assert not created and event.pk == first.pk


def test_recorded_row_reads_back_whole():
    # the single-statement insert writes every column the model would have written
    event = record("test.effect", dedupe="d-whole")
    row = InboundEvent.objects.get(pk=event.pk)
    assert (row.channel_code, row.topic, row.dedupe_key) == ("shop1", "test.effect", "d-whole")
    assert row.state == WorkState.PENDING and row.next_attempt_at is not None
    assert row.payload_hash == event.payload_hash and bytes(row.body) == bytes(event.body)


def test_broker_down_at_commit_is_swallowed_and_the_row_stays_due(monkeypatch, caplog):
    from kombu.exceptions import OperationalError
    from kombu.messaging import Producer

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to broker. Connection refused.")

    monkeypatch.setattr(Producer, "publish", down)
    # when the ringing fails after commit
    ok = services.work_ring(model=InboundEvent, pk=record("test.effect").pk)
    # then nothing raises; the failure is logged and the row waits for the sweeper
    assert ok is False
    assert "sweeper will re-ring" in caplog.text
    assert InboundEvent.objects.get().state == WorkState.PENDING


def test_duplicate_message_runs_the_handler_once():
    event = record("test.effect")
    # when the same message is processed twice
    assert services.event_process(event_id=event.pk) == "done"
    assert services.event_process(event_id=event.pk) == "not-claimable"
    # then the effect happened once
    assert worker_tasks.count(f"effect:{key_of(event)}") == 1


def test_stale_owner_cannot_overwrite_the_newer_owners_result():
    event = record("test.effect")
    stale = workrow.claim_one(InboundEvent, pk=event.pk)
    assert stale is not None
    # given the stale owner's lease expired and a new owner claimed the row
    InboundEvent.objects.filter(pk=event.pk).update(lease_until=timezone.now() - timedelta(1))
    fresh = workrow.claim_one(InboundEvent, pk=event.pk)
    assert fresh is not None and fresh.lease_token != stale.lease_token
    assert fresh.attempts == 1  # the lost lease (a crash) spent an attempt
    # when both report
    assert workrow.fail_permanent(stale, error={"message": "late"}) is False
    assert workrow.complete(fresh) is True
    # then the newer owner's result stands
    assert InboundEvent.objects.get(pk=event.pk).state == WorkState.DONE


def test_transient_failure_is_stored_as_a_due_time_with_backoff(settings):
    settings.HUB_RETRY_BASE_SECONDS = 100
    event = record("test.effect")
    row = workrow.claim_one(InboundEvent, pk=event.pk)
    outcome, delay = workrow.fail_transient(row, error=TransientError("odoo down"))
    row = InboundEvent.objects.get(pk=event.pk)
    assert outcome == "retry" and 0 <= delay <= 100
    assert row.state == WorkState.PENDING and row.attempts == 1
    assert row.next_attempt_at >= timezone.now() - timedelta(seconds=1)
    assert row.last_error["message"] == "odoo down"


def test_lock_contention_does_not_spend_an_attempt():
    event = record("test.effect")
    row = workrow.claim_one(InboundEvent, pk=event.pk)
    outcome, _ = workrow.fail_transient(row, error=LockContention("busy", retry_after=0))
    assert outcome == "retry"
    assert InboundEvent.objects.get(pk=event.pk).attempts == 0


def test_exhausted_retries_fail_the_row_and_open_an_issue(settings):
    settings.HUB_LEDGER_MAX_ATTEMPTS = 2
    settings.HUB_RETRY_BASE_SECONDS = 0
    event = record("test.flaky", fail=5)
    assert services.event_process(event_id=event.pk) == "retry"
    assert services.event_process(event_id=event.pk) == "failed"
    row = InboundEvent.objects.get(pk=event.pk)
    assert row.state == WorkState.FAILED and row.last_error["exhausted"]
    issue = Issue.objects.get()
    assert issue.category == "odoo_unavailable" and issue.rows.count() == 1


def test_unknown_exception_fails_permanently_into_the_inbox():
    event = record("test.boom.now")
    assert services.event_process(event_id=event.pk) == "failed"
    issue = Issue.objects.get()
    assert issue.category == "unknown"
    assert "ValueError" in issue.title
    assert InboundEvent.objects.get(pk=event.pk).state == WorkState.FAILED


def test_event_without_handler_is_ignored_with_a_note():
    event = record("nobody.listens")
    assert services.event_process(event_id=event.pk) == "ignored"
    row = InboundEvent.objects.get(pk=event.pk)
    assert row.state == WorkState.IGNORED and "no handler" in row.note


def test_same_entity_runs_in_order_different_entities_in_parallel():
    a1 = record("test.effect", entity="order:1", seq=1)
    a2 = record("test.effect", entity="order:1", seq=2)
    b1 = record("test.effect", entity="order:2", seq=1)
    # when a worker asks for everything due
    claimed = workrow.claim_due(InboundEvent, limit=10)
    # then it gets the oldest of each entity only
    assert {r.pk for r in claimed} == {a1.pk, b1.pk}
    assert workrow.claim_one(InboundEvent, pk=a2.pk) is None
    # and the younger one becomes claimable when the older one is finished
    workrow.complete(next(r for r in claimed if r.pk == a1.pk))
    assert workrow.claim_one(InboundEvent, pk=a2.pk) is not None


def test_sweeper_rerings_due_and_expired_rows_but_not_recent_ones(settings, monkeypatch):
    settings.HUB_LEDGER_RING_GRACE_SECONDS = 10
    rung: list[int] = []
    monkeypatch.setattr(services, "work_ring", lambda *, model, pk, countdown=None: rung.append(pk))
    fresh = record("test.effect")  # just recorded: the doorbell's drain rings it, not the sweeper
    lost = record("test.effect")
    crashed = record("test.effect")
    past = timezone.now() - timedelta(minutes=5)
    InboundEvent.objects.filter(pk=lost.pk).update(rung_at=past)
    workrow.claim_one(InboundEvent, pk=crashed.pk)
    InboundEvent.objects.filter(pk=crashed.pk).update(rung_at=past, lease_until=past)
    # when the sweeper runs twice
    first = services.work_sweep()
    second = services.work_sweep()
    # then it rang the lost message and the crashed lease once, not the fresh row
    assert sorted(rung) == sorted([lost.pk, crashed.pk])
    assert first["ledger.inboundevent"] == 2 and second["ledger.inboundevent"] == 0
    assert fresh.pk not in rung


def test_an_unrung_event_is_swept_after_the_grace(settings, monkeypatch):
    settings.HUB_LEDGER_RING_GRACE_SECONDS = 10
    rung: list[int] = []
    monkeypatch.setattr(services, "work_ring", lambda *, model, pk, countdown=None: rung.append(pk))
    # given an event whose doorbell never reached a worker (process killed inside the window)
    orphan = record("test.effect")
    InboundEvent.objects.filter(pk=orphan.pk).update(
        created_at=timezone.now() - timedelta(minutes=1)
    )
    # then the sweeper rings it
    services.work_sweep()
    assert rung == [orphan.pk]


def test_drain_processes_each_unrung_event_once(monkeypatch):
    processed: list[int] = []
    monkeypatch.setattr(services, "event_process", lambda *, event_id: processed.append(event_id))
    a, b = record("test.effect"), record("test.effect")
    already = record("test.effect")
    InboundEvent.objects.filter(pk=already.pk).update(rung_at=timezone.now())
    # when the drain runs twice
    assert services.events_drain() == 2
    assert services.events_drain() == 0
    # then it processed the two unrung events once each, and stamped them
    assert sorted(processed) == sorted([a.pk, b.pk])
    assert not InboundEvent.objects.filter(rung_at__isnull=True).exists()


def test_a_full_drain_slice_rings_another_drain_first(monkeypatch):
    from apps.ledger import doorbell

    order: list[str] = []
    monkeypatch.setattr(services, "event_process", lambda *, event_id: order.append("event"))
    monkeypatch.setattr(doorbell, "send_drain", lambda: order.append("drain") or True)
    for _ in range(3):
        record("test.effect")
    # when a drain with a slice of 2 finds 3 waiting
    assert services.events_drain(limit=2) == 2
    # then it rang a second drain before working through its own slice
    assert order == ["drain", "event", "event"]
    assert services.events_drain(limit=2) == 1


def test_doorbell_coalesces_a_burst_into_few_messages(settings, monkeypatch):
    from apps.ledger import doorbell

    settings.HUB_DOORBELL_WINDOW_MS = 50
    sent: list[float] = []
    done = threading.Event()

    def fake_send() -> bool:
        sent.append(time.monotonic())
        done.set()
        return True

    monkeypatch.setattr(doorbell, "send_drain", fake_send)
    bell = doorbell._Doorbell()
    # when 200 events are accepted in a burst
    for _ in range(200):
        bell.ring()
    # then one message (or two, if the burst straddled a window) is sent, within the window
    assert done.wait(2.0)
    time.sleep(0.15)
    assert 1 <= len(sent) <= 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_the_same_row_exactly_one_wins():
    # given rows every thread will try to claim at the same instant
    events = [record("test.effect") for _ in range(5)]
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    won: list[list[int]] = [[] for _ in range(threads_n)]
    batch: list[list[int]] = [[] for _ in range(threads_n)]
    errors: list[BaseException] = []

    def contender(i: int) -> None:
        try:  # each thread has its own database connection
            for event in events:
                barrier.wait(timeout=10)
                if workrow.claim_one(InboundEvent, pk=event.pk) is not None:
                    won[i].append(event.pk)
            barrier.wait(timeout=10)
            batch[i] = [r.pk for r in workrow.claim_due(InboundEvent, limit=3)]
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    # then every row has exactly one winner
    winners = sorted(pk for w in won for pk in w)
    assert winners == sorted(e.pk for e in events)


@pytest.mark.django_db(transaction=True)
def test_concurrent_batch_claims_never_share_a_row():
    events = [record("test.effect") for _ in range(20)]
    threads_n = 4
    barrier = threading.Barrier(threads_n)
    got: list[list[int]] = [[] for _ in range(threads_n)]
    errors: list[BaseException] = []

    def contender(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            while True:
                rows = workrow.claim_due(InboundEvent, limit=3)
                if not rows:
                    break
                got[i].extend(r.pk for r in rows)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    all_claimed = [pk for g in got for pk in g]
    assert sorted(all_claimed) == sorted(e.pk for e in events)  # each once, none twice


def test_replay_dry_run_and_real_replay_go_through_the_handler(capsys):
    done = record("test.effect", channel="shop2")
    services.event_process(event_id=done.pk)
    other = record("test.boom", channel="shop2")
    # when a dry run is asked for the channel
    call_command("replay", "--channel", "shop2", "--dry-run")
    out = capsys.readouterr().out
    # then it says what each handler would do, and changes nothing
    assert f"would count effect for {key_of(done)}" in out
    assert "would re-run handler tests.ledger.worker_tasks.boom_handler" in out
    assert InboundEvent.objects.get(pk=done.pk).state == WorkState.DONE
    # when replayed for real, the event runs through the same handler again
    call_command("replay", "--event", str(done.pk))
    assert InboundEvent.objects.get(pk=done.pk).state == WorkState.PENDING
    assert services.event_process(event_id=done.pk) == "done"
    assert worker_tasks.count(f"effect:{key_of(done)}") == 2
    assert other.pk


def test_purge_deletes_old_finished_work_in_batches_and_keeps_open_issue_rows():
    old = timezone.now() - timedelta(days=40)
    done = [record("test.effect") for _ in range(5)]
    for e in done:
        services.event_process(event_id=e.pk)
    failing = record("test.boom")
    services.event_process(event_id=failing.pk)
    recent = record("test.effect")
    services.event_process(event_id=recent.pk)
    InboundEvent.objects.exclude(pk=recent.pk).update(updated_at=old)
    # when purged with a tiny batch size
    deleted = services.events_purge(days=30, batch_size=2)
    # then old processed events went; the open issue's row and recent work stay
    assert deleted["ledger.inboundevent"] == 5
    assert set(InboundEvent.objects.values_list("pk", flat=True)) == {failing.pk, recent.pk}


def test_handler_result_is_recorded_as_an_effect():
    event = record("test.result")
    assert services.event_process(event_id=event.pk) == "done"
    effects = InboundEvent.objects.get(pk=event.pk).effects
    assert effects[0]["result"] == {"odoo": "sale.order,42"}
    assert effects[0]["handler"].endswith("result_handler")


def test_a_row_that_keeps_killing_its_worker_ends_in_the_inbox(settings):
    settings.HUB_LEDGER_MAX_ATTEMPTS = 3
    event = record("test.effect")
    past = timezone.now() - timedelta(seconds=1)
    # given three workers that claimed the row and died mid-work (the lease ran out each time)
    for _ in range(3):
        assert workrow.claim_one(InboundEvent, pk=event.pk) is not None
        InboundEvent.objects.filter(pk=event.pk).update(lease_until=past)
    # when it is rung again
    assert services.event_process(event_id=event.pk) == "failed"
    # then it is failed and visible instead of looping forever; the handler never ran
    row = InboundEvent.objects.get(pk=event.pk)
    assert row.state == WorkState.FAILED and row.attempts == 3
    assert Issue.objects.get().category == "unknown"
    assert worker_tasks.count(f"effect:{key_of(event)}") == 0


def test_held_row_is_not_claimed_and_blocks_its_entity_until_released():
    first = record("test.effect", entity="order:9", seq=1)
    second = record("test.effect", entity="order:9", seq=2)
    row = workrow.claim_one(InboundEvent, pk=first.pk)
    assert workrow.hold(row, note="credit check")
    # then neither the held row nor the younger one of the same entity is claimable
    assert workrow.claim_due(InboundEvent, limit=10) == []
    # when the hold is released
    assert workrow.requeue(InboundEvent, pk=first.pk)
    # then the entity's work runs in order
    assert services.event_process(event_id=second.pk) == "not-claimable"
    assert services.event_process(event_id=first.pk) == "done"
    assert services.event_process(event_id=second.pk) == "done"
