"""Channel → Odoo: one ChannelRefund per channel refund, one return picking, one credit note."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.events.models import BusinessEvent
from apps.inbox.models import Issue
from apps.orders.models import OrderState
from apps.returns import handlers
from apps.returns.models import ChannelRefund, ChannelReturn, RefundLine, ReturnSync
from apps.returns.receipts import awaiting_apply

from .conftest import channel, event, invoice, run_all, shipped_order

pytestmark = pytest.mark.django_db


def shopify_refund(
    order_id: str = "1001", rid: int = 777, restock: str = "return"
) -> dict[str, Any]:
    return {
        "id": rid,
        "order_id": int(order_id),
        "created_at": "2026-12-06T10:00:00Z",
        "note": "too small",
        "refund_line_items": [
            {
                "id": 1,
                "line_item_id": "L1",
                "quantity": 1,
                "restock_type": restock,
                "subtotal": 10.0,
                "total_tax": 0.0,
                "line_item": {"id": "L1", "sku": "TSHIRT"},
            }
        ],
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "10.00", "currency": "USD"}
        ],
        "order_adjustments": [],
    }


def test_shopify_refund_with_return_makes_one_picking_and_one_posted_note(
    gw: Any, rings: Any
) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    invoice(gw, order, "30.00")
    for _ in range(3):  # delivered three times
        handlers.refund_event_handle(event(shop, "refunds/create", shopify_refund()))
    run_all()
    for _ in range(3):
        handlers.refund_event_handle(event(shop, "refunds/create", shopify_refund()))
    run_all()
    refund = ChannelRefund.objects.get()
    assert refund.amount == Decimal("10.00") and refund.state == "credited"
    assert [(ln.sku, ln.quantity, ln.restock) for ln in refund.lines.all()] == [
        ("TSHIRT", 1, RefundLine.Restock.RETURN)
    ]
    ret = ChannelReturn.objects.get()
    assert ret.source == "refund_restock" and ret.state == "expected"
    assert list(gw.returns) == ["shop:return:refund-777"]
    assert gw.returns["shop:return:refund-777"]["quantities"] == {11: 1}
    assert ret.odoo_return_picking_id == gw.returns["shop:return:refund-777"]["id"]
    [note] = gw.notes.values()
    assert note["ref"] == "shop:refund:777" and note["state"] == "posted"
    assert note["kind"] == "partial" and note["reversed_entry_id"] == order.odoo_id + 70000
    assert ReturnSync.objects.count() == 2
    types = sorted(BusinessEvent.objects.values_list("type", flat=True))
    assert types == ["refund.created", "return.requested"]


def test_full_refund_uses_the_reversal(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    invoice(gw, order, "10.00")
    handlers.refund_event_handle(
        event(shop, "refunds/create", shopify_refund(restock="no_restock"))
    )
    run_all()
    [note] = gw.notes.values()
    assert note["kind"] == "full"
    assert ChannelReturn.objects.count() == 0


def test_cancel_restock_reduces_the_open_lines(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    invoice(gw, order)
    handlers.refund_event_handle(event(shop, "refunds/create", shopify_refund(restock="cancel")))
    run_all()
    assert gw.reduced == [(order.odoo_id, {11: 1})]


def test_woocommerce_partial_refund_to_the_cent(gw: Any, rings: Any, refunds: Any) -> None:
    import datetime as dt

    from apps.returns.adapters import RefundData, RefundLineData

    woo = channel("woo", "woocommerce", post_credit_notes=True)
    order = shipped_order(woo, "2001")
    invoice(gw, order, "30.00")
    refunds.store["2001"] = [
        RefundData(
            external_id="55",
            currency="USD",
            amount=Decimal("13.37"),
            refunded_at=dt.datetime.now(dt.UTC),
            lines=(
                RefundLineData(
                    sku="MUG", quantity=1, amount=Decimal("8.37"), external_line_id="L2"
                ),
            ),
            shipping_amount=Decimal("5.00"),
        )
    ]
    body = {"id": 2001, "status": "processing", "refunds": [{"id": 55, "total": "-13.37"}]}
    assert handlers.woo_refunds_changed(woo, body) == "new"
    assert handlers.woo_refunds_changed(woo, body) == "refunds known"
    run_all()
    refund = ChannelRefund.objects.get()
    assert refund.state == "credited"
    assert refund.odoo_credit_note_total == Decimal("13.37")
    [note] = gw.notes.values()
    assert note["kind"] == "partial" and note["amount_total"] == Decimal("13.37")


def test_mismatch_goes_to_the_inbox_and_is_not_posted(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    invoice(gw, order)
    gw.total_skew = Decimal("0.01")
    handlers.refund_event_handle(
        event(shop, "refunds/create", shopify_refund(restock="no_restock"))
    )
    run_all()
    refund = ChannelRefund.objects.get()
    assert refund.state == "mismatch"
    [note] = gw.notes.values()
    assert note["state"] == "draft"
    issue = Issue.objects.get(error_class__endswith="CreditNoteMismatch")
    assert "10.00" in issue.title and "10.01" in issue.title and "#1001" in issue.title


def test_no_invoice_waits_then_applies(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    handlers.refund_event_handle(
        event(shop, "refunds/create", shopify_refund(restock="no_restock"))
    )
    run_all()
    assert ChannelRefund.objects.get().state == "awaiting_invoice"
    assert not gw.notes
    invoice(gw, order)
    assert awaiting_apply() == 1
    run_all()
    assert ChannelRefund.objects.get().state == "credited"


def test_refund_on_an_order_cancelled_in_odoo(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    order = shipped_order(shop)
    order.state = OrderState.CANCELLED
    order.save()
    assert handlers.refund_event_handle(event(shop, "refunds/create", shopify_refund())) == (
        "cancelled_order"
    )
    assert ReturnSync.objects.count() == 0
    issue = Issue.objects.get(error_class__endswith="RefundOnCancelledOrder")
    assert "777" in issue.title and "10.00 USD" in issue.title


def test_over_return_goes_to_the_inbox(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    shipped_order(shop)
    body = shopify_refund()
    body["refund_line_items"][0]["quantity"] = 5
    handlers.refund_event_handle(event(shop, "refunds/create", body))
    ret = ChannelReturn.objects.get()
    assert [ln.quantity for ln in ret.lines.all()] == [2]
    issue = Issue.objects.get(error_class__endswith="ReturnProblem")
    assert "TSHIRT" in issue.title and "#1001" in issue.title


def test_unknown_order_is_ignored(gw: Any, rings: Any) -> None:
    shop = channel("shop", "shopify")
    out = handlers.refund_event_handle(event(shop, "refunds/create", shopify_refund("9999")))
    assert out == "not a hub order"


@pytest.mark.parametrize("setting", [True, False])
def test_woocommerce_refund_goods_come_back_by_the_channel_setting(
    gw: Any, rings: Any, refunds: Any, setting: bool
) -> None:
    """WooCommerce refunds say nothing about goods: with refunds_return_goods on, the refunded
    quantity already shipped makes a return picking; off, only the money is credited."""
    import datetime as dt

    from apps.returns.adapters import RefundData, RefundLineData

    woo = channel("woo2", "woocommerce", post_credit_notes=True, refunds_return_goods=setting)
    order = shipped_order(woo, "2002")
    invoice(gw, order, "30.00")
    refunds.store["2002"] = [
        RefundData(
            external_id="56",
            currency="USD",
            amount=Decimal("10.00"),
            refunded_at=dt.datetime.now(dt.UTC),
            lines=(
                RefundLineData(
                    sku="TSHIRT", quantity=1, amount=Decimal("10.00"), external_line_id="L1"
                ),
            ),
        )
    ]
    body = {"id": 2002, "status": "processing", "refunds": [{"id": 56, "total": "-10.00"}]}
    assert handlers.woo_refunds_changed(woo, body) == "new"
    run_all()
    restocks = list(RefundLine.objects.values_list("restock", flat=True))
    if setting:
        assert restocks == [RefundLine.Restock.RETURN]
        ret = ChannelReturn.objects.get()
        assert ret.source == ChannelReturn.Source.REFUND_RESTOCK
        assert ret.odoo_return_picking_id is not None
        assert ReturnSync.objects.filter(action=ReturnSync.Action.ODOO_RETURN).count() == 1
    else:
        assert restocks == [RefundLine.Restock.NO_RESTOCK]
        assert not ChannelReturn.objects.exists()
    assert ChannelRefund.objects.get().state == "credited"
