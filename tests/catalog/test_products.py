"""Product publication and change detection against the stand-ins and the sandbox Odoo over
HTTP: name, SKU, barcode, weight and variants published; the price_extra trap (a change that
touches no product write_date) still found; images sent only when their checksum changed."""

from __future__ import annotations

import base64
import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest

from apps.catalog.detection import CURSOR_BASE, catalog_poll
from apps.catalog.models import CatalogCursor, ImageState, VariantState
from apps.catalog.services import publish_prices, publish_products
from apps.odoo.cursors import server_cursor
from apps.odoo.gateway.publishing import CATALOG_CHANGE_MODELS
from tests.orders import conftest as orders_fixtures

from .helpers import bind, channel_prices, odoo_variants, price_writes, standin_channel

sandbox_settings = orders_fixtures.sandbox_settings
gateway = orders_fixtures.gateway

pytestmark = pytest.mark.django_db

PNG_A = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"A" * 170).decode()
PNG_B = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"B" * 400).decode()


@pytest.fixture(autouse=True)
def fresh_cache(db: None) -> None:
    from django.core.cache import cache

    cache.clear()


def _tee(sandbox: Any, code: str = "TEE") -> dict[str, Any]:
    return odoo_variants(
        sandbox, "Catalog Tee", {"S": 0.0, "M": 0.0, "L": 5.0}, code=code, list_price=20.0
    )


def _product(standin: Any, prefix: str) -> dict[str, Any]:
    """The stand-in product whose variants carry SKUs starting with ``prefix``."""
    (found,) = [
        p
        for p in standin._control("GET", "catalog")["products"]
        if any(v["sku"].startswith(prefix) for v in p["variants"])
    ]
    return found


@pytest.mark.parametrize("standin_name", ["shopify_standin", "woo_standin", "bigcommerce_standin"])
def test_products_publish_name_sku_barcode_weight_and_variants(
    standin_name: str, request: Any, sandbox_settings: Any, gateway: Any
) -> None:
    standin = request.getfixturevalue(standin_name)
    tee = _tee(sandbox_settings)
    channel = standin_channel(standin, "shop", products_enabled=True)
    # given the three variants bound to channel records under provisional SKUs
    bind(
        channel,
        standin,
        {f"OLD-{size}": pid for size, pid in tee["variants"].items()},
        group="Old name",
    )
    # when the products are published
    summary = publish_products(channel, gateway=gateway, force=True, images=False)
    # then the channel shows Odoo's name, description, and per variant its SKU, barcode,
    # weight, list price (template price + the size's extra) and attribute value
    assert summary.published == 3 and summary.failed == 0
    odoo = {
        r["id"]: r
        for r in sandbox_settings.execute(
            "product.product",
            "read",
            list(tee["variants"].values()),
            ["default_code", "barcode", "weight", "lst_price"],
        )
    }
    product = _product(standin, "TEE-")
    assert product["name"] == "Catalog Tee"
    assert product["description"] == "Catalog Tee, organic cotton"
    by_sku = {v["sku"]: v for v in product["variants"]}
    for size, pid in tee["variants"].items():
        row = odoo[pid]
        v = by_sku[row["default_code"]]
        assert v["barcode"] == row["barcode"]
        assert Decimal(v["weight"]) == Decimal(str(row["weight"])).quantize(Decimal("0.001"))
        assert Decimal(v["price"]) == Decimal(str(row["lst_price"]))
        assert v["options"] == [["Size TEE", size]]
    assert Decimal(by_sku["TEE-L"]["price"]) == Decimal("25.00")
    # and when the poll marks them again with nothing changed, nothing is sent
    VariantState.objects.update(product_dirty=True)
    again = publish_products(channel, gateway=gateway, images=False)
    assert again.changed == 0 and again.calls == 0


