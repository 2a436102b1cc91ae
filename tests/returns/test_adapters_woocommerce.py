"""WooCommerce refund adapter against the WooCommerce stand-in (``/orders/<id>/refunds``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.core.errors import PermanentError, TransientError
from apps.returns.adapters import refund_adapter_for
from apps.returns.adapters.woocommerce import KEY_META, WooCommerceRefunds
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
def channel(make_channel: Any, woo_standin: ChannelStandin) -> Any:
    return standin_channel(make_channel, woo_standin, "woo")


@pytest.fixture
def adapter(channel: Any) -> WooCommerceRefunds:
    found = refund_adapter_for(channel)
    assert isinstance(found, WooCommerceRefunds)
    return found


@pytest.fixture
def order(woo_standin: ChannelStandin) -> int:
    seeded = woo_standin.seed_order(
        status="processing",
        currency="EUR",
        total="57.00",
        line_items=[
            {
                "sku": "SKU-001",
                "quantity": 2,
                "total": "50.00",
                "total_tax": "4.00",
                "taxes": [{"id": 3, "total": "4.00", "subtotal": "4.00"}],
            },
            {"sku": "SKU-002", "quantity": 1, "total": "3.00", "total_tax": "0.00", "taxes": []},
        ],
    )
    return int(seeded["id"])


def refunds(standin: ChannelStandin, order_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = standin.api("GET", f"orders/{order_id}/refunds").body
    return rows


def test_refund_sends_flags_explicitly_and_reads_back(
    adapter: WooCommerceRefunds, woo_standin: ChannelStandin, order: int
) -> None:
    before = woo_standin.levels()["SKU-001"]
    req = refund_request(order, [("SKU-001", 1, "25.00", "2.00")], "27.00")
    result = adapter.refund(req)
    assert result.calls == 2 and not result.found_existing
    [post] = writes(woo_standin, "/refunds", method="POST")
    body = post["body"]
    # both default to true on the platform: always sent, restock never (Odoo owns stock)
    assert body["api_refund"] is True and body["api_restock"] is False
    assert body["amount"] == "27.00"
    assert body["line_items"] == [
        {
            "id": order * 100 + 1,
            "quantity": 1,
            "refund_total": "25.00",
            "refund_tax": [{"id": 3, "refund_total": "2.00"}],
        }
    ]
    assert body["meta_data"] == [{"key": KEY_META, "value": "hub-key-0001"}]
    assert woo_standin.levels()["SKU-001"] == before  # not restocked on the channel
    made = result.refund
    assert made.amount == Decimal("27.00") and made.currency == "EUR"
    [line] = made.lines
    assert (line.sku, line.quantity, line.amount, line.tax) == (
        "SKU-001",
        1,
        Decimal("25.00"),
        Decimal("2.00"),
    )
    assert line.external_line_id == str(order * 100 + 1)
    [read] = adapter.refunds_read(str(order))
    assert read.external_id == made.external_id and read.hub_key == "hub-key-0001"
    assert read.amount == Decimal("27.00") and read.tax_amount == Decimal("2.00")
    assert read.reason == "RMA 2025-0042"


def test_api_refund_follows_the_channel_setting(
    channel: Any, woo_standin: ChannelStandin, order: int
) -> None:
    channel.refund_api_refund = False
    channel.save(update_fields=["refund_api_refund"])
    WooCommerceRefunds(channel).refund(refund_request(order, [("SKU-002", 1, "3.00", "0")], "3.00"))
    [post] = writes(woo_standin, "/refunds", method="POST")
    assert post["body"]["api_refund"] is False and post["body"]["api_restock"] is False
    assert refunds(woo_standin, order)[0]["refunded_payment"] is False


def test_lost_answer_is_found_not_refunded_twice(
    adapter: WooCommerceRefunds, woo_standin: ChannelStandin, order: int
) -> None:
    req = refund_request(order, [("SKU-001", 1, "25.00", "2.00")], "27.00")
    drop_answer_of(woo_standin, path="/refunds", method="POST")
    with pytest.raises(TransientError):
        adapter.refund(req)
    retry = adapter.refund(req)
    assert retry.found_existing and retry.calls == 2
    assert retry.refund.amount == Decimal("27.00")
    [only] = refunds(woo_standin, order)
    assert only["amount"] == "27.00"
    assert len(writes(woo_standin, "/refunds", method="POST")) == 1


def test_the_platform_refunds_twice_without_the_check(
    woo_standin: ChannelStandin, order: int
) -> None:
    """Why the read comes first: the stand-in, like WooCommerce, pays an identical POST again."""
    body = {"amount": "5.00", "line_items": []}
    for _ in range(2):
        assert woo_standin.api("POST", f"orders/{order}/refunds", body).status == 201
    assert len(refunds(woo_standin, order)) == 2


def test_over_refund_and_gateway_refusal_are_permanent(
    adapter: WooCommerceRefunds, woo_standin: ChannelStandin, order: int
) -> None:
    with pytest.raises(PermanentError) as info:
        adapter.refund(refund_request(order, [("SKU-001", 2, "50.00", "4.00")], "60.00"))
    assert "Invalid refund amount" in str(info.value)
    woo_standin.set_config(gateway_refund_error="Stripe: charge already refunded")
    with pytest.raises(PermanentError) as refused:
        adapter.refund(refund_request(order, [("SKU-002", 1, "3.00", "0")], "3.00", key="k2"))
    assert "charge already refunded" in str(refused.value)
    assert refunds(woo_standin, order) == []
    negative = woo_standin.api("POST", f"orders/{order}/refunds", {"amount": "-1.00"})
    assert negative.status == 400
    assert negative.body["code"] == "woocommerce_rest_invalid_order_refund"


def test_full_refund_sets_refunded_and_fires_order_updated(
    adapter: WooCommerceRefunds, woo_standin: ChannelStandin, order: int
) -> None:
    woo_standin.set_config(webhook_url="http://127.0.0.1:9/hooks", webhook_secret="s")
    req = refund_request(
        order, [("SKU-001", 2, "50.00", "4.00"), ("SKU-002", 1, "3.00", "0")], "57.00"
    )
    adapter.refund(req)
    assert woo_standin.api("GET", f"orders/{order}").body["status"] == "refunded"
    [hook] = [d for d in woo_standin._control("GET", "deliveries") if d["topic"] == "order.updated"]
    assert hook["payload"]["refunds"][0]["total"] == "-57.00"
