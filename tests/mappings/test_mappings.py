"""Mappings: CSV import (dry run, all-or-nothing), export, and SKU auto-mapping over real HTTP."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError

from apps.mappings.models import Binding, ValueMap
from apps.mappings.services import mappings_import_csv

pytestmark = pytest.mark.django_db

CSV = """record,kind,channel_value,odoo_model,odoo_value,external_code
binding,product,41234567890123,product.product,17,TSHIRT-BLU-M
binding,customer,6912345678901,,88,maria.lopez@example.com
value,carrier,UPS,delivery.carrier,3,
value,payment_method,shopify_payments,account.journal,7,
value,order_status,paid,,sale,
"""


def test_import_dry_run_writes_nothing_and_reports_what_it_would_do(shopify_channel: Any) -> None:
    report = mappings_import_csv(channel=shopify_channel, text=CSV, dry_run=True)
    assert report.ok and report.created == 5
    assert Binding.objects.count() == 0 and ValueMap.objects.count() == 0
    assert any("binding product 41234567890123" in c for c in report.changes)


def test_import_upserts_and_is_idempotent(shopify_channel: Any) -> None:
    first = mappings_import_csv(channel=shopify_channel, text=CSV)
    assert (first.created, first.updated) == (5, 0)
    customer = Binding.objects.get(kind="customer")
    assert customer.odoo_model == "res.partner" and customer.odoo_id == 88
    again = mappings_import_csv(channel=shopify_channel, text=CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    changed = mappings_import_csv(
        channel=shopify_channel,
        text=CSV.replace("UPS,delivery.carrier,3", "UPS,delivery.carrier,4"),
    )
    assert changed.updated == 1 and ValueMap.objects.get(channel_value="UPS").odoo_value == "4"


def test_import_with_an_error_writes_nothing(shopify_channel: Any) -> None:
    bad = CSV + "binding,product,999,,not-an-id,\nvalue,colour,red,,1,\n"
    report = mappings_import_csv(channel=shopify_channel, text=bad)
    assert not report.ok
    assert report.errors[0].startswith("line 7:") and "odoo record id" in report.errors[0].lower()
    assert report.errors[1].startswith("line 8:")
    assert Binding.objects.count() == 0


def test_binding_is_unique_per_channel_kind_external_id(shopify_channel: Any) -> None:
    Binding.objects.create(
        channel=shopify_channel,
        kind="product",
        external_id="1",
        odoo_model="product.product",
        odoo_id=1,
    )
    with pytest.raises(IntegrityError):
        Binding.objects.create(
            channel=shopify_channel,
            kind="product",
            external_id="1",
            odoo_model="product.product",
            odoo_id=2,
        )


def test_cli_import_export_roundtrip(shopify_channel: Any, tmp_path: Any) -> None:
    path = tmp_path / "map.csv"
    path.write_text(CSV)
    out = io.StringIO()
    call_command(
        "mappings", "import", str(path), "--channel", shopify_channel.code, "--dry-run", stdout=out
    )
    assert "dry run" in out.getvalue() and Binding.objects.count() == 0
    call_command(
        "mappings", "import", str(path), "--channel", shopify_channel.code, stdout=io.StringIO()
    )
    exported = io.StringIO()
    call_command("mappings", "export", "--channel", shopify_channel.code, stdout=exported)
    lines = exported.getvalue().strip().splitlines()
    assert lines[0] == "record,kind,channel_value,odoo_model,odoo_value,external_code"
    assert "binding,product,41234567890123,product.product,17,TSHIRT-BLU-M" in lines
    assert len(lines) == 6
    bad = tmp_path / "bad.csv"
    bad.write_text("record,kind,channel_value,odoo_value\nvalue,nope,x,1\n")
    with pytest.raises(CommandError):
        call_command(
            "mappings",
            "import",
            str(bad),
            "--channel",
            shopify_channel.code,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )


# --- automap against a fake WooCommerce (real HTTP on loopback) and the Odoo sandbox -------------

WOO_PRODUCTS = [
    {"id": 10, "name": "Office Chair", "type": "simple", "sku": "SKU-001"},
    {"id": 11, "name": "Desk Lamp", "type": "simple", "sku": "SKU-003"},
    {"id": 12, "name": "Widget", "type": "variable", "sku": ""},
    {"id": 13, "name": "Mystery", "type": "simple", "sku": "NOT-IN-ODOO"},
    {"id": 14, "name": "No SKU", "type": "simple", "sku": ""},
]
WOO_VARIATIONS = {
    12: [
        {"id": 120, "name": "Red", "sku": "WIDGET-RED"},
        {"id": 121, "name": "Blue", "sku": "WIDGET-BLUE"},
    ]
}


@pytest.fixture
def fake_woo() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            auth = self.headers.get("Authorization", "")
            if auth != "Basic " + base64.b64encode(b"ck_test_key:cs_test_secret").decode():
                self.send_response(401)
                self.end_headers()
                return
            seen.append(self.path)
            q = parse_qs(url.query)
            page, per = int(q["page"][0]), int(q["per_page"][0])
            parts = url.path.rstrip("/").split("/")
            rows = WOO_VARIATIONS[int(parts[-2])] if parts[-1] == "variations" else WOO_PRODUCTS
            per = 2  # force paging whatever was asked, as a small per_page would
            pages = max(1, -(-len(rows) // per))
            body = json.dumps(rows[(page - 1) * per : page * per]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-WP-TotalPages", str(pages))
            self.send_header("X-WP-Total", str(len(rows)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_automap_binds_skus_found_in_odoo_in_one_lookup(
    make_channel: Any, fake_woo: tuple[str, list[str]], odoo_sandbox: Any, settings: Any
) -> None:
    # given a WooCommerce catalog (paged, with variations) and the sandbox Odoo's products
    url, seen = fake_woo
    settings.ODOO_URL = odoo_sandbox.url
    channel = make_channel(
        "woo-auto",
        "woocommerce",
        secret="s",
        api_base_url=url,
        consumer_key="ck_test_key",
        consumer_secret="cs_test_secret",
    )
    odoo_sandbox.reset_stats()
    out = io.StringIO()
    # when
    call_command("mappings", "automap", "--channel", channel.code, stdout=out)
    # then the four known SKUs are bound, the unknown and SKU-less ones reported
    bound = dict(Binding.objects.filter(channel=channel).values_list("external_code", "odoo_id"))
    assert set(bound) == {"SKU-001", "SKU-003", "WIDGET-RED", "WIDGET-BLUE"}
    assert Binding.objects.get(external_code="WIDGET-RED").external_id == "120"
    text = out.getvalue()
    assert "unmapped SKU NOT-IN-ODOO" in text and "no SKU: id 14" in text
    assert "bound 4" in text
    assert any("page=3" in p for p in seen)  # followed X-WP-TotalPages
    calls = odoo_sandbox.stats()["calls"]
    assert calls.get("product.product.search_read") == 1  # one batched lookup
    # and running it again binds nothing new
    again = io.StringIO()
    call_command("mappings", "automap", "--channel", channel.code, stdout=again)
    assert "bound 0, already bound 4" in again.getvalue()


def test_automap_reads_a_bigcommerce_catalog_page_by_page(
    make_channel: Any, bigcommerce_standin: Any, odoo_sandbox: Any, settings: Any
) -> None:
    # given a BigCommerce store (v3 catalog, 250 per page) selling 2 SKUs Odoo knows among 260
    settings.ODOO_URL = odoo_sandbox.url
    bigcommerce_standin.add_products(
        [{"sku": "SKU-001", "stock": 3}, {"sku": "WIDGET-RED", "stock": 2}]
        + [{"sku": f"BC-ONLY-{i}", "stock": 1} for i in range(258)]
    )
    channel = make_channel(
        "bc-auto",
        "bigcommerce",
        secret="whsec_" + "A" * 32,
        api_base_url=bigcommerce_standin.base_url,
        access_token=bigcommerce_standin.auth_token,
    )
    out = io.StringIO()
    # when
    call_command("mappings", "automap", "--channel", channel.code, stdout=out)
    # then both known SKUs are bound to their variant ids, the rest reported unmapped
    bound = dict(
        Binding.objects.filter(channel=channel).values_list("external_code", "external_id")
    )
    assert {"SKU-001", "WIDGET-RED"} <= set(bound)  # (the stand-in also seeds SKU-002…)
    assert not [sku for sku in bound if sku.startswith("BC-ONLY")]
    assert all(ext.isdigit() for ext in bound.values())
    levels = bigcommerce_standin.stats()
    assert levels["calls"].get("GET v3/catalog/products", 0) >= 2  # followed the pagination
    assert "unmapped SKU BC-ONLY-257" in out.getvalue()
