"""Invoices and payments in process against the sandbox Odoo over HTTP: the webhook path (the
order handler wrapped by finance), the invoice batch, the payment batch, and the retries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.events.models import BusinessEvent
from apps.finance.invoicing import invoices_plan
from apps.finance.models import ChannelPayment, FinanceSync, OrderInvoice
from apps.ledger.registry import handler_for
from apps.orders.models import ChannelOrder
from apps.orders.services import order_push_due
from apps.sales_channels.models import Channel

from .conftest import cents, run_finance, woo_payload

pytestmark = pytest.mark.django_db


class Event:
    def __init__(self, channel: Channel, topic: str, body: dict[str, Any]) -> None:
        self.channel_code = channel.code
        self.topic = topic
        self.body = json.dumps(body).encode()


def deliver(channel: Channel, body: dict[str, Any], topic: str = "order.created") -> Any:
    handler = handler_for(topic)
    assert handler is not None and handler.__qualname__ == "finance_order_event"
    return handler(Event(channel, topic, body))


def invoices(sb: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sb.execute(
        "account.move",
        "search_read",
        [["move_type", "=", "out_invoice"]],
        fields=["name", "ref", "state", "amount_total", "amount_residual", "payment_state"],
    )
    return rows


def payments(sb: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sb.execute(
        "account.payment", "search_read", [], fields=["ref", "amount", "state", "journal_id"]
    )
    return rows


def test_a_paid_order_makes_one_invoice_and_one_payment_and_a_redelivery_nothing(
    woo: Channel, sandbox_settings: Any
) -> None:
    body = woo_payload()
    deliver(woo, body)
    order = ChannelOrder.objects.get()
    # paid on the channel before Odoo has the order: the capture is recorded, the payment waits
    assert run_finance() == ["captured", "waiting:1"]
    pay = ChannelPayment.objects.get()
    assert (pay.transaction_id, pay.gateway, pay.amount) == ("ch_7700001", "stripe", cents("66.74"))
    assert pay.state == ChannelPayment.State.AWAITING_INVOICE
    order_push_due()
    order.refresh_from_db()
    assert order.state == "in_odoo"
    assert invoices_plan() == 1
    out = run_finance()
    from apps.inbox.models import Issue

    assert out == ["invoiced:1:1", "registered:1:1"], [
        (i.title, i.last_error) for i in Issue.objects.all()
    ]
    [inv] = invoices(sandbox_settings)
    assert inv["ref"] == "woo:invoice:7700001" and inv["state"] == "posted"
    assert cents(inv["amount_total"]) == cents("66.74")
    assert inv["payment_state"] == "paid"
    [odoo_pay] = payments(sandbox_settings)
    assert odoo_pay["ref"] == "woo:payment:ch_7700001" and cents(odoo_pay["amount"]) == cents(
        "66.74"
    )
    pay.refresh_from_db()
    assert pay.state == ChannelPayment.State.REGISTERED and pay.odoo_payment_id
    hub_inv = OrderInvoice.objects.get()
    assert hub_inv.payment_state == "paid" and hub_inv.amount_total == cents("66.74")
    types = list(BusinessEvent.objects.order_by("pk").values_list("type", flat=True))
    assert "invoice.posted" in types and "payment.captured" in types
    # the same webhook twice more, and an update: nothing new anywhere
    deliver(woo, body)
    deliver(woo, body, topic="order.updated")
    assert invoices_plan() == 0
    run_finance()
    assert len(invoices(sandbox_settings)) == 1 and len(payments(sandbox_settings)) == 1
    assert ChannelPayment.objects.count() == 1 and OrderInvoice.objects.count() == 1


def test_a_lost_answer_while_invoicing_and_paying_makes_nothing_twice(
    woo: Channel, sandbox_settings: Any
) -> None:
    from apps.finance import runs

    sb = sandbox_settings
    deliver(woo, woo_payload())
    assert runs.row_run(sync_id=FinanceSync.objects.get(action="capture").pk) == "captured"
    order_push_due()
    invoices_plan()
    # Odoo commits the invoice, then its answer is lost: the batch is retried, found by ref
    sb.set_faults(drop_after_commit=1)
    assert runs.batch_run(action="invoice").startswith("retry")
    FinanceSync.objects.filter(action="invoice").update(next_attempt_at=None)
    assert runs.batch_run(action="invoice") == "invoiced:1:1"
    # the payment was waiting for the invoice; Odoo commits it and the answer is lost
    FinanceSync.objects.filter(action="payment").update(next_attempt_at=None)
    sb.set_faults(drop_after_commit=1)
    assert runs.batch_run(action="payment").startswith("retry")
    FinanceSync.objects.filter(action="payment").update(next_attempt_at=None)
    assert runs.batch_run(action="payment") == "registered:1:1"
    [inv] = invoices(sb)
    assert inv["state"] == "posted" and inv["payment_state"] == "paid"
    assert len(payments(sb)) == 1
    assert OrderInvoice.objects.get().odoo_id == inv["id"]
    assert ChannelPayment.objects.get().state == ChannelPayment.State.REGISTERED


def test_an_unmapped_gateway_is_an_inbox_item_naming_the_order(
    woo: Channel, sandbox_settings: Any
) -> None:
    from apps.inbox.models import Issue

    deliver(woo, woo_payload(payment_method="paypal", transaction_id="PAY-1"))
    order_push_due()
    invoices_plan()
    run_finance()
    pay = ChannelPayment.objects.get()
    assert pay.state == ChannelPayment.State.FAILED
    issue = Issue.objects.get(category="mapping_missing")
    assert "paypal" in issue.title and issue.order_number == "7700001"
    assert payments(sandbox_settings) == []


def test_on_delivery_invoices_each_shipment_for_what_shipped(
    woo: Channel, sandbox_settings: Any, gateway: Any
) -> None:
    from apps.fulfillment.detection import shipments_poll
    from tests.fulfillment.conftest import ship

    woo.invoicing = Channel.Invoicing.ON_DELIVERY
    woo.register_payments = False
    woo.save()
    deliver(woo, woo_payload())
    order_push_due()
    order = ChannelOrder.objects.get()
    assert invoices_plan() == 0  # nothing shipped yet
    # the first parcel: the T-shirts only (the mug stays on a backorder)
    ship(gateway, order, quantities={"SKU-001": 2})
    shipments_poll()
    assert invoices_plan() == 1
    run_finance()
    [first] = invoices(sandbox_settings)
    assert first["state"] == "posted"
    assert cents("0") < cents(first["amount_total"]) < cents("66.74")
    # the rest
    ship(gateway, order)
    shipments_poll()
    assert invoices_plan() == 1
    run_finance()
    both = invoices(sandbox_settings)
    assert len(both) == 2 and all(i["state"] == "posted" for i in both)
    assert sum(cents(i["amount_total"]) for i in both) == cents("66.74")
    assert {i["ref"] for i in both} == {
        f"woo:invoice:7700001:{inv.shipment_picking_id}" for inv in OrderInvoice.objects.all()
    }
    # B2B: Odoo owns payment, the API shows the invoices and their payment state
    assert ChannelPayment.objects.filter(state="pending").count() == 0


def test_a_paid_shopify_order_reads_its_transactions_and_is_paid_once(
    sandbox_settings: Any, bind_all: Any, quiet_rings: None, shopify_standin: Any
) -> None:
    """orders/paid: the capture is read over the Admin API (the stand-in), by transaction id."""
    from apps.mappings.models import ValueMap
    from apps.sales_channels.services import channel_create
    from tests.orders.conftest import shopify_payload
    from tests.returns.conftest import map_tax8

    from .conftest import bank_journal

    shop, _ = channel_create(
        code="shop",
        kind="shopify",
        api_base_url=shopify_standin.url,
        access_token=shopify_standin.access_token,
    )
    shop.invoicing = Channel.Invoicing.ON_CONFIRM
    shop.save()
    bind_all(shop)
    map_tax8(shop, sandbox_settings)
    ValueMap.objects.create(
        channel=shop,
        kind=ValueMap.Kind.PAYMENT_METHOD,
        channel_value="shopify_payments",
        odoo_value=str(bank_journal(sandbox_settings)),
    )
    oid = 820982911946154508
    shopify_standin.seed_order(
        id=oid,
        line_items=[{"sku": "TSHIRT-BLU-M", "quantity": 1}],
        transactions=[{"kind": "SALE", "gateway": "shopify_payments", "amount": "66.74"}],
    )
    body = shopify_payload(oid)
    deliver(shop, body, topic="orders/create")
    order_push_due()
    invoices_plan()
    assert sorted(run_finance()) == ["captured", "invoiced:1:1", "registered:1:1"]
    pay = ChannelPayment.objects.get()
    assert pay.gateway == "shopify_payments" and pay.amount == cents("66.74")
    assert pay.transaction_id.isdigit()  # the legacy id balance transactions name
    [odoo_pay] = payments(sandbox_settings)
    assert odoo_pay["ref"] == f"shop:payment:{pay.transaction_id}"
    [inv] = invoices(sandbox_settings)
    assert inv["payment_state"] == "paid"
    # orders/paid and orders/updated for the same order: no second payment, no second invoice
    deliver(shop, body, topic="orders/paid")
    deliver(shop, body, topic="orders/updated")
    run_finance()
    invoices_plan()
    run_finance()
    assert len(payments(sandbox_settings)) == 1 and len(invoices(sandbox_settings)) == 1
    assert ChannelPayment.objects.count() == 1


def test_with_invoicing_none_the_payment_pays_the_invoice_odoo_made_itself(
    woo: Channel, sandbox_settings: Any, gateway: Any
) -> None:
    from apps.finance.payments import payments_waiting_recheck

    woo.invoicing = Channel.Invoicing.NONE
    woo.save()
    deliver(woo, woo_payload())
    order_push_due()
    order = ChannelOrder.objects.get()
    # paid, but Odoo has not invoiced yet: the payment waits
    assert run_finance() == ["captured", "waiting:1"]
    assert payments_waiting_recheck() == 1
    assert run_finance() == ["waiting:1"]
    # Odoo's own automation invoices the order (here: the sale order's invoicing wizard)
    made = gateway.invoices_create(order_ids=[order.odoo_id])[order.odoo_id]
    gateway.invoices_post(invoice_ids=made)
    assert payments_waiting_recheck() == 1
    assert run_finance() == ["registered:1:1"]
    [inv] = invoices(sandbox_settings)
    assert inv["payment_state"] == "paid" and inv["id"] == made[0]
    hub_inv = OrderInvoice.objects.get()
    assert hub_inv.ref == f"odoo:{made[0]}" and hub_inv.odoo_id == made[0]
    assert invoices_plan() == 0  # the hub never invoices a `none` channel
