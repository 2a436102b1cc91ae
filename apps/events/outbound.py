"""Outbound HTTP to partner endpoints, with the safety rules every delivery obeys.

- No redirects are followed (a 3xx is a failed attempt), and no proxy from the environment.
- One 15 s budget per attempt (`HUB_WEBHOOK_TIMEOUT_SECONDS`), shared by connect and read.
- Private, loopback, link-local, multicast and reserved addresses are refused unless
  `HUB_OUTBOUND_ALLOW_PRIVATE` is set (development and tests set it). The check runs on the
  address the socket actually connected to, so a DNS answer that changes between a check and
  the connection (DNS rebinding) cannot slip through; URLs are also checked when an endpoint
  is saved, so an operator hears about it at once.
- In production only https URLs are accepted (`HUB_WEBHOOK_REQUIRE_HTTPS`, default: DEBUG off).
"""

from __future__ import annotations

import codecs
import ipaddress
import socket
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3 import Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

EXCERPT_BYTES = 2048
DRAIN_LIMIT = 64 * 1024


class RefusedAddress(requests.exceptions.ConnectionError):
    """The endpoint resolves or connects to an address partners may not use."""


def allow_private() -> bool:
    return bool(getattr(settings, "HUB_OUTBOUND_ALLOW_PRIVATE", False))


def timeout_seconds() -> float:
    return float(getattr(settings, "HUB_WEBHOOK_TIMEOUT_SECONDS", 15.0))


def address_refused(ip: str) -> str | None:
    """Why `ip` may not be called, or None."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    for attr, why in (
        ("is_loopback", "loopback"),
        ("is_private", "private"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_unspecified", "unspecified"),
    ):
        if getattr(addr, attr):
            return f"{ip} is a {why} address"
    return None


def url_problem(url: str, *, resolve: bool = True) -> str | None:
    """Why `url` cannot be an endpoint, or None. Resolves the host unless told not to."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL with a host"
    if parts.scheme != "https" and getattr(settings, "HUB_WEBHOOK_REQUIRE_HTTPS", True):
        return "must use https"
    if parts.username or parts.password:
        return "must not carry credentials"
    if allow_private() or not resolve:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        return f"host {parts.hostname} does not resolve ({exc})"
    for info in infos:
        why = address_refused(str(info[4][0]))
        if why:
            return f"host {parts.hostname}: {why} (set HUB_OUTBOUND_ALLOW_PRIVATE to allow)"
    return None


def _check_peer(sock: socket.socket) -> None:
    if allow_private():
        return
    why = address_refused(str(sock.getpeername()[0]))
    if why:
        sock.close()
        raise RefusedAddress(f"refused: {why}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[no-untyped-call]
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


def session(pool_size: int = 4) -> requests.Session:
    """A keep-alive session for one endpoint's deliveries (not shared across threads' writes
    of cookies: partners' cookies are ignored)."""
    s = requests.Session()
    s.trust_env = False  # no proxies or .netrc from the environment
    adapter = _GuardedAdapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def _refusal_in(exc: BaseException, depth: int = 0) -> RefusedAddress | None:
    """The RefusedAddress that `exc` wraps (in its args or its cause/context), if any."""
    if isinstance(exc, RefusedAddress):
        return exc
    if depth > 6:
        return None
    inner = [a for a in exc.args if isinstance(a, BaseException)]
    more = (getattr(exc, "reason", None), exc.__cause__, exc.__context__)
    inner += [e for e in more if isinstance(e, BaseException)]
    for e in inner:
        found = _refusal_in(e, depth + 1)
        if found is not None:
            return found
    return None


def excerpt(text: str, limit: int = EXCERPT_BYTES) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, on a character boundary."""
    data = text.encode("utf-8", errors="replace")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def _decode(raw: bytes) -> str:
    # Not final: a character cut by the 2 KB read is dropped, not turned into U+FFFD. NUL is
    # replaced: a receiver's answer is stored as text, and PostgreSQL text holds no NUL.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(raw, final=False)
    return text.replace("\x00", "\ufffd")


def post_with_headers(
    s: requests.Session, url: str, *, body: bytes, headers: dict[str, str]
) -> tuple[int, str, str | None]:
    """POST once. Returns (status, first 2 KB of the body, Retry-After); raises requests'
    exceptions (RefusedAddress included)."""
    try:
        resp = s.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,
            # requests hands a urllib3 Timeout through: one budget for connect and read.
            timeout=cast(Any, Timeout(total=timeout_seconds())),
            stream=True,
        )
    except requests.ConnectionError as exc:
        # urllib3 and requests wrap the guard's refusal (an OSError) in their own errors.
        refused = _refusal_in(exc)
        if refused is not None:
            raise RefusedAddress(str(refused)) from exc
        raise
    raw = b""
    try:
        raw = resp.raw.read(EXCERPT_BYTES, decode_content=True) or b""
        length = int(resp.headers.get("content-length") or -1)
        if 0 <= length <= DRAIN_LIMIT:
            resp.raw.drain_conn()  # a small rest is read so the connection can be kept alive
            resp.raw.release_conn()
        else:
            resp.close()
    except Exception:
        resp.close()
    return resp.status_code, excerpt(_decode(raw)), resp.headers.get("retry-after")
