"""Admin: credentials write-only and masked, tokens shown once, CSV import preview."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.mappings.models import ValueMap
from apps.sales_channels.models import ApiToken, Channel, ChannelSecret

pytestmark = pytest.mark.django_db


def _channel_post(channel: Channel, **over: Any) -> dict[str, Any]:
    data = {
        "code": channel.code,
        "name": channel.name,
        "kind": channel.kind,
        "state": channel.state,
        "api_base_url": channel.api_base_url,
        "access_token": "",
        "consumer_key": "",
        "consumer_secret": "",
        "pricelist_id": "",
        "stock_buffer": "0",
        "allocation_share": "1",
        "import_financial_states": '["paid", "authorized"]',
        "risk_hold_amount": "",
        "new_customer_hold_amount": "",
        "orders_enabled": "on",
        "orders_interval_seconds": "0",
        "inventory_enabled": "on",
        "inventory_interval_seconds": "300",
        "fulfillment_enabled": "on",
        "fulfillment_interval_seconds": "0",
        "prices_interval_seconds": "3600",
        "orders_poll_enabled": "on",
        "orders_poll_interval_seconds": "300",
        "api_rate": "",
        "invoicing": channel.invoicing,
        "register_payments": "on",
        "legacy_match_field": "client_order_ref",
        "legacy_match_pattern": "{number}",
        "legacy_match_domain": "[]",
        "dual_run_threshold_pct": "1.00",
        "secrets-TOTAL_FORMS": "0",
        "secrets-INITIAL_FORMS": "0",
        "warehouses-TOTAL_FORMS": "0",
        "warehouses-INITIAL_FORMS": "0",
    }
    data.update(over)
    return data


def test_change_form_never_renders_credentials(admin_client: Client, shopify_channel: Any) -> None:
    resp = admin_client.get(f"/admin/sales_channels/channel/{shopify_channel.pk}/change/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "shpat_live_access_token_123" not in html and "shpss_test_secret" not in html
    assert "(set)" in html


def test_blank_credential_keeps_the_stored_value(
    admin_client: Client, shopify_channel: Any
) -> None:
    url = f"/admin/sales_channels/channel/{shopify_channel.pk}/change/"
    resp = admin_client.post(url, _channel_post(shopify_channel, name="Renamed"))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    channel = Channel.objects.get(pk=shopify_channel.pk)
    assert channel.name == "Renamed" and channel.access_token == "shpat_live_access_token_123"
    admin_client.post(url, _channel_post(channel, access_token="shpat_new"))
    assert Channel.objects.get(pk=channel.pk).access_token == "shpat_new"
    admin_client.post(url, _channel_post(channel, clear_credentials=["access_token"]))
    assert Channel.objects.get(pk=channel.pk).access_token == ""


def test_token_created_in_admin_is_shown_once(admin_client: Client, b2b_channel: Any) -> None:
    resp = admin_client.post(
        "/admin/sales_channels/apitoken/add/",
        {
            "channel": b2b_channel.pk,
            "name": "portal",
            "scopes": ["orders:write", "orders:read"],
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )
    token = ApiToken.objects.get()
    page = resp.content.decode()
    assert f"hub_{token.prefix}_" in page and token.scopes == ["orders:read", "orders:write"]
    listing = admin_client.get("/admin/sales_channels/apitoken/").content.decode()
    assert f"hub_{token.prefix}_…" in listing
    raw = page.split(f"hub_{token.prefix}_", 1)[1].split("<", 1)[0]
    assert raw not in listing


def test_mappings_csv_import_previews_then_imports(
    admin_client: Client, shopify_channel: Any
) -> None:
    csv_text = "record,kind,channel_value,odoo_model,odoo_value\nvalue,carrier,UPS,,3\n"
    url = "/admin/mappings/valuemap/import-csv/"
    preview = admin_client.post(
        url,
        {"channel": shopify_channel.code, "file": SimpleUploadedFile("m.csv", csv_text.encode())},
    )
    assert preview.status_code == 200 and "would have created 1" in preview.content.decode()
    assert ValueMap.objects.count() == 0
    done = admin_client.post(
        url, {"channel": shopify_channel.code, "text": csv_text, "confirm": "1"}
    )
    assert done.status_code == 302 and ValueMap.objects.get().odoo_value == "3"


def test_secret_inline_generates_and_shows_once(admin_client: Client, shopify_channel: Any) -> None:
    url = f"/admin/sales_channels/channel/{shopify_channel.pk}/change/"
    resp = admin_client.post(
        url,
        _channel_post(
            shopify_channel,
            **{
                "secrets-TOTAL_FORMS": "1",
                "secrets-0-note": "rotation",
                "secrets-0-new_secret": "",
                "secrets-0-valid_from_0": "2025-01-01",
                "secrets-0-valid_from_1": "00:00:00",
                "secrets-0-channel": shopify_channel.pk,
            },
        ),
        follow=True,
    )
    new = ChannelSecret.objects.filter(channel=shopify_channel, note="rotation").get()
    assert new.secret in resp.content.decode()


def test_the_channel_page_shows_the_migration_settings_and_the_cutover(
    admin_client: Client, shopify_channel: Any
) -> None:
    html = admin_client.get(
        f"/admin/sales_channels/channel/{shopify_channel.pk}/change/"
    ).content.decode()
    assert "legacy_match_pattern" in html and "no cutover yet" in html
    assert f"/admin/migration/cutover/?channel__id__exact={shopify_channel.pk}" in html
