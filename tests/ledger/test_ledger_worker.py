"""The ledger with real worker processes: crashes, broker outages and duplicate messages."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from celery import current_app
from django.db import transaction
from django.utils import timezone

from apps.core.workrow import WorkState
from apps.ledger import services
from apps.ledger.models import InboundEvent
from tests.fixtures.worker import ROOT, child_env, wait_for
from tests.ledger.helpers import key_of, record
from tests.ledger.worker_tasks import count

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

INCLUDE = ("tests.celery_tasks", "tests.ledger.worker_tasks")


def _state(pk: int) -> str:
    return InboundEvent.objects.get(pk=pk).state


def test_worker_sigkilled_mid_work_completes_exactly_once_after_lease_expiry(
    celery_worker_factory, settings
) -> None:
    settings.HUB_LEDGER_RING_GRACE_SECONDS = 0
    first = celery_worker_factory(queues="maintenance", include=INCLUDE)
    # given an event whose handler is stuck in its first attempt
    event = record("test.crash", hold=60)
    key = key_of(event)
    wait_for(lambda: count(f"attempt:{key}") == 1)
    assert _state(event.pk) == WorkState.RUNNING
    # when the worker dies without any cleanup
    first.kill()
    # then nothing picks the row while its lease holds...
    assert services.work_sweep()["ledger.inboundevent"] == 0
    # ...and once the lease expires (simulated: the clock is the database's), the sweeper re-rings
    # it and a fresh worker completes it once
    InboundEvent.objects.filter(pk=event.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    celery_worker_factory(queues="maintenance", include=INCLUDE)
    services.work_sweep()
    wait_for(lambda: _state(event.pk) == WorkState.DONE, timeout=60)
    assert count(f"effect:{key}") == 1
    assert count(f"attempt:{key}") == 2
    assert InboundEvent.objects.get(pk=event.pk).attempts == 1  # the crash spent one


def test_broker_unreachable_at_commit_work_done_after_it_returns(
    celery_worker_factory, settings, monkeypatch
) -> None:
    from kombu.exceptions import OperationalError
    from kombu.messaging import Producer

    settings.HUB_LEDGER_RING_GRACE_SECONDS = 0
    settings.HUB_DOORBELL_WINDOW_MS = 0  # ring at commit, while the broker is still down
    real_publish = Producer.publish

    def down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    # given the broker is down while a delivery is recorded
    monkeypatch.setattr(Producer, "publish", down)
    with transaction.atomic():  # the transaction that answers the channel
        event, created = services.inbound_event_record(
            channel_code="shop1",
            topic="test.effect",
            dedupe_key="broker-down-1",
            body=b'{"key": "broker-down-1"}',
            headers={},
        )
    # then the caller got its row (it would answer 2xx) and the work is durable
    assert created and _state(event.pk) == WorkState.PENDING
    # when the broker is back, a worker runs and the sweeper rings the row
    monkeypatch.setattr(Producer, "publish", real_publish)
    celery_worker_factory(queues="maintenance", include=INCLUDE)
    assert services.work_sweep()["ledger.inboundevent"] == 1
    wait_for(lambda: _state(event.pk) == WorkState.DONE)
    assert count("effect:broker-down-1") == 1


def test_broker_at_a_closed_port_the_request_still_commits_and_the_sweeper_catches_up(
    celery_worker_factory, settings
) -> None:
    settings.HUB_LEDGER_RING_GRACE_SECONDS = 0
    # given a web process whose broker is unreachable (nothing listens on the port)
    script = (
        "import time, django; django.setup()\n"
        "from django.db import transaction\n"
        "from apps.ledger.services import inbound_event_record\n"
        "started = time.monotonic()\n"
        "with transaction.atomic():\n"
        "    event, created = inbound_event_record(channel_code='shop1', topic='test.effect',\n"
        "        dedupe_key='closed-port-1', body=b'{\"key\": \"closed-port-1\"}', headers={})\n"
        "print('recorded', event.pk, created, round(time.monotonic() - started, 1))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=child_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0", HUB_LOG_FORMAT="console"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    # then the commit went through: the view would answer 2xx, and the outage is only logged
    assert done.returncode == 0, done.stderr[-3000:]
    assert "recorded" in done.stdout and "True" in done.stdout
    assert "sweeper will re-ring" in done.stderr
    event = InboundEvent.objects.get(channel_code="shop1", dedupe_key="closed-port-1")
    assert event.state == WorkState.PENDING
    # when the broker is back (the suite's broker) and the sweeper runs, with no human action
    celery_worker_factory(queues="maintenance", include=INCLUDE)
    services.work_sweep()
    wait_for(lambda: _state(event.pk) == WorkState.DONE)
    assert count("effect:closed-port-1") == 1


def test_same_message_delivered_twice_runs_once(celery_worker_factory) -> None:
    worker = celery_worker_factory(queues="maintenance", concurrency=2, include=INCLUDE)
    with transaction.atomic():
        event, _ = services.inbound_event_record(
            channel_code="shop1",
            topic="test.effect",
            dedupe_key="twice-1",
            body=b'{"key": "twice-1"}',
            headers={},
        )
    # when the broker delivers the doorbell twice more (redelivery, sweeper, a retry click)
    for _ in range(2):
        current_app.send_task("ledger.process_event", kwargs={"event_id": event.pk})
    wait_for(lambda: _state(event.pk) == WorkState.DONE)
    # the doorbell's drain ran too (it rings the row only if it is still pending by then)
    wait_for(lambda: worker.log().count("ledger.drain_events[") >= 2)  # received + done
    wait_for(lambda: worker.log().count("ledger.process_event[") >= 4)  # 2+ received, 2+ done
    # then the handler ran once
    assert count("effect:twice-1") == 1
    assert count("attempt:twice-1") == 1


def test_transient_failures_retry_through_the_worker(celery_worker_factory, settings) -> None:
    celery_worker_factory(queues="maintenance", include=INCLUDE, HUB_RETRY_BASE_SECONDS="0.05")
    event = record("test.flaky", fail=2)
    wait_for(lambda: _state(event.pk) == WorkState.DONE)
    assert count(f"attempt:{key_of(event)}") == 3
    assert InboundEvent.objects.get(pk=event.pk).attempts == 2
