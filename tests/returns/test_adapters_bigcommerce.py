"""BigCommerce refund adapter against the BigCommerce stand-in (quote, then refund)."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest

from apps.core.errors import LockContention, PermanentError, TransientError
from apps.returns.adapters import RefundResult, refund_adapter_for
from apps.returns.adapters.bigcommerce import BigCommerceRefunds
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


@pytest.fixture
def channel(make_channel: Any, bigcommerce_standin: ChannelStandin) -> Any:
    return standin_channel(make_channel, bigcommerce_standin, "bc")


@pytest.fixture
def adapter(channel: Any) -> BigCommerceRefunds:
    found = refund_adapter_for(channel)
    assert isinstance(found, BigCommerceRefunds)
    return found


@pytest.fixture
def order(bigcommerce_standin: ChannelStandin) -> int:
    seeded = bigcommerce_standin.seed_order(
        customer_id=7,
        line_items=[
            {"sku": "SKU-001", "quantity": 3, "price": "10.10"},
            {"sku": "SKU-002", "quantity": 1, "price": "20.83"},
        ],
    )
    return int(seeded["id"])


def refunds(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = standin.api(
        "GET", f"v3/orders/{order_id}/payment_actions/refunds"
    ).body["data"]
    return rows


def test_pays_exactly_the_quoted_amount_of_the_gateway(
    adapter: BigCommerceRefunds, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    req = refund_request(order, [("SKU-002", 1, "20.83", "0")], "20.83")
    result = adapter.refund(req)
    assert result.calls == 4 and not result.found_existing
    [post] = writes(bigcommerce_standin, "payment_actions/refunds", method="POST")
    # the original gateway, not store credit or offline, for exactly the quote's amount
    assert post["body"]["payments"] == [
        {"provider_id": "braintree", "amount": 20.83, "offline": False}
    ]
    assert post["body"]["items"] == [
        {"item_type": "PRODUCT", "item_id": order * 10 + 2, "quantity": 1}
    ]
    assert post["body"]["reason"].endswith("[hub:hub-key-0001]")
    made = result.refund
    assert made.amount == Decimal("20.83") and made.hub_key == "hub-key-0001"
    [line] = made.lines
    assert (line.sku, line.quantity, line.amount, line.restock) == (
        "SKU-002",
        1,
        Decimal("20.83"),
        "no_restock",
    )
    [read] = adapter.refunds_read(str(order))
    assert read.external_id == made.external_id and read.amount == Decimal("20.83")
    assert read.reason == "RMA 2025-0042"
    order_now = bigcommerce_standin.api("GET", f"v2/orders/{order}").body
    assert order_now["status_id"] == 14 and order_now["refunded_amount"] == "20.8300"


def test_a_payment_not_quoted_is_refused_by_the_platform(
    bigcommerce_standin: ChannelStandin, order: int
) -> None:
    body = {
        "items": [{"item_type": "PRODUCT", "item_id": order * 10 + 1, "quantity": 1}],
        "payments": [{"provider_id": "braintree", "amount": 10.0, "offline": False}],
    }
    answer = bigcommerce_standin.api("POST", f"v3/orders/{order}/payment_actions/refunds", body)
    assert answer.status == 422 and refunds(bigcommerce_standin, order) == []


def test_lost_answer_is_found_not_paid_twice(
    adapter: BigCommerceRefunds, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    req = refund_request(order, [("SKU-001", 2, "20.20", "0")], "20.20")
    drop_answer_of(bigcommerce_standin, path="payment_actions/refunds", method="POST")
    with pytest.raises(TransientError):
        adapter.refund(req)
    retry = adapter.refund(req)
    assert retry.found_existing and retry.calls == 2
    [only] = refunds(bigcommerce_standin, order)
    assert Decimal(str(only["total_amount"])) == Decimal("20.20")
    assert len(writes(bigcommerce_standin, "payment_actions/refunds", method="POST")) == 1


def test_over_refund_and_quote_mismatch_are_permanent(
    adapter: BigCommerceRefunds, bigcommerce_standin: ChannelStandin, order: int
) -> None:
    with pytest.raises(PermanentError) as info:
        adapter.refund(refund_request(order, [("SKU-002", 2, "41.66", "0")], "41.66"))
    assert "refundable" in str(info.value)
    with pytest.raises(PermanentError) as mismatch:
        adapter.refund(refund_request(order, [("SKU-002", 1, "20.00", "0")], "20.00", key="k2"))
    assert "quotes 20.83" in str(mismatch.value)
    assert refunds(bigcommerce_standin, order) == []


@pytest.mark.django_db(transaction=True)  # the threads take the lock through the database
def test_one_refund_at_a_time_per_order(
    adapter: BigCommerceRefunds,
    channel: Any,
    bigcommerce_standin: ChannelStandin,
    order: int,
) -> None:
    # the platform refuses a second refund while one is being processed ...
    bigcommerce_standin.set_config(refund_processing_ms=400)
    body = {
        "items": [{"item_type": "PRODUCT", "item_id": order * 10 + 1, "quantity": 1}],
        "payments": [{"provider_id": "braintree", "amount": 10.1, "offline": False}],
    }
    statuses: list[int] = []

    def raw() -> None:
        answer = bigcommerce_standin.api("POST", f"v3/orders/{order}/payment_actions/refunds", body)
        statuses.append(answer.status)

    threads = [threading.Thread(target=raw) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409]
    # ... so the adapter never sends two at once: the per-order lock serialises them
    results: list[RefundResult | Exception] = []

    def hub(key: str) -> None:
        try:
            results.append(
                BigCommerceRefunds(channel).refund(
                    refund_request(order, [("SKU-001", 1, "10.10", "0")], "10.10", key=key)
                )
            )
        except Exception as exc:  # collected for the assertion below
            results.append(exc)

    threads = [threading.Thread(target=hub, args=(f"k{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, RefundResult) for r in results), results
    assert len(refunds(bigcommerce_standin, order)) == 3
    statuses = [w["status"] for w in writes(bigcommerce_standin, "payment_actions/refunds")]
    assert 409 not in statuses[2:]


def test_lock_contention_when_the_order_stays_busy(
    adapter: BigCommerceRefunds, order: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.returns.adapters import bigcommerce

    monkeypatch.setattr(bigcommerce, "LOCK_WAIT_SECONDS", 0.1)
    with adapter.order_lock(str(order)), pytest.raises(LockContention):
        adapter.refund(refund_request(order, [("SKU-001", 1, "10.10", "0")], "10.10"))
