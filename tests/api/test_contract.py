"""The API's document and the answers it promises, one rule at a time (docs/api.md).

The Schemathesis run (test_schemathesis.py) finds what breaks the contract; these tests pin
each rule and each defect it found, in-process and fast.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.ledger.models import InboundEvent
from apps.orders.models import ChannelOrder, IdempotencyKey
from apps.sales_channels.models import Channel, Scope
from apps.sales_channels.services import api_token_create, channel_create
from tests.orders.conftest import b2b_payload

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ERROR_KEYS = {"error", "field", "reason"}


@pytest.fixture
def document() -> dict[str, Any]:
    resp = APIClient().get("/api/schema/", {"format": "json"})
    assert resp.status_code == 200
    return dict(json.loads(resp.content))


@pytest.fixture
def token() -> str:
    channel, _ = channel_create(code="acme-b2b", kind=Channel.Kind.B2B_API, warehouse_ids=[1])
    return api_token_create(channel=channel, scopes=Scope.values)[1]


@pytest.fixture
def api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _schema(doc: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in ref:
        found: dict[str, Any] = doc["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
        return found
    return ref


# --- the document ---------------------------------------------------------------------------


def test_every_token_operation_declares_its_scopes_and_every_error(
    document: dict[str, Any],
) -> None:
    token_ops = [
        (p, m, op)
        for p, m, op in _operations(document)
        if any("channelToken" in req for req in op.get("security", []))
    ]
    assert len(token_ops) >= 20
    for path, method, op in token_ops:
        scopes = [s for req in op["security"] for s in req["channelToken"]]
        assert scopes and set(scopes) <= set(Scope.values), (method, path)
        codes = set(op["responses"])
        assert {"401", "403", "429"} <= codes, (method, path)
        assert "Retry-After" in op["responses"]["429"]["headers"], (method, path)
        if "requestBody" in op:
            assert {"400", "413", "415"} <= codes, (method, path)
            assert set(op["requestBody"]["content"]) == {"application/json"}, (method, path)
            assert op["requestBody"]["content"]["application/json"].get("examples"), (
                method,
                path,
            )
        if "{" in path:
            assert "404" in codes, (method, path)
        for code, answer in op["responses"].items():
            if code.startswith(("4", "5")):
                body = _schema(document, answer["content"]["application/json"]["schema"])
                assert set(body["properties"]) == ERROR_KEYS, (method, path, code)
                assert answer["content"]["application/json"]["examples"], (method, path, code)


def test_webhook_endpoints_are_in_the_document(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for kind in ("shopify", "woocommerce", "bigcommerce", "standard_webhooks"):
        op = paths[f"/webhooks/{kind}/{{channel_code}}/"]["post"]
        assert {"202", "200", "400", "401", "404", "413", "503"} <= set(op["responses"])
        scheme = next(iter(op["security"][0]))
        assert document["components"]["securitySchemes"][scheme]["in"] == "header"
        assert op["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
    shopify = paths["/webhooks/shopify/{channel_code}/"]["post"]
    required = {p["name"] for p in shopify["parameters"] if p["required"]}
    assert {"X-Shopify-Topic", "X-Shopify-Webhook-Id", "X-Shopify-Shop-Domain"} <= required
    assert "/webhooks/odoo/{token}/" in paths and "/webhooks/odoo/{token}/pickings/" in paths


def test_the_version_is_the_newest_in_the_changelog(document: dict[str, Any]) -> None:
    text = DOCS.read_text()
    versions = re.findall(r"^### (\d+\.\d+\.\d+)", text, flags=re.MULTILINE)
    assert versions, "docs/api.md has no changelog entries"
    assert document["info"]["version"] == versions[0]


def test_order_body_is_described_exactly(document: dict[str, Any]) -> None:
    op = document["paths"]["/api/v1/orders/"]["post"]
    body = _schema(document, op["requestBody"]["content"]["application/json"]["schema"])
    assert {"external_id", "created_at", "currency", "lines", "totals"} <= set(body["required"])
    assert body["properties"]["lines"]["minItems"] == 1
    line = _schema(document, body["properties"]["lines"]["items"])
    assert line["properties"]["quantity"]["type"] == "integer"
    assert line["properties"]["unit_price"]["pattern"].startswith("^[0-9]")
    inventory = document["paths"]["/api/v1/inventory/"]["get"]
    sku = next(p for p in inventory["parameters"] if p["name"] == "sku")
    assert sku["required"] is True and sku["schema"]["minItems"] == 1


# --- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH", "DELETE"])
def test_an_unknown_method_is_405_before_the_token_is_looked_at(method: str) -> None:
    anonymous = Client()
    for path in ("/api/v1/orders/", "/api/v1/events/types/", "/api/schema/", "/api/docs/"):
        resp = anonymous.generic(method, path)
        assert resp.status_code == 405, (method, path, resp.content)
        assert set(resp.json()) == ERROR_KEYS and resp.json()["error"] == "method_not_allowed"
        assert "GET" in resp["Allow"]
    hook = anonymous.generic(method, "/webhooks/shopify/acme/")
    assert hook.status_code == 405 and hook.json()["error"] == "method_not_allowed"
    assert hook["Allow"] == "POST"  # GET only where there is a handshake (Magento)
    odoo = anonymous.generic(method, "/webhooks/odoo/some-token/")
    assert odoo.status_code == 405 and odoo["Allow"] == "POST"


def test_an_unknown_api_url_is_a_json_404(api: APIClient, settings: Any) -> None:
    settings.DEBUG = False  # Django's own page only in development
    for path in ("/api/v1/orders/abc/", "/api/v1/nothing/"):
        resp = api.get(path)
        assert resp.status_code == 404, path
        assert resp.json() == {"error": "not_found", "field": None, "reason": "no such resource"}
    hook = api.post("/webhooks/shopify/not a slug/")
    assert hook.status_code == 404
    assert hook.json() == {"error": "not_found", "detail": "no such resource"}


def test_a_body_over_the_limit_is_413_unread(api: APIClient, settings: Any) -> None:
    settings.HUB_MAX_BODY_BYTES = 1000
    body = json.dumps(b2b_payload(note="x" * 2000))
    resp = api.post("/api/v1/orders/", data=body, content_type="application/json")
    assert resp.status_code == 413 and resp.json()["error"] == "body_too_large"
    assert not ChannelOrder.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in the standard library's parser
        b'{"note": "\\u0000"}',  # PostgreSQL cannot store NUL
        b'{"note": "\\ud800"}',  # a lone surrogate cannot be encoded
        b'{"total": NaN}',
        b'{"total": 1e400}',
    ],
    ids=["deep", "nul", "surrogate", "nan", "infinity"],
)
def test_json_the_database_cannot_hold_is_400_everywhere(api: APIClient, raw: bytes) -> None:
    for path in ("/api/v1/orders/", "/api/v1/webhook-endpoints/", "/api/v1/returns/"):
        resp = api.post(path, data=raw, content_type="application/json")
        assert resp.status_code == 400, (path, resp.content[:200])
        assert set(resp.json()) == ERROR_KEYS
    assert not ChannelOrder.objects.exists()


def test_orders_400_for_the_document_422_for_business_and_the_key_stays_unused(
    api: APIClient,
) -> None:
    def post(payload: Any, key: str) -> Any:
        return api.post(
            "/api/v1/orders/",
            data=json.dumps(payload),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    # a string quantity does not match the document: 400, naming the field
    bad = b2b_payload()
    bad["lines"][0]["quantity"] = "2"
    resp = post(bad, "k1")
    assert resp.status_code == 400
    assert resp.json()["field"] == "lines[0].quantity"
    # totals that do not add up match the document: 422, naming totals.total
    wrong = b2b_payload(totals={"total": "1.00"})
    resp = post(wrong, "k1")
    assert resp.status_code == 422 and resp.json()["field"] == "totals.total"
    assert not ChannelOrder.objects.exists() and not IdempotencyKey.objects.exists()
    # the same key then takes the corrected order
    assert post(b2b_payload(), "k1").status_code == 201
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"created_at": "0001-01-01T00:00:00+05:00"}, "created_at"),  # before year 1 in UTC
        ({"created_at": "9999-12-31T23:00:00-05:00"}, "created_at"),  # after year 9999 in UTC
    ],
)
def test_a_time_the_hub_cannot_store_is_422(
    api: APIClient, change: dict[str, Any], field: str
) -> None:
    resp = api.post(
        "/api/v1/orders/", data=json.dumps(b2b_payload(**change)), content_type="application/json"
    )
    assert resp.status_code == 422, resp.content
    assert resp.json()["field"] == field


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=-1", "limit=501", "status=nope", "updated_since=yesterday"],
)
def test_order_list_refuses_what_the_document_refuses(api: APIClient, query: str) -> None:
    resp = api.get(f"/api/v1/orders/?{query}")
    assert resp.status_code == 400, resp.content
    assert resp.json()["field"] == query.split("=")[0]


def test_an_invalid_second_line_is_named_not_a_crash(api: APIClient) -> None:
    body = {"order_id": 1, "lines": [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 0}]}
    resp = api.post("/api/v1/returns/", data=json.dumps(body), content_type="application/json")
    assert resp.status_code == 400, resp.content
    assert resp.json()["field"] == "lines[1].quantity"


def test_an_event_cursor_past_bigint_is_400_not_a_crash(api: APIClient) -> None:
    resp = api.get("/api/v1/events/", {"after": "9" * 30})
    assert resp.status_code == 400 and resp.json()["field"] == "after"


def test_a_refused_webhook_records_nothing(client: Client) -> None:
    channel_create(
        code="acme-shopify", kind="shopify", secret="s", api_base_url="https://acme.myshopify.com"
    )
    resp = client.post(
        "/webhooks/shopify/acme-shopify/", data=b"[]", content_type="application/json"
    )
    assert resp.status_code == 401 and set(resp.json()) >= {"error", "detail"}
    assert not InboundEvent.objects.exists()
