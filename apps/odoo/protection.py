"""Protecting Odoo: a concurrency cap and a circuit breaker shared by every hub process.

Both keep their state in the Django cache (Redis in production, the database cache in the
embedded default). The only primitive relied on for mutual exclusion is ``cache.add``, which is
atomic on both backends: Redis ``SET NX``, and the database cache's primary key.

Concurrency cap: ``max_concurrency`` slot keys per Odoo connection. A call takes a free slot with
``cache.add(slot, token, timeout=lease)`` and deletes it afterwards. The lease outlives the longest
possible call (connect + read timeout), so a process killed mid-call frees its slot by expiry
rather than holding it forever. ``acquire`` / ``SlotLease`` hold a slot across many calls (the
order push's slots per Odoo, apps/orders/pacing.py): the holder renews the lease before each.

Circuit breaker: counts consecutive transient failures. At the threshold it opens: calls fail at
once with OdooBreakerOpen (``retry_after`` = seconds to the next probe) instead of piling onto a
sick Odoo. One call per probe interval is let through (a claim key named after the interval is
taken with ``add``, so exactly one process wins it); a success closes the breaker, a failure
keeps it open for another interval. Counting across processes is approximate (the database
cache's incr is not atomic), which only moves the opening point by a failure or two.

Shared login: the uid a JSON-RPC login returned, kept in the cache (``SharedLogin``) so that a
new worker process (a restart, a recycled child, a process that never called Odoo before) does
not log in again. A login costs Odoo a password hash (0.3 to 0.4 s of its CPU on the 2-core bench
machine); one in the middle of a push batch is that much longer a batch. The key is an HMAC of
the URL, database, user and secret under the hub's SECRET_KEY, so it says nothing about the
secret; the value is only the uid. Odoo still checks the secret on every call, so a uid shared
for the wrong secret fails the call, which logs in again (``forget``).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from django.core.cache import cache
from django.utils.crypto import salted_hmac

from apps.core.errors import INFRASTRUCTURE_ERRORS
from apps.core.metrics import ODOO_BREAKER_OPEN

from .errors import OdooBreakerOpen, OdooBusy


def _now() -> float:
    """Wall-clock seconds for the breaker's probe times (shared across processes, so not
    monotonic). One seam, so tests can move time instead of sleeping through an interval."""
    return time.time()


logger = logging.getLogger(__name__)

BreakerState = Literal["closed", "open", "half-open"]

# Longest a cap key may outlive its holder, past the call's own timeouts.
_LEASE_MARGIN_SECONDS = 10.0
# Breaker keys live long enough to outlast any outage we care about, yet expire on their own.
_BREAKER_TTL_SECONDS = 24 * 3600
_CLAIM_TTL_SECONDS = 3600


def connection_id(url: str, db: str) -> tuple[str, str]:
    """(cache key part, metric label) identifying one Odoo connection."""
    digest = hashlib.sha256(f"{url.rstrip('/')}|{db}".encode()).hexdigest()[:16]
    host = urlsplit(url).netloc or url
    return digest, f"{db}@{host}"


@dataclass(frozen=True)
class SlotLease:
    """One held slot of a ConcurrencyCap: its key and the holder's token."""

    key: str
    token: str
    lease_seconds: float

    def extend(self) -> None:
        """Restart the lease (a holder making many calls in a row), only while it is ours."""
        if cache.get(self.key) == self.token:
            cache.touch(self.key, self.lease_seconds)

    def release(self) -> None:
        # Delete only our own token: if the lease expired during a very long call, the key may
        # already belong to someone else.
        if cache.get(self.key) == self.token:
            cache.delete(self.key)


