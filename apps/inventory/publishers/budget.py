"""A rate budget per channel account, shared by every hub process through the Django cache.

Each channel account (one shop / site / store, identified by its API base URL) has one token
bucket in the shared cache: ``size`` units, restored at ``rate`` units per second. Before a call
a publisher takes the call's cost from it and sleeps until the bucket holds enough; after the
call it feeds the provider's own signal back (Shopify ``throttleStatus``, BigCommerce
``X-Rate-Limit-*``), which replaces our estimate: the provider is the truth, our bucket only keeps
us below it between answers and across processes. WooCommerce and Magento send no signal; their
buckets come from a configured rate (``configured_budget``: ``HUB_WOOCOMMERCE_API_RATE``,
``HUB_MAGENTO_API_RATE``).

The bucket's read-modify-write is guarded by a short lock taken with ``cache.add`` (atomic on
Redis and on the database cache), so concurrent processes never spend the same units twice.

A 429 (or Shopify THROTTLED) pauses the whole account until ``Retry-After`` has passed; the
caller waits it out and repeats the call without spending an attempt. A wait longer than
``HUB_INVENTORY_MAX_WAIT_SECONDS`` is not slept: RateLimited carries ``retry_after`` so the task
re-queues itself instead of holding a worker.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from apps.core.errors import RateLimited

logger = logging.getLogger(__name__)

_STATE_TTL_SECONDS = 6 * 3600
_LOCK_TTL_SECONDS = 5
_LOCK_WAIT_SECONDS = 10.0


def parse_rate(text: str) -> tuple[float, float]:
    """``"10/s"``, ``"600/min"``, ``"20000/h"`` -> (bucket size, units per second)."""
    number, _, unit = text.strip().partition("/")
    count = float(number)
    seconds = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hour": 3600.0}[
        unit.strip().lower() or "s"
    ]
    return count, count / seconds


def configured_budget(channel: Any, kind: str, setting: str, default: str = "10/s") -> RateBudget:
    """The budget of a store that sends no rate signal: one unit a call, at the rate a setting
    names (``"10/s"``), shared by every process that calls the same store."""
    _, per_second = parse_rate(str(getattr(settings, setting, "") or default))
    return RateBudget(
        account=f"{kind}:{channel.api_base_url.rstrip('/')}",
        size=1.0,
        rate=per_second,
        channel_code=channel.code,
    )


@dataclass(frozen=True)
class BudgetState:
    size: float
    rate: float  # units restored per second (0: only a window reset refills, BigCommerce)
    available: float  # at `stamp`
    stamp: float  # wall clock (shared by processes on different machines only roughly)
    paused_until: float = 0.0  # after a 429: nothing at all before this
    reset_at: float = 0.0  # a fixed window's end: the bucket is full again from then on

    def now_available(self, now: float) -> float:
        if now < self.paused_until:
            return 0.0
        base, since_stamp = self.available, max(self.stamp, self.paused_until)
        if self.reset_at and now >= self.reset_at:
            base, since_stamp = self.size, max(since_stamp, self.reset_at)
        return min(self.size, base + max(0.0, now - since_stamp) * self.rate)

    def wait_for(self, need: float, now: float) -> float:
        """Seconds until `need` units are available (inf if nothing will ever refill)."""
        start = max(now, self.paused_until)
        have = self.now_available(start)
        if have >= need:
            return start - now
        if self.rate > 0:
            return start - now + (need - have) / self.rate
        if self.reset_at > start:
            return self.reset_at - now
        return float("inf")

    def spent(self, cost: float, now: float) -> BudgetState:
        return BudgetState(
            self.size,
            self.rate,
            self.now_available(now) - cost,
            now,
            self.paused_until,
            self.reset_at if self.reset_at > now else 0.0,
        )


class RateBudget:
    """The shared bucket of one channel account.

    ``reserve`` is a safety margin kept in the bucket (units we never spend), so that a call
    another client of the same account makes (the shop's own apps share Shopify's and
    BigCommerce's limits) does not push us into a 429.
    """

    def __init__(
        self,
        *,
        account: str,
        size: float,
        rate: float,
        channel_code: str = "",
        reserve: float = 0.0,
        max_wait: float | None = None,
    ) -> None:
        digest = hashlib.sha256(account.encode()).hexdigest()[:20]
        self.key = f"inventory:budget:{digest}"
        self._lock_key = f"{self.key}:lock"
        self.default_size = float(size)
        self.default_rate = float(rate)
        self.channel_code = channel_code
        self.reserve = float(reserve)
        self.max_wait = float(
            max_wait
            if max_wait is not None
            else getattr(settings, "HUB_INVENTORY_MAX_WAIT_SECONDS", 30.0)
        )
        self.waited = 0.0  # seconds this instance slept for budget (benchmarks, logs)

    # -- state ----------------------------------------------------------------------------------
    def _read(self) -> BudgetState:
        raw: Any = cache.get(self.key)
        if isinstance(raw, dict):
            try:
                return BudgetState(**raw)
            except TypeError:
                pass
        return BudgetState(self.default_size, self.default_rate, self.default_size, time.time())

    def _write(self, state: BudgetState) -> None:
        cache.set(self.key, state.__dict__.copy(), timeout=_STATE_TTL_SECONDS)

    def _locked(self) -> _Lock:
        return _Lock(self._lock_key)

    def state(self) -> BudgetState:
        return self._read()

    # -- before a call --------------------------------------------------------------------------
    def take(self, cost: float) -> None:
        """Spend ``cost`` units, sleeping until the bucket holds them (plus the reserve).

        Raises RateLimited with ``retry_after`` when the wait would exceed ``max_wait``.
        """
        while True:
            with self._locked():
                state = self._read()
                now = time.time()
                # A call costlier than the whole bucket can never fit: let it go when the bucket
                # is full rather than wait forever (the provider then decides).
                need = min(cost + self.reserve, state.size)
                if state.now_available(now) >= need:
                    self._write(state.spent(cost, now))
                    return
                wait = state.wait_for(need, now)
            if wait > self.max_wait:
                raise RateLimited(
                    f"{self.channel_code}: rate budget exhausted, next call in {wait:.1f}s",
                    retry_after=wait if wait != float("inf") else self.max_wait,
                    channel=self.channel_code,
                )
            # Sleep a little past the computed point: our clock and the provider's differ.
            sleep = min(wait + 0.02, self.max_wait)
            self.waited += sleep
            time.sleep(sleep)

    # -- after a call ---------------------------------------------------------------------------
    def observe(
        self,
        *,
        available: float | None = None,
        size: float | None = None,
        rate: float | None = None,
        reset_in: float | None = None,
    ) -> None:
        """Adopt the provider's own view of the bucket (it counts other clients too).

        ``reset_in``: seconds until a fixed window refills the bucket (BigCommerce).
        """
        with self._locked():
            state = self._read()
            now = time.time()
            new_size = float(size) if size else state.size
            new_rate = float(rate) if rate is not None else state.rate
            have = state.now_available(now) if available is None else float(available)
            reset_at = now + reset_in if reset_in is not None else state.reset_at
            self._write(
                BudgetState(
                    new_size, new_rate, min(have, new_size), now, state.paused_until, reset_at
                )
            )

    def pause(self, seconds: float) -> None:
        """A 429/THROTTLED: nothing more for this account until ``seconds`` have passed."""
        with self._locked():
            state = self._read()
            now = time.time()
            until = max(state.paused_until, now + max(0.0, seconds))
            self._write(BudgetState(state.size, state.rate, 0.0, now, until, state.reset_at))

    def wait_out(self, seconds: float) -> None:
        """Pause the account and sleep the pause away, or raise RateLimited if it is too long."""
        self.pause(seconds)
        if seconds > self.max_wait:
            raise RateLimited(
                f"{self.channel_code}: channel asked us to wait {seconds:.1f}s",
                retry_after=seconds,
                channel=self.channel_code,
            )
        self.waited += seconds
        time.sleep(seconds)

    def clear(self) -> None:
        cache.delete(self.key)


class _Lock:
    """A short mutual-exclusion lock on one cache key (``cache.add`` is atomic)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.token = uuid.uuid4().hex

    def __enter__(self) -> None:
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while not cache.add(self.key, self.token, timeout=_LOCK_TTL_SECONDS):
            if time.monotonic() > deadline:
                # A holder that died leaves the key until its TTL; past our wait we proceed:
                # the provider's signal corrects any double spend on the next answer.
                logger.warning("rate budget lock %s not acquired; proceeding", self.key)
                return
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        if cache.get(self.key) == self.token:
            cache.delete(self.key)
