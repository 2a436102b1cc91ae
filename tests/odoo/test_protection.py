"""The shared concurrency cap and circuit breaker, on the real Django cache."""

from __future__ import annotations

import time
from typing import Any

import pytest

from apps.odoo.errors import OdooBreakerOpen, OdooBusy
from apps.odoo.protection import CircuitBreaker, ConcurrencyCap, connection_id

pytestmark = pytest.mark.django_db


def test_connection_id_is_stable_and_distinguishes_databases() -> None:
    a, label = connection_id("http://odoo:8069/", "hub")
    assert connection_id("http://odoo:8069", "hub")[0] == a
    assert connection_id("http://odoo:8069", "other")[0] != a
    assert label == "hub@odoo:8069"


def test_cap_hands_out_at_most_n_slots_and_frees_them() -> None:
    # given a cap of 2 that waits only briefly
    cap = ConcurrencyCap(key="t-cap", slots=2, lease_seconds=30, wait_seconds=0.1)
    # when two holders are inside
    with cap.slot(), cap.slot():
        assert cap.holders() == 2
        # then a third waits, then gives up with lock contention (no attempt spent)
        started = time.monotonic()
        with pytest.raises(OdooBusy) as exc_info, cap.slot():
            pass
        assert time.monotonic() - started >= 0.1
        assert exc_info.value.retry_after is not None
    # and once they leave, the slots are free again
    assert cap.holders() == 0
    with cap.slot():
        assert cap.holders() == 1


def test_cap_slot_is_released_when_the_call_fails() -> None:
    cap = ConcurrencyCap(key="t-cap2", slots=1, lease_seconds=30, wait_seconds=0.05)
    with pytest.raises(RuntimeError), cap.slot():
        raise RuntimeError("boom")
    assert cap.holders() == 0


def test_breaker_opens_after_threshold_and_closes_after_a_good_probe(breaker_clock: Any) -> None:
    breaker = CircuitBreaker(key="t-br", label="t", threshold=3, probe_seconds=0.3)
    # given two failures: still closed
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state() == "closed"
    assert breaker.before_call() is False
    # when the third consecutive failure comes
    breaker.record_failure()
    # then calls fail fast, telling when the next probe is due
    assert breaker.state() == "open"
    with pytest.raises(OdooBreakerOpen) as exc_info:
        breaker.before_call()
    assert 0 < exc_info.value.retry_after <= 0.3
    # after the probe interval exactly one caller gets to probe
    breaker_clock.advance(0.35)
    assert breaker.state() == "half-open"
    assert breaker.before_call() is True
    with pytest.raises(OdooBreakerOpen):
        breaker.before_call()
    # and a successful probe closes the breaker
    breaker.record_success()
    assert breaker.state() == "closed"
    assert breaker.before_call() is False


def test_failed_probe_keeps_the_breaker_open_for_another_interval(breaker_clock: Any) -> None:
    breaker = CircuitBreaker(key="t-br2", label="t2", threshold=1, probe_seconds=0.2)
    breaker.record_failure()
    breaker_clock.advance(0.25)
    assert breaker.before_call() is True  # the probe
    breaker.record_failure()  # ...fails
    assert breaker.state() == "open"
    with pytest.raises(OdooBreakerOpen):
        breaker.before_call()


def test_success_resets_the_consecutive_count() -> None:
    breaker = CircuitBreaker(key="t-br3", label="t3", threshold=2, probe_seconds=5)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state() == "closed"
