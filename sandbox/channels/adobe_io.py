"""Adobe I/O Events as Adobe delivers them to a webhook registration (CHANNELS.md 4.2, 4.4).

A delivery is a CloudEvent (``specversion``, ``type`` = the event code, ``id`` = ``event_id``,
``recipient_client_id``, ``data.value`` = the Commerce model's raw data with numbers as strings,
``data._metadata``) POSTed with ``x-adobe-event-code``, ``x-adobe-event-id``,
``x-adobe-provider``, ``x-adobe-delivery-id`` (``x-adobe-retry-count`` on retries) and two
RSA-SHA256 signatures of the raw body, ``x-adobe-digital-signature-1/2``, made with two key
pairs whose public halves sit at ``x-adobe-public-key1-path`` / ``-key2-path`` on Adobe's key
host (``https://static.adobeioevents.com``).

The key pairs here are generated at runtime (``KeyRing``); nothing private is ever written to
disk. The stand-in serves the public keys at the same kind of path (``/prod/keys/<name>.pem``),
so a test points the hub's ``HUB_ADOBE_KEY_HOST`` at the stand-in. RSA needs ``cryptography``
(the hub's own dependency); it is imported here only, so the other stand-ins stay
standard-library only.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any

KEY_PATH_PREFIX = "/prod/keys/"
USER_AGENT = "Adobe/1.0"
EVENT_PREFIX = "com.adobe.commerce."
ORDER_SAVED = "com.adobe.commerce.observer.sales_order_save_commit_after"
ORDER_PLACED = "com.adobe.commerce.plugin.sales.api.order_management.place"


@dataclass
class KeyPair:
    path: str
    private_key: Any  # cryptography RSAPrivateKey
    public_pem: bytes

    @classmethod
    def generate(cls, name: str | None = None) -> KeyPair:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(f"{KEY_PATH_PREFIX}{name or 'pub-key-' + secrets.token_hex(5)}.pem", key, pem)

    def sign(self, body: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        raw = self.private_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")


class KeyRing:
    """Adobe's two signing key pairs and every public key the key host serves (by path)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pairs: list[KeyPair] = []
        self.public: dict[str, bytes] = {}

    def ensure(self) -> list[KeyPair]:
        with self._lock:
            if not self.pairs:  # generated on first use: a stand-in that sends nothing pays nothing
                self.pairs = [KeyPair.generate(), KeyPair.generate()]
                self.public.update({p.path: p.public_pem for p in self.pairs})
            return list(self.pairs)

    def rotate(self) -> list[KeyPair]:
        """New pairs under new paths; the old public keys stay served (Adobe keeps them)."""
        with self._lock:
            self.pairs = []
        return self.ensure()

    def publish(self, path: str, pem: bytes) -> None:
        """Serve a public key a test made itself (its private half never leaves the test)."""
        if not path.startswith(KEY_PATH_PREFIX) or ".." in path:
            raise ValueError(f"key paths live under {KEY_PATH_PREFIX}")
        with self._lock:
            self.public[path] = pem

    def get(self, path: str) -> bytes | None:
        with self._lock:
            return self.public.get(path)


def sign_adobe_io(
    body: bytes,
    pairs: list[KeyPair],
    *,
    corrupt: tuple[int, ...] = (),
    key_paths: dict[int, str] | None = None,
) -> dict[str, str]:
    """``x-adobe-digital-signature-N`` and ``x-adobe-public-keyN-path`` for N = 1, 2.

    ``corrupt`` lists signature numbers to spoil (a test of "one of two valid"); ``key_paths``
    overrides a path header as sent (e.g. a full URL on another host)."""
    headers: dict[str, str] = {}
    for n, pair in enumerate(pairs[:2], start=1):
        signature = pair.sign(body)
        if n in corrupt:
            signature = pair.sign(body + b" ")  # a real signature, of other bytes
        headers[f"x-adobe-digital-signature-{n}"] = signature
        headers[f"x-adobe-public-key{n}-path"] = (key_paths or {}).get(n, pair.path)
    return headers


def event_body(
    event_code: str,
    value: dict[str, Any],
    *,
    client_id: str,
    provider_id: str,
    event_id: str | None = None,
    store_id: str = "1",
) -> dict[str, Any]:
    """The CloudEvent Adobe I/O delivers for one Commerce event."""
    code = event_code if event_code.startswith(EVENT_PREFIX) else EVENT_PREFIX + event_code
    eid = event_id or str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    return {
        "specversion": "1.0",
        "type": code,
        "source": f"urn:uuid:{provider_id}",
        "id": eid,
        "time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "datacontenttype": "application/json",
        "recipient_client_id": client_id,
        "event_id": eid,
        "data": {
            "value": value,
            "_metadata": {
                "commerceEdition": "Adobe Commerce",
                "commerceVersion": "2.4.7",
                "eventsClientVersion": "1.5.0",
                "storeId": store_id,
                "websiteId": "1",
                "storeGroupId": "1",
            },
        },
    }


def build_event_delivery(
    body_obj: dict[str, Any] | None,
    pairs: list[KeyPair],
    *,
    provider_id: str,
    raw_body: bytes | None = None,
    retry_count: int = 0,
    corrupt: tuple[int, ...] = (),
    key_paths: dict[int, str] | None = None,
    omit: tuple[str, ...] = (),
) -> tuple[bytes, dict[str, str]]:
    """Body bytes and the complete header set of one delivery (``omit`` drops headers)."""
    body = raw_body if raw_body is not None else json.dumps(body_obj).encode()
    parsed = body_obj if body_obj is not None else _parsed(body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "x-adobe-event-code": str(parsed.get("type", "")),
        "x-adobe-event-id": str(parsed.get("event_id") or parsed.get("id") or ""),
        "x-adobe-provider": provider_id,
        "x-adobe-delivery-id": str(uuid.uuid4()),
        **sign_adobe_io(body, pairs, corrupt=corrupt, key_paths=key_paths),
    }
    if retry_count:
        headers["x-adobe-retry-count"] = str(retry_count)
    for name in omit:
        headers.pop(name, None)
    return body, headers


def _parsed(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}  # a test's deliberately broken body: signed all the same
    return value if isinstance(value, dict) else {}


def order_value(order: dict[str, Any], fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``data.value`` of an order event: the model's raw data, numbers as strings with four
    decimals (``"66.7400"``), only the subscribed ``fields`` (default: ids, state, totals)."""
    wanted = fields or (
        "entity_id",
        "increment_id",
        "state",
        "status",
        "grand_total",
        "order_currency_code",
        "customer_email",
        "created_at",
        "updated_at",
    )
    out: dict[str, Any] = {}
    for name in wanted:
        value = order.get(name)
        if isinstance(value, float):
            value = f"{value:.4f}"
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        out[name] = value
    return out
