"""Fixtures for the order flow: channels, bindings to sandbox products, payload builders."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.mappings.models import Binding, ValueMap
from apps.odoo.client import OdooClient, OdooConfig
from apps.odoo.gateway import OdooGateway
from apps.sales_channels.models import Channel
from apps.sales_channels.services import api_token_create, channel_create

DATA = Path(__file__).resolve().parents[1] / "data" / "channels"

# The fixtures' channel SKUs, bound to sandbox demo products.
SKU_MAP = {"TSHIRT-BLU-M": "SKU-001", "MUG-WHT-11OZ": "SKU-003", "WIDGET": "WIDGET-RED"}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


@pytest.fixture
def sandbox_settings(odoo_sandbox: Any, settings: SettingsWrapper) -> Any:
    """Point this process at the reset sandbox (its data, faults and counters)."""
    settings.ODOO_URL = odoo_sandbox.url.rstrip("/")
    settings.ODOO_DB = odoo_sandbox.db
    settings.ODOO_USER = odoo_sandbox.user
    settings.ODOO_PASSWORD = odoo_sandbox.password
    settings.ODOO_TIMEOUT_READ = 30.0
    settings.ODOO_BREAKER_THRESHOLD = 1000  # breaker behaviour is tested in tests/odoo
    from apps.orders import odoo_values

    odoo_values._PRODUCT_CACHE.clear()
    return odoo_sandbox


@pytest.fixture
def gateway(sandbox_settings: Any, db: None) -> OdooGateway:
    return OdooGateway(OdooClient(OdooConfig.from_settings()))


def product_ids(sandbox: Any, codes: list[str]) -> dict[str, int]:
    rows = sandbox.execute(
        "product.product", "search_read", [["default_code", "in", codes]], fields=["default_code"]
    )
    return {r["default_code"]: r["id"] for r in rows}


def bind(channel: Channel, sku: str, odoo_id: int) -> Binding:
    return Binding.objects.create(
        channel=channel,
        kind=Binding.Kind.PRODUCT,
        external_id=f"v-{sku}",
        external_code=sku,
        odoo_model="product.product",
        odoo_id=odoo_id,
    )


@pytest.fixture
def make_channel(db: None) -> Callable[..., Channel]:
    def make(code: str = "shop", kind: str = "shopify", **options: Any) -> Channel:
        channel, _ = channel_create(code=code, kind=kind, **options)
        return channel

    return make


@pytest.fixture
def bind_all(odoo_sandbox: Any) -> Callable[[Channel], None]:
    def do(channel: Channel, skus: tuple[str, ...] = tuple(SKU_MAP)) -> None:
        ids = product_ids(odoo_sandbox, [SKU_MAP[s] for s in skus])
        for sku in skus:
            bind(channel, sku, ids[SKU_MAP[sku]])

    return do


@pytest.fixture
def b2b(make_channel: Callable[..., Channel]) -> tuple[Channel, str]:
    channel = make_channel(code="portal", kind="b2b_api")
    _, raw = api_token_create(channel=channel, scopes=["orders:write", "orders:read"])
    return channel, raw


def b2b_payload(external_id: str = "PO-7781", **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(load("b2b_order.json"))
    data["external_id"] = external_id
    data["number"] = external_id
    data["po_number"] = external_id
    data.update(changes)
    return data


def shopify_payload(order_id: int = 820982911946154508, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(load("shopify_order.json"))
    data["id"] = order_id
    data.update(changes)
    return data


def tax_map(channel: Channel, rate: str, odoo_tax_id: int) -> ValueMap:
    return ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.TAX,
        channel_value=rate,
        odoo_model="account.tax",
        odoo_value=str(odoo_tax_id),
    )
