"""Writes for channels, their secrets, warehouses and API tokens."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import PermanentError

from .models import ApiToken, Channel, ChannelSecret, ChannelWarehouse, Scope

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "hub"
DEFAULT_SECRET_OVERLAP = dt.timedelta(hours=24)


def secret_generate(*, kind: str) -> str:
    """A fresh webhook secret in the format the channel kind expects."""
    if kind in (Channel.Kind.STANDARD_WEBHOOKS, Channel.Kind.BIGCOMMERCE):
        # Standard Webhooks: 24-64 random bytes, shown base64 with the whsec_ prefix.
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    return secrets.token_urlsafe(32)


def channel_create(
    *,
    code: str,
    kind: str,
    name: str = "",
    api_base_url: str = "",
    state: str = Channel.State.ACTIVE,
    secret: str | None = None,
    access_token: str = "",
    consumer_key: str = "",
    consumer_secret: str = "",
    warehouse_ids: Sequence[int] = (),
    **options: Any,
) -> tuple[Channel, str | None]:
    """Create a channel with its first webhook secret and warehouses (priority = list order).

    Returns the channel and the webhook secret (generated when not given; None for b2b_api, which
    has no webhooks). The caller shows the secret once.
    """
    if kind not in Channel.Kind.values:
        raise PermanentError(f"unknown channel kind {kind!r}", field="kind")
    if state not in Channel.State.values:
        raise PermanentError(f"unknown channel state {state!r}", field="state")
    if Channel.objects.filter(code=code).exists():
        raise PermanentError(f"channel {code!r} already exists", field="code")
    with transaction.atomic():
        channel = Channel(
            code=code,
            kind=kind,
            name=name or code,
            api_base_url=api_base_url,
            state=state,
            access_token=access_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            **options,
        )
        channel.full_clean()
        channel.save()
        shown: str | None = None
        if channel.has_webhooks:
            shown = secret or secret_generate(kind=kind)
            ChannelSecret.objects.create(channel=channel, secret=shown, note="initial")
        channel_warehouses_set(channel=channel, warehouse_ids=warehouse_ids)
    logger.info("channel %s (%s) created", code, kind)
    return channel, shown


def channel_warehouses_set(*, channel: Channel, warehouse_ids: Iterable[int]) -> None:
    """Replace the served warehouses; the order given is the priority order."""
    with transaction.atomic():
        ChannelWarehouse.objects.filter(channel=channel).delete()
        ChannelWarehouse.objects.bulk_create(
            ChannelWarehouse(channel=channel, odoo_warehouse_id=wid, priority=(i + 1) * 10)
            for i, wid in enumerate(dict.fromkeys(warehouse_ids))
        )


def channel_secret_rotate(
    *,
    channel: Channel,
    secret: str | None = None,
    overlap: dt.timedelta = DEFAULT_SECRET_OVERLAP,
) -> tuple[ChannelSecret, str]:
    """Add a new webhook secret; every open-ended older one stays valid for `overlap`.

    Senders switch secrets at their own pace (Shopify can take about an hour), so both must
    verify for a while. Returns the new row and the plaintext, to be shown once.
    """
    if not channel.has_webhooks:
        raise PermanentError(f"channel {channel.code} ({channel.kind}) has no webhooks")
    now = timezone.now()
    plaintext = secret or secret_generate(kind=channel.kind)
    with transaction.atomic():
        ends = now + overlap
        ChannelSecret.objects.filter(channel=channel, valid_until__isnull=True).update(
            valid_until=ends
        )
        ChannelSecret.objects.filter(channel=channel, valid_until__gt=ends).update(valid_until=ends)
        row = ChannelSecret.objects.create(
            channel=channel, secret=plaintext, valid_from=now, note="rotated"
        )
    logger.info("channel %s webhook secret rotated; old ones valid until %s", channel.code, ends)
    return row, plaintext


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def scopes_parse(value: str | Iterable[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    scopes = [s.strip() for s in items if s.strip()]
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise PermanentError(
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(Scope.values)}",
            field="scopes",
        )
    if not scopes:
        raise PermanentError("at least one scope is required", field="scopes")
    return sorted(set(scopes))


def api_token_create(
    *,
    channel: Channel,
    scopes: str | Iterable[str],
    name: str = "",
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token `hub_<prefix>_<secret>`; only its SHA-256 is stored. Returns (row, raw)."""
    parsed = scopes_parse(scopes)
    for _ in range(5):
        # 12 hex chars: collisions are practically impossible, and the unique index refuses one.
        prefix = secrets.token_hex(6)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        channel=channel,
        name=name,
        prefix=prefix,
        token_hash=token_hash(raw),
        scopes=parsed,
        expires_at=expires_at,
    )
    logger.info("API token hub_%s_… created for channel %s", prefix, channel.code)
    return token, raw


def api_token_revoke(*, prefix: str) -> ApiToken:
    prefix = prefix.removeprefix(f"{TOKEN_PREFIX}_").split("_", 1)[0]
    token = ApiToken.objects.filter(prefix=prefix).first()
    if token is None:
        raise PermanentError(f"no token with prefix {prefix!r}", field="prefix")
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db()
    logger.info("API token hub_%s_… revoked", prefix)
    return token


def api_token_touch(*, token: ApiToken, now: dt.datetime, every_seconds: int = 60) -> None:
    """Record use at most once a minute: a conditional update, no write on most requests."""
    if (
        token.last_used_at is not None
        and (now - token.last_used_at).total_seconds() < every_seconds
    ):
        return
    cutoff = now - dt.timedelta(seconds=every_seconds)
    from django.db.models import Q

    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff), pk=token.pk
    ).update(last_used_at=now)
