"""Publishers against the channel stand-ins over HTTP: batch limits, budgets, 429s, CAS."""

from __future__ import annotations

from typing import Any

import pytest

from apps.inventory.metrics import RATE_LIMITED
from apps.inventory.publishers import StockTarget, publisher_for
from apps.inventory.publishers.bigcommerce import BigCommercePublisher
from apps.inventory.publishers.shopify import ShopifyPublisher
from apps.inventory.publishers.woocommerce import WooCommercePublisher
from tests.inventory.publish_helpers import channel_for, fresh_cache, seed, standin_429s

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def targets(ids: dict[str, str], qty: Any, expected: int | None = None) -> list[StockTarget]:
    return [
        StockTarget(sku, ext, qty(n) if callable(qty) else qty, expected)
        for n, (sku, ext) in enumerate(sorted(ids.items()))
    ]


def test_publisher_for_dispatches_by_kind(make_channel: Any, shopify_standin: Any) -> None:
    from apps.core.errors import PermanentError

    assert isinstance(
        publisher_for(channel_for(make_channel, shopify_standin, "s1")), ShopifyPublisher
    )
    b2b = make_channel("b2b", "b2b_api")
    with pytest.raises(PermanentError):
        publisher_for(b2b)


def test_shopify_chunks_at_250_and_sets_every_level(
    make_channel: Any, shopify_standin: Any
) -> None:
    # given 600 variants
    ids = seed(shopify_standin, 600)
    pub = publisher_for(channel_for(make_channel, shopify_standin, "shop"))
    # when
    out = pub.publish(targets(ids, lambda n: n % 37))
    # then every SKU holds its value, in ceil(600/250) = 3 mutations, none throttled
    assert all(o.ok for o in out) and len(out) == 600
    levels = shopify_standin.levels()
    assert all(levels[sku] == n % 37 for n, sku in enumerate(sorted(ids)))
    stats = shopify_standin.stats()
    assert stats["batches"]["inventorySetQuantities"] == [250, 250, 100]
    assert standin_429s(shopify_standin) == 0
    # and a second publisher reuses the resolved inventory items: only the mutations go out
    again = publisher_for(channel_for(make_channel, shopify_standin, "shop2"))
    again.publish(targets(ids, 1))
    assert again.calls == 3  # same shop account: ids and location come from the shared cache


def test_shopify_small_bucket_is_never_exceeded(make_channel: Any, shopify_standin: Any) -> None:
    # given a shop with a tiny cost bucket: 30 points, 40 restored per second
    ids = seed(shopify_standin, 300)
    shopify_standin.set_config(bucket_size=30, restore_rate=40)
    pub = publisher_for(channel_for(make_channel, shopify_standin, "shop"))
    # when we resolve, write and read it all, twice
    for qty in (3, 4):
        assert all(o.ok for o in pub.publish(targets(ids, qty)))
    levels = pub.read_levels(list(ids.values()))
    # then the values are right and Shopify never had to throttle us
    assert set(levels.values()) == {4} and len(levels) == 300
    assert standin_429s(shopify_standin) == 0
    assert pub.budget.waited > 0  # the budget, not luck, kept us under the limit


def test_shopify_throttled_is_waited_out_and_repeated(
    make_channel: Any, shopify_standin: Any
) -> None:
    ids = seed(shopify_standin, 5)
    pub = publisher_for(channel_for(make_channel, shopify_standin, "shop"))
    pub.publish(targets(ids, 1))  # resolves items and location
    throttled = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 10,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 2000,
                    "currentlyAvailable": 0,
                    "restoreRate": 50,
                },
            }
        },
    }
    shopify_standin.set_config(
        fail_next=[{"path_contains": "graphql", "status": 200, "body": throttled}]
    )
    calls = pub.calls
    limited = RATE_LIMITED.labels("shop")._value.get()
    out = pub.publish(targets(ids, 9))
    assert all(o.ok for o in out)
    assert pub.calls == calls + 2  # the throttled answer and the repeat
    assert RATE_LIMITED.labels("shop")._value.get() == limited + 1
    assert {shopify_standin.levels()[s] for s in ids} == {9}


def test_shopify_stale_compare_is_reported_and_the_rest_written(
    make_channel: Any, shopify_standin: Any
) -> None:
    # given three SKUs we published as 5, and one changed on the shop meanwhile
    ids = seed(shopify_standin, 3, stock=5)
    changed = sorted(ids)[1]
    shopify_standin.add_products([{"sku": changed, "stock": 2}])
    pub = publisher_for(channel_for(make_channel, shopify_standin, "shop"))
    # when we compare-and-set from 5 to 7
    out = {o.sku: o for o in pub.publish(targets(ids, 7, expected=5))}
    # then the stale one is reported with the shop's value and left alone; the others are written
    assert out[changed].stale and not out[changed].ok and out[changed].published == 2
    assert all(out[s].ok for s in ids if s != changed)
    levels = shopify_standin.levels()
    assert levels[changed] == 2 and all(levels[s] == 7 for s in ids if s != changed)


