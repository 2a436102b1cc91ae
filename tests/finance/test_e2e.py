"""Invoice and payment end to end through a real Celery worker: a paid WooCommerce order sent
as the stand-in's own signed `order.created` webhook to a live server; the worker runs the
ledger, the order push, the capture, and the invoice and payment batches against the sandbox
Odoo over HTTP. Beat's `finance.plan` is called by the test (the job a beat process runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from apps.finance.invoicing import invoices_plan
from apps.finance.models import ChannelPayment, FinanceSync, OrderInvoice
from apps.mappings.models import ValueMap
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.channels import WOO_SECRET
from tests.fixtures.worker import wait_for
from tests.returns.conftest import map_tax8

from .conftest import bank_journal, cents, woo_payload

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUES = "intake,odoo,channel_io,batch,maintenance"
OID = 7_720_001


def hub_state() -> str:
    from apps.ledger.models import InboundEvent

    events = list(InboundEvent.objects.values_list("topic", "state", "last_error"))
    rows = list(FinanceSync.objects.values_list("action", "state", "last_error"))
    orders = list(ChannelOrder.objects.values_list("state", "last_error"))
    return f"inbound: {events}\nfinance rows: {rows}\norders: {orders}"


def settle(predicate: Any, worker: Any, timeout: float = 30) -> None:
    try:
        wait_for(predicate, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{hub_state()}\n{worker.log()[-6000:]}") from None


def test_a_paid_order_webhook_ends_as_one_paid_invoice_in_odoo_through_the_worker(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    woo_standin: ChannelStandin,
    bind_all: Any,
    live_server: Any,
) -> None:
    sb = sandbox_settings
    channel, _ = channel_create(
        code="woo",
        kind="woocommerce",
        secret=WOO_SECRET,
        api_base_url=woo_standin.base_url,
        consumer_key=woo_standin.consumer_key,
        consumer_secret=woo_standin.consumer_secret,
    )
    channel.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    channel.invoicing = Channel.Invoicing.ON_CONFIRM
    channel.save()
    bind_all(channel)
    map_tax8(channel, sb)
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.PAYMENT_METHOD,
        channel_value="stripe",
        odoo_value=str(bank_journal(sb)),
    )
    worker = celery_worker_factory(
        queues=QUEUES,
        concurrency=2,
        ODOO_URL=sb.url.rstrip("/"),
        ODOO_DB=sb.db,
        ODOO_USER=sb.user,
        ODOO_PASSWORD=sb.password,
        ODOO_ACCOUNTING_USER="accounting",
        ODOO_ACCOUNTING_PASSWORD="accounting",
        HUB_RETRY_BASE_SECONDS="0.3",
    )
    url = f"{live_server.url}/webhooks/woocommerce/woo/"
    body = woo_payload(OID)
    sent = woo_standin.send_webhook(url, "order.created", body, WOO_SECRET)
    assert sent["status"] in (200, 202), sent
    # the worker records the order, pushes it to Odoo and reads the captured payment
    settle(
        lambda: ChannelOrder.objects.filter(state="in_odoo").exists()
        and ChannelPayment.objects.exists(),
        worker,
    )
    # beat's finance.plan, then the worker's invoice and payment batches
    assert invoices_plan() == 1
    settle(
        lambda: ChannelPayment.objects.filter(state="registered").count() == 1
        and OrderInvoice.objects.filter(payment_state="paid").count() == 1,
        worker,
    )
    invoices = sb.execute(
        "account.move",
        "search_read",
        [["move_type", "=", "out_invoice"]],
        fields=["ref", "state", "payment_state", "amount_total"],
    )
    assert [(i["ref"], i["state"], i["payment_state"]) for i in invoices] == [
        (f"woo:invoice:{OID}", "posted", "paid")
    ]
    assert cents(invoices[0]["amount_total"]) == cents("66.74")
    # the same webhook twice more (a retry and another subscription): nothing new in Odoo
    for webhook_id in ("retry-1", "another-subscription"):
        again = woo_standin.send_webhook(
            url, "order.updated", body, WOO_SECRET, webhook_id=webhook_id
        )
        assert again["status"] in (200, 202), again
    settle(
        lambda: not FinanceSync.objects.exclude(state__in=("done", "failed", "ignored")).exists(),
        worker,
    )
    assert invoices_plan() == 0
    payments = sb.execute("account.payment", "search_read", [], fields=["ref"])
    assert [p["ref"] for p in payments] == [f"woo:payment:ch_{OID}"]
    assert ChannelPayment.objects.count() == 1 and OrderInvoice.objects.count() == 1
    # captured in full already: the redeliveries did not read the payment again
    assert FinanceSync.objects.filter(action="capture").count() == 1
