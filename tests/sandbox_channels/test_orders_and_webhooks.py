"""Stand-in order lists (updated since, paged) and webhook subscription endpoints."""

from __future__ import annotations

import time
from urllib.parse import quote

from tests.fixtures.channel_standins import ChannelStandin, http_call


def _seed(standin: ChannelStandin, n: int, base: float) -> list[int]:
    return [
        standin.seed_order(updated_at_ts=base + i, financial_status="paid")["id"] for i in range(n)
    ]


def test_shopify_orders_json_filters_and_cursor_pages(shopify_standin: ChannelStandin) -> None:
    # given five orders updated one second apart, an hour ago
    base = time.time() - 3600
    ids = _seed(shopify_standin, 5, base)
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(base + 1))
    # when listing from the second one on, two a page, oldest change first
    first = shopify_standin.api(
        "GET", f"orders.json?updated_at_min={quote(since)}&status=any&order=updated_at+asc&limit=2"
    )
    # then the REST resource comes back, with a cursor for the next page
    assert first.status == 200
    assert [o["id"] for o in first.body["orders"]] == ids[1:3]
    assert first.body["orders"][0]["financial_status"] == "paid"
    assert first.body["orders"][0]["updated_at"].endswith("+00:00")
    link = first.header("Link") or ""
    assert 'rel="next"' in link and "page_info=" in link
    next_url = link[1 : link.index(">")]
    second = http_call("GET", next_url, headers=shopify_standin.auth_headers())
    assert [o["id"] for o in second.body["orders"]] == ids[3:5]
    assert second.header("Link") is None
    # the cursor carries the filters: repeating one next to it is refused, as on Shopify
    assert (
        http_call("GET", next_url + "&status=any", headers=shopify_standin.auth_headers()).status
        == 400
    )


def test_shopify_webhooks_json(shopify_standin: ChannelStandin) -> None:
    made = shopify_standin.api(
        "POST",
        "webhooks.json",
        {
            "webhook": {
                "topic": "orders/updated",
                "address": "https://hub.test/w/",
                "format": "json",
            }
        },
    )
    assert made.status == 201
    hook = made.body["webhook"]
    assert {"id", "address", "topic", "format", "api_version", "created_at"} <= hook.keys()
    again = shopify_standin.api(
        "POST",
        "webhooks.json",
        {"webhook": {"topic": "orders/updated", "address": "https://hub.test/w/"}},
    )
    assert again.status == 422
    plain = shopify_standin.api(
        "POST",
        "webhooks.json",
        {"webhook": {"topic": "orders/create", "address": "http://hub.test/"}},
    )
    assert plain.status == 422 and "address" in plain.body["errors"]
    assert [h["id"] for h in shopify_standin.api("GET", "webhooks.json").body["webhooks"]] == [
        hook["id"]
    ]
    assert shopify_standin.api("DELETE", f"webhooks/{hook['id']}.json").status == 200
    assert shopify_standin.api("GET", "webhooks.json").body["webhooks"] == []


def test_woocommerce_orders_modified_after_and_webhooks(woo_standin: ChannelStandin) -> None:
    base = time.time() - 3600
    ids = _seed(woo_standin, 3, base)
    after = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base))
    page = woo_standin.api(
        "GET",
        f"orders?modified_after={after}&dates_are_gmt=true&orderby=modified&order=asc&per_page=1&page=1",
    )
    # modified_after is exclusive: the first order (modified exactly then) is not listed
    assert page.status == 200 and page.header("X-WP-TotalPages") == "2"
    assert [o["id"] for o in page.body] == ids[1:2]
    made = woo_standin.api(
        "POST",
        "webhooks",
        {
            "name": "hub",
            "topic": "order.updated",
            "delivery_url": "https://hub.test/w/",
            "secret": "s3",
        },
    )
    assert made.status == 201
    assert made.body["status"] == "active" and "secret" not in made.body
    assert made.body["resource"] == "order" and made.body["event"] == "updated"
    hid = made.body["id"]
    assert (
        woo_standin.api("PUT", f"webhooks/{hid}", {"status": "disabled"}).body["status"]
        == "disabled"
    )
    assert woo_standin.api("GET", "webhooks?status=active").body == []
    assert [h["id"] for h in woo_standin.api("GET", "webhooks?status=disabled").body] == [hid]


def test_bigcommerce_orders_and_hooks(bigcommerce_standin: ChannelStandin) -> None:
    base = time.time() - 3600
    ids = _seed(bigcommerce_standin, 3, base)
    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(base + 1))
    page = bigcommerce_standin.api(
        "GET", f"v2/orders?min_date_modified={quote(since)}&sort=date_modified:asc&limit=1&page=2"
    )
    assert page.status == 200 and [o["id"] for o in page.body] == ids[2:3]
    assert "date_modified" in page.body[0] and "_modified" not in page.body[0]
    empty = bigcommerce_standin.api("GET", f"v2/orders?min_date_modified={quote(since)}&page=9")
    assert empty.status == 204
    made = bigcommerce_standin.api(
        "POST", "v3/hooks", {"scope": "store/order/updated", "destination": "https://hub.test/w/"}
    )
    assert made.status == 200 and made.body["data"]["is_active"] is True
    hid = made.body["data"]["id"]
    dup = bigcommerce_standin.api(
        "POST", "v3/hooks", {"scope": "store/order/updated", "destination": "https://hub.test/w/"}
    )
    assert dup.status == 422
    bigcommerce_standin.api("PUT", f"v3/hooks/{hid}", {"is_active": False})
    listed = bigcommerce_standin.api("GET", "v3/hooks?is_active=false").body
    assert [h["id"] for h in listed["data"]] == [hid] and listed["meta"]["pagination"]["total"] == 1