def test_a_price_extra_change_without_product_write_date_is_found(
    shopify_standin: Any, sandbox_settings: Any, gateway: Any, settings: Any
) -> None:
    sb = sandbox_settings
    settings.HUB_CATALOG_POLL_OVERLAP_SECONDS = 0  # the watermarks below are exact
    tee = _tee(sb, "PX")
    channel = standin_channel(shopify_standin, "shop", prices_enabled=True)
    bind(channel, shopify_standin, {f"PX-{s}": p for s, p in tee["variants"].items()}, group="PX")
    assert publish_prices(channel, gateway=gateway).published == 3
    ids = list(tee["variants"].values())
    stamps = {
        r["id"]: r["write_date"] for r in sb.execute("product.product", "read", ids, ["write_date"])
    }
    tmpl_stamp = sb.execute("product.template", "read", [tee["template"]], ["write_date"])[0]
    # (Odoo's write_date has whole seconds: let the clock leave the setup's second)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and dt.datetime.now(dt.UTC).strftime(
        "%Y-%m-%d %H:%M:%S"
    ) <= max(stamps.values()):
        time.sleep(0.05)
    # when only M's price extra changes in Odoo (transcript 18 #18)
    sb.execute(
        "product.template.attribute.value", "write", [tee["ptav"]["M"]], {"price_extra": 2.0}
    )
    changed_at = sb.execute(
        "product.template.attribute.value", "read", [tee["ptav"]["M"]], ["write_date"]
    )[0]["write_date"]
    # then neither the variants' nor the template's write_date moved (the trap)
    after = {
        r["id"]: r["write_date"] for r in sb.execute("product.product", "read", ids, ["write_date"])
    }
    assert after == stamps
    assert (
        sb.execute("product.template", "read", [tee["template"]], ["write_date"])[0] == tmpl_stamp
    )
    assert not sb.execute("product.product", "search", [["write_date", ">=", changed_at]])
    # ... yet a poll from the time of the change finds M, and M alone, through the attribute
    # value's write_date
    key, _ = server_cursor(CURSOR_BASE)
    CatalogCursor.objects.create(
        key=key, watermarks=dict.fromkeys(CATALOG_CHANGE_MODELS, changed_at)
    )
    VariantState.objects.update(price_dirty=False, product_dirty=False)
    assert catalog_poll(gateway=gateway) == 1
    dirty = VariantState.objects.get(price_dirty=True)
    assert dirty.odoo_product_id == tee["variants"]["M"] and dirty.product_dirty
    # and the next publication sends M's new price alone, in one call
    summary = publish_prices(channel, gateway=gateway)
    assert summary.changed == 1 and summary.calls == 1
    assert channel_prices(shopify_standin)["PX-M"] == "22.00"


def test_the_first_poll_of_a_server_starts_from_its_newest_write_date(
    sandbox_settings: Any, gateway: Any
) -> None:
    assert catalog_poll(gateway=gateway) == 0
    cursor = CatalogCursor.objects.get()
    assert set(cursor.watermarks) == set(CATALOG_CHANGE_MODELS)
    assert cursor.key.startswith(f"{CURSOR_BASE}@")


def test_images_are_sent_once_and_again_only_when_they_change(
    woo_standin: Any, sandbox_settings: Any, gateway: Any, monkeypatch: Any
) -> None:
    sb = sandbox_settings
    tee = _tee(sb, "IMG")
    sb.execute("product.template", "write", [tee["template"]], {"image_1920": PNG_A})
    channel = standin_channel(woo_standin, "woo", products_enabled=True)
    bind(channel, woo_standin, {f"IMG-{s}": p for s, p in tee["variants"].items()}, group="IMG")
    downloads: list[list[int]] = []
    real = type(gateway).catalog_images

    def counting(self: Any, *, template_ids: Any) -> Any:
        downloads.append(list(template_ids))
        return real(self, template_ids=template_ids)

    monkeypatch.setattr(type(gateway), "catalog_images", counting)
    # when the product is first published: one image download, one image sent
    first = publish_products(channel, gateway=gateway, force=True)
    assert first.images == 1 and downloads == [[tee["template"]]]
    product = _product(woo_standin, "IMG-")
    assert len(product["images"]) == 1 and "/catalog/images/" in product["images"][0]
    state = ImageState.objects.get(channel=channel)
    assert state.size == "178.00 bytes" and state.published_checksum == state.checksum
    # when the product changes but the image does not: sizes are read, nothing downloaded or sent
    sb.execute("product.template", "write", [tee["template"]], {"name": "Catalog Tee v2"})
    VariantState.objects.update(product_dirty=True)
    second = publish_products(channel, gateway=gateway)
    assert second.published == 3 and second.images == 0 and len(downloads) == 1
    product = _product(woo_standin, "IMG-")
    assert len(product["images"]) == 1 and product["name"] == "Catalog Tee v2"
    # when the image changes: downloaded once more and sent
    sb.execute("product.template", "write", [tee["template"]], {"image_1920": PNG_B})
    VariantState.objects.update(product_dirty=True)
    third = publish_products(channel, gateway=gateway)
    assert third.images == 1 and len(downloads) == 2 and third.changed == 0
    assert price_writes(woo_standin)  # the stand-in counted the calls
