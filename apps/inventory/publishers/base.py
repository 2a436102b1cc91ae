"""What every HTTP publisher shares: one call path through the rate budget, with 429s waited out.

A call takes its cost from the account's budget, goes out, is counted
(``hub_inventory_channel_calls_total{channel,outcome}``), and feeds the provider's rate signal
back. A 429 pauses the account for ``Retry-After`` and the same call is repeated: it does not
spend an attempt, because being told to wait says nothing about whether the write can succeed.
Everything else is classified by ``apps.sales_channels.clients._check``.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import requests
from django.core.cache import cache

from apps.core import shapes
from apps.core.errors import RateLimited, TransientError
from apps.inventory.metrics import CHANNEL_CALLS, RATE_LIMITED
from apps.sales_channels.clients import TIMEOUT, _check
from apps.sales_channels.models import Channel

from . import Publisher
from .budget import RateBudget

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Consecutive 429s on one call before we hand the wait to the task queue instead.
MAX_CONSECUTIVE_429 = 8
# Resolved ids (variant -> inventory item, variation -> parent, ...) change only when the
# channel's catalog does; a day keeps repeat publications free of lookups.
RESOLVE_TTL_SECONDS = 24 * 3600


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def count_call(channel: Channel, outcome: str) -> None:
    CHANNEL_CALLS.labels(channel.code, outcome).inc()
    if outcome == "rate_limited":
        RATE_LIMITED.labels(channel.code).inc()


def retry_after_seconds(resp: requests.Response, default: float = 1.0) -> float:
    """Seconds the provider asked us to wait (Retry-After, X-Retry-After or a reset in ms)."""
    for name in ("Retry-After", "X-Retry-After"):
        value = resp.headers.get(name)
        if value:
            try:
                return max(0.0, float(value))
            except ValueError:
                pass
    reset_ms = resp.headers.get("X-Rate-Limit-Time-Reset-Ms")
    if reset_ms and reset_ms.isdigit():
        return int(reset_ms) / 1000.0
    return default


class HttpPublisher(Publisher):
    """A publisher that talks HTTP to one channel account through its shared rate budget."""

    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        self.channel = channel
        self.session = session or requests.Session()
        self.calls = 0
        self.budget = self.make_budget()

    @abc.abstractmethod
    def make_budget(self) -> RateBudget:
        """The channel account's shared rate budget (every kind defines its own)."""

    def observe(self, resp: requests.Response) -> None:
        """Feed the provider's rate signal back into the budget (BigCommerce headers, ...)."""

    def throttle_wait(self, resp: requests.Response) -> float | None:
        """Seconds to wait when the answer says "too many requests", else None."""
        return retry_after_seconds(resp) if resp.status_code == 429 else None

    # Resolved ids are kept as one map per kind and account, not one key per SKU: the database
    # cache (the embedded default) culls past its MAX_ENTRIES, and per-SKU keys would evict
    # other processes' locks. Two processes updating a map at once may drop an entry, which
    # only costs a lookup later.
    def _map_key(self, kind: str) -> str:
        return f"inventory:resolve:{kind}:{self.budget.key}"

    def _map(self, kind: str) -> dict[str, Any]:
        found = cache.get(self._map_key(kind))
        return found if isinstance(found, dict) else {}

    def cached(self, kind: str, ids: Sequence[str]) -> dict[str, Any]:
        known = self._map(kind)
        return {i: known[i] for i in ids if i in known}

    def key_for(self, kind: str, value: str) -> str | None:
        """The cached id whose resolved value is ``value`` (or a gid ending in ``/value``)."""
        tail = f"/{value}"
        for key, known in self._map(kind).items():
            if str(known) == value or str(known).endswith(tail):
                return str(key)
        return None

    def remember(self, kind: str, values: dict[str, Any]) -> None:
        known = self._map(kind)
        if values and any(known.get(k) != v for k, v in values.items()):
            known.update(values)
            cache.set(self._map_key(kind), known, timeout=RESOLVE_TTL_SECONDS)

    def forget(self, kind: str, ids: Sequence[str]) -> None:
        known = self._map(kind)
        if any(i in known for i in ids):
            for i in ids:
                known.pop(i, None)
            cache.set(self._map_key(kind), known, timeout=RESOLVE_TTL_SECONDS)

    def answer(self, resp: requests.Response, spec: Any, operation: str, **kw: Any) -> Any:
        """The answer's JSON body checked against ``spec`` (apps.core.shapes)."""
        code = self.channel.code
        return shapes.decode(resp, spec, partner=code, operation=operation, channel=code, **kw)

    def send(self, method: str, url: str, *, cost: float = 1.0, **kw: Any) -> requests.Response:
        """One call, repeated after each 429 without spending an attempt; classified."""
        throttled = 0
        while True:
            self.budget.take(cost)
            try:
                resp = self.session.request(method, url, timeout=TIMEOUT, **kw)
            except (requests.ConnectionError, requests.Timeout) as exc:
                count_call(self.channel, "error")
                raise TransientError(
                    f"{self.channel.code}: {type(exc).__name__} calling {url.split('?')[0]}",
                    channel=self.channel.code,
                ) from exc
            self.calls += 1
            self.observe(resp)
            wait = self.throttle_wait(resp)
            if wait is not None:
                count_call(self.channel, "rate_limited")
                throttled += 1
                if throttled >= MAX_CONSECUTIVE_429:
                    raise RateLimited(
                        f"{self.channel.code}: still rate limited after {throttled} waits",
                        retry_after=wait,
                        channel=self.channel.code,
                    )
                logger.info(
                    "%s: throttled, waiting %.1fs before repeating", self.channel.code, wait
                )
                self.budget.wait_out(wait)
                continue
            count_call(self.channel, "ok" if resp.status_code < 400 else "error")
            _check(resp, channel=self.channel)
            return resp
