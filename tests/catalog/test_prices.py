"""Price publication against the channel stand-ins and the sandbox Odoo, both over HTTP:
only changed variants are sent, within each platform's per-call limit, in at most 1.1x the
fewest calls the platform allows; a repeat sends nothing; refusals reach the inbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from apps.catalog.models import VariantState
from apps.catalog.services import publish_prices
from apps.inbox.models import Issue
from tests.orders import conftest as orders_fixtures

from .helpers import (
    PRICE_LIMIT,
    bind,
    channel_prices,
    minimum_price_calls,
    odoo_simple_products,
    price_writes,
    standin_channel,
)

sandbox_settings = orders_fixtures.sandbox_settings
gateway = orders_fixtures.gateway

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache(db: None) -> None:
    from django.core.cache import cache

    cache.clear()


STANDINS = ["shopify_standin", "woo_standin", "bigcommerce_standin"]


@pytest.mark.parametrize("standin_name", STANDINS)
def test_only_changes_within_limits_and_a_repeat_sends_nothing(
    standin_name: str, request: Any, sandbox_settings: Any, gateway: Any
) -> None:
    standin = request.getfixturevalue(standin_name)
    kind = standin.kind
    # given 240 Odoo products bound on the channel: 40 simple ones, 200 as variants of
    # products with 5 variants each (Shopify products, Woo variable products, BC products)
    pids = odoo_simple_products(sandbox_settings, 240)
    skus = sorted(pids)
    channel = standin_channel(standin, "shop", prices_enabled=True)
    bind(channel, standin, {s: pids[s] for s in skus[:40]})
    bind(channel, standin, {s: pids[s] for s in skus[40:]}, group_size=5)
    group_of = {s: f"G{n // 5}" for n, s in enumerate(skus[40:])}
    # when the channel's prices are first published
    first = publish_prices(channel, gateway=gateway)
    # then every variant carries Odoo's list price
    assert first.changed == first.published == 240 and first.failed == 0
    prices = channel_prices(standin)
    assert all(Decimal(prices[s]) == Decimal(10) + Decimal(n) / 4 for n, s in enumerate(skus))
    assert all(
        max(sizes, default=0) <= PRICE_LIMIT[kind] for sizes in price_writes(standin).values()
    )

    # when 10 % of the prices change in Odoo (24 products, half simple, half variants)
    changed = skus[::10]
    for n, sku in enumerate(changed):
        sandbox_settings.execute("product.product", "write", [pids[sku]], {"list_price": 99 + n})
    before = {k: len(v) for k, v in price_writes(standin).items()}
    second = publish_prices(channel, gateway=gateway)
    # then exactly those are sent, each batch within the platform's limit...
    assert second.checked == 240 and second.changed == len(changed) == second.published
    writes = {k: v[before[k] :] for k, v in price_writes(standin).items()}
    sent = sum(sum(v) for v in writes.values())
    assert sent == len(changed)
    assert all(max(v, default=0) <= PRICE_LIMIT[kind] for v in writes.values())
    prices = channel_prices(standin)
    assert all(Decimal(prices[s]) == Decimal(99 + n) for n, s in enumerate(changed))
    # ... in at most 1.1 x the minimum number of calls (counted by the hub and the stand-in)
    minimum = minimum_price_calls(kind, changed, group_of)
    assert second.minimum_calls == minimum
    assert sum(len(v) for v in writes.values()) == second.calls
    assert second.calls <= 1.1 * minimum, (second.calls, minimum)
    assert standin.stats()["throttled"] == 0
    # when published again with nothing changed: nothing is sent
    third = publish_prices(channel, gateway=gateway)
    assert third.changed == 0 and third.calls == 0
    assert {k: len(v) for k, v in price_writes(standin).items()} == {
        k: before[k] + len(v) for k, v in writes.items()
    }


def test_a_refused_variant_is_an_inbox_issue_with_channel_sku_and_product(
    shopify_standin: Any, sandbox_settings: Any, gateway: Any
) -> None:
    pids = odoo_simple_products(sandbox_settings, 3, prefix="REF")
    channel = standin_channel(shopify_standin, "shop", prices_enabled=True)
    bind(channel, shopify_standin, pids, group="Mug")
    # given one binding whose variant the shop does not have (deleted there)
    state_sku = "REF-0001"
    from apps.mappings.models import Binding

    Binding.objects.filter(channel=channel, external_code=state_sku).update(
        external_id="42199999999"
    )
    summary = publish_prices(channel, gateway=gateway)
    # then the others are published and the missing one is an inbox issue naming it
    assert summary.published == 2 and summary.failed == 1
    issue = Issue.objects.get(sku=state_sku)
    assert issue.channel_code == "shop"
    assert issue.last_error["context"]["odoo_product_id"] == pids[state_sku]
    row = VariantState.objects.get(channel=channel, sku=state_sku)
    assert row.published_price is None and "42199999999" in row.last_error
    # and it is tried again next time (not recorded as published), the others are not
    again = publish_prices(channel, gateway=gateway)
    assert again.changed == 1


def test_command_dry_run_prints_and_sends_nothing(
    woo_standin: Any, sandbox_settings: Any, capsys: Any
) -> None:
    pids = odoo_simple_products(sandbox_settings, 4, prefix="DRY")
    channel = standin_channel(woo_standin, "woo", prices_enabled=True)
    bind(channel, woo_standin, pids)
    call_command("catalog", "publish", "--channel", "woo", "--prices-only", "--dry-run")
    out = capsys.readouterr().out
    assert "prices: checked 4, changed 4" in out and "DRY-0000" in out
    assert price_writes(woo_standin) == {"products/batch": [], "products/{id}/variations/batch": []}
    call_command("catalog", "publish", "--channel", "woo", "--prices-only")
    assert price_writes(woo_standin)["products/batch"] == [4]
    assert VariantState.objects.filter(channel=channel, published_price__isnull=False).count() == 4
