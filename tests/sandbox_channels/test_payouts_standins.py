"""Payout stand-ins: Shopify Payments REST (payouts, balance transactions) on the Shopify
stand-in, the Stripe API under /v1/ on every stand-in, BigCommerce order transactions."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sandbox.channels.stripe import DEFAULT_SECRET_KEY
from tests.fixtures.channel_standins import ChannelStandin, HttpAnswer, http_call

NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


def next_url(answer: HttpAnswer) -> str | None:
    found = NEXT.search(answer.header("Link") or "")
    return found.group(1) if found else None


def seed_shopify(standin: ChannelStandin, **payout: Any) -> dict[str, Any]:
    result: dict[str, Any] = standin._control("POST", "shopify/payouts", payout)
    return result


def seed_stripe(standin: ChannelStandin, **payout: Any) -> dict[str, Any]:
    result: dict[str, Any] = standin._control("POST", "stripe/payouts", payout)
    return result


def stripe_get(
    standin: ChannelStandin, path: str, key: str | None = DEFAULT_SECRET_KEY
) -> HttpAnswer:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return http_call("GET", f"{standin.url}{path}", headers=headers)


# -- Shopify Payments ---------------------------------------------------------------------------
def test_shopify_balance_transactions_page_through_link_headers(
    shopify_standin: ChannelStandin,
) -> None:
    rows = [{"type": "charge", "amount": f"{n}.00", "fee": "0.30"} for n in range(1, 121)]
    payout = seed_shopify(shopify_standin, date="2025-02-03", transactions=rows)
    # 120 rows + the transfer row; the payout is the sum of the nets
    assert payout["amount"] == str(sum(Decimal(n) - Decimal("0.30") for n in range(1, 121)))
    first = shopify_standin.api(
        "GET", f"shopify_payments/balance/transactions.json?payout_id={payout['id']}&limit=50"
    )
    assert first.status == 200 and len(first.body["transactions"]) == 50
    seen = [t["id"] for t in first.body["transactions"]]
    url, pages = next_url(first), 1
    while url:
        page = http_call("GET", url, headers=shopify_standin.auth_headers())
        assert page.status == 200
        assert 'rel="previous"' in (page.header("Link") or "")
        seen += [t["id"] for t in page.body["transactions"]]
        url, pages = next_url(page), pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 121
    [transfer] = [
        t
        for t in shopify_standin._control("GET", "shopify/payouts")["transactions"]
        if t["type"] == "payout"
    ]
    assert transfer["amount"] == f"-{payout['amount']}" and transfer["id"] in seen


def test_shopify_paging_rules_and_auth(shopify_standin: ChannelStandin) -> None:
    payout = seed_shopify(shopify_standin, transactions=[{"type": "charge", "amount": "5.00"}] * 3)
    path = f"shopify_payments/balance/transactions.json?payout_id={payout['id']}"
    assert shopify_standin.api("GET", path + "&limit=251").status == 400
    first = shopify_standin.api("GET", path + "&limit=1")
    url = next_url(first)
    assert url is not None
    mixed = http_call("GET", url + "&payout_id=1", headers=shopify_standin.auth_headers())
    assert mixed.status == 400  # page_info carries the filters: no others with it
    assert shopify_standin.api("GET", path, auth=False).status == 401


def test_shopify_payouts_filters_and_status_change(shopify_standin: ChannelStandin) -> None:
    a = seed_shopify(
        shopify_standin, date="2025-01-10", transactions=[{"type": "charge", "amount": "10.00"}]
    )
    b = seed_shopify(shopify_standin, date="2025-01-11", status="scheduled", amount="7.00")
    listed = shopify_standin.api("GET", "shopify_payments/payouts.json").body["payouts"]
    assert [p["id"] for p in listed] == [b["id"], a["id"]]  # most recent first
    newer = shopify_standin.api("GET", f"shopify_payments/payouts.json?since_id={a['id']}")
    assert [p["id"] for p in newer.body["payouts"]] == [b["id"]]
    paid = shopify_standin.api("GET", "shopify_payments/payouts.json?status=paid")
    assert [p["id"] for p in paid.body["payouts"]] == [a["id"]]
    seed_shopify(shopify_standin, id=b["id"], status="paid")
    one = shopify_standin.api("GET", f"shopify_payments/payouts/{b['id']}.json")
    assert one.body["payout"]["status"] == "paid" and one.body["payout"]["amount"] == "7.00"
    assert one.body["payout"]["summary"]["charges_gross_amount"] == "0.00"
    assert shopify_standin.api("GET", "shopify_payments/payouts/1.json").status == 404


# -- Stripe -------------------------------------------------------------------------------------
def test_stripe_auth_and_error_body(woo_standin: ChannelStandin) -> None:
    creds = woo_standin._control("GET", "stripe/credentials")
    assert creds["secret_key"] == DEFAULT_SECRET_KEY and creds["secret_key"].startswith("sk_test_")
    missing = stripe_get(woo_standin, "/v1/payouts", key=None)
    assert missing.status == 401 and missing.body["error"]["type"] == "invalid_request_error"
    wrong = stripe_get(woo_standin, "/v1/payouts", key="sk_test_wrong_key_0000")
    assert wrong.status == 401 and "Invalid API Key" in wrong.body["error"]["message"]
    too_many = stripe_get(woo_standin, "/v1/payouts?limit=101")
    assert too_many.status == 400
    assert too_many.body["error"]["code"] == "parameter_invalid_integer"
    assert too_many.body["error"]["param"] == "limit"
    unknown = stripe_get(woo_standin, "/v1/payouts/po_nope")
    assert unknown.status == 404 and unknown.body["error"]["code"] == "resource_missing"
    bogus = stripe_get(woo_standin, "/v1/balance_transactions?payot=po_1")
    assert bogus.status == 400 and bogus.body["error"]["code"] == "parameter_unknown"


def test_stripe_balance_transactions_page_and_expand(bigcommerce_standin: ChannelStandin) -> None:
    rows = [
        {
            "type": "charge",
            "amount": 1000 + n,
            "fee": 59,
            "source": {"metadata": {"order_id": f"W{n}"}, "payment_intent": f"pi_{n}"},
        }
        for n in range(25)
    ]
    payout = seed_stripe(bigcommerce_standin, currency="usd", transactions=rows)
    assert payout["amount"] == sum(1000 + n - 59 for n in range(25))
    seen: list[dict[str, Any]] = []
    after, pages = "", 0
    while True:
        query = f"/v1/balance_transactions?payout={payout['id']}&limit=10&expand[]=data.source"
        answer = stripe_get(
            bigcommerce_standin, query + (f"&starting_after={after}" if after else "")
        )
        assert answer.status == 200 and answer.body["object"] == "list"
        seen += answer.body["data"]
        pages += 1
        if not answer.body["has_more"]:
            break
        after = answer.body["data"][-1]["id"]
    assert pages == 3 and len({t["id"] for t in seen}) == 26
    charges = [t for t in seen if t["type"] == "charge"]
    assert {t["source"]["metadata"]["order_id"] for t in charges} == {f"W{n}" for n in range(25)}
    assert all(t["source"]["id"].startswith("ch_") and t["currency"] == "usd" for t in charges)
    [transfer] = [t for t in seen if t["type"] == "payout"]
    assert transfer["amount"] == -payout["amount"] and transfer["source"] == payout["id"]
    plain = stripe_get(bigcommerce_standin, f"/v1/balance_transactions?payout={payout['id']}")
    assert all(isinstance(t["source"], str) for t in plain.body["data"])


def test_stripe_payout_filters_manual_payouts_and_faults(woo_standin: ChannelStandin) -> None:
    old = seed_stripe(woo_standin, created=1_700_000_000, amount=500)
    new = seed_stripe(woo_standin, created=1_700_100_000, amount=700, status="in_transit")
    manual = seed_stripe(woo_standin, created=1_700_200_000, amount=900, automatic=False)
    listed = stripe_get(woo_standin, "/v1/payouts").body["data"]
    assert [p["id"] for p in listed] == [manual["id"], new["id"], old["id"]]
    since = stripe_get(woo_standin, "/v1/payouts?created[gte]=1700100000&status=in_transit")
    assert [p["id"] for p in since.body["data"]] == [new["id"]]
    refused = stripe_get(woo_standin, f"/v1/balance_transactions?payout={manual['id']}")
    assert refused.status == 400 and "automatic" in refused.body["error"]["message"]
    woo_standin.set_config(
        fail_next=[
            {
                "path_contains": "/v1/",
                "status": 429,
                "body": {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "rate_limit",
                        "message": "Too many requests",
                    }
                },
            }
        ]
    )
    assert stripe_get(woo_standin, "/v1/payouts").status == 429
    assert stripe_get(woo_standin, "/v1/payouts").status == 200
    woo_standin.reset()
    assert stripe_get(woo_standin, "/v1/payouts").body["data"] == []


# -- BigCommerce --------------------------------------------------------------------------------
def test_bigcommerce_order_transactions(bigcommerce_standin: ChannelStandin) -> None:
    order = bigcommerce_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 2, "price": "12.50"}],
        transactions=[
            {"event": "authorization", "amount": 25, "gateway": "stripe"},
            {
                "event": "capture",
                "amount": 25,
                "gateway": "stripe",
                "gateway_transaction_id": "ch_9",
            },
        ],
    )
    answer = bigcommerce_standin.api("GET", f"v3/orders/{order['id']}/transactions")
    assert answer.status == 200
    events = [(t["event"], t["status"], t["gateway_transaction_id"]) for t in answer.body["data"]]
    assert events[1] == ("capture", "ok", "ch_9") and events[0][0] == "authorization"
    default = bigcommerce_standin.seed_order(line_items=[{"sku": "SKU-001", "price": "3.00"}])
    [tx] = bigcommerce_standin.api("GET", f"v3/orders/{default['id']}/transactions").body["data"]
    assert tx["event"] == "purchase" and tx["amount"] == 3.0 and tx["gateway"] == "braintree"
    assert bigcommerce_standin.api("GET", "v3/orders/999999/transactions").status == 404
