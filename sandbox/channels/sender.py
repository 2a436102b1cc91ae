"""Sign and send webhooks exactly as the platforms do (CHANNELS.md 1.2/1.3, 2.2/2.3, 3.2, 5).

The ``sign_*`` functions are pure and importable, so hub tests can build realistic deliveries
without a server; each returns the complete platform header set for one delivery::

    from sandbox.channels.sender import sign_shopify
    headers = sign_shopify(body, "shpss_test_secret", topic="orders/create",
                           shop_domain="demo.myshopify.com")

``build_delivery`` serialises a payload the way the platform does and signs it; ``send`` does
that and POSTs the result. CLI: ``python -m sandbox.channels.sender --kind shopify --url URL
--topic orders/create --secret S --payload '{"id": 1}'``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

SHOPIFY_API_VERSION = "2025-01"
WOO_USER_AGENT = "WooCommerce/9.5.1 Hookshot (WordPress/6.7.1)"
KINDS = ("shopify", "woocommerce", "bigcommerce")


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def _iso_utc_now() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


# -- signatures -----------------------------------------------------------------------------------
def shopify_hmac(body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the raw body, keyed by the app's client secret (CHANNELS.md 1.3)."""
    return _b64_hmac(secret.encode(), body)


def woocommerce_signature(body: bytes, secret: str) -> str:
    """Base64 HMAC-SHA256 of the body as sent, keyed by the per-webhook secret (2.3)."""
    return _b64_hmac(secret.encode(), body)


def sign_shopify(
    body: bytes,
    secret: str,
    *,
    topic: str,
    shop_domain: str,
    webhook_id: str | None = None,
    event_id: str | None = None,
    api_version: str = SHOPIFY_API_VERSION,
    triggered_at: str | None = None,
) -> dict[str, str]:
    """All headers of one Shopify delivery (CHANNELS.md 1.2). Only the body is signed; topic and
    shop domain ride unsigned, as on Shopify. Ids default to fresh UUIDs: pass the same
    ``webhook_id`` twice to imitate a duplicate delivery, the same ``event_id`` to imitate two
    subscriptions fed by one merchant action."""
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_hmac(body, secret),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Triggered-At": triggered_at or _iso_utc_now(),
        "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
    }


def _body_resource_id(body: bytes) -> str | None:
    """The id a WooCommerce body is about: ``id`` for resource topics, ``arg`` for action topics."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    found = parsed.get("id", parsed.get("arg"))
    return None if found is None or isinstance(found, dict | list) else str(found)


def sign_woocommerce(
    body: bytes,
    secret: str,
    *,
    topic: str,
    source: str,
    resource_id: int | str | None = None,
    webhook_id: int | str = 1,
    delivery_id: str | None = None,
) -> dict[str, str]:
    """All X-WC headers of one WooCommerce delivery (CHANNELS.md 2.2).

    ``topic`` is ``<resource>.<event>`` or ``action.<hook>``; resource and event headers are
    derived from it as WooCommerce does. WooCommerce sends no header naming the resource id (it is
    only in the body), so ``resource_id`` is not emitted: when given it is checked against the
    body's ``id``/``arg`` so a fixture cannot claim one order while the body carries another.
    ``X-WC-Webhook-ID`` is the subscription id. The delivery id is new per call, like
    ``wp_hash(webhook_id . time)``: it is not an idempotency key on the real platform either.
    """
    resource, dot, event = topic.partition(".")
    if not dot or not resource or not event:
        raise ValueError(f"WooCommerce topic must look like 'order.updated', got {topic!r}")
    if resource_id is not None:
        in_body = _body_resource_id(body)
        if in_body is not None and in_body != str(resource_id):
            raise ValueError(f"resource_id {resource_id!r} but the body is about {in_body!r}")
    delivery = delivery_id or hashlib.md5(f"{webhook_id}{time.time_ns()}".encode()).hexdigest()
    return {
        "X-WC-Webhook-Source": source,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": woocommerce_signature(body, secret),
        "X-WC-Webhook-ID": str(webhook_id),
        "X-WC-Webhook-Delivery-ID": delivery,
    }


def standard_key(secret: str) -> bytes:
    """Standard Webhooks key: ``whsec_<base64>`` decodes to the raw key (missing padding is
    tolerated, as the reference libraries do); anything else is used as raw UTF-8 bytes, which
    is what BigCommerce does with an app's client secret."""
    if secret.startswith("whsec_"):
        b64 = secret[len("whsec_") :]
        return base64.b64decode(b64 + "=" * (-len(b64) % 4))
    return secret.encode()


def sign_standard_webhooks(
    body: bytes,
    whsec_secret: str,
    *,
    msg_id: str | None = None,
    timestamp: int | str | None = None,
) -> dict[str, str]:
    """Standard Webhooks v1 headers (CHANNELS.md 5): ``webhook-signature`` is
    ``v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>`` with the base64-decoded whsec key.
    ``msg_id`` defaults to a fresh ``msg_…`` id, ``timestamp`` to now; a retry keeps the id and
    gets a new timestamp, so pass ``msg_id`` to imitate one."""
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if "." in msg_id or "." in ts:
        # The signed string is dot-separated; the spec forbids dots in either part.
        raise ValueError("webhook id and timestamp must not contain '.'")
    signed = f"{msg_id}.{ts}.".encode() + body
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": ts,
        "webhook-signature": "v1," + _b64_hmac(standard_key(whsec_secret), signed),
    }


