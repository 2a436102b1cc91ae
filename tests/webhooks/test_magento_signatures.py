"""POST /webhooks/magento/<code>/: Adobe I/O Events verified by RSA-SHA256 with keys fetched
only from HUB_ADOBE_KEY_HOST (the Magento stand-in here) and cached; recipient_client_id
checked; recorded once per event id; every refusal records nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from apps.ledger.models import InboundEvent
from apps.sales_channels import adobe_keys
from tests.fixtures.channel_standins import ChannelStandin

from .magento_io import CLIENT_ID, AdobeSigner, post_delivery

pytestmark = pytest.mark.django_db

CODE = "acme-mg"
VALUE = {"entity_id": "42", "increment_id": "000000042", "grand_total": "66.7400"}


@pytest.fixture
def signer(magento_standin: ChannelStandin, settings: Any) -> AdobeSigner:
    settings.HUB_ADOBE_KEY_HOST = magento_standin.url
    adobe_keys.cache_clear()
    made = AdobeSigner()
    made.publish(magento_standin)
    return made


@pytest.fixture
def channel(make_channel: Any, magento_standin: ChannelStandin) -> Any:
    return make_channel(
        CODE,
        "magento",
        api_base_url=magento_standin.url,
        access_token=magento_standin.access_token,
        magento_client_id=CLIENT_ID,
        magento_io_events=True,
    )


def key_fetches(standin: ChannelStandin) -> int:
    return int(standin.stats()["calls"].get("adobe_key", 0))


def test_valid_signatures_record_the_event(
    client: Client, channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    body, headers = signer.delivery(VALUE, event_id="evt-1")
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 202, resp.content
    event = InboundEvent.objects.get(pk=resp.json()["event_id"])
    assert event.topic == "com.adobe.commerce.plugin.sales.api.order_management.place"
    assert event.dedupe_key == "evt-1"
    assert event.entity_key == "order:42" and event.external_ref == "42"
    assert bytes(event.body) == body
    assert event.headers["x-adobe-event-id"] == "evt-1"
    assert "x-adobe-digital-signature-1" not in event.headers
    assert key_fetches(magento_standin) == 1  # the first signature verified: one key needed


@pytest.mark.parametrize("spoiled", [1, 2])
def test_one_valid_signature_of_two_is_enough(
    client: Client, channel: Any, signer: AdobeSigner, spoiled: int
) -> None:
    body, headers = signer.delivery(VALUE, event_id=f"evt-one-{spoiled}", corrupt=(spoiled,))
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 202, resp.content


def test_both_signatures_invalid_is_401_and_records_nothing(
    client: Client, channel: Any, signer: AdobeSigner
) -> None:
    body, headers = signer.delivery(VALUE, corrupt=(1, 2))
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 401
    assert resp.json()["error"] == "signature_invalid"
    assert InboundEvent.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(
    client: Client, channel: Any, signer: AdobeSigner
) -> None:
    body, headers = signer.delivery(VALUE)
    resp = post_delivery(client, CODE, body.replace(b"66.7400", b"0.0100"), headers)
    assert resp.status_code == 401 and InboundEvent.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "https://evil.example/prod/keys/pub-key-x.pem",
        "//evil.example/prod/keys/pub-key-x.pem",
        "/prod/keys/../../etc/key.pem",
        "/prod/keys/pub-key-x.pem?host=evil.example",
    ],
)
def test_key_path_off_the_key_host_is_refused_without_fetching(
    client: Client,
    channel: Any,
    signer: AdobeSigner,
    magento_standin: ChannelStandin,
    path: str,
) -> None:
    body, headers = signer.delivery(VALUE, key_paths={2: path})
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 401
    assert resp.json()["error"] == "key_host_refused"
    assert resp.json()["header"] == "x-adobe-public-key2-path"
    assert InboundEvent.objects.count() == 0
    assert key_fetches(magento_standin) == 0  # refused before any key was fetched


def test_the_same_key_host_under_another_name_is_another_host(
    client: Client, channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    # localhost serves the very same keys, but it is not the configured host: refused.
    port = urlsplit(magento_standin.url).port
    other = f"http://localhost:{port}{signer.pairs[0].path}"
    body, headers = signer.delivery(VALUE, key_paths={1: other})
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 401 and resp.json()["error"] == "key_host_refused"
    assert key_fetches(magento_standin) == 0


def test_the_key_host_spelled_as_a_full_url_is_accepted(
    client: Client, channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    full = magento_standin.url + signer.pairs[0].path
    body, headers = signer.delivery(VALUE, key_paths={1: full})
    assert post_delivery(client, CODE, body, headers).status_code == 202


def test_wrong_recipient_client_id_is_401(
    client: Client, channel: Any, signer: AdobeSigner
) -> None:
    body, headers = signer.delivery(VALUE, client_id="someone-elses-client")
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 401
    assert resp.json() == {
        "error": "recipient_mismatch",
        "field": "recipient_client_id",
        "detail": "recipient_client_id is not this channel's Adobe I/O client id",
    }
    assert InboundEvent.objects.count() == 0


def test_a_channel_without_client_id_accepts_no_event(
    client: Client, make_channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    make_channel(CODE, "magento", api_base_url=magento_standin.url)
    body, headers = signer.delivery(VALUE)
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 401 and resp.json()["error"] == "recipient_not_configured"
    assert InboundEvent.objects.count() == 0


def test_duplicate_event_id_is_recorded_once(
    client: Client, channel: Any, signer: AdobeSigner
) -> None:
    first = signer.delivery(VALUE, event_id="evt-dup")
    # Adobe's retry: same body, new delivery id and a retry count
    retry = signer.delivery(VALUE, event_id="evt-dup", retry_count=1)
    a = post_delivery(client, CODE, *first)
    b = post_delivery(client, CODE, *retry)
    assert (a.status_code, b.status_code) == (202, 200)
    assert b.json() == {"event_id": a.json()["event_id"], "status": "duplicate"}
    assert InboundEvent.objects.count() == 1


def test_keys_are_fetched_once_then_served_from_the_caches(
    client: Client, channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    for n in range(6):
        body, headers = signer.delivery(VALUE, event_id=f"evt-c{n}", corrupt=(1,))
        assert post_delivery(client, CODE, body, headers).status_code == 202
    assert key_fetches(magento_standin) == 2  # key 1 (its signature fails) and key 2, once each
    assert adobe_keys.stats["fetched"] == 2
    # a new process (memory empty) reads the shared Django cache, not the key host
    adobe_keys.cache_clear()
    body, headers = signer.delivery(VALUE, event_id="evt-c9")
    assert post_delivery(client, CODE, body, headers).status_code == 202
    assert key_fetches(magento_standin) == 2
    assert adobe_keys.stats == {"fetched": 0, "from_cache": 1}


def test_key_host_down_is_503_so_adobe_retries(
    client: Client, channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    magento_standin.set_config(down=True)
    body, headers = signer.delivery(VALUE)
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 503 and resp.json()["error"] == "key_unavailable"
    assert resp["Retry-After"]
    assert InboundEvent.objects.count() == 0


def test_an_unknown_key_path_is_not_asked_again_at_once(
    client: Client, channel: Any, signer: AdobeSigner, magento_standin: ChannelStandin
) -> None:
    missing = "/prod/keys/pub-key-missing.pem"
    for _ in range(3):
        body, headers = signer.delivery(VALUE, key_paths={1: missing, 2: missing})
        assert post_delivery(client, CODE, body, headers).status_code == 503
    assert key_fetches(magento_standin) == 1  # the 404 is remembered


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        (
            {"omit": ("x-adobe-digital-signature-1", "x-adobe-digital-signature-2")},
            401,
            "signature_missing",
        ),
        ({"omit": ("x-adobe-public-key1-path",)}, 400, "header_missing"),
    ],
)
def test_missing_headers(
    client: Client,
    channel: Any,
    signer: AdobeSigner,
    change: dict[str, Any],
    status: int,
    error: str,
) -> None:
    body, headers = signer.delivery(VALUE, **change)
    resp = post_delivery(client, CODE, body, headers)
    assert (resp.status_code, resp.json()["error"]) == (status, error)
    assert InboundEvent.objects.count() == 0


def test_event_id_header_contradicting_the_signed_body_is_400(
    client: Client, channel: Any, signer: AdobeSigner
) -> None:
    body, headers = signer.delivery(VALUE, event_id="evt-real")
    headers["x-adobe-event-id"] = "evt-forged"
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 400 and resp.json()["error"] == "header_mismatch"
    assert InboundEvent.objects.count() == 0


def test_signed_body_that_is_not_json_is_400(
    client: Client, channel: Any, signer: AdobeSigner
) -> None:
    body, headers = signer.delivery(VALUE, raw_body=b'{"type": "x", broken')
    resp = post_delivery(client, CODE, body, headers)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_json"
    assert InboundEvent.objects.count() == 0


def test_unknown_channel_is_404(client: Client, signer: AdobeSigner) -> None:
    body, headers = signer.delivery(VALUE)
    assert post_delivery(client, "nope", body, headers).status_code == 404


# --- registration handshake ------------------------------------------------------------------


def test_challenge_is_echoed_and_records_nothing(client: Client, channel: Any) -> None:
    resp = client.get(f"/webhooks/magento/{CODE}/", {"challenge": "8e1d5b5e-3a5b-4cda-9f0e"})
    assert resp.status_code == 200
    assert resp.json() == {"challenge": "8e1d5b5e-3a5b-4cda-9f0e"}
    assert InboundEvent.objects.count() == 0


@pytest.mark.parametrize("query", [{}, {"challenge": ""}, {"challenge": "<script>"}])
def test_bad_challenge_is_400(client: Client, channel: Any, query: dict[str, str]) -> None:
    resp = client.get(f"/webhooks/magento/{CODE}/", query)
    assert resp.status_code == 400 and resp.json()["error"] == "challenge_invalid"


def test_challenge_for_unknown_channel_is_404(client: Client) -> None:
    assert client.get("/webhooks/magento/nope/", {"challenge": "abc"}).status_code == 404


def test_get_on_other_kinds_stays_405(client: Client, shopify_channel: Any) -> None:
    resp = client.get("/webhooks/shopify/acme-shopify/", {"challenge": "abc"})
    assert resp.status_code == 405 and resp["Allow"] == "POST"


# --- key_url ----------------------------------------------------------------------------------


def test_key_url_joins_paths_to_the_configured_host(settings: Any) -> None:
    settings.HUB_ADOBE_KEY_HOST = "https://static.adobeioevents.com"
    url = adobe_keys.key_url("/prod/keys/pub-key-voy5XEbWmT.pem")
    assert url == "https://static.adobeioevents.com/prod/keys/pub-key-voy5XEbWmT.pem"
    for bad in (
        "http://static.adobeioevents.com/prod/keys/a.pem",  # the scheme is part of the host
        "https://static.adobeioevents.com.evil.example/prod/keys/a.pem",
        "/prod/keys/a.txt",
        "",
    ):
        with pytest.raises(adobe_keys.KeyHostRefused):
            adobe_keys.key_url(bad)


def test_openapi_declares_the_magento_webhook(client: Client) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    path = schema["paths"]["/webhooks/magento/{channel_code}/"]
    assert set(path["post"]["responses"]) == {"200", "202", "400", "401", "404", "413", "503"}
    assert {p["name"] for p in path["get"]["parameters"]} >= {"challenge", "channel_code"}
    assert path["post"]["requestBody"]["content"]["application/json"]["schema"]
