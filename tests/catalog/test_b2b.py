"""B2B price lists from the Odoo pricelist of the account's company, against the Shopify and
BigCommerce stand-ins and the sandbox Odoo over HTTP (prices from the engine, apps.pricing)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from apps.catalog.b2b import publish_b2b
from apps.catalog.models import B2BPriceList
from tests.orders import conftest as orders_fixtures

from .helpers import bind, odoo_simple_products, standin_channel

sandbox_settings = orders_fixtures.sandbox_settings
gateway = orders_fixtures.gateway

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache(db: None) -> None:
    from django.core.cache import cache

    cache.clear()
    try:
        from apps.pricing import services

        services.forget()
    except ImportError:
        pass


def _company_with_pricelist(sb: Any) -> tuple[int, int]:
    """A company whose pricelist takes 10 % off, and 20 % off from 10 units."""
    pricelist = sb.execute(
        "product.pricelist",
        "create",
        {
            "name": "B2B Acme",
            "item_ids": [
                [
                    0,
                    0,
                    {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 10},
                ],
                [
                    0,
                    0,
                    {
                        "applied_on": "3_global",
                        "compute_price": "percentage",
                        "percent_price": 20,
                        "min_quantity": 10,
                    },
                ],
            ],
        },
    )
    partner = sb.execute(
        "res.partner",
        "create",
        {"name": "Acme Corp", "is_company": True, "property_product_pricelist": pricelist},
    )
    return partner, pricelist


@pytest.mark.parametrize("standin_name", ["shopify_standin", "bigcommerce_standin"])
def test_b2b_price_list_from_the_company_pricelist_only_changes(
    standin_name: str, request: Any, sandbox_settings: Any, gateway: Any
) -> None:
    standin = request.getfixturevalue(standin_name)
    sb = sandbox_settings
    pids = odoo_simple_products(sb, 6, prefix="B2B")  # list prices 10.00 .. 11.25
    channel = standin_channel(standin, "b2b", prices_enabled=True)
    ext = bind(channel, standin, pids, group="Bulk")
    partner, pricelist = _company_with_pricelist(sb)
    target = "gid://shopify/CompanyLocation/901" if standin.kind == "shopify" else "7"
    B2BPriceList.objects.create(channel=channel, odoo_partner_id=partner, target=target)
    # when the channel's B2B lists are published
    summary = publish_b2b(channel, gateway=gateway)
    assert summary.changed == summary.published == 6 and summary.failed == 0
    row = B2BPriceList.objects.get()
    assert row.odoo_pricelist_id == pricelist and row.external_pricelist_id
    state = standin._control("GET", "catalog")
    list_price = {s: Decimal(10) + Decimal(n) / 4 for n, s in enumerate(sorted(pids))}
    if standin.kind == "shopify":
        (pl,) = state["b2b"]["price_lists"].values()
        (catalog,) = state["b2b"]["catalogs"].values()
        assert catalog["locations"] == [target] and catalog["price_list"] == pl["id"]
        got = {s: Decimal(pl["prices"][ext[s]]) for s in pids}
        tiers = {s: pl["breaks"].get(ext[s]) for s in pids}
        assert all(
            t
            == [
                [
                    "10",
                    str((list_price[s] * Decimal("0.8")).quantize(Decimal("0.01"), ROUND_HALF_UP)),
                ]
            ]
            for s, t in tiers.items()
        )
    else:
        (pl,) = state["price_lists"].values()
        assert pl["assignments"] == [{"customer_group_id": 7, "channel_id": None}]
        got = {s: Decimal(str(pl["records"][ext[s]]["price"])) for s in pids}
        assert all(
            pl["records"][ext[s]]["bulk_pricing_tiers"][0]["quantity_min"] == 10 for s in pids
        )
    # then each variant carries the company's price: 10 % off the list price
    assert got == {
        s: (p * Decimal("0.9")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for s, p in list_price.items()
    }
    # when the company's pricelist gets a fixed price for one variant, only that one is sent
    sb.execute(
        "product.pricelist.item",
        "create",
        {
            "pricelist_id": pricelist,
            "applied_on": "0_product_variant",
            "product_id": pids["B2B-0002"],
            "compute_price": "fixed",
            "fixed_price": 7.77,
        },
    )
    from apps.pricing import refresh

    refresh.refresh(gateway)  # the engine's own poll (beat) sees the new rule
    again = publish_b2b(channel, gateway=gateway)
    assert again.changed == 1 and again.published == 1 and again.calls == 1
    # and a repeat sends nothing
    assert publish_b2b(channel, gateway=gateway).calls == 0
