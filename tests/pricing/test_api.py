"""GET /api/v1/prices/: the channel's pricelist, a B2B account's own pricelist, errors named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.mappings.models import Binding
from apps.odoo.gateway import OdooGateway
from apps.sales_channels.models import Channel
from apps.sales_channels.services import api_token_create, channel_create

pytestmark = pytest.mark.django_db(transaction=True)


def _client(channel: Channel, scopes: str = "prices:read") -> APIClient:
    _, raw = api_token_create(channel=channel, scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _bind(channel: Channel, sku: str, pid: int) -> None:
    Binding.objects.create(
        channel=channel,
        kind=Binding.Kind.PRODUCT,
        external_id=f"v-{sku}",
        external_code=sku,
        odoo_model="product.product",
        odoo_id=pid,
    )


def _account(channel: Channel, external_id: str, partner: int) -> None:
    Binding.objects.create(
        channel=channel,
        kind=Binding.Kind.CUSTOMER,
        external_id=external_id,
        odoo_model="res.partner",
        odoo_id=partner,
    )


@pytest.fixture
def world(gateway: OdooGateway) -> dict[str, Any]:
    call = gateway.client.call
    a = int(
        call(
            "product.product",
            "create",
            [{"name": "Price A", "default_code": "PA", "list_price": 100.0}],
        )
    )
    b = int(
        call(
            "product.product",
            "create",
            [{"name": "Price B", "default_code": "PB", "list_price": 40.0}],
        )
    )
    pl_acme = int(
        call(
            "product.pricelist",
            "create",
            [
                {
                    "name": "ACME",
                    "item_ids": [
                        [
                            0,
                            0,
                            {
                                "applied_on": "0_product_variant",
                                "product_id": a,
                                "compute_price": "fixed",
                                "fixed_price": 77.0,
                            },
                        ],
                        [
                            0,
                            0,
                            {
                                "applied_on": "0_product_variant",
                                "product_id": a,
                                "compute_price": "fixed",
                                "fixed_price": 70.0,
                                "min_quantity": 10,
                            },
                        ],
                    ],
                }
            ],
        )
    )
    pl_other = int(
        call(
            "product.pricelist",
            "create",
            [
                {
                    "name": "Other",
                    "item_ids": [
                        [
                            0,
                            0,
                            {
                                "applied_on": "3_global",
                                "compute_price": "percentage",
                                "percent_price": 50.0,
                            },
                        ]
                    ],
                }
            ],
        )
    )
    acme = int(
        call(
            "res.partner",
            "create",
            [{"name": "ACME", "is_company": True, "property_product_pricelist": pl_acme}],
        )
    )
    other = int(
        call(
            "res.partner",
            "create",
            [{"name": "Other Co", "is_company": True, "property_product_pricelist": pl_other}],
        )
    )
    portal, _ = channel_create(code="portal", kind="b2b_api")
    shop, _ = channel_create(code="shop", kind="shopify")
    for ch in (portal, shop):
        _bind(ch, "SKU-A", a)
        _bind(ch, "SKU-B", b)
    _account(portal, "acme", acme)
    _account(shop, "other", other)  # another channel's account
    other_portal, _ = channel_create(code="portal2", kind="b2b_api")
    _account(other_portal, "other", other)
    return {"a": a, "b": b, "portal": portal, "shop": shop, "other_portal": other_portal}


def test_channel_list_prices_and_not_found(world: dict[str, Any]) -> None:
    resp = _client(world["shop"]).get("/api/v1/prices/", {"sku": ["SKU-A", "SKU-B", "NOPE"]})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["not_found"] == ["NOPE"]
    assert [(i["sku"], i["unit_price"], i["rule"]) for i in body["items"]] == [
        ("SKU-A", "100.00", "list price"),
        ("SKU-B", "40.00", "list price"),
    ]
    assert body["items"][0]["currency"] == "USD"
    assert body["items"][0]["quantity"] == "1"


def test_b2b_customer_gets_its_own_pricelist(world: dict[str, Any]) -> None:
    client = _client(world["portal"])
    resp = client.get(
        "/api/v1/prices/", {"sku": ["SKU-A", "SKU-B"], "customer": "acme", "qty": "10"}
    )
    assert resp.status_code == 200, resp.content
    items = {i["sku"]: i for i in resp.json()["items"]}
    assert items["SKU-A"]["unit_price"] == "70.00"
    assert items["SKU-A"]["rule"].endswith("from 10 units")
    assert items["SKU-B"]["unit_price"] == "40.00"  # no rule for B in ACME's pricelist
    resp = client.get("/api/v1/prices/", {"sku": "SKU-A", "customer": "acme"})
    assert resp.json()["items"][0]["unit_price"] == "77.00"


def test_another_accounts_prices_are_never_visible(world: dict[str, Any]) -> None:
    client = _client(world["portal"])
    # "other" is an account of portal2 (and of the shop), not of this portal: 404, no prices
    resp = client.get("/api/v1/prices/", {"sku": "SKU-A", "customer": "other"})
    assert resp.status_code == 404
    assert resp.json() == {
        "error": "not_found",
        "field": "customer",
        "reason": "no such customer account",
    }
    assert b"50" not in resp.content
    resp = client.get("/api/v1/prices/", {"sku": "SKU-A", "customer": "nobody"})
    assert resp.status_code == 404 and resp.json()["field"] == "customer"
    # its own channel's token does see it
    resp = _client(world["other_portal"]).get(
        "/api/v1/prices/", {"sku": "SKU-A", "customer": "other"}
    )
    assert resp.status_code == 200
    assert resp.json()["not_found"] == ["SKU-A"]  # portal2 binds no SKUs


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "sku"),
        ({"sku": [f"S{i}" for i in range(501)]}, "sku"),
        ({"sku": "SKU-A", "qty": "0"}, "qty"),
        ({"sku": "SKU-A", "qty": "ten"}, "qty"),
        ({"sku": "SKU-A", "date": "2026-13-01"}, "date"),
    ],
)
def test_bad_input_names_the_field(
    world: dict[str, Any], params: dict[str, Any], field: str
) -> None:
    resp = _client(world["shop"]).get("/api/v1/prices/", params)
    assert resp.status_code == 400, resp.content
    assert resp.json()["field"] == field


def test_customer_on_a_non_b2b_channel_is_refused(world: dict[str, Any]) -> None:
    # The request matches the document; the channel's kind refuses it (a business rule: 422).
    resp = _client(world["shop"]).get("/api/v1/prices/", {"sku": "SKU-A", "customer": "other"})
    assert resp.status_code == 422 and resp.json()["field"] == "customer"


def test_scope_is_required(world: dict[str, Any]) -> None:
    resp = _client(world["shop"], scopes="orders:read").get("/api/v1/prices/", {"sku": "SKU-A"})
    assert resp.status_code == 403


def test_warm_cache_makes_no_odoo_call(world: dict[str, Any], sandbox_settings: Any) -> None:
    client = _client(world["portal"])
    client.get("/api/v1/prices/", {"sku": ["SKU-A", "SKU-B"], "customer": "acme"})
    sandbox_settings.reset_stats()
    resp = client.get(
        "/api/v1/prices/", {"sku": ["SKU-A", "SKU-B"], "customer": "acme", "qty": "12"}
    )
    assert resp.status_code == 200
    assert Decimal(resp.json()["items"][0]["unit_price"]) == Decimal("70.00")
    assert sum(sandbox_settings.stats()["calls"].values()) == 0


def test_openapi_declares_the_prices_api(world: dict[str, Any]) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    op = schema["paths"]["/api/v1/prices/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"sku", "qty", "customer", "date"} <= names
    assert {"200", "400", "401", "403", "404", "429", "503"} <= set(op["responses"])
