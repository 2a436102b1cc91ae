"""GET /api/v1/inventory/: scopes, the token's channel only, stored vs live ATP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.inventory.models import SkuStock
from apps.sales_channels.services import api_token_create, channel_create
from tests.orders import conftest as orders_fixtures

from .core_helpers import free_qty, odoo_products, warehouse

sandbox_settings = orders_fixtures.sandbox_settings  # the sandbox-pointed settings fixture

pytestmark = pytest.mark.django_db


def bind(channel: Any, sku: str, pid: int) -> None:
    from apps.mappings.models import Binding

    Binding.objects.create(
        channel=channel,
        kind=Binding.Kind.PRODUCT,
        external_id=f"x-{sku}",
        external_code=sku,
        odoo_model="product.product",
        odoo_id=pid,
    )


@pytest.fixture
def portal(sandbox_settings: Any) -> Any:
    sb = sandbox_settings
    pids = odoo_products(sb)
    wh = warehouse(sb)
    mine, _ = channel_create(code="portal", kind="b2b_api", warehouse_ids=[wh["id"]])
    other, _ = channel_create(code="other", kind="b2b_api", warehouse_ids=[wh["id"]])
    bind(mine, "RED", pids["WIDGET-RED"])
    bind(other, "THEIRS", pids["SKU-001"])

    def client(*scopes: str) -> APIClient:
        _, raw = api_token_create(channel=mine, scopes=list(scopes))
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        return c

    return mine, pids, wh, client


def test_inventory_api_returns_live_atp_for_own_skus_only(
    portal: Any, sandbox_settings: Any
) -> None:
    channel, pids, wh, client = portal
    resp = client("inventory:read").get("/api/v1/inventory/", {"sku": ["RED", "THEIRS", "NOPE"]})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["channel"] == "portal"
    assert [i["sku"] for i in body["items"]] == ["RED"]
    item = body["items"][0]
    assert item["source"] == "live" and item["computed_at"]
    assert Decimal(item["atp"]) == max(
        0, free_qty(sandbox_settings, pids["WIDGET-RED"], [wh["id"]]) // 1
    )
    # another channel's SKU is not visible: listed as not found, like an unknown one
    assert body["not_found"] == ["THEIRS", "NOPE"]


def test_inventory_api_serves_fresh_stored_value(portal: Any, sandbox_settings: Any) -> None:
    channel, pids, _, client = portal
    SkuStock.objects.create(
        channel=channel,
        sku="RED",
        odoo_product_id=pids["WIDGET-RED"],
        external_id="x-RED",
        atp=42,
        computed_at=timezone.now(),
    )
    sandbox_settings.reset_stats()
    body = client("inventory:read").get("/api/v1/inventory/", {"sku": "RED"}).json()
    assert body["items"][0]["atp"] == 42 and body["items"][0]["source"] == "stored"
    assert not sandbox_settings.stats()["calls"]  # no Odoo call for a fresh value
    # a dirty row is not served from storage
    SkuStock.objects.filter(sku="RED").update(dirty=True)
    body = client("inventory:read").get("/api/v1/inventory/", {"sku": "RED"}).json()
    assert body["items"][0]["source"] == "live"


def test_inventory_api_scopes_and_errors(portal: Any, sandbox_settings: Any) -> None:
    _, _, _, client = portal
    assert client("orders:read").get("/api/v1/inventory/", {"sku": "RED"}).status_code == 403
    assert APIClient().get("/api/v1/inventory/", {"sku": "RED"}).status_code == 401
    ok = client("inventory:read")
    assert ok.get("/api/v1/inventory/").status_code == 400
    sandbox_settings.set_faults(down=True)
    down = ok.get("/api/v1/inventory/", {"sku": "RED"})
    assert down.status_code == 503 and down.headers.get("Retry-After")


def test_admin_lists_sku_stock_and_audits_mark_dirty(admin_client: Any, portal: Any) -> None:
    from apps.core.models import AuditEntry

    channel, pids, _, _ = portal
    row = SkuStock.objects.create(
        channel=channel, sku="RED", odoo_product_id=pids["WIDGET-RED"], external_id="x-RED"
    )
    page = admin_client.get("/admin/inventory/skustock/", {"dirty__exact": "0", "q": "RED"})
    assert page.status_code == 200 and b"RED" in page.content
    resp = admin_client.post(
        "/admin/inventory/skustock/",
        {"action": "mark_dirty", "_selected_action": [row.pk]},
    )
    assert resp.status_code == 302
    row.refresh_from_db()
    assert row.dirty and row.dirty_since is not None
    assert AuditEntry.objects.filter(action="inventory.mark_dirty", object_id=str(row.pk)).exists()
    assert admin_client.get("/admin/inventory/reconciliationrun/").status_code == 200


def test_a_portal_is_never_rung_for_a_publish_and_a_live_read_clears_its_mark(
    portal: Any, sandbox_settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """B2B portals read stock through this API; the hub publishes nothing to them. A stock change
    marks their rows, but rings no publish (which would only fail into the inbox), and the
    live read that follows stores the value clean, so the next read is served from storage."""
    from apps.inbox.models import Issue
    from apps.inventory.services import mark_dirty, publish_sweep

    channel, pids, _, client = portal
    with django_capture_on_commit_callbacks(execute=False) as rung:
        assert mark_dirty(None, [pids["WIDGET-RED"]], reason="test") == 1
    assert rung == []  # no publish doorbell for a portal
    assert SkuStock.objects.get(channel=channel, sku="RED").dirty
    assert publish_sweep() == 0  # and the backstop sweep does not ring one either
    ok = client("inventory:read")
    assert ok.get("/api/v1/inventory/", {"sku": "RED"}).json()["items"][0]["source"] == "live"
    row = SkuStock.objects.get(channel=channel, sku="RED")
    assert not row.dirty and row.dirty_since is None and row.atp is not None
    sandbox_settings.reset_stats()
    assert ok.get("/api/v1/inventory/", {"sku": "RED"}).json()["items"][0]["source"] == "stored"
    assert not sandbox_settings.stats()["calls"]
    assert not Issue.objects.exists()
