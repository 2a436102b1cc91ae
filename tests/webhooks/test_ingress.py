"""POST /webhooks/<kind>/<code>/: verify on raw bytes, record once, answer with the table in
docs/channels.md. Signature vectors are CHANNELS.md §6."""

from __future__ import annotations

import datetime as dt
import http.client
import io
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.ledger.models import InboundEvent
from apps.sales_channels.services import channel_secret_rotate
from tests.fixtures.channels import (
    SHOPIFY_SECRET,
    WOO_SECRET,
    channel_data,
    shopify_headers,
    sign_base64,
    sign_standard,
)

pytestmark = pytest.mark.django_db

VECTOR_BODY = b'{"id":5912345678901,"name":"#1042"}'
VECTOR_TS = 1736867045
VECTOR_ID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
BC_BODY = (
    b'{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},'
    b'"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1561479335,'
    b'"producer":"stores/abc123"}'
)


def post(
    client: Client, url: str, body: bytes, content_type: str = "application/json", **headers: Any
) -> Any:
    return client.generic("POST", url, body, content_type=content_type, **headers)


def events() -> int:
    return InboundEvent.objects.count()


# --- CHANNELS.md §6 vectors ----------------------------------------------------------------------


def test_shopify_vector(client: Client, shopify_channel: Any) -> None:
    resp = post(
        client,
        "/webhooks/shopify/acme-shopify/",
        VECTOR_BODY,
        HTTP_X_SHOPIFY_HMAC_SHA256="hWohXKfxnl5o25it8HMP+J+Evh2HzQv417MbZex6cgQ=",
        HTTP_X_SHOPIFY_TOPIC="orders/create",
        HTTP_X_SHOPIFY_WEBHOOK_ID="w-1",
        HTTP_X_SHOPIFY_SHOP_DOMAIN="acme.myshopify.com",
    )
    assert resp.status_code == 202, resp.json()
    event = InboundEvent.objects.get(pk=resp.json()["event_id"])
    assert event.topic == "orders/create" and event.dedupe_key == "w-1"
    assert event.entity_key == "order:5912345678901"


def test_woocommerce_vector(client: Client, woo_channel: Any) -> None:
    resp = post(
        client,
        "/webhooks/woocommerce/acme-woo/",
        VECTOR_BODY,
        HTTP_X_WC_WEBHOOK_SIGNATURE="3x3aTSQXvnFrWRnKE+Y/Rt2wXvfG5X9gLXap3Ae0dBM=",
        HTTP_X_WC_WEBHOOK_TOPIC="order.updated",
        HTTP_X_WC_WEBHOOK_RESOURCE="order",
    )
    assert resp.status_code == 202, resp.json()
    # no date_modified_gmt in this body: the dedupe key is the body hash
    assert InboundEvent.objects.get().dedupe_key.startswith("sha256:")


@time_machine.travel(dt.datetime.fromtimestamp(VECTOR_TS + 30, tz=dt.UTC), tick=False)
def test_standard_webhooks_vector(client: Client, standard_channel: Any) -> None:
    body = json.dumps({"type": "invoice.paid", "data": {"type": "invoice", "id": 7}}).encode()
    # the §6.3 signature is over the §6 body; check that exact vector first
    assert (
        sign_standard(b"0123456789abcdef0123456789abcdef", VECTOR_ID, VECTOR_TS, VECTOR_BODY)
        == "v1,QGN1VfDjZ3IevUxyjjkwSgSBOzzWvF8eXfcOEFwfrV0="
    )
    resp = post(
        client,
        "/webhooks/standard_webhooks/acme-std/",
        body,
        HTTP_WEBHOOK_ID=VECTOR_ID,
        HTTP_WEBHOOK_TIMESTAMP=str(VECTOR_TS),
        HTTP_WEBHOOK_SIGNATURE="v1a,ignored "
        + sign_standard(b"0123456789abcdef0123456789abcdef", VECTOR_ID, VECTOR_TS, body),
    )
    assert resp.status_code == 202, resp.json()


@time_machine.travel(dt.datetime.fromtimestamp(VECTOR_TS, tz=dt.UTC), tick=False)
def test_bigcommerce_vector(client: Client, bigcommerce_channel: Any) -> None:
    resp = post(
        client,
        "/webhooks/bigcommerce/acme-bc/",
        BC_BODY,
        HTTP_WEBHOOK_ID=VECTOR_ID,
        HTTP_WEBHOOK_TIMESTAMP=str(VECTOR_TS),
        HTTP_WEBHOOK_SIGNATURE="v1,l/k8II/iXJiBRG4fwx88HFE8UDACNfIJ3wThpXZQKUs=",
    )
    assert resp.status_code == 202, resp.json()
    event = InboundEvent.objects.get()
    assert event.topic == "store/order/created" and event.entity_key == "order:250"


# --- refusals ------------------------------------------------------------------------------------


