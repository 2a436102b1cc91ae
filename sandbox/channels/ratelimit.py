"""Rate limiters, one per platform style. Thread-safe; all times from ``time.monotonic``.

- ``LeakyBucket``: Shopify. GraphQL uses it with points (cost), REST with one unit per request.
- ``RequestsPerSecond``: a host/WAF in front of WooCommerce (core WooCommerce has none).
- ``FixedWindowQuota``: BigCommerce's per-store quota refreshed every window.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0  # seconds until the request would be allowed


class LeakyBucket:
    """A bucket of ``size`` units refilled at ``rate`` units per second.

    Shopify's GraphQL throttle checks the *requested* cost against what is available, takes it,
    and refunds the difference once the actual cost is known; ``take``/``refund`` mirror that.
    """

    def __init__(self, size: float, rate: float) -> None:
        self._lock = threading.Lock()
        self.size = float(size)
        self.rate = float(rate)
        self._available = float(size)
        self._stamp = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self._available = min(self.size, self._available + (now - self._stamp) * self.rate)
        self._stamp = now

    def configure(self, size: float | None = None, rate: float | None = None) -> None:
        with self._lock:
            self._refill()
            if size is not None:
                self.size = float(size)
            if rate is not None:
                self.rate = float(rate)
            self._available = min(self._available, self.size)

    def reset(self) -> None:
        with self._lock:
            self._available = self.size
            self._stamp = time.monotonic()

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._available

    def take(self, units: float) -> Decision:
        with self._lock:
            self._refill()
            if units <= self._available:
                self._available -= units
                return Decision(True)
            missing = units - self._available
            wait = missing / self.rate if self.rate > 0 else math.inf
            return Decision(False, wait)

    def refund(self, units: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.size, self._available + max(0.0, units))

    def used(self) -> int:
        """Units currently in the bucket, as Shopify's REST call-limit header counts them."""
        with self._lock:
            self._refill()
            return math.ceil(self.size - self._available)


class RequestsPerSecond:
    """Sliding one-second window allowing ``rps`` requests; ``rps <= 0`` disables it."""

    def __init__(self, rps: float = 0.0) -> None:
        self._lock = threading.Lock()
        self.rps = float(rps)
        self._hits: deque[float] = deque()

    def configure(self, rps: float) -> None:
        with self._lock:
            self.rps = float(rps)
            self._hits.clear()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def hit(self) -> Decision:
        with self._lock:
            if self.rps <= 0:
                return Decision(True)
            now = time.monotonic()
            while self._hits and now - self._hits[0] >= 1.0:
                self._hits.popleft()
            if len(self._hits) < self.rps:
                self._hits.append(now)
                return Decision(True)
            return Decision(False, max(0.0, 1.0 - (now - self._hits[0])))


class FixedWindowQuota:
    """``quota`` requests per ``window_ms``; the window starts with the first request in it."""

    def __init__(self, quota: int, window_ms: int) -> None:
        self._lock = threading.Lock()
        self.quota = int(quota)
        self.window_ms = int(window_ms)
        self._start = time.monotonic()
        self._used = 0

    def configure(self, quota: int | None = None, window_ms: int | None = None) -> None:
        with self._lock:
            if quota is not None:
                self.quota = int(quota)
            if window_ms is not None:
                self.window_ms = int(window_ms)
            self._start = time.monotonic()
            self._used = 0

    def reset(self) -> None:
        with self._lock:
            self._start = time.monotonic()
            self._used = 0

    def _roll(self, now: float) -> None:
        if (now - self._start) * 1000.0 >= self.window_ms:
            self._start = now
            self._used = 0

    def hit(self) -> tuple[Decision, dict[str, int]]:
        """Count one request; returns the decision and the state for the X-Rate-Limit headers."""
        with self._lock:
            now = time.monotonic()
            self._roll(now)
            allowed = self._used < self.quota
            if allowed:
                self._used += 1
            reset_ms = max(0, int(self.window_ms - (now - self._start) * 1000.0))
            state = {
                "left": max(0, self.quota - self._used),
                "reset_ms": reset_ms,
                "quota": self.quota,
                "window_ms": self.window_ms,
            }
            return Decision(allowed, reset_ms / 1000.0), state
