"""Schemathesis hooks for tests/api/test_schemathesis.py (`hooks` in schemathesis.toml).

- `Credentials`: every operation gets the credential its security scheme asks for: the token
  (every scope), the staff user, or, for the inbound webhooks, the sender's signature of the
  exact body sent, with the world's channel secret (so the checks behind the signature are
  fuzzed too). Positive deliveries go to the world's channel with a fresh timestamp and its
  shop domain; negative ones keep what was drawn and are signed as sent.
- Positive cases name the world's objects: a path id is, every other case, one that exists
  (the others stay as drawn, mostly a 404), so real orders, shipments, returns and endpoints
  are answered and checked against the document too.
- The check `rejected_request_changes_nothing`: before every call the hooks fingerprint every
  table of the hub's database (but the bookkeeping ones in IGNORED); after an answer of 400 or
  more the fingerprint must be the same. A refused request changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import zlib
from typing import Any

import psycopg
import schemathesis

WORLD: dict[str, Any] = json.loads(os.environ.get("HUB_FUZZ_WORLD", "{}"))
# Tables that a refused request may legitimately touch, and why.
IGNORED = {
    "sales_channels_apitoken": "last_used_at, recorded by the token check at most once a minute",
    "django_session": "not used by the API (a session the admin may hold)",
}

_conn: psycopg.Connection[Any] | None = None
_query = ""
_before: dict[str, dict[str, str]] = {}
# (the cluster's next transaction id, the fingerprint then): a write assigns a transaction id, so
# while it has not moved the fingerprint cannot have changed and is not read again.
_cache: tuple[int, dict[str, str]] | None = None


def _connect() -> psycopg.Connection[Any]:
    global _conn, _query
    if _conn is None:
        _conn = psycopg.connect(os.environ["HUB_FUZZ_DATABASE_URL"], autocommit=True)
        tables = [
            row[0]
            for row in _conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
            if row[0] not in IGNORED
        ]
        _query = " UNION ALL ".join(
            f"SELECT '{t}', md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), ''))"
            f' FROM "{t}" x'
            for t in tables
        )
    return _conn


def _fingerprint() -> dict[str, str]:
    """table -> md5 of its rows (order-independent)."""
    global _cache
    conn = _connect()
    row = conn.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint").fetchone()
    xmax = int(row[0]) if row else -1
    if _cache is not None and _cache[0] == xmax:
        return _cache[1]
    prints = {str(t): str(h) for t, h in conn.execute(_query)}  # type: ignore[arg-type]
    _cache = (xmax, prints)
    return prints


def _positive(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    return bool(meta is not None and meta.generation.mode.is_positive)


def _pick(case: Any, values: list[str]) -> str | None:
    """Every other positive case (decided by its id, so a replay is the same) names a value
    of the world."""
    digest = zlib.crc32(str(case.id).encode())
    return values[digest % len(values)] if values and digest % 2 == 0 else None


def _kind(case: Any) -> str:
    parts = case.operation.path.split("/")
    return parts[2] if len(parts) > 2 else ""


def _body(case: Any) -> bytes:
    return case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()


@schemathesis.auth(refresh_interval=None, retry_on=[])
class Credentials:
    """The credential each operation's security scheme asks for: the token (every scope), the
    staff user's Basic credentials, or the sender's signature of the body with the world's
    channel secret. Schemathesis counts them as explicit, and probes every operation that
    answers 2xx again without them and with wrong ones (the ignored_auth check)."""

    def get(self, case: Any, ctx: Any) -> set[str] | None:
        names = {n for req in case.operation.definition.raw.get("security", []) for n in req}
        return names or None

    def set(self, case: Any, schemes: set[str], ctx: Any) -> None:
        if case.headers is None:
            case.headers = {}
        if "channelToken" in schemes:
            case.headers["Authorization"] = f"Bearer {os.environ['HUB_FUZZ_TOKEN']}"
        elif "basicAuth" in schemes:
            user = f"{os.environ['HUB_FUZZ_STAFF_USER']}:{os.environ['HUB_FUZZ_STAFF_PASSWORD']}"
            case.headers["Authorization"] = "Basic " + base64.b64encode(user.encode()).decode()
        elif _kind(case) in WORLD.get("webhooks", {}) and "json" in (case.media_type or ""):
            _sign(case, WORLD["webhooks"][_kind(case)])


def _sign(case: Any, sender: dict[str, str]) -> None:
    kind, headers = _kind(case), case.headers
    if _positive(case):
        case.path_parameters["channel_code"] = sender["code"]
        if kind == "shopify":
            headers["X-Shopify-Shop-Domain"] = sender["shop"]
        if "webhook-timestamp" in headers:
            headers["webhook-timestamp"] = str(int(time.time()))
    body, secret = _body(case), sender["secret"]
    if kind in ("shopify", "woocommerce"):
        name = "X-Shopify-Hmac-Sha256" if kind == "shopify" else "X-WC-Webhook-Signature"
        mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        headers[name] = base64.b64encode(mac).decode()
        return
    key = (
        base64.b64decode(secret.removeprefix("whsec_"))
        if secret.startswith("whsec_")
        else secret.encode()
    )
    signed = f"{headers.get('webhook-id', '')}.{headers.get('webhook-timestamp', '')}."
    mac = hmac.new(key, signed.encode() + body, hashlib.sha256).digest()
    headers["webhook-signature"] = "v1," + base64.b64encode(mac).decode()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if _positive(case):
        for name in list(case.path_parameters or {}):
            chosen = _pick(case, WORLD.get("ids", {}).get(name, []))
            if chosen is not None:
                case.path_parameters[name] = chosen
        if isinstance(case.body, dict) and "order_id" in case.body:  # a return of a real order
            chosen = _pick(case, WORLD.get("ids", {}).get("order_id", []))
            if chosen is not None:
                case.body["order_id"] = int(chosen)
    if case.operation.path.startswith("/webhooks/") and "json" in (case.media_type or ""):
        kwargs["data"] = _body(case)  # exactly the bytes SenderSignature signed
    _before[case.id] = _fingerprint()


@schemathesis.check
def rejected_request_changes_nothing(ctx: Any, response: Any, case: Any) -> bool | None:
    before = _before.pop(case.id, None)
    if response.status_code < 400 or before is None:
        return None
    after = _fingerprint()
    changed = sorted(t for t in after if before.get(t) != after[t])
    if changed:
        raise AssertionError(
            f"A refused request ({response.status_code}) changed: {', '.join(changed)}"
        )
    return None
