"""Recording an accepted delivery: one ledger row, committed before the 2xx answer."""

from __future__ import annotations

import logging

from apps.ledger.services import inbound_event_record
from apps.sales_channels.models import Channel

from .receivers import Delivery

logger = logging.getLogger(__name__)


def webhook_record(
    *, channel: Channel, delivery: Delivery, body: bytes, headers: dict[str, str]
) -> tuple[int, bool]:
    """Record the delivery (or find the earlier one with the same dedupe key).

    Returns (event id, created). The row is committed before this returns, so the caller
    acknowledges only what is durable; the ledger enqueues processing on commit.

    No outer `transaction.atomic()` here on purpose: the request runs in autocommit, so the
    ledger's own atomic block is the transaction that commits the row (and an earlier duplicate
    lookup is a plain read). Wrapping it would add a SAVEPOINT/RELEASE pair — two round trips
    on the hottest path — and change nothing about durability. If a caller does hold a
    transaction (a test, a replay tool), the row commits with it, as the ledger documents.
    """
    event, created = inbound_event_record(
        channel_code=channel.code,
        topic=delivery.topic,
        dedupe_key=delivery.dedupe_key,
        body=body,
        headers=headers,
        entity_key=delivery.entity_key,
        external_ref=delivery.external_ref,
    )
    if not created:
        logger.info(
            "duplicate %s delivery %s on channel %s (event %s)",
            delivery.topic,
            delivery.dedupe_key,
            channel.code,
            event.pk,
        )
    return int(event.pk), created
