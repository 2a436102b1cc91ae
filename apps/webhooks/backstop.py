"""What stands behind the webhooks: the order polling backstop and the subscription check.

Both need the ledger (recording, routing table) and the inbox, which sit above
`apps.sales_channels` in the layers; the platform side (listing orders and subscriptions, shaping
events, the watermark) is `apps.sales_channels.polling` / `.subscriptions`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.core.errors import PermanentError
from apps.inbox.services import issue_report, issue_row_succeeded
from apps.ledger.models import InboundEvent
from apps.ledger.registry import handler_for
from apps.ledger.services import inbound_event_record
from apps.sales_channels.models import Channel, ChannelSyncState
from apps.sales_channels.polling import (
    SOURCES,
    PolledOrder,
    PollResult,
    Source,
    poll_finished,
    poll_lock,
    poll_since,
    poll_unlock,
    pollable_channels,
    watermark_advance,
)
from apps.sales_channels.subscriptions import (
    CANDIDATE_TOPICS,
    WebhookReport,
    channel_subscriptions_check,
    hub_webhook_url,
    unhealthy_error,
)

from . import metrics

logger = logging.getLogger(__name__)

WEBHOOKS_CHECK_TASK = "channels.webhooks_check"


# --- polling backstop --------------------------------------------------------------------------


def _covered(*, channel: Channel, source: Source, polled: list[PolledOrder]) -> set[str]:
    """Dedupe keys of polled versions already in the ledger: recorded under the same key (an
    overlap re-read; a WooCommerce delivery), or covered by an event of the order (a Shopify
    delivery of this `updated_at` or newer; a BigCommerce delivery received after the change).

    One indexed lookup per page, so a re-read costs no conflicting insert per order."""
    if not polled:
        return set()
    known = set(
        InboundEvent.objects.filter(
            channel_code=channel.code, dedupe_key__in=[p.dedupe_key for p in polled]
        ).values_list("dedupe_key", flat=True)
    )
    rest = [p for p in polled if p.dedupe_key not in known]
    if source.covered is None or not rest:
        return known
    by_entity: dict[str, list[PolledOrder]] = {}
    for p in rest:
        by_entity.setdefault(f"order:{p.order_id}", []).append(p)
    overlap = dt.timedelta(seconds=settings.HUB_ORDER_POLL_OVERLAP_SECONDS)
    events = InboundEvent.objects.filter(
        channel_code=channel.code,
        entity_key__in=list(by_entity),
        received_at__gte=min(p.version for p in rest) - overlap,
    ).only("topic", "body", "received_at", "entity_key")
    return known | {
        p.dedupe_key
        for event in events
        for p in by_entity.get(event.entity_key, [])
        if source.covered(event, p)
    }


def _page_record(
    *, channel: Channel, source: Source, orders: list[dict[str, Any]]
) -> tuple[int, int, dt.datetime | None]:
    """Record one page and advance the watermark to its newest change, in ONE transaction:
    a crash leaves the watermark at the last page that is durable."""
    polled = [source.event(channel, o) for o in orders]
    if not polled:
        return 0, 0, None
    covered = _covered(channel=channel, source=source, polled=polled)
    recorded = duplicates = 0
    newest = max(p.version for p in polled)
    with transaction.atomic():
        for p in polled:
            if p.dedupe_key in covered:
                duplicates += 1
                continue
            _, created = inbound_event_record(
                channel_code=channel.code,
                topic=p.topic,
                dedupe_key=p.dedupe_key,
                body=p.body,
                headers=p.headers,
                entity_key=f"order:{p.order_id}",
                external_ref=p.order_id,
            )
            recorded += int(created)
            duplicates += int(not created)
        watermark_advance(channel=channel, newest=newest)
    metrics.ORDER_POLL.labels(channel.kind, "recorded").inc(recorded)
    metrics.ORDER_POLL.labels(channel.kind, "duplicate").inc(duplicates)
    return recorded, duplicates, newest


def channel_orders_poll(*, channel_code: str) -> PollResult:
    """Poll one channel's recently updated orders and record the ones not seen yet."""
    result = PollResult(channel=channel_code)
    channel = Channel.objects.filter(code=channel_code).first()
    source = SOURCES.get(str(channel.kind)) if channel is not None else None
    if channel is None or source is None:
        result.skipped = "unknown channel, or a kind without an order list"
        return result
    if not pollable_channels().filter(pk=channel.pk).exists():
        result.skipped = f"channel {channel.state}, orders or polling off"
        return result
    token = poll_lock(channel)
    if token is None:
        result.skipped = "a poll of this channel is running"
        return result
    try:
        result.watermark, since = poll_since(channel=channel)
        for orders in source.pages(channel=channel, since=since):
            recorded, duplicates, newest = _page_record(
                channel=channel, source=source, orders=orders
            )
            result.pages += 1
            result.recorded += recorded
            result.duplicates += duplicates
            if newest is not None and (result.watermark is None or newest > result.watermark):
                result.watermark = newest
        poll_finished(channel=channel, result=result)
    finally:
        poll_unlock(channel, token)
    logger.info("order poll of %s: %s", channel.code, result.summary())
    return result


# --- webhook subscription health ---------------------------------------------------------------


def topics_needed(kind: str) -> list[str]:
    """The platform topics the ledger's routing table has a handler for."""
    return [t for t in CANDIDATE_TOPICS.get(kind, ()) if handler_for(t) is not None]


def channel_webhooks_check(*, channel_code: str, repair: bool = False) -> WebhookReport:
    """Check (and optionally repair) one channel's subscriptions; the inbox hears about what is
    still not delivering, and the item clears itself once a check finds everything healthy."""
    channel = Channel.objects.filter(code=channel_code).first()
    if channel is None:
        raise PermanentError(f"no channel {channel_code!r}", channel=channel_code)
    # Without our own URL nothing can be compared: a setup error for the operator running the
    # check, not an inbox item per channel (the hourly job does not run the check then).
    hub_webhook_url(channel)
    state, _ = ChannelSyncState.objects.get_or_create(channel=channel)
    context: dict[str, Any] = {
        "key": f"webhooks:{channel.code}",
        "row": state,
        "channel_code": channel.code,
        "replay_task": WEBHOOKS_CHECK_TASK,
        "replay_kwargs": {"channel_code": channel.code, "repair": True},
    }
    try:
        report = channel_subscriptions_check(
            channel=channel, topics=topics_needed(channel.kind), repair=repair
        )
    except PermanentError as exc:
        issue_report(error=exc, **context)
        raise
    metrics.WEBHOOK_SUBSCRIPTIONS_UNHEALTHY.labels(channel.code).set(len(report.unhealthy))
    if report.unhealthy:
        issue_report(error=unhealthy_error(report), **context)
    else:
        issue_row_succeeded(row=state)
    return report


def channels_with_webhooks() -> list[str]:
    """Channels the hourly check covers: none while HUB_PUBLIC_URL is unset (logged)."""
    if not str(getattr(settings, "HUB_PUBLIC_URL", "") or ""):
        logger.warning("HUB_PUBLIC_URL is not set: webhook subscriptions are not checked")
        return []
    return list(
        Channel.objects.filter(kind__in=list(CANDIDATE_TOPICS))
        .exclude(state=Channel.State.PAUSED)
        .values_list("code", flat=True)
    )
