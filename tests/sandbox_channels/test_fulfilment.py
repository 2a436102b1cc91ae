"""Stand-in fulfilment: Shopify fulfillment orders, fulfillments and their webhooks;
WooCommerce Shipment Tracking; BigCommerce v2 shipments; a lost answer after a write."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sandbox.channels.sender import shopify_hmac
from tests.fixtures.channel_standins import ChannelStandin, http_call

ORDER_STATE = """query($id: ID!) { order(id: $id) { displayFulfillmentStatus
  fulfillmentOrders(first: 5) { nodes { id status assignedLocation { location { id } }
    lineItems(first: 10) { nodes { id remainingQuantity lineItem { sku } } } } }
  fulfillments(first: 10) { id name trackingInfo { company number url } } } }"""
CREATE = """mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id name trackingInfo { company number url } } userErrors { field message } } }"""


class _Receiver(BaseHTTPRequestHandler):
    got: list[dict[str, Any]]

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.got.append({"headers": dict(self.headers.items()), "body": body})  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.got = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _order_state(standin: ChannelStandin, order: dict[str, Any]) -> dict[str, Any]:
    body = standin.graphql(ORDER_STATE, {"id": order["admin_graphql_api_id"]}).body
    result: dict[str, Any] = body["data"]["order"]
    return result


def _create(standin: ChannelStandin, fulfillment: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = standin.graphql(CREATE, {"f": fulfillment}).body["data"][
        "fulfillmentCreate"
    ]
    return result


def _fo_line(state: dict[str, Any], fo: int = 0, line: int = 0) -> tuple[str, str]:
    node = state["fulfillmentOrders"]["nodes"][fo]
    return node["id"], node["lineItems"]["nodes"][line]["id"]


# -- Shopify ----------------------------------------------------------------------------------
def test_shopify_fulfillment_fires_a_signed_webhook(
    shopify_standin: ChannelStandin, receiver: ThreadingHTTPServer
) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/shopify/shop/"
    shopify_standin.set_config(webhook_url=url, webhook_secret="shpss_x")
    order = shopify_standin.seed_order(line_items=[{"sku": "SKU-001", "quantity": 2}])
    fo, line = _fo_line(_order_state(shopify_standin, order))
    made = _create(
        shopify_standin,
        {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo,
                    "fulfillmentOrderLineItems": [{"id": line, "quantity": 1}],
                }
            ],
            "trackingInfo": {"company": "UPS", "number": "1ZA"},
        },
    )
    assert made["userErrors"] == [] and made["fulfillment"]["name"] == "#1001.1"
    # the link is Shopify's own for a company of its list
    assert made["fulfillment"]["trackingInfo"][0]["url"].startswith("https://www.ups.com/")
    deadline = time.monotonic() + 5
    while not receiver.got and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.02)
    [delivery] = receiver.got  # type: ignore[attr-defined]
    headers = {k.lower(): v for k, v in delivery["headers"].items()}
    assert headers["x-shopify-topic"] == "fulfillments/create"
    assert headers["x-shopify-hmac-sha256"] == shopify_hmac(delivery["body"], "shpss_x")
    assert headers["x-shopify-shop-domain"] == shopify_standin.url.split("//")[1]
    payload = json.loads(delivery["body"])
    assert payload["admin_graphql_api_id"] == made["fulfillment"]["id"]
    assert payload["order_id"] == order["id"] and payload["tracking_number"] == "1ZA"
    assert [(li["sku"], li["quantity"]) for li in payload["line_items"]] == [("SKU-001", 1)]
    [logged] = http_call("GET", f"{shopify_standin.url}/__standin__/deliveries").body
    assert logged["topic"] == "fulfillments/create"


def test_shopify_over_shipping_mixed_tracking_and_locations_are_user_errors(
    shopify_standin: ChannelStandin,
) -> None:
    order = shopify_standin.seed_order(
        line_items=[
            {"sku": "SKU-001", "quantity": 1},
            {"sku": "SKU-002", "quantity": 1, "location_id": 68_000_000_002},
        ]
    )
    state = _order_state(shopify_standin, order)
    assert len(state["fulfillmentOrders"]["nodes"]) == 2
    fo1, line1 = _fo_line(state, 0)
    fo2, _ = _fo_line(state, 1)
    too_many = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo1, "fulfillmentOrderLineItems": [{"id": line1, "quantity": 2}]}
        ]
    }
    assert "quantity" in _create(shopify_standin, too_many)["userErrors"][0]["message"]
    mixed = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo1}],
        "trackingInfo": {"number": "1", "numbers": ["1", "2"]},
    }
    assert _create(shopify_standin, mixed)["userErrors"]
    two_places = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo1}, {"fulfillmentOrderId": fo2}]
    }
    assert "same location" in _create(shopify_standin, two_places)["userErrors"][0]["message"]
    assert _order_state(shopify_standin, order)["fulfillments"] == []


def test_shopify_tracking_update_and_events(shopify_standin: ChannelStandin) -> None:
    order = shopify_standin.seed_order(line_items=[{"sku": "SKU-001", "quantity": 1}])
    fo, _ = _fo_line(_order_state(shopify_standin, order))
    made = _create(
        shopify_standin,
        {
            "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}],
            "trackingInfo": {"number": "A"},
        },
    )
    fid = made["fulfillment"]["id"]
    update = """mutation($id: ID!, $t: FulfillmentTrackingInput!) {
      fulfillmentTrackingInfoUpdate(
        fulfillmentId: $id, trackingInfoInput: $t, notifyCustomer: true
      ) {
        fulfillment { trackingInfo { company number url } } userErrors { message } } }"""
    t = {"company": "Acme", "numbers": ["B", "C"], "urls": ["https://a/B", "https://a/C"]}
    got = shopify_standin.graphql(update, {"id": fid, "t": t}).body["data"]
    assert got["fulfillmentTrackingInfoUpdate"]["fulfillment"]["trackingInfo"] == [
        {"company": "Acme", "number": "B", "url": "https://a/B"},
        {"company": "Acme", "number": "C", "url": "https://a/C"},
    ]
    event = """mutation($e: FulfillmentEventInput!) { fulfillmentEventCreate(fulfillmentEvent: $e) {
      fulfillmentEvent { status } userErrors { message } } }"""
    ok = shopify_standin.graphql(event, {"e": {"fulfillmentId": fid, "status": "IN_TRANSIT"}})
    assert ok.body["data"]["fulfillmentEventCreate"]["fulfillmentEvent"]["status"] == "IN_TRANSIT"
    bad = shopify_standin.graphql(event, {"e": {"fulfillmentId": fid, "status": "LOST"}})
    assert bad.body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"


def test_lost_answer_after_a_write(shopify_standin: ChannelStandin) -> None:
    order = shopify_standin.seed_order(line_items=[{"sku": "SKU-001", "quantity": 1}])
    fo, _ = _fo_line(_order_state(shopify_standin, order))
    shopify_standin.set_config(
        fail_next=[{"body_contains": "fulfillmentCreate", "after": True, "drop": True}]
    )
    request = urllib.request.Request(
        f"{shopify_standin.url}/admin/api/2025-01/graphql.json",
        data=json.dumps(
            {
                "query": CREATE,
                "variables": {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}},
            }
        ).encode(),
        headers={"Content-Type": "application/json", **shopify_standin.auth_headers()},
        method="POST",
    )
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(request, timeout=5)
    # the write happened all the same
    assert len(_order_state(shopify_standin, order)["fulfillments"]) == 1
    [write] = shopify_standin.received()
    assert write["answer"] == "dropped" and write["status"] == 200
    assert shopify_standin.stats()["statuses"]["dropped"] == 1


# -- WooCommerce ------------------------------------------------------------------------------
def test_woocommerce_shipment_tracking_is_switchable(woo_standin: ChannelStandin) -> None:
    oid = woo_standin.seed_order(line_items=[{"sku": "SKU-001", "quantity": 1}])["id"]
    url = f"{woo_standin.url}/wp-json/wc-shipment-tracking/v3/orders/{oid}/shipment-trackings"
    auth = woo_standin.auth_headers()
    absent = http_call("GET", url, headers=auth)
    assert absent.status == 404 and absent.body["code"] == "rest_no_route"
    woo_standin.set_config(shipment_tracking=True)
    assert http_call("GET", url, headers=auth).body == []
    known = http_call("POST", url, {"tracking_provider": "UPS", "tracking_number": "1Z"}, auth)
    assert known.status == 201 and known.body["tracking_link"].endswith("1Z")
    custom = http_call(
        "POST",
        url,
        {
            "custom_tracking_provider": "Acme",
            "custom_tracking_link": "https://a/?q=%1$s",
            "tracking_number": "9",
            "date_shipped": "2025-03-04",
        },
        auth,
    )
    assert custom.body["tracking_provider"] == "Acme"
    assert custom.body["tracking_link"] == "https://a/?q=9"
    assert http_call("POST", url, {"tracking_provider": "UPS"}, auth).status == 400
    rows = http_call("GET", url, headers=auth).body
    assert [r["tracking_number"] for r in rows] == ["1Z", "9"]
    gone = http_call("DELETE", f"{url}/{rows[0]['tracking_id']}", headers=auth)
    assert gone.status == 200 and len(http_call("GET", url, headers=auth).body) == 1
    assert http_call("GET", url.replace(str(oid), "999999"), headers=auth).status == 404
    woo_standin.reset()
    assert http_call("GET", url, headers=auth).status == 404  # reset: the extension is gone


# -- BigCommerce ------------------------------------------------------------------------------
def test_bigcommerce_shipments_addresses_and_over_shipping(
    bigcommerce_standin: ChannelStandin,
) -> None:
    oid = bigcommerce_standin.seed_order(
        line_items=[
            {"sku": "SKU-001", "quantity": 2},
            {"sku": "SKU-002", "quantity": 1, "address": 2},
        ]
    )["id"]
    addresses = bigcommerce_standin.api("GET", f"v2/orders/{oid}/shipping_addresses").body
    assert [a["id"] for a in addresses] == [oid * 10, oid * 10 + 1]
    assert [a["items_total"] for a in addresses] == [2, 1]
    path = f"v2/orders/{oid}/shipments"
    p1, p2 = oid * 10 + 1, oid * 10 + 2
    wrong_address = {
        "order_address_id": oid * 10,
        "items": [{"order_product_id": p2, "quantity": 1}],
    }
    assert bigcommerce_standin.api("POST", path, wrong_address).status == 400
    too_many = {"order_address_id": oid * 10, "items": [{"order_product_id": p1, "quantity": 3}]}
    refused = bigcommerce_standin.api("POST", path, too_many)
    assert refused.status == 400 and "left to ship" in refused.body[0]["message"]
    bad_provider = {
        "order_address_id": oid * 10,
        "items": [{"order_product_id": p1, "quantity": 1}],
        "shipping_provider": "UPS",
    }
    assert bigcommerce_standin.api("POST", path, bad_provider).status == 400
    ok = bigcommerce_standin.api(
        "POST",
        path,
        {**bad_provider, "shipping_provider": "ups", "tracking_number": "1Z"},
    )
    assert ok.status == 201 and ok.body["generated_tracking_link"].endswith("1Z")
    sid = ok.body["id"]
    put = bigcommerce_standin.api(
        "PUT", f"{path}/{sid}", {"tracking_number": "2Z", "tracking_link": "https://x/2Z"}
    )
    assert put.status == 200 and put.body["tracking_number"] == "2Z"
    assert bigcommerce_standin.api("PUT", f"{path}/{sid}", {"items": []}).status == 400
    assert bigcommerce_standin.api("GET", f"{path}/count").body == {"count": 1}
    assert bigcommerce_standin.api("GET", f"v2/orders/{oid}").body["status_id"] == 3
    assert bigcommerce_standin.api("DELETE", f"{path}/{sid}").status == 204
    assert bigcommerce_standin.api("GET", path).status == 204