@dataclass(frozen=True)
class ConcurrencyCap:
    key: str
    slots: int
    lease_seconds: float
    wait_seconds: float
    poll_seconds: float = 0.02
    max_poll_seconds: float = 0.2

    def _slot_keys(self) -> list[str]:
        return [f"odoo:{self.key}:slot:{i}" for i in range(self.slots)]

    def acquire(self, *, wait_seconds: float | None = None) -> SlotLease | None:
        """Take a free slot, waiting up to ``wait_seconds`` (default: the cap's); None if all
        stayed taken. The caller releases it (``SlotLease.release``)."""
        token = uuid.uuid4().hex
        keys = self._slot_keys()
        deadline = time.monotonic() + (self.wait_seconds if wait_seconds is None else wait_seconds)
        delay = self.poll_seconds
        while True:
            # A random start spreads processes over the slots instead of all racing for slot 0.
            start = random.randrange(self.slots)
            for i in range(self.slots):
                key = keys[(start + i) % self.slots]
                if cache.add(key, token, timeout=self.lease_seconds):
                    return SlotLease(key, token, self.lease_seconds)
            if time.monotonic() >= deadline:
                return None
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 1.5, self.max_poll_seconds)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the shared slots for the duration of the block."""
        if self.slots <= 0:  # 0 disables the cap (for a dedicated Odoo in development)
            yield
            return
        held = self.acquire()
        if held is None:
            # Contention says nothing about whether the call can succeed, so it is retried
            # soon and does not spend an attempt.
            raise OdooBusy(
                f"All {self.slots} Odoo call slots are busy", retry_after=1.0, slots=self.slots
            )
        try:
            yield
        finally:
            held.release()

    def holders(self) -> int:
        return len(cache.get_many(self._slot_keys()))


@dataclass(frozen=True)
class CircuitBreaker:
    key: str
    label: str
    threshold: int
    probe_seconds: float

    @property
    def _open_key(self) -> str:
        return f"odoo:{self.key}:breaker:opened"

    @property
    def _fail_key(self) -> str:
        return f"odoo:{self.key}:breaker:failures"

    @property
    def _probe_key(self) -> str:
        return f"odoo:{self.key}:breaker:probe"

    def before_call(self) -> bool:
        """Raise OdooBreakerOpen while open; True if this call is the half-open probe.

        The probe time is kept in the value, not in a key's expiry: the database cache stores
        expiry in whole seconds, which would make sub-interval timing unreliable.
        """
        values = cache.get_many([self._open_key, self._probe_key])
        if self._open_key not in values:
            return False
        now = _now()
        probe_at = values.get(self._probe_key)
        if not isinstance(probe_at, (int, float)):
            probe_at = now
        if now >= probe_at:
            # Exactly one process wins the probe of this interval: add() on a key named after it.
            if cache.add(f"{self._probe_key}:{probe_at!r}", 1, timeout=_CLAIM_TTL_SECONDS):
                cache.set(self._probe_key, now + self.probe_seconds, timeout=_BREAKER_TTL_SECONDS)
                logger.info("Odoo breaker %s half-open: probing", self.label)
                return True
            probe_at = now + self.probe_seconds  # someone else is probing right now
        ODOO_BREAKER_OPEN.labels(self.label).set(1)
        raise OdooBreakerOpen(
            "Odoo circuit breaker is open",
            retry_after=max(probe_at - now, 0.1),
            connection=self.label,
        )

    def record_success(self) -> None:
        values = cache.get_many([self._open_key, self._fail_key])
        if not values:
            return  # the common case costs one read and no write
        cache.delete_many([self._open_key, self._fail_key, self._probe_key])
        ODOO_BREAKER_OPEN.labels(self.label).set(0)
        if self._open_key in values:
            logger.warning("Odoo breaker %s closed", self.label)

    def record_failure(self) -> None:
        cache.add(self._fail_key, 0, timeout=_BREAKER_TTL_SECONDS)
        try:
            failures = cache.incr(self._fail_key)
        except ValueError:  # expired between add and incr
            cache.set(self._fail_key, 1, timeout=_BREAKER_TTL_SECONDS)
            failures = 1
        if failures < self.threshold:
            return
        now = _now()
        if cache.add(self._open_key, now, timeout=_BREAKER_TTL_SECONDS):
            logger.error("Odoo breaker %s opened after %s failures", self.label, failures)
        # Opening, or a failed probe: the next probe waits one full interval.
        cache.set(self._probe_key, now + self.probe_seconds, timeout=_BREAKER_TTL_SECONDS)
        ODOO_BREAKER_OPEN.labels(self.label).set(1)

    def state(self) -> BreakerState:
        values = cache.get_many([self._open_key, self._probe_key])
        if self._open_key not in values:
            ODOO_BREAKER_OPEN.labels(self.label).set(0)
            return "closed"
        ODOO_BREAKER_OPEN.labels(self.label).set(1)
        # Open and the interval is over: the next call will be the probe.
        probe_at = values.get(self._probe_key)
        waiting = isinstance(probe_at, (int, float)) and _now() < probe_at
        return "open" if waiting else "half-open"

    def reset(self) -> None:
        cache.delete_many([self._open_key, self._fail_key, self._probe_key])
        ODOO_BREAKER_OPEN.labels(self.label).set(0)


class SharedLogin:
    """The uid of one (Odoo URL, database, user, secret), shared by every hub process."""

    TTL_SECONDS = 6 * 3600

    def __init__(self, url: str, db: str, user: str, secret: str) -> None:
        who = f"{url.rstrip('/')}|{db}|{user}|{secret}"
        self.key = "hub:odoo:uid:" + salted_hmac("hub.odoo.login", who).hexdigest()[:32]

    def get(self) -> int | None:
        try:
            uid = cache.get(self.key)
        except INFRASTRUCTURE_ERRORS:
            return None  # the cache is down: log in, as without it
        return uid if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0 else None

    def put(self, uid: int) -> None:
        try:
            cache.set(self.key, uid, timeout=self.TTL_SECONDS)
        except INFRASTRUCTURE_ERRORS:
            logger.info("Odoo login not shared: the cache is down")

    def forget(self) -> None:
        try:
            cache.delete(self.key)
        except INFRASTRUCTURE_ERRORS:
            logger.info("shared Odoo login not forgotten: the cache is down")