def test_tampered_body_is_401_and_records_nothing(client: Client, shopify_channel: Any) -> None:
    headers = shopify_headers(VECTOR_BODY)
    tampered = VECTOR_BODY.replace(b"1042", b"1043")
    resp = post(client, "/webhooks/shopify/acme-shopify/", tampered, **headers)
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "signature_invalid",
        "header": "X-Shopify-Hmac-Sha256",
        "detail": "signature does not match the body",
    }
    assert events() == 0


def test_missing_signature_is_401(client: Client, woo_channel: Any) -> None:
    resp = post(
        client,
        "/webhooks/woocommerce/acme-woo/",
        VECTOR_BODY,
        HTTP_X_WC_WEBHOOK_TOPIC="order.updated",
    )
    assert resp.status_code == 401 and resp.json()["error"] == "signature_missing"
    assert events() == 0


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_or_future_timestamp_is_401(
    client: Client, bigcommerce_channel: Any, offset: int
) -> None:
    with time_machine.travel(dt.datetime.fromtimestamp(VECTOR_TS + offset, tz=dt.UTC), tick=False):
        resp = post(
            client,
            "/webhooks/bigcommerce/acme-bc/",
            BC_BODY,
            HTTP_WEBHOOK_ID=VECTOR_ID,
            HTTP_WEBHOOK_TIMESTAMP=str(VECTOR_TS),
            HTTP_WEBHOOK_SIGNATURE="v1,l/k8II/iXJiBRG4fwx88HFE8UDACNfIJ3wThpXZQKUs=",
        )
    assert resp.status_code == 401
    assert resp.json()["error"] == "timestamp_out_of_tolerance"
    assert resp.json()["header"] == "webhook-timestamp"
    assert events() == 0


@time_machine.travel(dt.datetime.fromtimestamp(VECTOR_TS, tz=dt.UTC), tick=False)
def test_replayed_webhook_id_is_200_with_the_original_event(
    client: Client, bigcommerce_channel: Any
) -> None:
    headers = {
        "HTTP_WEBHOOK_ID": VECTOR_ID,
        "HTTP_WEBHOOK_TIMESTAMP": str(VECTOR_TS),
        "HTTP_WEBHOOK_SIGNATURE": "v1,l/k8II/iXJiBRG4fwx88HFE8UDACNfIJ3wThpXZQKUs=",
    }
    first = post(client, "/webhooks/bigcommerce/acme-bc/", BC_BODY, **headers)
    again = post(client, "/webhooks/bigcommerce/acme-bc/", BC_BODY, **headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["event_id"] == first.json()["event_id"]
    assert again.json()["status"] == "duplicate"
    assert events() == 1


def test_rotation_overlap(client: Client, shopify_channel: Any) -> None:
    # given a rotated secret with a one-hour overlap
    _, new_secret = channel_secret_rotate(channel=shopify_channel, overlap=dt.timedelta(hours=1))
    url = "/webhooks/shopify/acme-shopify/"
    # then both secrets verify during the overlap
    old = post(client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY, webhook_id="a"))
    new = post(
        client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY, secret=new_secret, webhook_id="b")
    )
    assert (old.status_code, new.status_code) == (202, 202)
    # and after valid_until only the new one does
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1, seconds=1)):
        old = post(client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY, webhook_id="c"))
        new = post(
            client,
            url,
            VECTOR_BODY,
            **shopify_headers(VECTOR_BODY, secret=new_secret, webhook_id="d"),
        )
    assert (old.status_code, new.status_code) == (401, 202)


class TrackingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_oversized_content_length_is_413_before_reading(
    client: Client, shopify_channel: Any, settings: Any
) -> None:
    stream = TrackingStream(VECTOR_BODY)
    resp = post(
        client,
        "/webhooks/shopify/acme-shopify/",
        VECTOR_BODY,
        CONTENT_LENGTH=str(settings.HUB_MAX_BODY_BYTES + 1),
        **{"wsgi.input": stream},
        **shopify_headers(VECTOR_BODY),
    )
    assert resp.status_code == 413 and resp.json()["error"] == "body_too_large"
    assert stream.bytes_read == 0 and events() == 0


def test_oversized_chunked_body_is_413_after_a_bounded_read(
    client: Client, shopify_channel: Any, settings: Any
) -> None:
    settings.HUB_MAX_BODY_BYTES = 1000
    stream = TrackingStream(b"x" * 50_000)
    resp = client.generic(
        "POST",
        "/webhooks/shopify/acme-shopify/",
        b"",
        content_type="application/json",
        **{
            "wsgi.input": stream,
            "wsgi.input_terminated": True,
            "HTTP_TRANSFER_ENCODING": "chunked",
        },
        **shopify_headers(VECTOR_BODY),
    )
    assert resp.status_code == 413 and stream.bytes_read <= 1001 and events() == 0


