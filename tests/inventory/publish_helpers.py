"""Helpers for the publication tests: channels pointed at the stand-ins, catalog seeding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fixtures.channel_standins import ChannelStandin
from tests.inventory.core_helpers import bind_catalog, odoo_products, standin_channel, warehouse


@pytest.fixture
def fresh_cache(db: None) -> None:
    """Budgets and resolved ids live in the shared cache: start each test without them."""
    from django.core.cache import cache

    cache.clear()


def channel_for(make_channel: Callable[..., Any], standin: ChannelStandin, code: str) -> Any:
    creds: dict[str, Any] = {"api_base_url": standin.base_url}
    if standin.kind == "woocommerce":
        creds.update(consumer_key=standin.consumer_key, consumer_secret=standin.consumer_secret)
    elif standin.kind == "bigcommerce":
        creds.update(access_token=standin.auth_token)
    else:
        creds.update(access_token=standin.access_token)
    return make_channel(code, standin.kind, **creds)


def seed(
    standin: ChannelStandin, n: int, *, prefix: str = "P", stock: int = 5, group: str = ""
) -> dict[str, str]:
    """Add n SKUs to the stand-in; returns SKU -> the external id a product binding holds."""
    rows = [
        {"sku": f"{prefix}-{i:04d}", "stock": stock, **({"group": group} if group else {})}
        for i in range(n)
    ]
    return {r["sku"]: str(r["variant_id"]) for r in standin.add_products(rows)}


def standin_429s(standin: ChannelStandin) -> int:
    """Answers the stand-in's own limiter refused (429s and Shopify THROTTLED)."""
    return int(standin.stats()["throttled"])


def bound_channel(standin: Any, sandbox: Any, code: str) -> Any:
    """A channel on the stand-in selling warehouse WH, with RED and TEE bound to Odoo products."""
    from apps.sales_channels.models import ChannelWarehouse

    channel = standin_channel(standin, code)
    ChannelWarehouse.objects.create(channel=channel, odoo_warehouse_id=warehouse(sandbox)["id"])
    pids = odoo_products(sandbox)
    bind_catalog(channel, standin, {"RED": pids["WIDGET-RED"], "TEE": pids["SKU-001"]})
    return channel
