"""What the fulfilment adapters share: HTTP through the channel account's rate budget,
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
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from django.core.cache import cache

from apps.core import shapes
from apps.core.errors import HubError, PermanentError, RateLimited, TransientError
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

    def answer(self, resp: requests.Response, spec: Any, operation: str, **kw: Any) -> Any:
        """The answer's JSON body checked against ``spec`` (apps.core.shapes)."""
        return self.pub.answer(resp, spec, operation, **kw)

    def graphql(
        self,
        url: str,
        headers: dict[str, str],
        query: str,
        variables: dict[str, Any],
        *,
        cost: float,
        shape: Any,
        operation: str,
    ) -> dict[str, Any]:
        """One GraphQL call; its ``data`` checked against ``shape`` (errors classified by
        apps.core.shapes.graphql_data)."""
        resp = self.request(
            "POST", url, cost=cost, json={"query": query, "variables": variables}, headers=headers
        )
        code = self.channel.code
        return shapes.graphql_data(resp, shape, partner=code, operation=operation, channel=code)


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


# -- lines ------------------------------------------------------------------------------------
def require_lines(ship: ShipmentToSend, *, channel: str) -> None:
    """PermanentError, nothing sent, for a picking without lines."""
    if not ship.lines:
        raise PermanentError(
            f"{channel}: picking {ship.odoo_picking_name} has no lines", channel=channel
        )


def allocate_lines(
    ship: ShipmentToSend,
    items: Sequence[dict[str, Any]],
    left: dict[int, int],
    *,
    channel: str,
    platform: str,
    label: str,
    line_item: Callable[[str], str] = str,
) -> dict[int, int]:
    """The channel's item id (``items[]["id"]`` as an int) -> quantity for the shipment's
    lines. A line goes on the item its channel line id names (``line_item`` maps that id to the
    item's, e.g. a child line to its parent), else on the items of its SKU, spread by what is
    ``left`` on each. PermanentError, nothing sent: no such item (``line_not_found``), or not
    enough left (``already_fulfilled``)."""
    out: dict[int, int] = defaultdict(int)
    for line in ship.lines:
        if line.quantity <= 0:
            continue
        if line.external_line_id:
            wanted = line_item(line.external_line_id)
            matching = [i for i in items if str(i.get("id")) == wanted]
            what = f"{label} {line.external_line_id}"
        else:
            matching = [i for i in items if str(i.get("sku") or "") == line.sku]
            what = f"SKU {line.sku}"
        if not matching:
            raise PermanentError(
                f"{channel}: order {ship.order_number} has no {what} on {platform} (picking "
                f"{ship.odoo_picking_name})",
                channel=channel,
                reason="line_not_found",
            )
        need = int(line.quantity)
        for item in matching:
            iid = int(item["id"])
            take = min(need, left.get(iid, 0) - out[iid])
            if take > 0:
                out[iid] += take
                need -= take
            if not need:
                break
        if need:
            raise PermanentError(
                f"{channel}: order {ship.order_number}: {what} has {int(line.quantity) - need} "
                f"left to ship on {platform}, picking {ship.odoo_picking_name} ships "
                f"{line.quantity} (already shipped on the channel?)",
                channel=channel,
                reason="already_fulfilled",
            )
    return dict(out)


def take_if_fits(need: dict[int, int], items: dict[int, int]) -> bool:
    """An earlier shipment's ``items`` (item id -> quantity) come off ``need`` when all of them
    fit in it (it is adopted whole or not at all); False, ``need`` untouched, otherwise."""
    if not items or any(need.get(k, 0) < q for k, q in items.items()):
        return False
    for k, q in items.items():
        need[k] -= q
    return True


def recorded_ids(ship: ShipmentToSend, *, channel: str, platform: str) -> list[int]:
    """The shipment ids an earlier create recorded (``previous_result["shipment_ids"]``), for a
    tracking update; PermanentError when there are none."""
    ids = [int(i) for i in ship.previous_result.get("shipment_ids") or []]
    if not ids:
        raise PermanentError(
            f"{channel}: no {platform} shipment is recorded for picking "
            f"{ship.odoo_picking_name} (previous_result has no shipment_ids)",
            channel=channel,
        )
    return ids
