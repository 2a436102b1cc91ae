"""Adobe I/O Events public keys: fetched from Adobe's key host only, and cached.

Each delivery names the paths of the two public keys that verify its signatures
(`x-adobe-public-key1-path`, `x-adobe-public-key2-path`, e.g. `/prod/keys/pub-key-….pem`).
The hub joins a path to `HUB_ADOBE_KEY_HOST` (default `https://static.adobeioevents.com`) and
nothing else: a header naming another host (a full URL, `//host/...`) is refused, as is a path
that is not a plain `/…/<name>.pem`, so a forged delivery cannot make the hub fetch from, or
trust a key on, a host of its choosing.

Keys are cached twice: in this process's memory (a dict; the hot path costs one lookup) and in
the Django cache (Redis in production), both for `HUB_ADOBE_KEY_CACHE_SECONDS` (1 day), so a new
worker or web process reads the PEM from Redis instead of Adobe. A key is fetched from Adobe at
most once per cache lifetime, never per request; a path that answered 404 or was not a PEM is
remembered as missing for `NEGATIVE_SECONDS`; at most `HUB_ADOBE_KEY_FETCHES_PER_MINUTE` fetches
leave a process per minute (invented paths cannot turn the hub into a request amplifier).
Adobe rotates keys by publishing new paths; the old ones simply stop being asked for.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.cache import cache

from apps.core.errors import PermanentError, TransientError

logger = logging.getLogger(__name__)

DEFAULT_KEY_HOST = "https://static.adobeioevents.com"
NEGATIVE_SECONDS = 300
MEMORY_MAX = 64
_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)*/[A-Za-z0-9_.-]+\.pem$")
TIMEOUT = (3.0, 5.0)

_memory: dict[str, tuple[Any, float]] = {}  # url -> (RSAPublicKey, monotonic expiry)
_missing: dict[str, float] = {}
_fetch_times: list[float] = []
_lock = threading.Lock()
_url_locks: dict[str, threading.Lock] = {}
stats = {"fetched": 0, "from_cache": 0}  # this process: Adobe fetches, Django-cache reads


class KeyHostRefused(PermanentError):
    """The key path points somewhere other than the configured Adobe key host."""


class KeyUnavailable(TransientError):
    """The key could not be had now (host down, rate of new fetches exceeded, not a PEM)."""


def key_host() -> str:
    return str(getattr(settings, "HUB_ADOBE_KEY_HOST", DEFAULT_KEY_HOST) or DEFAULT_KEY_HOST)


def key_url(path_header: str) -> str:
    """The URL of a key path header on the configured key host; KeyHostRefused otherwise.

    A full URL is accepted only when its scheme and host are the key host's own (tolerance for a
    sender that spells the whole URL); query strings, fragments, `..` and odd characters are not.
    """
    host = urlsplit(key_host())
    value = path_header.strip()
    parts = urlsplit(value)
    absolute = bool(parts.scheme or parts.netloc or value.startswith("//"))
    if absolute and (parts.scheme, parts.netloc.lower()) != (host.scheme, host.netloc.lower()):
        raise KeyHostRefused(
            f"public key path {value[:200]!r} is not on the Adobe key host {key_host()}",
            header=value[:200],
        )
    if parts.query or parts.fragment or ".." in parts.path or not _PATH.match(parts.path):
        raise KeyHostRefused(f"public key path {value[:200]!r} is not a key path", header=value)
    return f"{host.scheme}://{host.netloc}{host.path.rstrip('/')}{parts.path}"


def _cache_key(url: str) -> str:
    return "adobe-io-key:" + hashlib.sha256(url.encode()).hexdigest()


def _load(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise ValueError("not an RSA public key of at least 2048 bits")
    return key


def public_key(url: str) -> Any:
    """The RSA public key at `url` (from key_url): memory, else Django cache, else one fetch."""
    hit = _memory.get(url)
    if hit is not None and hit[1] > time.monotonic():
        return hit[0]
    with _lock:
        url_lock = _url_locks.setdefault(url, threading.Lock())
    with url_lock:  # one fetch per key, however many requests wait for it
        hit = _memory.get(url)
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        missing_until = _missing.get(url, 0.0)
        if missing_until > time.monotonic():
            raise KeyUnavailable(f"public key {url} was missing moments ago", url=url)
        pem = cache.get(_cache_key(url))
        if isinstance(pem, bytes | str):
            key = _load(pem.encode() if isinstance(pem, str) else pem)
            stats["from_cache"] += 1
        else:
            key = _fetch(url)
        _remember(url, key)
        return key


def _ttl() -> int:
    return int(getattr(settings, "HUB_ADOBE_KEY_CACHE_SECONDS", 86400))


def _remember(url: str, key: Any) -> None:
    with _lock:
        if len(_memory) >= MEMORY_MAX and url not in _memory:
            _memory.pop(next(iter(_memory)))
        # Memory keeps a key as long as the shared cache does, then asks it again: a key Adobe
        # withdrew stops being trusted within one cache lifetime, in every process.
        _memory[url] = (key, time.monotonic() + _ttl())
        _missing.pop(url, None)
        if len(_url_locks) > MEMORY_MAX * 4:
            _url_locks.clear()


def _fetch(url: str) -> Any:
    limit = int(getattr(settings, "HUB_ADOBE_KEY_FETCHES_PER_MINUTE", 30))
    now = time.monotonic()
    with _lock:
        _fetch_times[:] = [t for t in _fetch_times if now - t < 60]
        if len(_fetch_times) >= limit:
            raise KeyUnavailable(f"more than {limit} new Adobe key fetches this minute", url=url)
        _fetch_times.append(now)
    try:
        resp = requests.get(url, timeout=TIMEOUT)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise KeyUnavailable(f"fetching Adobe public key {url}: {type(exc).__name__}") from exc
    if resp.status_code >= 500 or resp.status_code == 429:
        raise KeyUnavailable(f"Adobe key host answered {resp.status_code} for {url}", url=url)
    try:
        if resp.status_code != 200:
            raise ValueError(f"answered {resp.status_code}")
        key = _load(resp.content)
    except ValueError as exc:
        with _lock:
            _missing[url] = now + NEGATIVE_SECONDS
        raise KeyUnavailable(f"Adobe public key {url}: {exc}", url=url) from exc
    cache.set(_cache_key(url), resp.content.decode("ascii", "replace"), _ttl())
    stats["fetched"] += 1
    logger.info("Adobe I/O public key fetched and cached: %s", url)
    return key


def cache_clear() -> None:
    """Forget every key in this process (tests; a key host change)."""
    with _lock:
        _memory.clear()
        _missing.clear()
        _fetch_times.clear()
        stats.update(fetched=0, from_cache=0)