def test_woocommerce_simple_and_variations_batch_at_100(
    make_channel: Any, woo_standin: Any
) -> None:
    # given 150 simple products and 120 variations of one variable product
    simple = seed(woo_standin, 150, prefix="S")
    variations = seed(woo_standin, 120, prefix="V", group="Tee")
    pub = publisher_for(channel_for(make_channel, woo_standin, "woo"))
    # when
    out = pub.publish(targets({**simple, **variations}, 11))
    # then
    assert all(o.ok for o in out) and len(out) == 270
    levels = woo_standin.levels()
    assert all(levels[s] == 11 for s in [*simple, *variations])
    batches = woo_standin.stats()["batches"]
    assert max(max(v) for v in batches.values()) <= 100
    assert batches["products/{id}/variations/batch"] == [100, 20]
    # and the next publication sends variations straight to their parent: 2 + 2 calls
    calls = pub.calls
    pub.publish(targets({**simple, **variations}, 12))
    assert pub.calls - calls == 4
    every = [*simple.values(), *variations.values()]
    assert pub.read_levels(every) == dict.fromkeys(every, 12)


def test_woocommerce_rate_limit_and_retry_after(
    make_channel: Any, woo_standin: Any, settings: Any
) -> None:
    # given a host limiting to 5 requests per second, and our configured rate just under it
    # (a rate exactly at the host's limit leaves no room for scheduling jitter on a busy machine)
    settings.HUB_WOOCOMMERCE_API_RATE = "4/s"
    woo_standin.set_config(rps=5)
    ids = seed(woo_standin, 400)
    pub = publisher_for(channel_for(make_channel, woo_standin, "woo"))
    assert isinstance(pub, WooCommercePublisher)
    # when we publish 400 SKUs twice
    pub.publish(targets(ids, 1))
    pub.publish(targets(ids, 2))
    # then no request was refused, because the budget spaced them
    assert standin_429s(woo_standin) == 0 and pub.budget.waited > 0
    # and a 429 from the host is waited out without failing the publication
    woo_standin.set_config(
        fail_next=[
            {"path_contains": "products/batch", "status": 429, "headers": {"Retry-After": "1"}}
        ]
    )
    calls = pub.calls
    out = pub.publish(targets(dict(list(ids.items())[:10]), 3))
    assert all(o.ok for o in out) and pub.calls == calls + 2


def test_bigcommerce_absolute_adjustments_and_quota(
    make_channel: Any, bigcommerce_standin: Any
) -> None:
    # given a store whose quota is 4 requests per 2 s window: the ~22 calls below (SKU and level
    # reads of 250, adjustments of 2,000) cannot fit into one window however slow the machine is,
    # so the budget must wait for the provider's reset instead of meeting a 429
    ids = seed(bigcommerce_standin, 2100)
    bigcommerce_standin.set_config(quota=4, window_ms=2000)
    pub = publisher_for(channel_for(make_channel, bigcommerce_standin, "bc"))
    assert isinstance(pub, BigCommercePublisher)
    # when
    out = pub.publish(targets(ids, 6))
    levels = pub.read_levels(list(ids.values()))
    pub.publish(targets(ids, 8))
    # then 2,000 per call, no 429, and the values landed
    assert all(o.ok for o in out)
    assert set(levels.values()) == {6} and len(levels) == 2100
    assert bigcommerce_standin.stats()["batches"]["PUT v3/inventory/adjustments/absolute"] == [
        2000,
        100,
        2000,
        100,
    ]
    assert standin_429s(bigcommerce_standin) == 0 and pub.budget.waited > 0
    assert {bigcommerce_standin.levels()[s] for s in ids} == {8}


def test_unknown_ids_fail_per_sku_and_the_rest_is_written(
    make_channel: Any, shopify_standin: Any, woo_standin: Any
) -> None:
    for standin, code in ((shopify_standin, "shop"), (woo_standin, "woo")):
        ids = seed(standin, 3)
        bad = {"GONE": "999999", "JUNK": "not-an-id"} if standin is woo_standin else {"GONE": "1"}
        out = {
            o.sku: o
            for o in publisher_for(channel_for(make_channel, standin, code)).publish(
                targets({**ids, **bad}, 4)
            )
        }
        assert all(out[s].ok for s in ids), code
        assert all(not out[s].ok and out[s].error for s in bad), code
        assert {standin.levels()[s] for s in ids} == {4}
