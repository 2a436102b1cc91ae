"""Reads for channels."""

from __future__ import annotations

import datetime as dt
import threading
import time

from django.conf import settings
from django.db.models import Prefetch, Q

from .models import Channel, ChannelSecret

# Webhook ingress looks the channel and its secrets up on every delivery. A short per-process
# cache saves two queries per request (a third of the ingress cost); any save or delete of a
# channel or secret in this process clears it at once (signals.py), other processes see the change
# within the TTL. Secret validity windows are still checked against the delivery's time, so an
# expiring secret stops verifying exactly at its valid_until.
_ingress_cache: dict[tuple[str, tuple[str, ...]], tuple[float, Channel | None]] = {}
_ingress_lock = threading.Lock()


def channel_ingress_cache_clear() -> None:
    with _ingress_lock:
        _ingress_cache.clear()


def channel_get_for_ingress(
    *, code: str, kinds: tuple[str, ...], at: dt.datetime
) -> Channel | None:
    """The channel with its unexpired webhook secrets prefetched (as `valid_secrets`)."""
    ttl = float(getattr(settings, "HUB_CHANNEL_CACHE_SECONDS", 5.0))
    key = (code, kinds)
    now = time.monotonic()
    if ttl > 0:
        hit = _ingress_cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    unexpired = ChannelSecret.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=at)
    ).order_by("-valid_from")
    channel = (
        Channel.objects.filter(code=code, kind__in=kinds)
        .prefetch_related(Prefetch("secrets", queryset=unexpired, to_attr="valid_secrets"))
        .first()
    )
    if ttl > 0:
        with _ingress_lock:
            if len(_ingress_cache) > 10_000:  # unknown codes must not grow it without bound
                _ingress_cache.clear()
            _ingress_cache[key] = (now + ttl, channel)
    return channel


def channel_secrets_valid(*, channel: Channel, at: dt.datetime) -> list[str]:
    """Plaintext of every secret valid at `at` (the window is checked here, not at fetch time)."""
    prefetched = getattr(channel, "valid_secrets", None)
    rows = prefetched if prefetched is not None else channel.secrets.all()
    return [s.secret for s in rows if s.is_valid_at(at)]


def channel_get(*, code: str) -> Channel:
    return Channel.objects.get(code=code)
