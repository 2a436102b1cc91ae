"""Products missing on a channel, against the stand-ins and the sandbox Odoo over HTTP: created
per channel setting (a variable product and a simple one), found by SKU first so a retry after a
lost answer makes nothing twice, bound, then published like any bound variant; with the setting
off nothing is created and the SKUs are listed as unbound."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from apps.catalog.creation import create_missing, unbound_variants
from apps.catalog.models import VariantState
from apps.catalog.services import publish_prices, publish_products
from apps.core.errors import TransientError
from apps.inbox.models import Issue
from apps.mappings.models import Binding
from tests.orders import conftest as orders_fixtures

from .helpers import channel_prices, odoo_simple_products, odoo_variants, standin_channel

sandbox_settings = orders_fixtures.sandbox_settings
gateway = orders_fixtures.gateway

pytestmark = pytest.mark.django_db

STANDINS = ["shopify_standin", "woo_standin", "bigcommerce_standin"]
# The first creation call of each platform for the variable product (its answer is lost).
LOST = {
    "shopify": {"path_contains": "graphql", "body_contains": "productSet"},
    "woocommerce": {"path_contains": "/wp-json/wc/v3/products", "body_contains": '"variable"'},
    "bigcommerce": {"path_contains": "/v3/catalog/products", "method": "POST"},
}
CREATE_OPS = {
    "shopify": ("productSet",),
    "woocommerce": ("POST products", "products/batch", "products/{id}/variations/batch"),
    "bigcommerce": ("POST v3/catalog/products",),
}


@pytest.fixture(autouse=True)
def fresh_cache(db: None) -> None:
    from django.core.cache import cache

    cache.clear()


def _world(sandbox: Any) -> dict[str, Any]:
    tee = odoo_variants(
        sandbox, "Created Tee", {"S": 0.0, "M": 1.5, "L": 3.0}, code="CTEE", list_price=20.0
    )
    mug = odoo_simple_products(sandbox, 1, prefix="CMUG")
    no_sku = sandbox.execute("product.product", "create", {"name": "No SKU", "list_price": 5.0})
    return {"tee": tee, "mug": mug, "no_sku": no_sku}


def _sku_counts(standin: Any) -> Counter[str]:
    return Counter(
        v["sku"] for p in standin._control("GET", "catalog")["products"] for v in p["variants"]
    )


def _creates(standin: Any) -> int:
    ops = CREATE_OPS[standin.kind]
    return sum(len(sizes) for k, sizes in standin.stats()["batches"].items() if k in ops)


@pytest.mark.parametrize("standin_name", STANDINS)
def test_missing_products_created_once_then_published(
    standin_name: str, request: Any, sandbox_settings: Any, gateway: Any
) -> None:
    standin = request.getfixturevalue(standin_name)
    world = _world(sandbox_settings)
    channel = standin_channel(
        standin, "shop", products_enabled=True, products_create_missing=True, prices_enabled=True
    )
    odoo_skus = {s for s, _ in unbound_variants(channel, gateway).values()}
    assert {"CTEE-S", "CTEE-M", "CTEE-L", "CMUG-0000"} <= odoo_skus
    assert "SHIP" not in odoo_skus and "SVC-INSTALL" not in odoo_skus  # services stay off
    seeded = set(_sku_counts(standin))  # the stand-in's own SKU-001..; Odoo has some of them
    # given the channel carries out the variable product's creation but the answer is lost
    standin.set_config(fail_next=[{**LOST[standin.kind], "after": True, "drop": True}])
    with pytest.raises(TransientError):
        create_missing(channel, gateway=gateway)
    # when the next run comes
    summary = create_missing(channel, gateway=gateway)
    # then every Odoo SKU is on the channel exactly once (found by SKU, not made again)
    counts = _sku_counts(standin)
    assert all(counts[s] == 1 for s in odoo_skus), {s: counts[s] for s in odoo_skus}
    assert summary.failed == 0, Issue.objects.values_list("title", flat=True)
    assert odoo_skus & seeded  # Odoo SKUs the channel had already: bound, never created
    # and each one is bound to its Odoo variant under the channel's id for it
    bindings = {
        b.external_code: b
        for b in Binding.objects.filter(channel=channel, kind=Binding.Kind.PRODUCT)
    }
    assert set(bindings) == odoo_skus
    tee = world["tee"]["variants"]
    assert {bindings[f"CTEE-{size}"].odoo_id for size in tee} == set(tee.values())
    catalog = standin._control("GET", "catalog")["products"]
    (made,) = [p for p in catalog if any(v["sku"] == "CTEE-S" for v in p["variants"])]
    assert made["name"] == "Created Tee"
    assert [p["name"] for p in catalog].count("Created Tee") == 1, "one product, not two"
    by_sku = {v["sku"]: v for v in made["variants"]}
    assert set(by_sku) == {"CTEE-S", "CTEE-M", "CTEE-L"}
    assert all(str(v["variant_id"]) == bindings[s].external_id for s, v in by_sku.items())
    assert Decimal(by_sku["CTEE-L"]["price"]) == Decimal("23.00")
    assert by_sku["CTEE-M"]["options"] == [["Size CTEE", "M"]]
    assert "No SKU" not in {p["name"] for p in catalog}
    # and a third run makes nothing
    before = _creates(standin)
    again = create_missing(channel, gateway=gateway)
    assert again.unbound == 0 and again.created == 0 and _creates(standin) == before

    # the next publications treat them like the others: nothing to resend for what was made
    created = VariantState.objects.filter(channel=channel, sku__startswith="CTEE-")
    assert created.count() == 3 and not created.filter(product_dirty=True).exists()
    products = publish_products(channel, gateway=gateway, images=False)
    assert not {"CTEE-S", "CTEE-M", "CTEE-L", "CMUG-0000"} & set(products.skus)
    # and a price change in Odoo reaches the created variant
    sandbox_settings.execute(
        "product.product", "write", [world["mug"]["CMUG-0000"]], {"list_price": 77.0}
    )
    prices = publish_prices(channel, gateway=gateway)
    assert prices.skus == ["CMUG-0000"] and prices.failed == 0
    assert channel_prices(standin)["CMUG-0000"] == "77.00"


def test_off_creates_nothing_and_lists_the_unbound(
    shopify_standin: Any, sandbox_settings: Any, gateway: Any, capsys: Any
) -> None:
    _world(sandbox_settings)
    channel = standin_channel(shopify_standin, "shop", products_enabled=True)
    assert channel.products_create_missing is False
    summary = create_missing(channel, gateway=gateway)
    assert {"CTEE-S", "CTEE-M", "CTEE-L", "CMUG-0000"} <= set(summary.skus)
    assert summary.unbound == len(summary.skus) and summary.created == 0
    assert shopify_standin.received() == []  # not one call to the channel
    assert not Binding.objects.filter(channel=channel).exists()
    call_command("catalog", "missing", "--channel", "shop")
    out = capsys.readouterr().out
    assert "CTEE-M\tproduct " in out
    assert f"{summary.unbound} Odoo SKUs without a binding on shop" in out
    assert "products_create_missing off" in out


def test_a_refused_product_is_an_inbox_issue(
    bigcommerce_standin: Any, sandbox_settings: Any, gateway: Any
) -> None:
    odoo_simple_products(sandbox_settings, 1, prefix="DUPE")
    # a product of the same name but another SKU exists: BigCommerce refuses the name (409)
    bigcommerce_standin.add_products([{"sku": "OTHER-1", "stock": 1, "name": "DUPE product 0"}])
    channel = standin_channel(
        bigcommerce_standin, "shop", products_enabled=True, products_create_missing=True
    )
    summary = create_missing(channel, gateway=gateway)
    assert summary.failed == 1
    issue = Issue.objects.get(key="catalog:create:shop:DUPE-0000")
    assert "duplicate" in issue.title and issue.sku == "DUPE-0000"
    assert not Binding.objects.filter(channel=channel, external_code="DUPE-0000").exists()
