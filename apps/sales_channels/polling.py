"""Polling backstop, the channel side: list recently updated orders and shape each as the webhook
delivery that would have carried it; the per-channel watermark. The recording (ledger) side is
`apps.webhooks.backstop`, one layer up.

Webhooks die (Shopify deletes a subscription that keeps failing, WooCommerce disables it), so a
beat fan-out rings one poll per channel. A poll reads the orders updated since the channel's
watermark minus an overlap, oldest change first, page by page, and records each order through
`apps.ledger.services.inbound_event_record` with the topic, body and entity key its webhook would
have carried: the order handlers cannot tell a polled order from a delivered one.

Dedupe, per platform:

- WooCommerce: the webhook's own key, `order:<id>:<date_modified_gmt>`. A poll of a state the
  webhook already delivered, and every overlap re-read, is a ledger duplicate.
- Shopify: webhooks dedupe on `X-Shopify-Webhook-Id`, which a poll cannot know. The poll's key is
  `poll:order:<id>:<updated_at>` (overlap re-reads are duplicates), and an order whose recorded
  events already include one with this `updated_at` or a newer one is skipped before recording.
- BigCommerce: the webhook body is thin (`{type: order, id}`) and the handler fetches the order.
  An event for the order received at or after its `date_modified` has already fetched a state at
  least this new, so the poll skips it; otherwise it records `poll:order:<id>:<date_modified>`.

Refunds: the order handlers of polled orders are followed by a refund check (apps.returns.handlers,
one layer up): WooCommerce's `refunds[]` is in the body already; a Shopify order shows its refunds
(`refunds[]`, else its refunded financial status); the thin BigCommerce body cannot, so its polled
event carries the list's `refunded_amount` in the `x-hub-refunded-amount` header (the body stays
exactly the webhook's). Only an order showing refunds the hub lacks costs one `refunds_read`.

A webhook landing between that check and the poll's insert can still make two events of one
order version; order_ingest is idempotent per version, so that costs a handler run, not an order.

Crash safety: each page is recorded and the watermark advanced in ONE transaction, so a crash
mid-run leaves the watermark at the last page that is durable; the next run starts there minus the
overlap. The watermark is the platform's own `updated_at`, never our clock: skew cannot skip rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import PermanentError

from . import clients
from .clients import parse_iso, parse_rfc2822
from .models import Channel, ChannelSyncState

logger = logging.getLogger(__name__)

POLL_HEADER = "x-hub-source"
MAGENTO_DATE = "%Y-%m-%d %H:%M:%S"
REFUNDED_HEADER = "x-hub-refunded-amount"


class RecordedEvent(Protocol):
    """What the covered-checks read of a recorded ledger event (apps.ledger.InboundEvent)."""

    topic: str
    body: Any
    received_at: dt.datetime


@dataclass(frozen=True)
class PolledOrder:
    """One order from a list call, in the shape its webhook delivery would be recorded."""

    order_id: str
    version: dt.datetime  # the platform's modification time of this state
    topic: str
    dedupe_key: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Source:
    """How one platform's orders are listed and turned into webhook-shaped events."""

    pages: Callable[..., Iterator[list[dict[str, Any]]]]
    event: Callable[[Channel, dict[str, Any]], PolledOrder]
    # Was this version already covered by a recorded event of the order? None: the dedupe key is
    # the webhook's own, the ledger decides.
    covered: Callable[[RecordedEvent, PolledOrder], bool] | None


def _shopify_event(channel: Channel, order: dict[str, Any]) -> PolledOrder:
    version = parse_iso(order.get("updated_at"))
    if version is None or not order.get("id"):
        raise PermanentError(f"{channel.code}: a polled Shopify order has no id or updated_at")
    oid = str(order["id"])
    stamp = version.astimezone(dt.UTC).isoformat()
    return PolledOrder(
        oid,
        version,
        "orders/updated",
        f"poll:order:{oid}:{stamp}",
        json.dumps(order).encode(),
        {
            POLL_HEADER: "poll",
            "x-shopify-topic": "orders/updated",
            "x-shopify-shop-domain": urlsplit(channel.api_base_url).netloc,
            "content-type": "application/json",
        },
    )


def _shopify_covered(event: RecordedEvent, polled: PolledOrder) -> bool:
    if not event.topic.startswith("orders/"):
        return False
    try:
        body = json.loads(bytes(event.body))
    except ValueError:
        return False
    seen = parse_iso(body.get("updated_at")) if isinstance(body, dict) else None
    return seen is not None and seen >= polled.version


