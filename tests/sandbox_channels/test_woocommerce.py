"""WooCommerce stand-in: auth, paging headers, variations, batch limit, orders, host limiter."""

from __future__ import annotations

from tests.fixtures.channel_standins import ChannelStandin


def test_auth_required(woo_standin: ChannelStandin) -> None:
    anonymous = woo_standin.api("GET", "products", auth=False)
    assert anonymous.status == 401
    assert anonymous.body["code"] == "woocommerce_rest_cannot_view"
    wrong = woo_standin.api(
        "GET", "products", auth=False, headers={"Authorization": "Basic Y2tfeDpjc195"}
    )
    assert wrong.status == 401
    assert wrong.body == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer key is invalid.",
        "data": {"status": 401},
    }
    qs = woo_standin.api(
        "GET",
        f"products?consumer_key={woo_standin.consumer_key}&consumer_secret={woo_standin.consumer_secret}",
        auth=False,
    )
    assert qs.status == 200


def test_paging_headers_and_limits(woo_standin: ChannelStandin) -> None:
    first = woo_standin.api("GET", "products?per_page=4&page=1&orderby=id&order=asc")
    assert first.status == 200
    assert first.header("X-WP-Total") == "10"
    assert first.header("X-WP-TotalPages") == "3"
    assert 'rel="next"' in (first.header("Link") or "")
    assert [p["sku"] for p in first.body] == ["SKU-001", "SKU-002", "SKU-003", "SKU-004"]
    product = first.body[0]
    assert {"id", "sku", "stock_quantity", "manage_stock", "type"} <= product.keys()
    assert product["type"] == "simple" and product["manage_stock"] is True
    last = woo_standin.api("GET", "products?per_page=4&page=3&orderby=id&order=asc")
    assert len(last.body) == 2
    too_big = woo_standin.api("GET", "products?per_page=101")
    assert too_big.status == 400
    assert too_big.body["code"] == "rest_invalid_param"


def test_variable_product_and_variations(woo_standin: ChannelStandin) -> None:
    rows = woo_standin.add_products(
        [
            {"sku": "TSHIRT-BLU-M", "stock": 4, "group": "T-shirt"},
            {"sku": "TSHIRT-BLU-L", "stock": 6, "group": "T-shirt"},
        ]
    )
    parent = rows[0]["product_id"]
    product = woo_standin.api("GET", f"products/{parent}").body
    assert product["type"] == "variable"
    assert product["variations"] == [r["variant_id"] for r in rows]
    variations = woo_standin.api("GET", f"products/{parent}/variations?per_page=100")
    assert [v["sku"] for v in variations.body] == ["TSHIRT-BLU-M", "TSHIRT-BLU-L"]
    vid = rows[1]["variant_id"]
    upd = woo_standin.api("PUT", f"products/{parent}/variations/{vid}", {"stock_quantity": 1})
    assert upd.status == 200 and upd.body["stock_quantity"] == 1
    assert woo_standin.levels()["TSHIRT-BLU-L"] == 1
    batch = woo_standin.api(
        "POST",
        f"products/{parent}/variations/batch",
        {"update": [{"id": rows[0]["variant_id"], "stock_quantity": 0}]},
    )
    assert batch.body["update"][0]["stock_status"] == "outofstock"
    # The products batch does not touch variations: that item fails, the request is 200.
    wrong = woo_standin.api(
        "POST", "products/batch", {"update": [{"id": vid, "stock_quantity": 9}]}
    )
    assert wrong.status == 200 and "error" in wrong.body["update"][0]
    assert woo_standin.levels()["TSHIRT-BLU-L"] == 1


def test_batch_update_and_limit(woo_standin: ChannelStandin) -> None:
    products = woo_standin.products()
    updates = [
        {"id": p["product_id"], "stock_quantity": 50 + n} for n, p in enumerate(products[:3])
    ]
    ok = woo_standin.api(
        "POST", "products/batch", {"update": updates + [{"id": 999999, "stock_quantity": 1}]}
    )
    assert ok.status == 200
    assert [u.get("stock_quantity") for u in ok.body["update"][:3]] == [50, 51, 52]
    assert ok.body["update"][3]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert woo_standin.levels()["SKU-001"] == 50

    too_many = [{"id": products[0]["product_id"], "stock_quantity": 1}] * 101
    refused = woo_standin.api("POST", "products/batch", {"update": too_many})
    # WC_REST_Controller::check_batch_limit: 413, not 400 (CHANNELS.md 2.6 and the source agree).
    assert refused.status == 413
    assert refused.body == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert woo_standin.levels()["SKU-001"] == 50
    stats = woo_standin.stats()
    assert stats["max_batch"] == 101
    assert stats["items_written"] == 3
    assert [r["status"] for r in woo_standin.received()] == [200, 413]


def test_put_product(woo_standin: ChannelStandin) -> None:
    pid = woo_standin.products()[1]["product_id"]
    answer = woo_standin.api("PUT", f"products/{pid}", {"manage_stock": True, "stock_quantity": 17})
    assert answer.status == 200 and answer.body["stock_quantity"] == 17
    assert woo_standin.levels()["SKU-002"] == 17
    [write] = woo_standin.received()
    assert write["method"] == "PUT" and write["body"] == {
        "manage_stock": True,
        "stock_quantity": 17,
    }
    assert woo_standin.api("PUT", "products/424242", {"stock_quantity": 1}).status == 404


def test_order_acknowledgement(woo_standin: ChannelStandin) -> None:
    order = woo_standin.seed_order(status="pending", line_items=[{"sku": "SKU-001", "quantity": 2}])
    oid = order["id"]
    got = woo_standin.api("GET", f"orders/{oid}").body
    assert got["status"] == "pending" and got["line_items"][0]["sku"] == "SKU-001"
    assert got["date_created"].count("Z") == 0  # site-local, no zone, like WooCommerce
    put = woo_standin.api("PUT", f"orders/{oid}", {"status": "processing"})
    assert put.body["status"] == "processing"
    note = woo_standin.api(
        "POST", f"orders/{oid}/notes", {"note": "Imported to Odoo", "customer_note": False}
    )
    assert note.status == 201 and note.body["note"] == "Imported to Odoo"
    assert woo_standin.api("GET", f"orders/{oid}/notes").body[0]["note"] == "Imported to Odoo"
    assert woo_standin.api("PUT", f"orders/{oid}", {"status": "shipped-ish"}).status == 400
    assert woo_standin.api("GET", "orders/77777").status == 404


def test_host_rate_limit_429_with_retry_after(woo_standin: ChannelStandin) -> None:
    woo_standin.set_config(rps=3)
    statuses = [woo_standin.api("GET", "products?per_page=1") for _ in range(5)]
    assert [s.status for s in statuses[:3]] == [200, 200, 200]
    assert statuses[3].status == 429
    assert int(statuses[3].header("Retry-After") or 0) >= 1
    assert woo_standin.stats()["throttled"] == 2
