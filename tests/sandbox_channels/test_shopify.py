"""Shopify stand-in: GraphQL shapes, paging, compare-and-set, limits, cost throttling, REST."""

from __future__ import annotations

from typing import Any

from tests.fixtures.channel_standins import ChannelStandin, http_call

VARIANTS = """
query Variants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId sku displayName product { legacyResourceId } inventoryItem { id } }
  }
}
"""

SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}
"""
LOCATION = "gid://shopify/Location/68000000001"


def _variants(shop: ChannelStandin) -> list[dict[str, Any]]:
    out, after = [], None
    while True:
        body = shop.graphql(VARIANTS, {"first": 4, "after": after}).body
        conn = body["data"]["productVariants"]
        out.extend(conn["nodes"])
        if not conn["pageInfo"]["hasNextPage"]:
            return out
        after = conn["pageInfo"]["endCursor"]


def _item_gid(shop: ChannelStandin, sku: str) -> str:
    return str(next(v["inventoryItem"]["id"] for v in _variants(shop) if v["sku"] == sku))


def _quantity(gid: str, qty: int, compare: int | None) -> dict[str, Any]:
    return {
        "inventoryItemId": gid,
        "locationId": LOCATION,
        "quantity": qty,
        "compareQuantity": compare,
    }


def test_token_required(shopify_standin: ChannelStandin) -> None:
    url = f"{shopify_standin.url}/admin/api/2025-01/graphql.json"
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_wrong"}):
        answer = http_call("POST", url, {"query": "{ shop { name } }"}, headers)
        assert answer.status == 401
        assert "Invalid API key or access token" in answer.body["errors"]


def test_variants_page_with_cursor_and_real_ids(shopify_standin: ChannelStandin) -> None:
    variants = _variants(shopify_standin)
    assert [v["sku"] for v in variants] == [f"SKU-{i:03d}" for i in range(1, 11)]
    first = variants[0]
    assert first["id"] == f"gid://shopify/ProductVariant/{first['legacyResourceId']}"
    assert first["inventoryItem"]["id"].startswith("gid://shopify/InventoryItem/")
    assert int(first["legacyResourceId"]) > 2**31  # 64-bit ids, like the real store
    assert shopify_standin.stats()["calls"]["query:Variants"] == 3  # 4 + 4 + 2


def test_aliases_fragments_and_edges(shopify_standin: ChannelStandin) -> None:
    query = """
    fragment V on ProductVariant { sku }
    query { a: productVariants(first: 2, query: "sku:SKU-002 OR sku:SKU-005") {
      edges { cursor node { ...V inventoryQuantity } } } }
    """
    body = shopify_standin.graphql(query).body
    skus = [e["node"]["sku"] for e in body["data"]["a"]["edges"]]
    assert skus == ["SKU-002", "SKU-005"]


def test_unknown_field_is_an_error_not_null(shopify_standin: ChannelStandin) -> None:
    body = shopify_standin.graphql("{ productVariants(first: 1) { nodes { sku nonsense } } }").body
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"
    assert "data" not in body


def test_first_over_250_and_missing_first_rejected(shopify_standin: ChannelStandin) -> None:
    assert shopify_standin.graphql("{ productVariants(first: 251) { nodes { sku } } }").body[
        "errors"
    ]
    assert shopify_standin.graphql("{ productVariants { nodes { sku } } }").body["errors"]


def test_set_quantities_compare_and_set(shopify_standin: ChannelStandin) -> None:
    gid = _item_gid(shopify_standin, "SKU-001")
    current = shopify_standin.levels()["SKU-001"]
    ok = shopify_standin.graphql(
        SET,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [_quantity(gid, 3, current)],
            }
        },
    ).body
    group = ok["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert ok["data"]["inventorySetQuantities"]["userErrors"] == []
    assert group["reason"] == "correction"
    assert {"name": "available", "delta": 3 - current, "quantityAfterChange": 3} in group["changes"]
    assert shopify_standin.levels()["SKU-001"] == 3

    stale = shopify_standin.graphql(
        SET,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [_quantity(gid, 9, current)],
            }
        },
    ).body["data"]["inventorySetQuantities"]
    assert stale["inventoryAdjustmentGroup"] is None
    assert stale["userErrors"][0]["code"] == "COMPARE_QUANTITY_STALE"
    assert stale["userErrors"][0]["field"] == ["input", "quantities", "0", "compareQuantity"]
    assert shopify_standin.levels()["SKU-001"] == 3

    ignored = shopify_standin.graphql(
        SET,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "ignoreCompareQuantity": True,
                "quantities": [_quantity(gid, 9, None)],
            }
        },
    ).body["data"]["inventorySetQuantities"]
    assert ignored["userErrors"] == []
    assert shopify_standin.levels()["SKU-001"] == 9


def test_set_quantities_is_all_or_nothing(shopify_standin: ChannelStandin) -> None:
    a, b = _item_gid(shopify_standin, "SKU-001"), _item_gid(shopify_standin, "SKU-002")
    before = shopify_standin.levels()
    body = shopify_standin.graphql(
        SET,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "quantities": [
                    _quantity(a, 1, before["SKU-001"]),
                    _quantity(b, 1, before["SKU-002"] + 5),
                ],
            }
        },
    ).body["data"]["inventorySetQuantities"]
    assert [e["code"] for e in body["userErrors"]] == ["COMPARE_QUANTITY_STALE"]
    assert shopify_standin.levels() == before


def test_unknown_location_and_item(shopify_standin: ChannelStandin) -> None:
    gid = _item_gid(shopify_standin, "SKU-001")
    quantities = [
        {
            "inventoryItemId": gid,
            "locationId": "gid://shopify/Location/68000000002",
            "quantity": 1,
            "compareQuantity": 0,
        },
        {
            "inventoryItemId": "gid://shopify/InventoryItem/1",
            "locationId": LOCATION,
            "quantity": 1,
            "compareQuantity": 0,
        },
        {
            "inventoryItemId": gid,
            "locationId": "gid://shopify/Location/5",
            "quantity": 1,
            "compareQuantity": 0,
        },
    ]
    errors = shopify_standin.graphql(
        SET, {"input": {"name": "available", "reason": "correction", "quantities": quantities}}
    ).body["data"]["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == [
        "ITEM_NOT_STOCKED_AT_LOCATION",
        "INVALID_INVENTORY_ITEM",
        "INVALID_LOCATION",
    ]


def test_more_than_250_quantities_rejected_before_running(shopify_standin: ChannelStandin) -> None:
    shopify_standin.add_products([{"sku": f"BULK-{i:03d}", "stock": 1} for i in range(251)])
    before = shopify_standin.levels()
    gid = _item_gid(shopify_standin, "SKU-001")
    quantities = [_quantity(gid, 1, None)] * 251
    body = shopify_standin.graphql(
        SET,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "ignoreCompareQuantity": True,
                "quantities": quantities,
            }
        },
    ).body
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "251" in body["errors"][0]["message"]
    assert shopify_standin.levels() == before


def test_change_from_quantity_in_2026_01(shopify_standin: ChannelStandin) -> None:
    gid = _item_gid(shopify_standin, "SKU-003")
    current = shopify_standin.levels()["SKU-003"]
    q = {
        "inventoryItemId": gid,
        "locationId": LOCATION,
        "quantity": 2,
        "changeFromQuantity": current + 1,
    }
    stale = shopify_standin.graphql(
        SET,
        {"input": {"name": "available", "reason": "correction", "quantities": [q]}},
        version="2026-01",
    ).body["data"]["inventorySetQuantities"]
    assert stale["userErrors"][0]["code"] == "CHANGE_FROM_QUANTITY_STALE"
    q["changeFromQuantity"] = None  # null = skip the check
    ok = shopify_standin.graphql(
        SET,
        {"input": {"name": "available", "reason": "correction", "quantities": [q]}},
        version="2026-01",
    ).body["data"]["inventorySetQuantities"]
    assert ok["userErrors"] == []
    assert shopify_standin.levels()["SKU-003"] == 2


def test_idempotent_key_replays_without_reapplying(shopify_standin: ChannelStandin) -> None:
    gid = _item_gid(shopify_standin, "SKU-004")
    mutation = SET.replace(
        "inventorySetQuantities(input: $input)",
        'inventorySetQuantities(input: $input) @idempotent(key: "k-1")',
    )
    variables = {
        "input": {
            "name": "available",
            "reason": "correction",
            "quantities": [
                {
                    "inventoryItemId": gid,
                    "locationId": LOCATION,
                    "quantity": 7,
                    "changeFromQuantity": None,
                }
            ],
        }
    }
    first = shopify_standin.graphql(mutation, variables, version="2026-04").body
    shopify_standin.add_products([{"sku": "SKU-004", "stock": 50}])  # someone else changes it
    again = shopify_standin.graphql(mutation, variables, version="2026-04").body
    assert again["data"] == first["data"]
    assert shopify_standin.levels()["SKU-004"] == 50
    missing = shopify_standin.graphql(SET, variables, version="2026-04").body
    assert missing["errors"]


def test_inventory_levels_read_for_reconciliation(shopify_standin: ChannelStandin) -> None:
    gid = _item_gid(shopify_standin, "SKU-002")
    query = """query($id: ID!) { inventoryItem(id: $id) { sku
      inventoryLevels(first: 5) { nodes { location { id }
        quantities(names: ["available", "on_hand"]) { name quantity } } } } }"""
    item = shopify_standin.graphql(query, {"id": gid}).body["data"]["inventoryItem"]
    level = item["inventoryLevels"]["nodes"][0]
    assert item["sku"] == "SKU-002"
    assert level["location"]["id"] == LOCATION
    assert {q["name"]: q["quantity"] for q in level["quantities"]} == {
        "available": shopify_standin.levels()["SKU-002"],
        "on_hand": shopify_standin.levels()["SKU-002"],
    }


def test_order_ack_with_order_update_and_tags_add(shopify_standin: ChannelStandin) -> None:
    order = shopify_standin.seed_order(line_items=[{"sku": "SKU-001", "quantity": 2}])
    gid = order["admin_graphql_api_id"]
    upd = shopify_standin.graphql(
        "mutation($input: OrderInput!) { orderUpdate(input: $input) {"
        " order { id note } userErrors { field message } } }",
        {"input": {"id": gid, "note": "Imported to Odoo as S00042"}},
    ).body["data"]["orderUpdate"]
    assert upd == {"order": {"id": gid, "note": "Imported to Odoo as S00042"}, "userErrors": []}
    tags = shopify_standin.graphql(
        'mutation($id: ID!) { tagsAdd(id: $id, tags: ["odoo-synced"]) {'
        " node { id ... on Order { tags } } userErrors { message } } }",
        {"id": gid},
    ).body["data"]["tagsAdd"]
    assert tags["node"]["tags"] == ["odoo-synced"]
    assert [r["op"] for r in shopify_standin.received()] == [
        "mutation:orderUpdate",
        "mutation:tagsAdd",
    ]


def test_fulfillment_create_closes_the_fulfillment_order(shopify_standin: ChannelStandin) -> None:
    order = shopify_standin.seed_order(line_items=[{"sku": "SKU-001", "quantity": 2}])
    q = """query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status
      lineItems(first: 10) { nodes { id remainingQuantity lineItem { sku } } } } } } }"""
    fo = shopify_standin.graphql(q, {"id": order["admin_graphql_api_id"]}).body["data"]["order"][
        "fulfillmentOrders"
    ]["nodes"][0]
    assert fo["status"] == "OPEN"
    created = shopify_standin.graphql(
        """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
          fulfillment { id status trackingInfo { company number } } userErrors { message } } }""",
        {
            "f": {
                "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}],
                "trackingInfo": {"company": "UPS", "number": "1Z999"},
                "notifyCustomer": False,
            }
        },
    ).body["data"]["fulfillmentCreate"]
    assert created["userErrors"] == []
    assert created["fulfillment"]["trackingInfo"] == [{"company": "UPS", "number": "1Z999"}]
    after = shopify_standin.graphql(q, {"id": order["admin_graphql_api_id"]}).body["data"]["order"]
    assert after["fulfillmentOrders"]["nodes"][0]["status"] == "CLOSED"


def test_cost_extension_and_throttled(shopify_standin: ChannelStandin) -> None:
    shopify_standin.set_config(bucket_size=30, restore_rate=1)
    first = shopify_standin.graphql("{ productVariants(first: 10) { nodes { sku } } }").body
    cost = first["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 12
    assert cost["actualQueryCost"] == 12
    assert cost["throttleStatus"]["maximumAvailable"] == 30
    assert cost["throttleStatus"]["restoreRate"] == 1
    assert cost["throttleStatus"]["currentlyAvailable"] == 18
    shopify_standin.graphql("{ productVariants(first: 10) { nodes { sku } } }")
    throttled = shopify_standin.graphql("{ productVariants(first: 10) { nodes { sku } } }")
    assert throttled.status == 200
    assert throttled.body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled.body["errors"][0]["message"] == "Throttled"
    assert throttled.body["extensions"]["cost"]["actualQueryCost"] is None
    assert throttled.body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 12
    assert shopify_standin.stats()["throttled"] == 1


def test_actual_cost_refunds_unreturned_nodes(shopify_standin: ChannelStandin) -> None:
    cost = shopify_standin.graphql("{ productVariants(first: 100) { nodes { sku } } }").body[
        "extensions"
    ]["cost"]
    assert cost["requestedQueryCost"] == 102
    assert cost["actualQueryCost"] == 12  # only 10 variants exist


def test_single_query_cost_limit(shopify_standin: ChannelStandin) -> None:
    body = shopify_standin.graphql(
        "{ products(first: 250) { nodes { variants(first: 250) { nodes { sku } } } } }"
    ).body
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_rest_call_limit_header_and_429(shopify_standin: ChannelStandin) -> None:
    shopify_standin.set_config(rest_bucket_size=3, rest_leak_rate=0.5)
    item_id = shopify_standin.products()[0]["inventory_item_id"]
    answers = [
        shopify_standin.api(
            "POST",
            "inventory_levels/set.json",
            {"location_id": 68000000001, "inventory_item_id": item_id, "available": n},
        )
        for n in range(4)
    ]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert answers[0].header("X-Shopify-Shop-Api-Call-Limit") == "1/3"
    assert answers[2].header("X-Shopify-Shop-Api-Call-Limit") == "3/3"
    assert float(answers[3].header("Retry-After") or 0) >= 1
    assert shopify_standin.levels()["SKU-001"] == 2
