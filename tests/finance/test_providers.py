"""Payout providers and captured payments against the channel stand-ins over HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from apps.core.errors import ChannelAuthError, PermanentError, RateLimited, TransientError
from apps.finance.providers import CATEGORIES, captured_payments, payout_source
from apps.finance.providers import shopify_payments as sp
from sandbox.channels.stripe import DEFAULT_SECRET_KEY
from tests.fixtures.channel_standins import ChannelStandin

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _fresh_cache(db: None) -> None:
    """Rate budgets live in the shared cache."""
    from django.core.cache import cache

    cache.clear()


def channel_on(make_channel: Callable[..., Any], standin: ChannelStandin, code: str) -> Any:
    creds: dict[str, Any] = {"api_base_url": standin.base_url}
    if standin.kind == "woocommerce":
        creds.update(consumer_key=standin.consumer_key, consumer_secret=standin.consumer_secret)
    elif standin.kind == "bigcommerce":
        creds.update(access_token=standin.auth_token)
    else:
        creds.update(access_token=standin.access_token)
    return make_channel(code, standin.kind, **creds)


def shopify_account(make_channel: Callable[..., Any], standin: ChannelStandin) -> Any:
    channel = channel_on(make_channel, standin, "shop")
    return SimpleNamespace(
        provider="shopify_payments", channel=channel, api_base_url="", secret_key=""
    )


def stripe_account(standin: ChannelStandin, key: str = DEFAULT_SECRET_KEY) -> Any:
    return SimpleNamespace(
        provider="stripe",
        channel=SimpleNamespace(code="woo"),
        api_base_url=standin.url,
        secret_key=key,
    )


def seed(standin: ChannelStandin, platform: str, **payout: Any) -> dict[str, Any]:
    result: dict[str, Any] = standin._control("POST", f"{platform}/payouts", payout)
    return result


# -- Shopify Payments ---------------------------------------------------------------------------
def test_shopify_payout_of_120_transactions_across_pages(
    make_channel: Callable[..., Any],
    shopify_standin: ChannelStandin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sp, "PAGE", 50)  # 121 rows -> 3 pages
    rows: list[dict[str, Any]] = []
    for n in range(120):
        if n == 7:
            rows.append(
                {"type": "seller_protection_credit_reversal", "amount": "-4.10", "fee": "0.00"}
            )
        elif n % 10 == 3:
            rows.append(
                {
                    "type": "refund",
                    "amount": f"-{n}.15",
                    "fee": "0.00",
                    "source_order_id": 5000 + n,
                    "source_order_transaction_id": 9000 + n,
                }
            )
        else:
            # net as given, even where amount - fee would differ by a cent (LIFECYCLE §3.1.6)
            rows.append(
                {
                    "type": "charge",
                    "amount": f"{n}.99",
                    "fee": "0.33",
                    "net": f"{n}.67",
                    "source_order_id": 5000 + n,
                    "source_order_transaction_id": 9000 + n,
                }
            )
    rows.append(
        {
            "type": "adjustment",
            "amount": "-2.00",
            "fee": "0",
            "adjustment_order_transactions": [
                {"id": 777, "amount": "-2.00", "order": {"id": 42, "name": "#1042"}}
            ],
        }
    )
    seeded = seed(shopify_standin, "shopify", date="2025-03-03", transactions=rows)
    source = payout_source(shopify_account(make_channel, shopify_standin))

    payouts, cursor = source.payouts_since(None)
    [payout] = payouts
    assert cursor == str(seeded["id"]) and payout.external_id == str(seeded["id"])
    assert payout.amount == Decimal(seeded["amount"]) and payout.currency == "USD"
    assert payout.date == dt.date(2025, 3, 3) and payout.status == "paid"
    assert payout.summary["charges_fee_amount"] == seeded["summary"]["charges_fee_amount"]

    calls_before = shopify_standin.stats()["calls"].get("REST GET shopify_payments transactions", 0)
    found = {t.external_id: t for t in source.transactions(payout)}
    calls = shopify_standin.stats()["calls"]["REST GET shopify_payments transactions"]
    assert calls - calls_before == 3
    expected = {str(t["id"]): t for t in seeded["transactions"]}
    assert set(found) == set(expected) and len(found) == 122
    for tid, row in expected.items():
        assert found[tid].net == Decimal(row["net"]) and found[tid].amount == Decimal(row["amount"])
        assert found[tid].category in CATEGORIES and found[tid].payout_id == payout.external_id
    [transfer] = [t for t in found.values() if t.type == "payout"]
    assert transfer.category == "transfer" and transfer.net == -payout.amount
    [odd] = [t for t in found.values() if t.type == "seller_protection_credit_reversal"]
    assert odd.category == "other" and odd.net == Decimal("-4.10")
    charge = next(t for t in found.values() if t.type == "charge" and t.source_order_id == "5001")
    assert charge.category == "charge" and charge.source_transaction_id == "9001"
    assert charge.net == Decimal("1.67") and charge.fee == Decimal("0.33")
    [adj] = [t for t in found.values() if t.type == "adjustment"]
    assert (adj.source_order_id, adj.source_order_number, adj.source_transaction_id) == (
        "42",
        "#1042",
        "777",
    )
    assert sum(t.net for t in found.values() if t.category != "transfer") == payout.amount


def test_shopify_cursor_moves_only_past_paid_payouts(
    make_channel: Callable[..., Any], shopify_standin: ChannelStandin
) -> None:
    charge = [{"type": "charge", "amount": "10.00", "fee": "0.50"}]
    p1 = seed(shopify_standin, "shopify", date="2025-01-01", transactions=charge)
    p2 = seed(shopify_standin, "shopify", date="2025-01-02", status="failed", transactions=charge)
    p3 = seed(
        shopify_standin, "shopify", date="2025-01-03", status="scheduled", transactions=charge
    )
    p4 = seed(shopify_standin, "shopify", date="2025-01-04", transactions=charge)
    source = payout_source(shopify_account(make_channel, shopify_standin))

    got, cursor = source.payouts_since(None)
    # p1 paid; p2 failed (never paid: passed over); p3 scheduled stops the page before p4
    assert [p.external_id for p in got] == [str(p1["id"])] and cursor == str(p2["id"])
    assert source.payouts_since(cursor) == ([], None)
    seed(shopify_standin, "shopify", id=p3["id"], status="paid")
    got, cursor2 = source.payouts_since(cursor, limit=1)
    assert [p.external_id for p in got] == [str(p3["id"])] and cursor2 == str(p3["id"])
    got, cursor3 = source.payouts_since(cursor2)
    assert [p.external_id for p in got] == [str(p4["id"])] and cursor3 == str(p4["id"])


def test_shopify_wrong_shape_and_auth(
    make_channel: Callable[..., Any], shopify_standin: ChannelStandin
) -> None:
    account = shopify_account(make_channel, shopify_standin)
    shopify_standin.set_config(
        fail_next=[{"path_contains": "payouts.json", "status": 200, "body": {"payout": []}}]
    )
    with pytest.raises(PermanentError, match="payouts: missing") as info:
        payout_source(account).payouts_since(None)
    assert info.value.context["field"] == "payouts"
    account.channel.access_token = "shpat_wrong"
    with pytest.raises(ChannelAuthError):
        payout_source(account).payouts_since(None)


# -- Stripe -------------------------------------------------------------------------------------
def test_stripe_minor_units_metadata_and_categories(woo_standin: ChannelStandin) -> None:
    usd = seed(
        woo_standin,
        "stripe",
        currency="usd",
        transactions=[
            {
                "type": "charge",
                "amount": 1234,
                "fee": 66,
                "source": {
                    "metadata": {"order_id": "W-1042", "order_key": "wc_order_x"},
                    "payment_intent": "pi_A",
                },
            },
            {
                "type": "refund",
                "amount": -500,
                "fee": 0,
                "source": {"charge": "ch_OLD", "payment_intent": "pi_OLD", "metadata": {}},
            },
            {
                "type": "climate_order_purchase",
                "amount": -7,
                "fee": 0,
                "reporting_category": "climate_order",
            },
            {"type": "adjustment", "amount": -1500, "fee": 1500, "reporting_category": "dispute"},
        ],
    )
    jpy = seed(
        woo_standin,
        "stripe",
        currency="jpy",
        transactions=[{"type": "charge", "amount": 1234, "fee": 44, "source": {}}],
    )
    source = payout_source(stripe_account(woo_standin))
    payouts, cursor = source.payouts_since(None)
    by_id = {p.external_id: p for p in payouts}
    assert set(by_id) == {usd["id"], jpy["id"]} and cursor is not None
    assert by_id[usd["id"]].amount == Decimal("12.34") - Decimal("0.66") - 5 - Decimal("0.07") - 30
    assert by_id[jpy["id"]].amount == Decimal("1190") and by_id[jpy["id"]].currency == "JPY"

    rows = list(source.transactions(by_id[usd["id"]]))
    assert len(rows) == 5
    charge = next(t for t in rows if t.type == "charge")
    assert (charge.amount, charge.fee, charge.net) == (
        Decimal("12.34"),
        Decimal("0.66"),
        Decimal("11.68"),
    )
    assert charge.source_order_number == "W-1042" and charge.category == "charge"
    assert charge.source_transaction_id.startswith("ch_") and charge.raw["payment_intent"] == "pi_A"
    assert charge.currency == "USD" and charge.processed_at is not None
    refund = next(t for t in rows if t.type == "refund")
    assert refund.category == "refund" and refund.net == Decimal("-5.00")
    assert refund.source_transaction_id == "ch_OLD" and refund.raw["payment_intent"] == "pi_OLD"
    assert next(t for t in rows if t.type == "climate_order_purchase").category == "other"
    assert next(t for t in rows if t.type == "adjustment").category == "chargeback"
    transfer = next(t for t in rows if t.type == "payout")
    assert transfer.category == "transfer" and transfer.net == -by_id[usd["id"]].amount
    [yen] = [t for t in source.transactions(by_id[jpy["id"]]) if t.type == "charge"]
    assert (yen.amount, yen.fee, yen.net) == (Decimal("1234"), Decimal("44"), Decimal("1190"))


def test_stripe_cursor_moves_only_past_paid_payouts(woo_standin: ChannelStandin) -> None:
    p1 = seed(woo_standin, "stripe", created=1_700_000_000, amount=100)
    p2 = seed(woo_standin, "stripe", created=1_700_000_100, amount=200, status="pending")
    p3 = seed(woo_standin, "stripe", created=1_700_000_200, amount=300)
    source = payout_source(stripe_account(woo_standin))
    got, cursor = source.payouts_since(None)
    assert [p.external_id for p in got] == [p1["id"]]
    assert got[0].date == dt.date(2023, 11, 16)  # arrival_date: created + 2 days (stand-in)
    assert source.payouts_since(cursor) == ([], None)
    seed(woo_standin, "stripe", id=p2["id"], status="paid")
    got, cursor = source.payouts_since(cursor)
    assert [p.external_id for p in got] == [p2["id"], p3["id"]]
    assert [p.amount for p in got] == [Decimal("2.00"), Decimal("3.00")]
    assert source.payouts_since(cursor) == ([], None)


def test_stripe_errors_are_classified(woo_standin: ChannelStandin) -> None:
    with pytest.raises(ChannelAuthError):
        payout_source(stripe_account(woo_standin, "sk_test_wrong")).payouts_since(None)
    source = payout_source(stripe_account(woo_standin))
    woo_standin.set_config(fail_next=[{"path_contains": "/v1/", "status": 500}])
    with pytest.raises(TransientError):
        source.payouts_since(None)
    woo_standin.set_config(
        fail_next=[
            {
                "path_contains": "/v1/",
                "status": 429,
                "headers": {"Retry-After": "2"},
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
    with pytest.raises(RateLimited) as limited:
        source.payouts_since(None)
    assert limited.value.retry_after == 2.0
    seed(woo_standin, "stripe", amount=900, automatic=False)
    [manual], _ = source.payouts_since(None)
    with pytest.raises(PermanentError, match="automatic"):
        list(source.transactions(manual))


# -- captured payments --------------------------------------------------------------------------
def test_shopify_captured_payments(
    make_channel: Callable[..., Any], shopify_standin: ChannelStandin
) -> None:
    channel = channel_on(make_channel, shopify_standin, "shop")
    sale = shopify_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 2, "price": "12.50"}]
    )
    [paid] = captured_payments(channel, {}, str(sale["id"]))
    assert paid.kind == "sale" and paid.amount == Decimal("25.00") and paid.currency == "USD"
    assert paid.transaction_id.isdigit() and paid.gateway == "bogus"
    assert paid.processed_at.tzinfo is not None
    split = shopify_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 1, "price": "9.00"}],
        transactions=[
            {"kind": "AUTHORIZATION", "amount": "9.00", "gateway": "shopify_payments"},
            {"kind": "SALE", "amount": "9.00", "status": "FAILURE"},
            {"kind": "CAPTURE", "amount": "9.00", "gateway": "shopify_payments"},
        ],
    )
    [capture] = captured_payments(channel, {}, split["admin_graphql_api_id"])
    assert capture.kind == "capture" and capture.gateway == "shopify_payments"
    assert int(capture.transaction_id) > int(paid.transaction_id)
    with pytest.raises(PermanentError, match="does not exist"):
        captured_payments(channel, {}, "1")


def test_woocommerce_captured_payment_from_the_payload(make_channel: Callable[..., Any]) -> None:
    channel = make_channel("woo", "woocommerce", api_base_url="https://shop.example.com")
    payload = {
        "id": 501,
        "number": "W-501",
        "total": "42.10",
        "currency": "eur",
        "transaction_id": "pi_3Q",
        "payment_method": "stripe",
        "date_paid": "2025-01-14T11:04:05",
        "date_paid_gmt": "2025-01-14T10:04:05",
    }
    [paid] = captured_payments(channel, payload, "501")
    assert (paid.transaction_id, paid.gateway, paid.amount, paid.currency, paid.kind) == (
        "pi_3Q",
        "stripe",
        Decimal("42.10"),
        "EUR",
        "sale",
    )
    assert paid.processed_at == dt.datetime(2025, 1, 14, 10, 4, 5, tzinfo=dt.UTC)
    assert (
        captured_payments(channel, {**payload, "date_paid": None, "date_paid_gmt": None}, "501")
        == []
    )
    with pytest.raises(PermanentError, match="'total'"):
        captured_payments(channel, {k: v for k, v in payload.items() if k != "total"}, "501")


def test_bigcommerce_captured_payments(
    make_channel: Callable[..., Any], bigcommerce_standin: ChannelStandin
) -> None:
    channel = channel_on(make_channel, bigcommerce_standin, "bc")
    order = bigcommerce_standin.seed_order(
        line_items=[{"sku": "SKU-001", "quantity": 2, "price": "12.55"}],
        transactions=[
            {"event": "authorization", "amount": 25.1, "gateway": "stripe"},
            {
                "event": "capture",
                "amount": 25.1,
                "gateway": "stripe",
                "gateway_transaction_id": "ch_9",
            },
            {"event": "capture", "amount": 25.1, "gateway": "stripe", "status": "error"},
        ],
    )
    [capture] = captured_payments(channel, {}, str(order["id"]))
    assert (capture.transaction_id, capture.gateway, capture.amount, capture.kind) == (
        "ch_9",
        "stripe",
        Decimal("25.10"),
        "capture",
    )
    plain = bigcommerce_standin.seed_order(line_items=[{"sku": "SKU-001", "price": "3.00"}])
    [sale] = captured_payments(channel, {}, str(plain["id"]))
    assert sale.kind == "sale" and sale.amount == Decimal("3") and sale.gateway == "braintree"


def test_other_channel_kinds_have_no_captures(make_channel: Callable[..., Any]) -> None:
    assert captured_payments(make_channel("portal", "b2b_api"), {"total": "1.00"}, "1") == []
