"""Delivery through real `events` workers (thread pool), the real broker and loopback receivers.

The test process commits events; the fan-out and the per-endpoint delivery runs happen in the
worker processes, rung through the broker, exactly as in production.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.workrow import WorkState
from apps.events import selectors, tasks
from apps.events.delivery import lock_key
from apps.events.models import DeliveryAttempt, WebhookEndpoint, WebhookMessage
from tests.fixtures.worker import wait_for

from .conftest import attempts_of, make_channel, make_endpoint, messages, publish_order
from .receivers import Reply, closed_port_url

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("webhook_settings"),
]

WORKER_ENV = {
    "HUB_OUTBOUND_ALLOW_PRIVATE": "true",
    "HUB_WEBHOOK_REQUIRE_HTTPS": "false",
    "HUB_WEBHOOK_BREAKER_THRESHOLD": "3",
    "HUB_WEBHOOK_BREAKER_SECONDS": "60",
}


def events_worker(factory: Any, **env: str) -> Any:
    return factory(queues="events", pool="threads", concurrency=4, **{**WORKER_ENV, **env})


def test_dead_endpoints_do_not_slow_a_healthy_one(celery_worker_factory, receivers) -> None:
    timeout = 3.0
    n = 12
    events_worker(celery_worker_factory, HUB_WEBHOOK_TIMEOUT_SECONDS=str(timeout))
    # given a receiver that accepts and never answers, one whose port is closed, a healthy one;
    # the dead ones are older, so their runs are rung first
    hole = receivers(blackhole=True)
    healthy = receivers()
    hung_ep, _ = make_endpoint(hole.url)
    refused_ep, _ = make_endpoint(closed_port_url())
    ok_ep, _ = make_endpoint(healthy.url)
    channel = make_channel()
    # when events commit (each rings the fan-out, which rings each endpoint's run)
    started = time.monotonic()
    events = [publish_order(channel, f"H-{i}") for i in range(n)]
    # then the healthy receiver has them all well before a single dead attempt could time out
    healthy.wait_for(n, timeout=timeout * 4)
    took = time.monotonic() - started
    assert took < timeout * 0.75, f"the healthy endpoint took {took:.2f}s"
    assert sorted(healthy.ids()) == sorted(e.uid for e in events)
    wait_for(lambda: all(s == WorkState.DONE for s in _states(ok_ep)), timeout=5)
    # and the breaker opened on both dead endpoints before every message spent an attempt
    for ep, error in ((hung_ep, "Timeout"), (refused_ep, "ConnectionError")):
        wait_for(lambda ep=ep: _blocked(ep), timeout=timeout * 3)
        wait_for(lambda ep=ep: not _running(ep), timeout=timeout * 2)
        tried = DeliveryAttempt.objects.filter(endpoint=ep)
        assert 3 <= tried.count() < n, (ep.url, tried.count())
        assert set(tried.values_list("error_class", flat=True)) == {error}
        ep.refresh_from_db()
        assert ep.blocked_until - timezone.now() > dt.timedelta(seconds=30)
        waiting = WebhookMessage.objects.filter(endpoint=ep, state=WorkState.PENDING)
        assert waiting.count() == n and waiting.filter(attempts=0).count() >= n - tried.count()
    assert hole.connections < n


def test_worker_killed_mid_delivery_redelivers_and_the_receiver_processes_once(
    celery_worker_factory, receivers
) -> None:
    env = {"HUB_WEBHOOK_TIMEOUT_SECONDS": "30"}
    first = events_worker(celery_worker_factory, **env)
    # given a receiver that holds the first request open (and dedupes by webhook-id)
    hold = threading.Event()
    partner = receivers(lambda req: Reply(hold=hold) if req.number == 1 else Reply())
    ep, _ = make_endpoint(partner.url)
    event = publish_order(make_channel(), "K-1")
    partner.wait_for(1, timeout=20)
    [message] = messages(ep)
    assert message.state == WorkState.RUNNING and message.lease_until > timezone.now()
    # when the worker dies mid-request, without any cleanup
    first.kill()
    hold.set()  # the receiver's late answer goes nowhere
    # then nothing is lost, and nothing picks the message while its lease holds
    message.refresh_from_db()
    assert message.state == WorkState.RUNNING
    assert selectors.endpoints_due() == []
    assert cache.get(lock_key(ep.pk)) is not None  # the dead run's lock, same lease
    assert DeliveryAttempt.objects.count() == 0  # the dead worker recorded nothing
    # when the lease expires (simulated: the clock is the database's and the cache's)
    WebhookMessage.objects.filter(pk=message.pk).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    cache.delete(lock_key(ep.pk))
    assert selectors.endpoints_due() == [ep.pk]
    events_worker(celery_worker_factory, **env)
    tasks.sweep()  # the periodic sweep rings the endpoint
    # then the message is delivered again, with the same webhook-id, and processed once
    wait_for(lambda: _states(ep) == [WorkState.DONE], timeout=20)
    got = partner.snapshot()
    assert [r.webhook_id for r in got] == [event.uid, event.uid]
    assert got[1].seen_before == 1
    assert partner.processed == {event.uid: 1}
    message.refresh_from_db()
    assert message.attempts == 2  # the crash spent one
    [attempt] = attempts_of(message)
    assert (attempt.number, attempt.success, attempt.status_code) == (2, True, 200)


def _states(ep: WebhookEndpoint) -> list[str]:
    return list(WebhookMessage.objects.filter(endpoint=ep).values_list("state", flat=True))


def _blocked(ep: WebhookEndpoint) -> bool:
    until = WebhookEndpoint.objects.get(pk=ep.pk).blocked_until
    return until is not None and until > timezone.now()


def _running(ep: WebhookEndpoint) -> bool:
    return WebhookMessage.objects.filter(endpoint=ep, state=WorkState.RUNNING).exists()