def _woocommerce_event(channel: Channel, order: dict[str, Any]) -> PolledOrder:
    modified = order.get("date_modified_gmt")
    version = parse_iso(modified)
    if version is None or not order.get("id"):
        raise PermanentError(f"{channel.code}: a polled WooCommerce order has no id or date")
    oid = str(order["id"])
    return PolledOrder(
        oid,
        version,
        "order.updated",
        # Exactly the key apps.webhooks.receivers gives an order.* delivery of this state.
        f"order:{oid}:{modified}",
        json.dumps(order).encode(),
        {
            POLL_HEADER: "poll",
            "x-wc-webhook-topic": "order.updated",
            "x-wc-webhook-resource": "order",
            "x-wc-webhook-event": "updated",
            "content-type": "application/json",
        },
    )


def _bigcommerce_event(channel: Channel, order: dict[str, Any]) -> PolledOrder:
    version = parse_rfc2822(order.get("date_modified"))
    if version is None or not order.get("id"):
        raise PermanentError(f"{channel.code}: a polled BigCommerce order has no id or date")
    oid = int(order["id"])
    store_hash = urlsplit(channel.api_base_url).path.rstrip("/").rsplit("/", 1)[-1]
    data = {"type": "order", "id": oid}
    # The thin callback BigCommerce would have sent (CHANNELS.md §3.2); the handler fetches
    # the order itself, as it does for a delivery.
    body = {
        "scope": "store/order/updated",
        "store_id": str(order.get("store_id") or ""),
        "data": data,
        "hash": hashlib.sha1(json.dumps(data).encode()).hexdigest(),  # noqa: S324 (BC's own)
        "created_at": int(version.timestamp()),
        "producer": f"stores/{store_hash}",
    }
    return PolledOrder(
        str(oid),
        version,
        "store/order/updated",
        f"poll:order:{oid}:{version.astimezone(dt.UTC).isoformat()}",
        json.dumps(body).encode(),
        {
            POLL_HEADER: "poll",
            REFUNDED_HEADER: str(order.get("refunded_amount") or "0"),
            "content-type": "application/json",
        },
    )


def _bigcommerce_covered(event: RecordedEvent, polled: PolledOrder) -> bool:
    return event.received_at >= polled.version


MAGENTO_POLL_TOPIC = "com.adobe.commerce.observer.sales_order_save_commit_after"
MAGENTO_PAGE_SIZE = 100  # below Magento's 300 cap when its input limits are on


def magento_orders_updated(
    *, channel: Channel, since: dt.datetime, session: Any = None
) -> Iterator[list[dict[str, Any]]]:
    """Full REST orders with `updated_at` >= `since` (UTC), oldest change first (then by id),
    100 a page, sought past each page's newest second (clients._seek_pages). A page number
    past the end would answer the last page again (Magento), so it is never asked for."""
    from .magento import magento_client

    client = magento_client(channel, session)

    def fetch(cursor: dt.datetime, page: int) -> list[dict[str, Any]]:
        rows, total = client.search_page(
            "orders",
            [("updated_at", cursor.astimezone(dt.UTC).strftime(MAGENTO_DATE), "gteq")],
            MAGENTO_PAGE_SIZE,
            page,
            sort=[("updated_at", "ASC"), ("entity_id", "ASC")],
        )
        return rows if (page - 1) * MAGENTO_PAGE_SIZE < total else []

    yield from clients._seek_pages(
        fetch,
        since=since,
        page_size=MAGENTO_PAGE_SIZE,
        modified=lambda o: parse_magento(o.get("updated_at")),
        inclusive=True,
    )


def parse_magento(value: Any) -> dt.datetime | None:
    """Magento's `YYYY-MM-DD HH:MM:SS` (UTC, no zone); None when absent or malformed."""
    return parse_iso(str(value).replace(" ", "T")) if value else None


def _magento_event(channel: Channel, order: dict[str, Any]) -> PolledOrder:
    version = parse_magento(order.get("updated_at"))
    if version is None or not order.get("entity_id"):
        raise PermanentError(f"{channel.code}: a polled Magento order has no entity_id or date")
    oid = str(order["entity_id"])
    key = f"poll:order:{oid}:{version.astimezone(dt.UTC).isoformat()}"
    # Shaped as the Adobe I/O event of an order save, carrying the whole order just read: the
    # handler takes it as it is instead of reading it again.
    body = {
        "type": MAGENTO_POLL_TOPIC,
        "event_id": key,
        "data": {"value": order},
    }
    return PolledOrder(
        oid,
        version,
        MAGENTO_POLL_TOPIC,
        key,
        json.dumps(body, default=_decimal_text).encode(),
        {POLL_HEADER: "poll", "content-type": "application/json"},
    )


