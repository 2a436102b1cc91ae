"""The returns flow in process against the sandbox Odoo over HTTP (no worker, no stand-in):
the credit notes the hub makes there, to the cent, for the cases the e2e tests leave out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.orders.models import ChannelOrder
from apps.orders.services import order_ingest, order_push_due
from apps.returns.handlers import refund_event_handle
from apps.returns.models import ChannelRefund
from apps.returns.receipts import awaiting_apply
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators import order_from_shopify
from tests.orders.conftest import shopify_payload

from .conftest import credit_notes, event, invoice_in_odoo, m2o, map_tax8, run_all, ship_in_odoo

pytestmark = pytest.mark.django_db

OID = 7_600_001


@pytest.fixture
def shop(sandbox_settings: Any, gateway: Any, bind_all: Any, rings: Any) -> Channel:
    channel, _ = channel_create(code="shop", kind="shopify")
    bind_all(channel)
    map_tax8(channel, sandbox_settings)
    return channel


def shipped(gateway: Any) -> ChannelOrder:
    row = order_ingest(order=order_from_shopify(shopify_payload(OID), channel="shop"))
    order_push_due()
    row.refresh_from_db()
    ship_in_odoo(gateway, row)
    return row


def refund_body(rid: int, lines: list[tuple[int, int, str, str]], amount: str, **kw: Any) -> Any:
    """A Shopify `refunds/create` body: lines are (line item id, quantity, subtotal, tax)."""
    return {
        "id": rid,
        "order_id": OID,
        "created_at": "2026-12-05T10:00:00-05:00",
        "note": "",
        "refund_line_items": [
            {
                "id": rid * 10 + n,
                "line_item_id": lid,
                "quantity": q,
                "restock_type": "no_restock",
                "subtotal": float(sub),
                "total_tax": float(tax),
                "line_item": {"id": lid, "sku": ""},
            }
            for n, (lid, q, sub, tax) in enumerate(lines)
        ],
        "transactions": [{"kind": "refund", "status": "success", "amount": amount}],
        **kw,
    }


T_SHIRT, MUG = 13456789012345, 13456789012346


def test_everything_refunded_is_the_full_reversal_of_the_invoice(
    shop: Channel, gateway: Any, sandbox_settings: Any
) -> None:
    order = shipped(gateway)
    invoice = invoice_in_odoo(gateway, order)
    assert invoice["amount_total"] == Decimal("66.74")
    body = refund_body(
        91,
        [(T_SHIRT, 2, "45.00", "3.60"), (MUG, 1, "11.25", "0.90")],
        "66.74",
        order_adjustments=[{"kind": "shipping_refund", "amount": "-5.99", "tax_amount": "0.00"}],
    )
    assert refund_event_handle(event(shop, "refunds/create", body)) == "new"
    assert run_all() == ["credited"]
    [note] = credit_notes(sandbox_settings)
    assert note["ref"] == "shop:refund:91" and note["state"] == "posted"
    assert m2o(note["reversed_entry_id"]) == invoice["id"]
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("66.74")
    assert ChannelRefund.objects.get().state == "credited"


def test_a_refund_before_the_invoice_waits_for_it(
    shop: Channel, gateway: Any, sandbox_settings: Any
) -> None:
    order = shipped(gateway)
    body = refund_body(92, [(MUG, 1, "11.25", "0.90")], "12.15")
    assert refund_event_handle(event(shop, "refunds/create", body)) == "new"
    assert run_all() == ["awaiting_invoice"]
    assert ChannelRefund.objects.get().state == "awaiting_invoice"
    assert credit_notes(sandbox_settings) == []
    # when the order is invoiced, the periodic job queues the credit note again
    invoice = invoice_in_odoo(gateway, order)
    assert awaiting_apply() == 1
    assert run_all() == ["credited"]
    [note] = credit_notes(sandbox_settings)
    assert m2o(note["reversed_entry_id"]) == invoice["id"] and note["state"] == "posted"
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("12.15")
    # and the same webhook again changes nothing
    assert refund_event_handle(event(shop, "refunds/create", body)) == "seen"
    assert run_all() == [] and len(credit_notes(sandbox_settings)) == 1
