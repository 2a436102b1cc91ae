"""Shopify returns end to end: the stand-in's own signed `returns/*` webhooks to a live server, a
real Celery worker, and the sandbox Odoo where the return picking is made.

1. A return requested then approved → one `ChannelReturn` (source channel_return, unique on the
   return's id, lines mapped through the fulfillment line items to the order's SKUs),
   `return.requested` once, one Odoo return picking (origin `<channel>:return:<return id>`);
   the approval delivered again changes nothing. The refund that follows (through
   `returnProcess`'s money, or a merchant refund of the same lines) is linked to that return and
   makes no second return picking.
2. A return requested then declined → state declined, no return picking.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from apps.events.models import BusinessEvent
from apps.returns.models import ChannelRefund, ChannelReturn, ReturnSync
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.channels import SHOPIFY_SECRET
from tests.fixtures.worker import wait_for

from . import test_e2e as e2e
from .conftest import return_pickings

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

shop = e2e.shop
OID = e2e.SHOP_OID

FULFILLMENTS_Q = """query F($id: ID!) { order(id: $id) {
  fulfillmentOrders(first: 5) { nodes { id status } }
  fulfillments(first: 10) { fulfillmentLineItems(first: 10) { nodes { id lineItem { sku } } } }
} }"""
FULFILL = """mutation C($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id } userErrors { message } } }"""
REQUEST = """mutation R($i: ReturnRequestInput!) { returnRequest(input: $i) {
  return { id status } userErrors { message } } }"""
APPROVE = """mutation A($i: ReturnApproveRequestInput!) { returnApproveRequest(input: $i) {
  return { id status } userErrors { message } } }"""
DECLINE = """mutation D($i: ReturnDeclineRequestInput!) { returnDeclineRequest(input: $i) {
  return { id status } userErrors { message } } }"""


def _fulfillment_line(standin: ChannelStandin, sku: str) -> str:
    """The fulfillment line item of `sku` in the stand-in: the hub's own fulfillment push when
    it came, else one made here (as the merchant would)."""
    gid = f"gid://shopify/Order/{OID}"

    def lines() -> dict[str, str]:
        order = standin.graphql(FULFILLMENTS_Q, {"id": gid}).body["data"]["order"]
        return {
            n["lineItem"]["sku"]: n["id"]
            for f in order["fulfillments"]
            for n in f["fulfillmentLineItems"]["nodes"]
        }

    try:
        wait_for(lambda: sku in lines(), timeout=8)
    except AssertionError:
        order = standin.graphql(FULFILLMENTS_Q, {"id": gid}).body["data"]["order"]
        for fo in order["fulfillmentOrders"]["nodes"]:
            if fo["status"] != "CLOSED":
                made = standin.graphql(
                    FULFILL,
                    {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}},
                ).body["data"]["fulfillmentCreate"]
                assert not made["userErrors"], made
    return lines()[sku]


def _mutate(standin: ChannelStandin, query: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    answer = standin.graphql(query, {"i": data}).body["data"][name]
    assert not answer["userErrors"], answer
    result: dict[str, Any] = answer["return"]
    return result


def _request(standin: ChannelStandin, fli: str, quantity: int = 1) -> str:
    made = _mutate(
        standin,
        REQUEST,
        "returnRequest",
        {
            "orderId": f"gid://shopify/Order/{OID}",
            "returnLineItems": [
                {
                    "fulfillmentLineItemId": fli,
                    "quantity": quantity,
                    "returnReason": "SIZE_TOO_SMALL",
                }
            ],
        },
    )
    assert made["status"] == "REQUESTED"
    return str(made["id"])


def _delivered(standin: ChannelStandin, topic: str) -> list[dict[str, Any]]:
    return [d for d in standin._control("GET", "deliveries") if d["topic"] == topic]


def test_a_requested_then_approved_shopify_return_makes_one_return_and_one_picking(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    shopify_standin: ChannelStandin,
    shop: Any,
    live_server: Any,
) -> None:
    sb = sandbox_settings
    channel, order, _ = shop
    worker = celery_worker_factory(queues=e2e.QUEUES, concurrency=2, **e2e.worker_env(sb))
    fli = _fulfillment_line(shopify_standin, "TSHIRT-BLU-M")
    # when the customer asks to return one T-shirt
    rid = _request(shopify_standin, fli)
    ext = rid.rsplit("/", 1)[-1]
    e2e.settle(lambda: ChannelReturn.objects.filter(external_id=ext).exists(), worker)
    ret = ChannelReturn.objects.get(external_id=ext)
    assert (ret.source, ret.state) == ("channel_return", "requested")
    assert [(ln.sku, ln.quantity) for ln in ret.lines.all()] == [("TSHIRT-BLU-M", 1)]
    assert ret.name.endswith("-R1") and ret.reason == "size_too_small"
    assert not ReturnSync.objects.exists(), "nothing is expected in Odoo before the approval"
    # and the merchant approves it
    _mutate(shopify_standin, APPROVE, "returnApproveRequest", {"id": rid})
    # then goods are expected: one return picking, ready to receive
    e2e.settle(lambda: e2e.synced("odoo_return"), worker)
    [picking] = return_pickings(sb)
    assert picking["origin"] == f"{channel.code}:return:{ext}"
    assert picking["state"] == "assigned" and picking["picking_type_code"] == "incoming"
    ret.refresh_from_db()
    assert ret.state == "expected" and ret.odoo_return_picking_id == picking["id"]
    # when the approval (and the request) arrive again
    url = f"{live_server.url}/webhooks/shopify/{channel.code}/"
    for topic in ("returns/approve", "returns/request"):
        [hook] = _delivered(shopify_standin, topic)
        sent = shopify_standin.send_webhook(
            url, topic, hook["payload"], SHOPIFY_SECRET, webhook_id=f"again-{topic}"
        )
        assert sent["status"] in (200, 202), sent
    time.sleep(1.0)
    e2e.settle(e2e.hub_is_quiet, worker)
    # and the merchant refunds that T-shirt, restocked as returned (22.50 + 1.80 tax)
    rfid = e2e.merchant_refund(shopify_standin, OID, [(1, 1, "RETURN")], "24.30")
    e2e.settle(lambda: ChannelRefund.objects.filter(external_id=rfid).exists(), worker)
    e2e.settle(e2e.hub_is_quiet, worker)
    # then still one return, one picking, one return.requested; the refund is the return's
    assert ChannelReturn.objects.count() == 1 and len(return_pickings(sb)) == 1
    assert ReturnSync.objects.filter(action="odoo_return").count() == 1
    assert BusinessEvent.objects.filter(type="return.requested").count() == 1
    assert ChannelRefund.objects.get(external_id=rfid).ret_id == ret.pk
    assert order.pk


def test_a_declined_shopify_return_makes_no_picking(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    shopify_standin: ChannelStandin,
    shop: Any,
    live_server: Any,
) -> None:
    sb = sandbox_settings
    worker = celery_worker_factory(queues=e2e.QUEUES, concurrency=2, **e2e.worker_env(sb))
    fli = _fulfillment_line(shopify_standin, "MUG-WHT-11OZ")
    rid = _request(shopify_standin, fli)
    ext = rid.rsplit("/", 1)[-1]
    e2e.settle(lambda: ChannelReturn.objects.filter(external_id=ext).exists(), worker)
    _mutate(
        shopify_standin,
        DECLINE,
        "returnDeclineRequest",
        {"id": rid, "declineReason": "FINAL_SALE", "declineNote": "mugs are final sale"},
    )
    e2e.settle(
        lambda: ChannelReturn.objects.filter(external_id=ext, state="declined").exists(), worker
    )
    time.sleep(1.0)
    e2e.settle(e2e.hub_is_quiet, worker)
    assert ChannelReturn.objects.count() == 1
    assert not ReturnSync.objects.filter(action="odoo_return").exists()
    assert return_pickings(sb) == []
    assert BusinessEvent.objects.filter(type="return.requested").count() == 1