def _decimal_text(value: Any) -> str:
    """The Magento client reads JSON fractions as Decimal: stored back as decimal strings (the
    translator reads numbers and strings alike), never through a float."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


SOURCES: dict[str, Source] = {
    Channel.Kind.SHOPIFY: Source(clients.shopify_orders_updated, _shopify_event, _shopify_covered),
    Channel.Kind.WOOCOMMERCE: Source(clients.woocommerce_orders_updated, _woocommerce_event, None),
    Channel.Kind.BIGCOMMERCE: Source(
        clients.bigcommerce_orders_updated, _bigcommerce_event, _bigcommerce_covered
    ),
    # An I/O event re-reads the order when it is handled, so one received after this version
    # already covers it (as for BigCommerce).
    Channel.Kind.MAGENTO: Source(magento_orders_updated, _magento_event, _bigcommerce_covered),
}


@dataclass
class PollResult:
    channel: str
    pages: int = 0
    recorded: int = 0
    duplicates: int = 0
    watermark: dt.datetime | None = None
    skipped: str = ""

    def summary(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        mark = self.watermark.isoformat() if self.watermark else "-"
        return (
            f"{self.pages} pages, {self.recorded} recorded, {self.duplicates} duplicates, "
            f"watermark {mark}"
        )


# --- selectors ----------------------------------------------------------------------------------


def pollable_channels() -> Any:
    """Channels whose orders the backstop polls: a pollable kind, orders and polling on, not
    paused (shadow channels are polled: shadow only stops the push)."""
    return Channel.objects.filter(
        kind__in=list(SOURCES), orders_enabled=True, orders_poll_enabled=True
    ).exclude(state=Channel.State.PAUSED)


def channels_due_for_poll(*, now: dt.datetime | None = None) -> list[str]:
    now = now or timezone.now()
    due: list[str] = []
    for code, interval, polled_at in pollable_channels().values_list(
        "code", "orders_poll_interval_seconds", "sync_state__orders_polled_at"
    ):
        # A little slack: a beat tick that lands a second early must not skip a whole period.
        if polled_at is None or polled_at <= now - dt.timedelta(seconds=max(0, interval - 5)):
            due.append(code)
    return due


# --- state ------------------------------------------------------------------------------------


def poll_since(*, channel: Channel) -> tuple[dt.datetime | None, dt.datetime]:
    """(current watermark, where this poll starts reading: watermark - overlap; on the first
    poll, now - the look-back)."""
    state, _ = ChannelSyncState.objects.get_or_create(channel=channel)
    overlap = dt.timedelta(seconds=settings.HUB_ORDER_POLL_OVERLAP_SECONDS)
    start = state.orders_watermark or timezone.now() - dt.timedelta(
        seconds=settings.HUB_ORDER_POLL_LOOKBACK_SECONDS
    )
    return state.orders_watermark, start - overlap


def watermark_advance(*, channel: Channel, newest: dt.datetime) -> None:
    """Move the watermark to `newest`, only forward (a slower concurrent poll must not move it
    back). Call it in the transaction that recorded the page `newest` comes from."""
    ChannelSyncState.objects.filter(channel=channel).filter(
        Q(orders_watermark__isnull=True) | Q(orders_watermark__lt=newest)
    ).update(orders_watermark=newest)


def poll_finished(*, channel: Channel, result: PollResult) -> None:
    ChannelSyncState.objects.filter(channel=channel).update(
        orders_polled_at=timezone.now(), orders_poll_summary=result.summary()[:300]
    )


def poll_lock(channel: Channel) -> str | None:
    """Take the channel's poll lock (shared cache); None when a poll of it is running."""
    token = timezone.now().isoformat()
    key = f"channels:orders_poll:{channel.code}"
    return token if cache.add(key, token, timeout=int(settings.CELERY_TASK_TIME_LIMIT)) else None


def poll_unlock(channel: Channel, token: str) -> None:
    key = f"channels:orders_poll:{channel.code}"
    if cache.get(key) == token:
        cache.delete(key)
