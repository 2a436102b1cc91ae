"""The Magento REST stand-in (reads side): auth, searchCriteria, paging, error bodies, orders in
REST format, configurable products, the Adobe key host and the I/O Events sender."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.fixtures.channel_standins import ChannelStandin

UPDATED = "searchCriteria[filter_groups][0][filters][0]"


def seed_catalog(mg: ChannelStandin) -> None:
    mg.add_products(
        [
            {"sku": "TSHIRT-BLU-M", "stock": 10, "group": "T-shirt", "price": "25.00"},
            {"sku": "TSHIRT-RED-M", "stock": 4, "group": "T-shirt", "price": "25.00"},
            {"sku": "MUG-WHT-11OZ", "stock": 7, "price": "12.50"},
        ]
    )


def scenario(mg: ChannelStandin, **extra: Any) -> dict[str, Any]:
    return mg.seed_order(
        customer={"id": 7, "email": "maria@example.com", "firstname": "Maria", "group_id": 1},
        coupon_code="WELCOME10",
        lines=[
            {
                "sku": "TSHIRT-BLU-M",
                "qty": 2,
                "price": "25.00",
                "discount": "5.00",
                "tax_percent": "8",
            },
            {
                "sku": "MUG-WHT-11OZ",
                "qty": 1,
                "price": "12.50",
                "discount": "1.25",
                "tax_percent": "8",
            },
        ],
        shipping_amount="5.99",
        **extra,
    )


def test_bearer_auth_and_magento_error_bodies(magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    assert mg.api("GET", "orders/1", auth=False).status == 401
    answer = mg.api("GET", "orders/1", headers={"Authorization": "Bearer wrong"}, auth=False)
    assert answer.status == 401
    assert answer.body["message"] == "The consumer isn't authorized to access %resources."
    assert set(answer.body["parameters"]) == {"resources"}
    missing = mg.api("GET", "orders/999")
    assert missing.status == 404
    assert missing.body == {
        "message": "The entity that was requested doesn't exist. Verify the entity and try again."
    }
    assert mg.api("GET", "no/such/route").body == {"message": "Request does not match any route."}
    required = mg.api("GET", "orders")
    assert required.status == 400 and required.body["parameters"] == {"fieldName": "searchCriteria"}
    # Magento 2.4.4+ refuses an integration token as a bearer unless the store allows it
    mg.set_config(bearer_allowed=False)
    assert mg.api("GET", "orders?searchCriteria=").status == 401


def test_oauth1_signed_requests(magento_standin: ChannelStandin) -> None:
    import requests
    from requests_oauthlib import OAuth1

    mg = magento_standin
    scenario(mg)
    c = mg.credentials
    good = OAuth1(
        c["consumer_key"],
        c["consumer_secret"],
        c["access_token"],
        c["access_token_secret"],
        signature_method="HMAC-SHA256",
    )
    url = f"{mg.url}/rest/default/V1/orders"
    params = {f"{UPDATED}[field]": "increment_id", f"{UPDATED}[value]": "000000001"}
    resp = requests.get(url, params=params, auth=good, timeout=10)
    assert resp.status_code == 200 and resp.json()["total_count"] == 1
    bad = OAuth1(
        c["consumer_key"],
        "not-the-secret",
        c["access_token"],
        c["access_token_secret"],
        signature_method="HMAC-SHA256",
    )
    assert requests.get(url, params=params, auth=bad, timeout=10).status_code == 401


def test_order_in_rest_format(magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    seed_catalog(mg)
    seeded = scenario(mg)
    order = mg.api("GET", f"orders/{seeded['entity_id']}").body
    assert order["increment_id"] == "000000001"
    assert (order["subtotal"], order["discount_amount"], order["tax_amount"]) == (62.5, -6.25, 4.5)
    assert (order["shipping_amount"], order["grand_total"]) == (5.99, 66.74)
    assert order["base_grand_total"] == 66.74 and order["customer_group_id"] == 1
    parent, child, mug = order["items"]
    assert (parent["product_type"], parent["sku"], parent["price"]) == (
        "configurable",
        "TSHIRT-BLU-M",
        25,
    )
    assert (child["product_type"], child["price"], child["parent_item_id"]) == (
        "simple",
        0,
        parent["item_id"],
    )
    assert child["parent_item"]["item_id"] == parent["item_id"]
    assert (parent["discount_amount"], mug["discount_amount"]) == (5, 1.25)
    shipping = order["extension_attributes"]["shipping_assignments"][0]["shipping"]
    assert shipping["method"] == "flatrate_flatrate"
    assert shipping["address"]["address_type"] == "shipping"
    assert len(order["updated_at"]) == 19 and order["updated_at"][10] == " "  # "Y-m-d H:M:S"


def test_guest_and_company_orders(magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    guest = mg.seed_order(lines=[{"sku": "SKU-001", "qty": 1}])
    company = mg.seed_order(
        customer={"id": 9, "email": "buyer@acme.example"},
        company={"id": 3, "name": "Acme"},
        lines=[{"sku": "SKU-002", "qty": 1}],
    )
    g = mg.api("GET", f"orders/{guest['entity_id']}").body
    assert (g["customer_id"], g["customer_is_guest"], g["customer_group_id"]) == (None, 1, 0)
    c = mg.api("GET", f"orders/{company['entity_id']}").body
    assert c["extension_attributes"]["company_order_attributes"]["company_id"] == 3


def test_search_filters_sorting_and_paging(magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    for n in range(5):
        mg.seed_order(lines=[{"sku": "SKU-001", "qty": 1}], updated_at_ts=1_736_867_045 + n * 60)
    query = (
        f"{UPDATED}[field]=updated_at&{UPDATED}[value]=2025-01-14 15:05:05"
        f"&{UPDATED}[condition_type]=gteq"
        "&searchCriteria[sortOrders][0][field]=updated_at"
        "&searchCriteria[sortOrders][0][direction]=DESC"
        "&searchCriteria[pageSize]=2&searchCriteria[currentPage]=1"
    ).replace(" ", "%20")
    page = mg.api("GET", f"orders?{query}").body
    assert page["total_count"] == 4
    assert [o["entity_id"] for o in page["items"]] == [5, 4]
    assert page["search_criteria"]["page_size"] == 2
    # a page past the end answers the last page again, as Magento's collections do
    past = mg.api("GET", f"orders?{query.replace('currentPage]=1', 'currentPage]=9')}").body
    assert [o["entity_id"] for o in past["items"]] == [3, 2]
    bad = mg.api("GET", f"orders?{query.replace('gteq', 'sideways')}")
    assert bad.status == 400 and "condition type" in bad.body["message"]
    # OR inside a group
    either = (
        "searchCriteria[filter_groups][0][filters][0][field]=entity_id"
        "&searchCriteria[filter_groups][0][filters][0][value]=1"
        "&searchCriteria[filter_groups][0][filters][1][field]=entity_id"
        "&searchCriteria[filter_groups][0][filters][1][value]=3"
    )
    assert mg.api("GET", f"orders?{either}").body["total_count"] == 2


def test_products_with_configurable_children(magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    seed_catalog(mg)
    rows = mg.api("GET", "products?searchCriteria[pageSize]=50").body["items"]
    by_sku = {p["sku"]: p for p in rows}
    parent = by_sku["T-SHIRT"]
    assert parent["type_id"] == "configurable"
    links = parent["extension_attributes"]["configurable_product_links"]
    assert links == [by_sku["TSHIRT-BLU-M"]["id"], by_sku["TSHIRT-RED-M"]["id"]]
    assert by_sku["TSHIRT-BLU-M"]["visibility"] == 1
    children = mg.api("GET", "configurable-products/T-SHIRT/children").body
    assert [c["sku"] for c in children] == ["TSHIRT-BLU-M", "TSHIRT-RED-M"]
    assert mg.api("GET", "products/MUG-WHT-11OZ").body["price"] == 12.5
    assert mg.api("GET", "products/NOPE").status == 404


def test_key_host_and_signed_io_event(magento_standin: ChannelStandin) -> None:
    import urllib.error
    import urllib.request

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    mg = magento_standin
    sent = mg._control(
        "POST",
        "send-webhook",
        {
            "topic": "observer.sales_order_save_commit_after",
            "payload": {"entity_id": "1"},
            "dry_run": True,
            "corrupt": [2],
        },
    )
    headers, body = sent["headers"], sent["body"].encode()
    event = json.loads(body)
    assert event["type"] == "com.adobe.commerce.observer.sales_order_save_commit_after"
    assert event["event_id"] == headers["x-adobe-event-id"]
    assert event["recipient_client_id"] == mg.client_id
    verdicts = []
    for n in (1, 2):
        with urllib.request.urlopen(mg.url + headers[f"x-adobe-public-key{n}-path"]) as resp:
            key = load_pem_public_key(resp.read())
        signature = base64.b64decode(headers[f"x-adobe-digital-signature-{n}"])
        try:
            key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())  # type: ignore
            verdicts.append(True)
        except Exception:
            verdicts.append(False)
    assert verdicts == [True, False]
    with pytest.raises(urllib.error.HTTPError, match="404"):
        urllib.request.urlopen(mg.url + "/prod/keys/unknown.pem")


def test_seeded_order_fires_an_io_event_when_configured(magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    mg.set_config(io_events_url="http://127.0.0.1:9/unreachable")
    scenario(mg)
    deliveries = mg._control("GET", "deliveries")
    assert len(deliveries) == 1
    assert deliveries[0]["topic"] == "com.adobe.commerce.plugin.sales.api.order_management.place"
    value = json.loads(deliveries[0]["sent_body"])["data"]["value"]
    assert value["entity_id"] == "1" and value["grand_total"] == "66.7400"
