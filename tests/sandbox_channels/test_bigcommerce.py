"""BigCommerce stand-in: auth, v3 paging, absolute adjustments, v2 orders, quota headers."""

from __future__ import annotations

from tests.fixtures.channel_standins import ChannelStandin


def test_auth_required(bigcommerce_standin: ChannelStandin) -> None:
    answer = bigcommerce_standin.api("GET", "v3/catalog/products", auth=False)
    assert answer.status == 401
    assert answer.body["status"] == 401
    assert answer.header("X-Rate-Limit-Requests-Left") is not None
    assert bigcommerce_standin.base_url.endswith("/stores/abc123")


def test_catalog_paging_and_variants(bigcommerce_standin: ChannelStandin) -> None:
    page = bigcommerce_standin.api(
        "GET", "v3/catalog/products?limit=4&page=2&include=variants"
    ).body
    assert page["meta"]["pagination"]["total"] == 10
    assert page["meta"]["pagination"]["total_pages"] == 3
    assert page["meta"]["pagination"]["current_page"] == 2
    assert [p["sku"] for p in page["data"]] == ["SKU-005", "SKU-006", "SKU-007", "SKU-008"]
    assert page["data"][0]["variants"][0]["sku"] == "SKU-005"
    assert page["data"][0]["inventory_tracking"] == "product"
    variants = bigcommerce_standin.api("GET", "v3/catalog/variants?sku=SKU-003").body["data"]
    assert [v["sku"] for v in variants] == ["SKU-003"]


def test_absolute_adjustments(bigcommerce_standin: ChannelStandin) -> None:
    rows = bigcommerce_standin.add_products(
        [
            {"sku": "MUG-WHT-11OZ", "stock": 3, "group": "Mug"},
            {"sku": "MUG-BLK-11OZ", "stock": 3, "group": "Mug"},
        ]
    )
    items = [
        {"location_id": 1, "sku": "SKU-001", "quantity": 17},
        {"location_id": 1, "variant_id": rows[0]["variant_id"], "quantity": 8},
        {
            "location_id": 1,
            "product_id": bigcommerce_standin.products()[1]["product_id"],
            "quantity": 0,
        },
    ]
    answer = bigcommerce_standin.api(
        "PUT", "v3/inventory/adjustments/absolute", {"reason": "Odoo sync", "items": items}
    )
    assert answer.status == 200 and answer.body["transaction_id"]
    levels = bigcommerce_standin.levels()
    assert (levels["SKU-001"], levels["MUG-WHT-11OZ"], levels["SKU-002"]) == (17, 8, 0)
    inv = bigcommerce_standin.api("GET", "v3/inventory/items?sku:in=SKU-001").body["data"][0]
    assert inv["locations"][0]["available_to_sell"] == 17


def test_variant_id_of_product_tracked_item_is_422(bigcommerce_standin: ChannelStandin) -> None:
    base_variant = bigcommerce_standin.products()[0]["variant_id"]
    answer = bigcommerce_standin.api(
        "PUT",
        "v3/inventory/adjustments/absolute",
        {"items": [{"location_id": 1, "variant_id": base_variant, "quantity": 1}]},
    )
    assert answer.status == 422
    assert "tracked by product" in answer.body["title"]


def test_over_2000_items_is_422(bigcommerce_standin: ChannelStandin) -> None:
    before = bigcommerce_standin.levels()
    items = [{"location_id": 1, "sku": "SKU-001", "quantity": 1}] * 2001
    answer = bigcommerce_standin.api("PUT", "v3/inventory/adjustments/absolute", {"items": items})
    assert answer.status == 422
    assert bigcommerce_standin.levels() == before
    assert bigcommerce_standin.stats()["max_batch"] == 2001
    ok = bigcommerce_standin.api(
        "PUT", "v3/inventory/adjustments/absolute", {"items": items[:2000]}
    )
    assert ok.status == 200


def test_v2_order_follow_up(bigcommerce_standin: ChannelStandin) -> None:
    order = bigcommerce_standin.seed_order(
        line_items=[{"sku": "SKU-002", "quantity": 2, "price": "25"}]
    )
    got = bigcommerce_standin.api("GET", f"v2/orders/{order['id']}")
    assert got.status == 200
    assert got.body["status_id"] == 11 and got.body["status"] == "Awaiting Fulfillment"
    assert got.body["total_inc_tax"] == "50.0000"
    assert got.body["date_created"].endswith("+0000")
    assert got.body["products"]["resource"] == f"/orders/{order['id']}/products"
    products = bigcommerce_standin.api("GET", f"v2/orders/{order['id']}/products").body
    assert products[0]["sku"] == "SKU-002" and products[0]["price_inc_tax"] == "25.0000"
    empty = bigcommerce_standin.api("GET", f"v2/orders/{order['id']}/products?page=2")
    assert empty.status == 204 and empty.body is None
    missing = bigcommerce_standin.api("GET", "v2/orders/999999")
    assert missing.status == 404 and missing.body[0]["status"] == 404


def test_quota_headers_and_429(bigcommerce_standin: ChannelStandin) -> None:
    bigcommerce_standin.set_config(quota=3, window_ms=30000)
    answers = [bigcommerce_standin.api("GET", "v3/catalog/products?limit=1") for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.header("X-Rate-Limit-Requests-Left") for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].header("X-Rate-Limit-Requests-Quota") == "3"
    assert answers[0].header("X-Rate-Limit-Time-Window-Ms") == "30000"
    assert 0 < int(answers[3].header("X-Rate-Limit-Time-Reset-Ms") or 0) <= 30000
    assert bigcommerce_standin.stats()["throttled"] == 1
