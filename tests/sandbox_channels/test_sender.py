"""Webhook signing against the CHANNELS.md section 6 vectors, and real deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sandbox.channels import sender
from tests.fixtures.channel_standins import ChannelStandin

BODY = b'{"id":5912345678901,"name":"#1042"}'
BC_BODY = (
    b'{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},'
    b'"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,"producer":"stores/abc123"}'
)
MSG_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
TS = 1736867045


def test_shopify_vector_and_full_header_set() -> None:
    headers = sender.sign_shopify(
        BODY,
        "shpss_test_secret",
        topic="orders/create",
        shop_domain="demo.myshopify.com",
        webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    )
    assert headers["X-Shopify-Hmac-Sha256"] == "hWohXKfxnl5o25it8HMP+J+Evh2HzQv417MbZex6cgQ="
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == "demo.myshopify.com"
    assert headers["X-Shopify-Webhook-Id"] == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert headers["X-Shopify-API-Version"] == "2025-01"
    assert headers["X-Shopify-Triggered-At"].endswith("Z")
    assert headers["X-Shopify-Event-Id"]
    # Without an explicit id every delivery gets its own.
    again = sender.sign_shopify(
        BODY, "shpss_test_secret", topic="orders/create", shop_domain="demo.myshopify.com"
    )
    assert again["X-Shopify-Webhook-Id"] != headers["X-Shopify-Webhook-Id"]


def test_woocommerce_vector_and_full_header_set() -> None:
    headers = sender.sign_woocommerce(
        BODY,
        "wc_test_secret",
        topic="order.updated",
        source="https://shop.example.com/",
        resource_id=5912345678901,
    )
    assert headers["X-WC-Webhook-Signature"] == "3x3aTSQXvnFrWRnKE+Y/Rt2wXvfG5X9gLXap3Ae0dBM="
    assert headers["X-WC-Webhook-Source"] == "https://shop.example.com/"
    assert (headers["X-WC-Webhook-Resource"], headers["X-WC-Webhook-Event"]) == (
        "order",
        "updated",
    )
    assert headers["X-WC-Webhook-ID"] == "1"
    assert len(headers["X-WC-Webhook-Delivery-ID"]) == 32
    action = sender.sign_woocommerce(
        b'{"action":"woocommerce_payment_complete","arg":7}',
        "s",
        topic="action.woocommerce_payment_complete",
        source="https://shop.example.com/",
        resource_id=7,
    )
    assert action["X-WC-Webhook-Resource"] == "action"
    assert action["X-WC-Webhook-Event"] == "woocommerce_payment_complete"


def test_woocommerce_resource_id_must_match_body() -> None:
    with pytest.raises(ValueError, match="resource_id"):
        sender.sign_woocommerce(
            BODY, "s", topic="order.updated", source="https://x/", resource_id=1
        )
    with pytest.raises(ValueError, match="topic"):
        sender.sign_woocommerce(BODY, "s", topic="orders/create", source="https://x/")


def test_standard_webhooks_vector() -> None:
    headers = sender.sign_standard_webhooks(
        BODY, "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", msg_id=MSG_ID, timestamp=TS
    )
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": "v1,QGN1VfDjZ3IevUxyjjkwSgSBOzzWvF8eXfcOEFwfrV0=",
    }
    # Missing base64 padding is tolerated, as in the reference libraries.
    assert (
        sender.standard_key("whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")
        == b"0123456789abcdef0123456789abcdef"
    )


def test_standard_webhooks_defaults_verify() -> None:
    secret = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    headers = sender.sign_standard_webhooks(BODY, secret)
    assert headers["webhook-id"].startswith("msg_")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 5
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + BODY
    expected = _b64(b"0123456789abcdef0123456789abcdef", signed)
    assert headers["webhook-signature"] == f"v1,{expected}"
    with pytest.raises(ValueError):
        sender.sign_standard_webhooks(BODY, secret, msg_id="a.b", timestamp=TS)


@pytest.mark.parametrize(
    "secret", ["bc_client_secret_example", "whsec_YmNfY2xpZW50X3NlY3JldF9leGFtcGxl"]
)
def test_bigcommerce_vector(secret: str) -> None:
    headers = sender.sign_bigcommerce(BC_BODY, secret, msg_id=MSG_ID, timestamp=TS)
    assert headers["webhook-signature"] == "v1,l/k8II/iXJiBRG4fwx88HFE8UDACNfIJ3wThpXZQKUs="


def test_bigcommerce_envelope_hash_and_woo_body_escaping() -> None:
    env = sender.bigcommerce_envelope("store/order/created", {"type": "order", "id": 250}, "abc123")
    assert env["hash"] == hashlib.sha1(b'{"type":"order","id":250}').hexdigest()
    assert env["producer"] == "stores/abc123" and env["store_id"] == "1025646"
    assert (
        sender.wordpress_json({"url": "https://x/y", "name": "Café"})
        == b'{"url":"https:\\/\\/x\\/y","name":"Caf\\u00e9"}'
    )


class _Receiver(BaseHTTPRequestHandler):
    got: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.got = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks"
    finally:
        server.shutdown()
        server.server_close()


def _b64(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def test_shopify_delivery_through_control_endpoint(
    shopify_standin: ChannelStandin, receiver: str
) -> None:
    result = shopify_standin.send_webhook(
        receiver, "orders/create", {"id": 1, "name": "#1001"}, "shpss_test_secret"
    )
    assert result["status"] == 200
    headers, body = _Receiver.got[0]
    assert json.loads(body) == {"id": 1, "name": "#1001"}
    assert headers["x-shopify-hmac-sha256"] == _b64(b"shpss_test_secret", body)
    assert headers["x-shopify-topic"] == "orders/create"
    assert headers["x-shopify-shop-domain"] == shopify_standin.url.removeprefix("http://")
    assert {
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
        "x-shopify-api-version",
    } <= headers.keys()


def test_woocommerce_delivery(woo_standin: ChannelStandin, receiver: str) -> None:
    woo_standin.send_webhook(
        receiver, "order.updated", {"id": 7, "status": "processing"}, "wc_test_secret"
    )
    headers, body = _Receiver.got[0]
    assert headers["x-wc-webhook-signature"] == _b64(b"wc_test_secret", body)
    assert (
        headers["x-wc-webhook-topic"],
        headers["x-wc-webhook-resource"],
        headers["x-wc-webhook-event"],
    ) == ("order.updated", "order", "updated")
    assert headers["x-wc-webhook-source"].endswith("/")
    assert len(headers["x-wc-webhook-delivery-id"]) == 32


def test_bigcommerce_delivery(bigcommerce_standin: ChannelStandin, receiver: str) -> None:
    bigcommerce_standin.send_webhook(
        receiver, "store/order/created", {"type": "order", "id": 250}, "bc_client_secret_example"
    )
    headers, body = _Receiver.got[0]
    envelope = json.loads(body)
    assert envelope["scope"] == "store/order/created" and envelope["data"] == {
        "type": "order",
        "id": 250,
    }
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    assert headers["webhook-signature"] == "v1," + _b64(b"bc_client_secret_example", signed)


def test_cli_sends(receiver: str) -> None:
    code = sender.main(
        [
            "--kind",
            "shopify",
            "--url",
            receiver,
            "--topic",
            "orders/paid",
            "--secret",
            "s",
            "--payload",
            '{"id": 3}',
        ]
    )
    assert code == 0
    assert _Receiver.got[0][0]["x-shopify-topic"] == "orders/paid"


def test_send_helper_posts_signed_bytes(receiver: str) -> None:
    result = sender.send(
        receiver, "woocommerce", {"id": 7, "note": "a/b"}, "wc_test_secret", topic="order.updated"
    )
    assert result["status"] == 200
    headers, body = _Receiver.got[0]
    assert body == result["sent_body"] == b'{"id":7,"note":"a\\/b"}'
    assert headers["x-wc-webhook-signature"] == _b64(b"wc_test_secret", body)
    assert headers["user-agent"].startswith("WooCommerce/")
    # A connection failure is an answer, not an exception.
    dead = sender.send(
        "http://127.0.0.1:9/none", "shopify", {}, "s", topic="orders/create", timeout=1.0
    )
    assert dead["status"] is None and dead["error"]
