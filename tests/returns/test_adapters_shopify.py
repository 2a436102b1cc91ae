"""Shopify refund adapter against the Shopify stand-in (refundCreate with @idempotent)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from apps.core.errors import PermanentError, TransientError
from apps.returns.adapters import refund_adapter_for
from apps.returns.adapters.shopify import REFUND_MUTATION, ShopifyRefunds
from tests.fixtures.channel_standins import ChannelStandin
from tests.returns.adapter_helpers import (
    drop_answer_of,
    fresh_cache,
    refund_request,
    standin_channel,
    writes,
)

__all__ = ["fresh_cache"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

ORDER_Q = """query O($id: ID!) { order(id: $id) {
  displayFinancialStatus
  transactions(first: 20) { id kind amountSet { presentmentMoney { amount } } }
  refunds(first: 10) { id totalRefundedSet { presentmentMoney { amount } } }
} }"""


@pytest.fixture
def adapter(make_channel: Any, shopify_standin: ChannelStandin) -> ShopifyRefunds:
    found = refund_adapter_for(standin_channel(make_channel, shopify_standin, "shop"))
    assert isinstance(found, ShopifyRefunds)
    return found


@pytest.fixture
def order(shopify_standin: ChannelStandin) -> str:
    seeded = shopify_standin.seed_order(
        line_items=[
            {"sku": "SKU-001", "quantity": 2, "price": "12.50", "unit_tax": "1.25"},
            {"sku": "SKU-002", "quantity": 1, "price": "7.99", "unit_tax": "0.80"},
        ],
        shipping="4.90",
    )
    return str(seeded["admin_graphql_api_id"])


def state(standin: ChannelStandin, order: str) -> dict[str, Any]:
    answer = standin.graphql(ORDER_Q, {"id": order}, version="2026-04")
    result: dict[str, Any] = answer.body["data"]["order"]
    return result


def refunded(standin: ChannelStandin, order: str) -> Decimal:
    return sum(
        (
            Decimal(t["amountSet"]["presentmentMoney"]["amount"])
            for t in state(standin, order)["transactions"]
            if t["kind"] == "REFUND"
        ),
        Decimal("0.00"),
    )


def test_refund_then_read_to_the_cent(
    adapter: ShopifyRefunds, shopify_standin: ChannelStandin, order: str
) -> None:
    req = refund_request(order, [("SKU-001", 1, "12.50", "1.25")], "13.75")
    result = adapter.refund(req)
    assert result.calls == 2 and not result.found_existing
    made = result.refund
    assert made.amount == Decimal("13.75") and made.currency == "USD"
    assert made.hub_key == req.idempotency_key and made.reason == "RMA 2025-0042"
    [line] = made.lines
    assert (line.sku, line.quantity, line.amount, line.tax, line.restock) == (
        "SKU-001",
        1,
        Decimal("12.50"),
        Decimal("1.25"),
        "no_restock",
    )
    # what went out: NO_RESTOCK, one REFUND transaction against the SALE, the key twice
    [w] = writes(shopify_standin, "refundCreate")
    assert '@idempotent(key: "hub-key-0001")' in w["body"]["query"]
    assert "/2026-01/" in w["path"]  # @idempotent needs 2026-01 or later
    inp = w["body"]["variables"]["input"]
    assert inp["refundLineItems"][0]["restockType"] == "NO_RESTOCK"
    [tx] = inp["transactions"]
    assert tx["kind"] == "REFUND" and tx["amount"] == "13.75" and tx["gateway"] == "bogus"
    assert "OrderTransaction" in tx["parentId"]
    # read back: one refund, amounts as Decimal to the cent
    [again] = adapter.refunds_read(order)
    assert again.external_id == made.external_id and again.amount == Decimal("13.75")
    assert again.tax_amount == Decimal("1.25") and again.hub_key == "hub-key-0001"
    assert state(shopify_standin, order)["displayFinancialStatus"] == "PARTIALLY_REFUNDED"


def test_lost_answer_is_found_not_paid_twice(
    adapter: ShopifyRefunds, shopify_standin: ChannelStandin, order: str
) -> None:
    req = refund_request(order, [("SKU-002", 1, "7.99", "0.80")], "8.79")
    drop_answer_of(shopify_standin, path="graphql", body="refundCreate")
    with pytest.raises(TransientError):
        adapter.refund(req)
    retry = adapter.refund(req)
    assert retry.found_existing and retry.calls == 1
    assert retry.refund.amount == Decimal("8.79")
    assert len(state(shopify_standin, order)["refunds"]) == 1
    assert refunded(shopify_standin, order) == Decimal("8.79")
    assert len(writes(shopify_standin, "refundCreate")) == 1


def test_same_key_replays_the_original_refund(
    adapter: ShopifyRefunds, shopify_standin: ChannelStandin, order: str
) -> None:
    """Even without the read (a refund not yet visible), the same key + the same variables
    gives the first refund back: the @idempotent guarantee the adapter relies on."""
    req = refund_request(order, [("SKU-002", 1, "7.99", "0.80")], "8.79")
    first = adapter.refund(req)
    w = writes(shopify_standin, "refundCreate")[0]["body"]
    again = shopify_standin.graphql(w["query"], w["variables"], version="2026-01")
    assert again.body["data"]["refundCreate"]["refund"]["id"] == first.refund.external_id
    assert len(state(shopify_standin, order)["refunds"]) == 1
    assert refunded(shopify_standin, order) == Decimal("8.79")


def test_without_idempotent_refused_from_2026_04(
    shopify_standin: ChannelStandin, order: str
) -> None:
    tx = state(shopify_standin, order)["transactions"][0]["id"]
    query = REFUND_MUTATION.replace(" @idempotent(key: %s)", "")
    variables = {
        "input": {
            "orderId": order,
            "transactions": [
                {
                    "orderId": order,
                    "parentId": tx,
                    "gateway": "bogus",
                    "kind": "REFUND",
                    "amount": "1.00",
                }
            ],
        }
    }
    answer = shopify_standin.graphql(query, variables, version="2026-04")
    assert "idempotent" in json.dumps(answer.body["errors"])
    assert state(shopify_standin, order)["refunds"] == []


def test_over_refund_is_permanent(
    adapter: ShopifyRefunds, shopify_standin: ChannelStandin, order: str
) -> None:
    # paid 2 x 13.75 + 8.79 + 4.90 = 41.19
    req = refund_request(order, [("SKU-001", 2, "25.00", "2.50")], "50.00")
    with pytest.raises(PermanentError) as info:
        adapter.refund(req)
    assert "greater than" in str(info.value)
    assert info.value.context["order_number"] == req.order_number
    assert info.value.context["amount"] == "50.00"
    assert state(shopify_standin, order)["refunds"] == []
    too_many = refund_request(order, [("SKU-002", 2, "15.98", "1.60")], "17.58", key="k2")
    with pytest.raises(PermanentError):
        adapter.refund(too_many)


def test_full_refund_and_returns(
    adapter: ShopifyRefunds, shopify_standin: ChannelStandin, order: str
) -> None:
    req = refund_request(
        order, [("SKU-001", 2, "25.00", "2.50"), ("SKU-002", 1, "7.99", "0.80")], "41.19"
    )
    made = adapter.refund(req).refund
    assert made.amount == Decimal("41.19") and made.shipping_amount == Decimal("4.90")
    assert state(shopify_standin, order)["displayFinancialStatus"] == "REFUNDED"
    assert adapter.returns_read(order) == []


def test_returns_read_and_webhooks(
    adapter: ShopifyRefunds, shopify_standin: ChannelStandin, order: str
) -> None:
    shopify_standin.set_config(webhook_url="http://127.0.0.1:9/hooks", webhook_secret="s")
    fo = shopify_standin.graphql(
        "query F($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id } } } }",
        {"id": order},
    ).body["data"]["order"]["fulfillmentOrders"]["nodes"][0]["id"]
    made = shopify_standin.graphql(
        """mutation C($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
             fulfillment { fulfillmentLineItems(first: 5) { nodes { id lineItem { sku } } } }
             userErrors { message } } }""",
        {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}},
    ).body["data"]["fulfillmentCreate"]["fulfillment"]
    fli = next(
        n["id"] for n in made["fulfillmentLineItems"]["nodes"] if n["lineItem"]["sku"] == "SKU-001"
    )
    asked = shopify_standin.graphql(
        """mutation R($i: ReturnRequestInput!) { returnRequest(input: $i) {
             return { id status } userErrors { message } } }""",
        {
            "i": {
                "orderId": order,
                "returnLineItems": [
                    {"fulfillmentLineItemId": fli, "quantity": 1, "returnReason": "SIZE_TOO_SMALL"}
                ],
            }
        },
    ).body["data"]["returnRequest"]["return"]
    assert asked["status"] == "REQUESTED"
    shopify_standin.graphql(
        "mutation A($i: ReturnApproveRequestInput!) { returnApproveRequest(input: $i) "
        "{ return { status } userErrors { message } } }",
        {"i": {"id": asked["id"]}},
    )
    [ret] = adapter.returns_read(order)
    assert ret.status == "open" and ret.name.endswith("-R1") and ret.reason == "size_too_small"
    [line] = ret.lines
    assert (line.sku, line.quantity, line.restock) == ("SKU-001", 1, "return")
    adapter.refund(refund_request(order, [("SKU-001", 1, "12.50", "1.25")], "13.75"))
    topics = [d["topic"] for d in shopify_standin._control("GET", "deliveries")]
    assert {"returns/request", "returns/approve", "refunds/create"} <= set(topics)
    refund_hook = next(
        d for d in shopify_standin._control("GET", "deliveries") if d["topic"] == "refunds/create"
    )
    payload = refund_hook["payload"]
    assert payload["refund_line_items"][0]["restock_type"] == "no_restock"
    assert payload["transactions"][0]["amount"] == "13.75"
