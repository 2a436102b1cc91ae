"""Sign and send webhooks exactly as the platforms do (CHANNELS.md 1.2/1.3, 2.2/2.3, 3.2, 5).

The signing functions are pure and importable, so hub tests can build realistic deliveries
without a server::

    from sandbox.channels.sender import sign_shopify
    headers = sign_shopify(body, "shpss_test_secret")

``build_delivery`` returns the exact body bytes and the full header set; ``send`` POSTs them.
CLI: ``python -m sandbox.channels.sender --kind shopify --url URL --topic orders/create
--secret S --payload '{"id": 1}'``.
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


def _b64_hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def sign_shopify(body: bytes, secret: str) -> dict[str, str]:
    """``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the raw body, key = client secret."""
    return {"X-Shopify-Hmac-Sha256": _b64_hmac(secret.encode(), body)}


def sign_woocommerce(body: bytes, secret: str) -> dict[str, str]:
    """``X-WC-Webhook-Signature``: base64 HMAC-SHA256 of the raw body, key = webhook secret."""
    return {"X-WC-Webhook-Signature": _b64_hmac(secret.encode(), body)}


def standard_key(secret: str) -> bytes:
    """Standard Webhooks key: ``whsec_<base64>`` decodes to the raw key (missing padding is
    tolerated, as the reference libraries do); anything else is used as raw UTF-8 bytes, which
    is what BigCommerce does with an app's client secret."""
    if secret.startswith("whsec_"):
        b64 = secret[len("whsec_") :]
        return base64.b64decode(b64 + "=" * (-len(b64) % 4))
    return secret.encode()


def sign_standard(body: bytes, secret: str, msg_id: str, timestamp: int | str) -> dict[str, str]:
    """Standard Webhooks v1: ``v1,<base64 HMAC-SHA256("{id}.{timestamp}.{body}")>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + _b64_hmac(standard_key(secret), signed),
    }


def sign_bigcommerce(
    body: bytes, client_secret: str, msg_id: str, timestamp: int | str
) -> dict[str, str]:
    """BigCommerce signs per Standard Webhooks keyed by the client secret's raw bytes."""
    # A ``whsec_`` form of the same secret decodes to the same bytes, so both spellings work.
    return sign_standard(body, client_secret, msg_id, timestamp)


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
    """Body bytes and headers of one delivery as ``kind`` would send it."""
    headers: dict[str, str] = {"Content-Type": "application/json"}
    if kind == "shopify":
        body = raw_body if raw_body is not None else compact_json(payload)
        now = dt.datetime.now(dt.UTC)
        headers.update(
            {
                "X-Shopify-Topic": topic,
                "X-Shopify-Shop-Domain": shop_domain,
                "X-Shopify-API-Version": SHOPIFY_API_VERSION,
                "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-Triggered-At": now.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{now.microsecond // 1000:03d}Z",
                **sign_shopify(body, secret),
            }
        )
        return body, headers
    if kind == "woocommerce":
        body = raw_body if raw_body is not None else wordpress_json(payload)
        resource, _, event = topic.partition(".")
        hook_id = webhook_id or "12"
        delivery = hashlib.md5(f"{hook_id}{time.time()}".encode()).hexdigest()
        headers.update(
            {
                "User-Agent": WOO_USER_AGENT,
                "X-WC-Webhook-Source": source,
                "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-ID": hook_id,
                "X-WC-Webhook-Delivery-ID": delivery,
                **sign_woocommerce(body, secret),
            }
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
        msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
        headers.update(sign_bigcommerce(body, secret, msg_id, timestamp or int(time.time())))
        return body, headers
    raise ValueError(f"unknown kind {kind!r}")


def send(url: str, body: bytes, headers: dict[str, str], timeout: float = 10.0) -> dict[str, Any]:
    """POST one delivery; returns {status, body} (HTTP errors are answers, not exceptions)."""
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return {"status": resp.status, "body": resp.read().decode(errors="replace")}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode(errors="replace")}
    except (urllib.error.URLError, OSError) as exc:
        return {"status": None, "error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.channels.sender", description="Sign and send one webhook"
    )
    parser.add_argument("--kind", required=True, choices=("shopify", "woocommerce", "bigcommerce"))
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
    args = parser.parse_args(argv)
    raw = None
    payload: Any = None
    if args.payload_file:
        with open(args.payload_file, "rb") as fh:
            raw = fh.read()
    else:
        payload = json.loads(args.payload)
    body, headers = build_delivery(
        args.kind,
        args.topic,
        payload,
        args.secret,
        shop_domain=args.shop_domain,
        source=args.source,
        store_hash=args.store_hash,
        raw_body=raw,
    )
    result = send(args.url, body, headers)
    print(json.dumps({"headers": headers, **result}, indent=2))
    return 0 if isinstance(result.get("status"), int) and 200 <= result["status"] < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