def sign_bigcommerce(
    body: bytes,
    client_secret: str,
    *,
    msg_id: str | None = None,
    timestamp: int | str | None = None,
) -> dict[str, str]:
    """BigCommerce signs per Standard Webhooks keyed by the client secret's raw bytes (3.2).
    A ``whsec_`` spelling of the same secret decodes to the same bytes, so both work."""
    return sign_standard_webhooks(body, client_secret, msg_id=msg_id, timestamp=timestamp)


# -- bodies ---------------------------------------------------------------------------------------
def compact_json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def wordpress_json(payload: Any) -> bytes:
    """``trim(wp_json_encode(...))``: PHP's json_encode escapes ``/`` and non-ASCII."""
    return (
        json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()
    )


def bigcommerce_envelope(
    scope: str, data: dict[str, Any], store_hash: str, store_id: str = "1025646"
) -> dict[str, Any]:
    """The thin callback body; ``hash`` is SHA-1 hex of the JSON-encoded data."""
    return {
        "scope": scope,
        "store_id": store_id,
        "data": data,
        "hash": hashlib.sha1(compact_json(data)).hexdigest(),
        "created_at": int(time.time()),
        "producer": f"stores/{store_hash}",
    }


def build_delivery(
    kind: str,
    topic: str,
    payload: Any,
    secret: str,
    *,
    shop_domain: str = "standin.myshopify.com",
    source: str = "https://shop.example.com/",
    store_hash: str = "abc123",
    raw_body: bytes | None = None,
    webhook_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body bytes and headers of one delivery as ``kind`` would send it.

    ``raw_body`` bypasses serialisation (to test byte-exact verification). ``webhook_id`` is the
    Shopify delivery id, the WooCommerce subscription id or the Standard Webhooks message id.
    """
    headers: dict[str, str] = {"Content-Type": "application/json"}
    if kind == "shopify":
        body = raw_body if raw_body is not None else compact_json(payload)
        headers.update(
            sign_shopify(body, secret, topic=topic, shop_domain=shop_domain, webhook_id=webhook_id)
        )
        return body, headers
    if kind == "woocommerce":
        body = raw_body if raw_body is not None else wordpress_json(payload)
        headers["User-Agent"] = WOO_USER_AGENT
        headers.update(
            sign_woocommerce(body, secret, topic=topic, source=source, webhook_id=webhook_id or 1)
        )
        return body, headers
    if kind == "bigcommerce":
        if raw_body is not None:
            body = raw_body
        else:
            envelope = payload
            if not (isinstance(payload, dict) and "scope" in payload):
                envelope = bigcommerce_envelope(topic, payload or {}, store_hash)
            body = compact_json(envelope)
        headers.update(sign_bigcommerce(body, secret, msg_id=webhook_id, timestamp=timestamp))
        return body, headers
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> dict[str, Any]:
    """POST exact bytes; returns {status, body} (HTTP errors are answers, not exceptions; a
    connection failure gives status None and an error text, as a sender would log it)."""
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return {"status": resp.status, "body": resp.read().decode(errors="replace")}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode(errors="replace")}
    except (urllib.error.URLError, OSError) as exc:
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"}


def send(
    url: str,
    kind: str,
    payload: Any,
    secret: str,
    *,
    topic: str,
    timeout: float = 10.0,
    **options: Any,
) -> dict[str, Any]:
    """Build one delivery as ``kind`` would (``options`` as for ``build_delivery``) and POST it.

    Returns ``{status, body, sent_headers, sent_body}``: what the receiver answered and exactly
    what went over the wire, so a test can replay the same bytes as a duplicate.
    """
    body, headers = build_delivery(kind, topic, payload, secret, **options)
    return {**post(url, body, headers, timeout), "sent_headers": headers, "sent_body": body}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.channels.sender", description="Sign and send one webhook"
    )
    parser.add_argument("--kind", required=True, choices=KINDS)
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--topic", required=True, help="orders/create, order.updated, store/order/created"
    )
    parser.add_argument("--secret", required=True)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--payload", help="JSON payload")
    group.add_argument("--payload-file", help="file whose exact bytes are the body")
    parser.add_argument("--shop-domain", default="standin.myshopify.com")
    parser.add_argument("--source", default="https://shop.example.com/")
    parser.add_argument("--store-hash", default="abc123")
    parser.add_argument("--webhook-id", help="fixed delivery/message id (to imitate a retry)")
    args = parser.parse_args(argv)
    raw = None
    payload: Any = None
    if args.payload_file:
        with open(args.payload_file, "rb") as fh:
            raw = fh.read()
    else:
        payload = json.loads(args.payload)
    result = send(
        args.url,
        args.kind,
        payload,
        args.secret,
        topic=args.topic,
        shop_domain=args.shop_domain,
        source=args.source,
        store_hash=args.store_hash,
        raw_body=raw,
        webhook_id=args.webhook_id,
    )
    sent_body: bytes = result.pop("sent_body")
    print(json.dumps({**result, "sent_body": sent_body.decode(errors="replace")}, indent=2))
    return 0 if isinstance(result.get("status"), int) and 200 <= result["status"] < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
