"""Idempotency-Key for the order API (the pattern of pretix and Stripe).

The key row is committed BEFORE the work starts (state in_flight), in its own transaction, so a
concurrent request with the same key sees it: a different body -> 422, still running -> 409,
finished -> the stored response, byte for byte the same JSON. The unique (channel, key)
constraint decides who is first. A request that crashed leaves an in_flight row; after
HUB_IDEMPOTENCY_STALE_SECONDS another request with the same key may take it over (a
conditional update, so only one does). Keys live HUB_IDEMPOTENCY_TTL_HOURS (default 24 h).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.sales_channels.models import Channel

from .errors import IdempotencyConflict, IdempotencyInFlight
from .models import IdempotencyKey


@dataclass(frozen=True)
class Begun:
    record: IdempotencyKey
    replay: bool  # True: answer with record.response_status / response_body, do nothing


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, "HUB_IDEMPOTENCY_TTL_HOURS", 24)))


def idempotency_begin(*, channel: Channel, key: str, request_hash: str) -> Begun:
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                rec = IdempotencyKey.objects.create(
                    channel=channel, key=key, request_hash=request_hash, expires_at=now + _ttl()
                )
            return Begun(rec, replay=False)
        except IntegrityError:
            rec_or_none = IdempotencyKey.objects.filter(channel=channel, key=key).first()
            if rec_or_none is None:
                continue  # purged or abandoned in between: try again
            rec = rec_or_none
        if rec.expires_at <= now:
            IdempotencyKey.objects.filter(pk=rec.pk, expires_at__lte=now).delete()
            continue
        if rec.request_hash != request_hash:
            raise IdempotencyConflict(
                "this Idempotency-Key was used with a different request body", field="body"
            )
        if rec.state == IdempotencyKey.State.DONE:
            return Begun(rec, replay=True)
        stale = dt.timedelta(seconds=float(getattr(settings, "HUB_IDEMPOTENCY_STALE_SECONDS", 120)))
        if rec.created_at < now - stale and IdempotencyKey.objects.filter(
            pk=rec.pk, state=IdempotencyKey.State.IN_FLIGHT, created_at=rec.created_at
        ).update(created_at=now):
            return Begun(rec, replay=False)  # its first request died; we take it over
        raise IdempotencyInFlight("a request with this Idempotency-Key is still in progress")
    raise IdempotencyInFlight("a request with this Idempotency-Key is still in progress")


def idempotency_finish(*, record: IdempotencyKey, status: int, body: Any) -> None:
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyKey.State.DONE, response_status=status, response_body=body
    )


def idempotency_abandon(*, record: IdempotencyKey) -> None:
    """The request failed unexpectedly (5xx): the client may retry with the same key."""
    IdempotencyKey.objects.filter(pk=record.pk, state=IdempotencyKey.State.IN_FLIGHT).delete()


def idempotency_keys_purge() -> int:
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
