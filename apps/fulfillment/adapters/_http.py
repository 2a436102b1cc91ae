"""What the three fulfilment adapters share: HTTP through the channel account's rate budget,
call counting, attempt marks and carrier-name keys.

- `ChannelHttp` sends through an inventory publisher (composition): the same per-account
  `RateBudget` (same cache key, so stock publication and fulfilment spend one budget), the same
  provider feedback (`observe`: Shopify throttleStatus, BigCommerce X-Rate-Limit-*) and the same
  handling of "too many requests" as `HttpPublisher.send`: a short wait is waited out and the
  call repeated without spending an attempt; a wait longer than the budget's `max_wait` raises
  `RateLimited(retry_after=...)` for the work row. Unlike `send`, a caller may accept some
  statuses as answers (`allow=(404,)`) instead of errors: WooCommerce's `rest_no_route` says
  whether the Shipment Tracking extension is installed.
- Attempt marks: none of the platforms has an idempotency key, so an adapter reads what exists
  before it writes whenever an earlier try may have written. It knows that from the shipment
  (`retry`, `previous_result`) and from its own mark, set in the shared cache just before a
  write and kept for two weeks: a worker that dies between the write and the database commit
  leaves the mark behind, and the next try reads first.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from django.core.cache import cache

from apps.core.errors import HubError, RateLimited, TransientError
from apps.inventory.publishers.base import MAX_CONSECUTIVE_429, HttpPublisher, count_call
from apps.sales_channels.clients import TIMEOUT, _check

from . import ShipmentToSend

logger = logging.getLogger(__name__)

T = TypeVar("T")

MARK_TTL_SECONDS = 14 * 24 * 3600


class ChannelHttp:
    """One adapter's calls to one channel account, counted."""

    def __init__(self, publisher: HttpPublisher) -> None:
        self.pub = publisher
        self.channel = publisher.channel
        self.calls = 0

    def request(
        self,
        method: str,
        url: str,
        *,
        cost: float = 1.0,
        allow: tuple[int, ...] = (),
        **kw: Any,
    ) -> requests.Response:
        """One call through the shared budget; 429/THROTTLED waited out and repeated; classified
        (statuses in ``allow`` are returned as they are)."""
        pub = self.pub
        throttled = 0
        while True:
            pub.budget.take(cost)
            try:
                resp = pub.session.request(method, url, timeout=TIMEOUT, **kw)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # The request went out: whether it was carried out is unknown, so it counts.
                self.calls += 1
                count_call(self.channel, "error")
                raise TransientError(
                    f"{self.channel.code}: {type(exc).__name__} calling {method} "
                    f"{url.split('?')[0]}",
                    channel=self.channel.code,
                ) from exc
            self.calls += 1
            pub.observe(resp)
            wait = pub.throttle_wait(resp)
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
                pub.budget.wait_out(wait)  # raises RateLimited when the wait is too long
                continue
            count_call(self.channel, "ok" if resp.status_code < 400 else "error")
            if resp.status_code in allow:
                return resp
            _check(resp, channel=self.channel)
            return resp


@contextmanager
def operation(http: ChannelHttp, ship: ShipmentToSend, what: str) -> Iterator[Callable[[], int]]:
    """Counts the calls of one adapter operation; a classified error leaving it carries the
    inbox context (channel, order number, picking, tracking numbers) and the calls made."""
    start = http.calls
    try:
        yield lambda: http.calls - start
    except HubError as exc:
        ctx = exc.context
        ctx.setdefault("channel", ship.channel_code)
        ctx.setdefault("order_number", ship.order_number)
        ctx.setdefault("order_external_id", ship.order_external_id)
        ctx.setdefault("odoo_picking_name", ship.odoo_picking_name)
        ctx.setdefault("tracking_number", ", ".join(ship.tracking_numbers))
        ctx.setdefault("operation", what)
        ctx["channel_calls"] = http.calls - start
        raise


# -- attempt marks ----------------------------------------------------------------------------
def _mark_key(ship: ShipmentToSend, op: str) -> str:
    raw = "|".join((ship.channel_code, ship.order_external_id, ship.odoo_picking_name, op))
    return "fulfillment:attempt:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def mark_attempt(ship: ShipmentToSend, op: str, data: dict[str, Any] | None = None) -> None:
    """Just before a write: an earlier try of ``op`` for this shipment may reach the channel."""
    cache.set(_mark_key(ship, op), {"at": time.time(), **(data or {})}, MARK_TTL_SECONDS)


def attempt_mark(ship: ShipmentToSend, op: str) -> dict[str, Any] | None:
    found = cache.get(_mark_key(ship, op))
    return found if isinstance(found, dict) else None


def may_have_written(ship: ShipmentToSend, op: str) -> bool:
    """Read before writing? Yes when the caller says this is a retry, hands us an earlier
    result, or our own mark says a write was attempted."""
    return bool(ship.retry or ship.previous_result or attempt_mark(ship, op) is not None)


# -- names ------------------------------------------------------------------------------------
def name_key(name: str) -> str:
    """Case- and punctuation-insensitive key of a carrier name: "Fed-Ex" -> "fedex"."""
    return re.sub(r"[^a-z0-9]", "", name.casefold())


def first_error(errors: Any) -> str:
    """The messages of Shopify ``userErrors`` as one line."""
    if not isinstance(errors, list):
        return str(errors)
    return "; ".join(
        str(e.get("message") or e)
        + (f" ({'.'.join(map(str, e['field']))})" if e.get("field") else "")
        if isinstance(e, dict)
        else str(e)
        for e in errors
    )