def test_unknown_channel_wrong_kind_and_b2b_are_404(
    client: Client, shopify_channel: Any, b2b_channel: Any
) -> None:
    for url in (
        "/webhooks/shopify/nope/",
        "/webhooks/woocommerce/acme-shopify/",
        "/webhooks/b2b_api/acme-b2b/",
        "/webhooks/shopify/acme-b2b/",
        "/webhooks/magento/acme-shopify/",
    ):
        resp = post(client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY))
        assert resp.status_code == 404, url
        assert resp.json()["error"] == "channel_not_found"
    assert events() == 0


def test_paused_is_503_with_retry_after_and_shadow_records(
    client: Client, shopify_channel: Any
) -> None:
    shopify_channel.state = "paused"
    shopify_channel.save()
    url = "/webhooks/shopify/acme-shopify/"
    resp = post(client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY))
    assert resp.status_code == 503 and int(resp["Retry-After"]) > 0
    assert resp.json()["error"] == "channel_paused" and events() == 0
    shopify_channel.state = "shadow"
    shopify_channel.save()
    assert post(client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY)).status_code == 202


def test_woocommerce_ping_is_200_and_changes_nothing(client: Client, woo_channel: Any) -> None:
    resp = post(
        client,
        "/webhooks/woocommerce/acme-woo/",
        b"webhook_id=12",
        content_type="application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200 and events() == 0


def test_body_not_json_after_valid_signature_is_400(client: Client, woo_channel: Any) -> None:
    body = b"<xml/>"
    resp = post(
        client,
        "/webhooks/woocommerce/acme-woo/",
        body,
        HTTP_X_WC_WEBHOOK_SIGNATURE=sign_base64(WOO_SECRET, body),
        HTTP_X_WC_WEBHOOK_TOPIC="order.updated",
    )
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_json"
    assert resp.json()["field"] == "body" and events() == 0


def test_woocommerce_dedupes_on_id_and_modification_time(client: Client, woo_channel: Any) -> None:
    body = channel_data("woocommerce_order.json")
    headers = {
        "HTTP_X_WC_WEBHOOK_SIGNATURE": sign_base64(WOO_SECRET, body),
        "HTTP_X_WC_WEBHOOK_TOPIC": "order.updated",
        "HTTP_X_WC_WEBHOOK_RESOURCE": "order",
        "HTTP_X_WC_WEBHOOK_DELIVERY_ID": "changes-on-every-attempt",
    }
    first = post(client, "/webhooks/woocommerce/acme-woo/", body, **headers)
    headers["HTTP_X_WC_WEBHOOK_DELIVERY_ID"] = "another"
    again = post(client, "/webhooks/woocommerce/acme-woo/", body, **headers)
    assert (first.status_code, again.status_code) == (202, 200)
    event = InboundEvent.objects.get()
    assert event.dedupe_key == "order:727:2025-01-14T15:05:11"
    assert event.entity_key == "order:727"


def test_shop_domain_must_match_including_port(client: Client, make_channel: Any) -> None:
    make_channel(
        "demo-shopify", "shopify", secret=SHOPIFY_SECRET, api_base_url="http://127.0.0.1:18099"
    )
    url = "/webhooks/shopify/demo-shopify/"
    ok = post(client, url, VECTOR_BODY, **shopify_headers(VECTOR_BODY, shop="127.0.0.1:18099"))
    bad = post(
        client,
        url,
        VECTOR_BODY,
        **shopify_headers(VECTOR_BODY, shop="127.0.0.1", webhook_id="other"),
    )
    assert ok.status_code == 202
    assert bad.status_code == 401 and bad.json()["error"] == "shop_domain_mismatch"


# --- end to end over real HTTP -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_shopify_end_to_end_over_http(live_server: Any, make_channel: Any) -> None:
    # given a channel and a realistic orders/create body
    make_channel(
        "e2e-shopify", "shopify", secret=SHOPIFY_SECRET, api_base_url="https://e2e.myshopify.com"
    )
    body = channel_data("shopify_order.json")
    host = urlsplit(live_server.url)
    headers = {  # lower-case names on the wire: header names are case-insensitive
        "content-type": "application/json",
        "x-shopify-hmac-sha256": sign_base64(SHOPIFY_SECRET, body),
        "x-shopify-topic": "orders/create",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-shop-domain": "e2e.myshopify.com",
    }

    def send() -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection(host.hostname, host.port, timeout=10)
        conn.request("POST", "/webhooks/shopify/e2e-shopify/", body=body, headers=headers)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        conn.close()
        return resp.status, data

    # when delivered twice
    status, first = send()
    status2, second = send()
    # then one event holds the raw bytes, and the retry names it
    assert status == 202 and status2 == 200
    assert second["event_id"] == first["event_id"]
    event = InboundEvent.objects.get(pk=first["event_id"])
    assert bytes(event.body) == body
    assert InboundEvent.objects.count() == 1
