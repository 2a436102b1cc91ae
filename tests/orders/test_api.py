"""The B2B order API: idempotency, validation, channel isolation, listing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.orders.models import ChannelOrder, IdempotencyKey, OrderState
from apps.sales_channels.services import api_token_create

from .conftest import b2b_payload, bind

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(b2b: Any) -> APIClient:
    channel, raw = b2b
    bind(channel, "TSHIRT-BLU-M", 1)
    bind(channel, "MUG-WHT-11OZ", 3)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def post(api: APIClient, payload: Any, key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    body = payload if isinstance(payload, str) else json.dumps(payload)
    return api.post("/api/v1/orders/", data=body, content_type="application/json", **headers)


def test_create_shows_state_reference_and_history(api: APIClient) -> None:
    resp = post(api, b2b_payload())
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["state"] == OrderState.READY
    assert body["odoo"]["reference"] == "portal:PO-7781"
    assert [h["to_state"] for h in body["history"]] == ["received", "ready"]
    assert body["hold"] is None
    # the same order again (no key): deduped on (channel, external id)
    again = post(api, b2b_payload())
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert ChannelOrder.objects.count() == 1


def test_idempotency_key_replays_conflicts_and_in_flight(api: APIClient, b2b: Any) -> None:
    first = post(api, b2b_payload(), key="k1")
    assert first.status_code == 201
    # same key, same body -> the original response
    replay = post(api, b2b_payload(), key="k1")
    assert replay.status_code == 201
    assert replay.json() == first.json()
    # same key, another body -> 422
    other = post(api, b2b_payload(note="changed"), key="k1")
    assert other.status_code == 422
    # a key whose first request is still running -> 409
    body = json.dumps(b2b_payload("PO-2"))
    import hashlib

    from django.utils import timezone

    IdempotencyKey.objects.create(
        channel=b2b[0],
        key="k2",
        request_hash=hashlib.sha256(body.encode()).hexdigest(),
        expires_at=timezone.now() + timezone.timedelta(hours=24),
    )
    assert post(api, body, key="k2").status_code == 409
    key = IdempotencyKey.objects.get(key="k1")
    assert (key.expires_at - key.created_at).total_seconds() >= 24 * 3600 - 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": []}, "lines"),
        ({"currency": "XYZ"}, "currency"),
        (
            {"lines": [{"sku": "TSHIRT-BLU-M", "quantity": -1, "unit_price": "25.00"}]},
            "lines[0].quantity",
        ),
    ],
)
def test_bad_payloads_are_400_with_field_and_nothing_written(
    api: APIClient, change: dict[str, Any], field: str
) -> None:
    resp = post(api, b2b_payload(**change), key=f"bad-{field}")
    assert resp.status_code == 400
    assert resp.json()["field"] == field
    assert resp.json()["reason"]
    assert ChannelOrder.objects.count() == 0


def test_not_json_is_400(api: APIClient) -> None:
    assert post(api, "{nope").status_code == 400


def test_other_channel_order_is_404_and_list_is_scoped(api: APIClient, make_channel: Any) -> None:
    mine = post(api, b2b_payload()).json()
    other = make_channel(code="other", kind="b2b_api")
    _, raw = api_token_create(channel=other, scopes=["orders:read"])
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert stranger.get(f"/api/v1/orders/{mine['id']}/").status_code == 404
    assert stranger.get("/api/v1/orders/").json()["count"] == 0
    assert api.get(f"/api/v1/orders/{mine['id']}/").json()["id"] == mine["id"]
    # and a read-only token cannot post
    assert post(stranger, b2b_payload("X")).status_code == 403


def test_list_filters(api: APIClient) -> None:
    post(api, b2b_payload("A"))
    post(api, b2b_payload("B", financial_status="pending"))
    held = api.get("/api/v1/orders/?status=held").json()
    assert [o["external_id"] for o in held["results"]] == ["B"]
    assert held["results"][0]["hold"]["reason"] == "awaiting_payment"
    future = api.get("/api/v1/orders/?updated_since=2999-01-01T00:00:00Z").json()
    assert future["count"] == 0
    assert api.get("/api/v1/orders/?status=nope").status_code == 400
