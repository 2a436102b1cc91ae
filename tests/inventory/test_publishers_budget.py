"""The rate budget lives in the shared cache: what one process spends, every other one sees."""

from __future__ import annotations

import time
from typing import Any

import pytest

from apps.core.errors import RateLimited
from apps.inventory.publishers.budget import RateBudget, parse_rate
from tests.inventory.publish_helpers import fresh_cache

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def two_processes(**kw: Any) -> tuple[RateBudget, RateBudget]:
    """Two budgets of one account, as two worker processes hold them: only the cache is shared."""
    a = RateBudget(account="shop-a", channel_code="a", **kw)
    b = RateBudget(account="shop-a", channel_code="b", **kw)
    return a, b


def test_what_one_spends_the_other_waits_for() -> None:
    a, b = two_processes(size=5, rate=20)
    for _ in range(5):
        a.take(1)
    assert a.waited == 0
    started = time.monotonic()
    b.take(2)  # nothing left: two units at 20/s is 0.1 s
    assert b.waited >= 0.09 and time.monotonic() - started >= 0.09


def test_the_providers_signal_replaces_the_estimate_for_everyone() -> None:
    a, b = two_processes(size=1000, rate=50)
    a.observe(available=3, size=40, rate=2)  # e.g. Shopify's throttleStatus
    state = b.state()
    assert (state.size, state.rate) == (40, 2) and state.available <= 3.1


def test_a_429_pauses_the_account_and_a_long_wait_is_handed_to_the_queue() -> None:
    a, b = two_processes(size=10, rate=10, max_wait=0.5)
    a.pause(5)
    with pytest.raises(RateLimited) as exc:
        b.take(1)
    assert exc.value.retry_after is not None and 4 < exc.value.retry_after <= 5.1
    with pytest.raises(RateLimited):
        a.wait_out(3)  # longer than max_wait: not slept


def test_a_fixed_window_refills_at_its_reset() -> None:
    a, b = two_processes(size=150, rate=5)
    a.observe(available=0, size=150, rate=0, reset_in=0.2)  # BigCommerce: nothing left
    b.take(1)
    assert 0.15 <= b.waited <= 0.5


def test_parse_rate() -> None:
    assert parse_rate("10/s") == (10, 10)
    assert parse_rate("600/min") == (600, 10)
    assert parse_rate("7200/h") == (7200, 2)
