"""Returns and refunds end to end, over HTTP everywhere: orders in the channel stand-ins and in
the sandbox Odoo, shipped (a delivery validated over JSON-RPC) and invoiced there; refunds made
on the stand-ins reach the hub as the stand-ins' own signed webhooks (to a live server); a real
Celery worker runs the ledger, the Odoo work and the channel refunds.

1. Shopify `refunds/create` with restock `return` → one return picking (ready, origin
   `<channel>:return:<id>`) and one posted credit note linked to the invoice, to the cent;
   delivered three times, still one of each.
2. A WooCommerce partial refund (one of two lines, with tax) → a partial credit note to the cent.
3. A return received in Odoo → `return.received` and, with `refund_on_receipt`, one refund on
   Shopify; the answer dropped after Shopify committed it is found on the retry.
4. Above `HUB_REFUND_APPROVAL_ABOVE` the refund waits for an Approver (a Support user cannot
   decide); approved, it goes out once.
5. B2B: `POST /api/v1/returns/` → the return picking in Odoo; received → the credit note.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from apps.events.models import BusinessEvent
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.returns.models import ChannelRefund, ChannelReturn, RefundRequest, ReturnSync
from apps.returns.receipts import receipts_poll
from apps.sales_channels.models import Channel
from apps.sales_channels.services import api_token_create, channel_create
from apps.sales_channels.translators import (
    order_from_b2b,
    order_from_shopify,
    order_from_woocommerce,
)
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.channels import SHOPIFY_SECRET, WOO_SECRET
from tests.fixtures.worker import wait_for
from tests.orders.conftest import b2b_payload, load, shopify_payload

from .adapter_helpers import drop_answer_of, writes
from .conftest import (
    credit_notes,
    invoice_in_odoo,
    m2o,
    map_tax8,
    return_pickings,
    ship_in_odoo,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUES = "intake,odoo,channel_io,maintenance"


def worker_env(sb: Any, **extra: str) -> dict[str, str]:
    return {
        "ODOO_URL": sb.url.rstrip("/"),
        "ODOO_DB": sb.db,
        "ODOO_USER": sb.user,
        "ODOO_PASSWORD": sb.password,
        "HUB_RETRY_BASE_SECONDS": "0.3",
        **extra,
    }


def _channel(code: str, kind: str, standin: ChannelStandin | None, **options: Any) -> Channel:
    creds: dict[str, Any] = {}
    secret = None
    if standin is not None and standin.kind == "shopify":
        creds = {"api_base_url": standin.base_url, "access_token": standin.access_token}
        secret = SHOPIFY_SECRET
    elif standin is not None:
        creds = {
            "api_base_url": standin.base_url,
            "consumer_key": standin.consumer_key,
            "consumer_secret": standin.consumer_secret,
        }
        secret = WOO_SECRET
    channel, _ = channel_create(code=code, kind=kind, secret=secret, **creds, **options)
    channel.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    return channel


def _pushed(order: ChannelOrder) -> ChannelOrder:
    order_push_due()
    order.refresh_from_db()
    assert order.state == OrderState.IN_ODOO, (order.state, order.last_error)
    return order


def state_of_the_hub() -> str:
    from apps.ledger.models import InboundEvent

    events = list(InboundEvent.objects.values_list("topic", "state", "last_error"))
    rows = list(ReturnSync.objects.values_list("action", "state", "last_error"))
    return f"inbound events: {events}\nreturn rows: {rows}"


def settle(predicate: Any, worker: Any, timeout: float = 20) -> None:
    """wait_for, telling what the hub and the worker did when it does not come."""
    try:
        wait_for(predicate, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{state_of_the_hub()}\n{worker.log()[-6000:]}") from None


def synced(action: str, count: int = 1) -> bool:
    rows = ReturnSync.objects.filter(action=action)
    return rows.count() == count and all(r.state == "done" for r in rows)


def hub_is_quiet() -> bool:
    """Nothing left for the worker: every return row finished (and the ledger too)."""
    from apps.core.workrow import ACTIVE
    from apps.ledger.models import InboundEvent

    return not (
        ReturnSync.objects.filter(state__in=ACTIVE).exists()
        or InboundEvent.objects.filter(state__in=ACTIVE).exists()
    )


# --- Shopify ---------------------------------------------------------------------------------

SHOP_OID = 7_400_001
ORDER_Q = """query O($id: ID!) { order(id: $id) {
  transactions(first: 10) { id kind status }
  refunds(first: 10) { id totalRefundedSet { presentmentMoney { amount } } }
} }"""
MERCHANT_REFUND = """mutation R($input: RefundInput!) { refundCreate(input: $input) {
  refund { id } userErrors { field message } } }"""


@pytest.fixture
def shop(
    sandbox_settings: Any,
    gateway: Any,
    shopify_standin: ChannelStandin,
    bind_all: Any,
    live_server: Any,
) -> tuple[Channel, ChannelOrder, dict[str, Any]]:
    """A Shopify order (2 x TSHIRT-BLU-M, 1 x MUG-WHT-11OZ, 8 % tax mapped) in the stand-in,
    in the hub and in the sandbox Odoo, shipped and invoiced there; the stand-in sends its
    webhooks to the hub."""
    sb = sandbox_settings
    channel = _channel("shop", "shopify", shopify_standin)
    bind_all(channel)
    map_tax8(channel, sb)
    payload = shopify_payload(SHOP_OID)
    for n, line in enumerate(payload["line_items"], start=1):
        line["id"] = SHOP_OID * 100 + n  # the stand-in's line item ids
    # The stand-in keeps the net unit price (after the 10 % discount) and its 8 % tax.
    seeded = json.loads(json.dumps(payload))
    for line in seeded["line_items"]:
        net = Decimal(line["price"]) * Decimal("0.9")
        line["price"] = str(net.quantize(Decimal("0.01")))
        line["unit_tax"] = str((net * Decimal("0.08")).quantize(Decimal("0.01")))
    shopify_standin.seed_order(**seeded)
    order = _pushed(order_ingest(order=order_from_shopify(payload, channel="shop")))
    ship_in_odoo(gateway, order)
    invoice = invoice_in_odoo(gateway, order)
    shopify_standin.set_config(
        webhook_url=f"{live_server.url}/webhooks/shopify/shop/", webhook_secret=SHOPIFY_SECRET
    )
    return channel, order, invoice


def _sale_tx(standin: ChannelStandin, oid: int) -> str:
    order = standin.graphql(ORDER_Q, {"id": f"gid://shopify/Order/{oid}"}).body["data"]["order"]
    return str(next(t["id"] for t in order["transactions"] if t["kind"] == "SALE"))


def _shopify_refunds(standin: ChannelStandin, oid: int) -> list[dict[str, Any]]:
    order = standin.graphql(ORDER_Q, {"id": f"gid://shopify/Order/{oid}"}).body["data"]["order"]
    rows: list[dict[str, Any]] = order["refunds"]
    return rows


def merchant_refund(
    standin: ChannelStandin, oid: int, lines: list[tuple[int, int, str]], amount: str
) -> str:
    """A refund made in Shopify's admin: `lines` are (line number, quantity, restock type)."""
    gid = f"gid://shopify/Order/{oid}"
    answer = standin.graphql(
        MERCHANT_REFUND,
        {
            "input": {
                "orderId": gid,
                "note": "damaged in transit",
                "refundLineItems": [
                    {
                        "lineItemId": f"gid://shopify/LineItem/{oid * 100 + n}",
                        "quantity": q,
                        "restockType": r,
                    }
                    for n, q, r in lines
                ],
                "transactions": [
                    {
                        "orderId": gid,
                        "parentId": _sale_tx(standin, oid),
                        "gateway": "bogus",
                        "kind": "REFUND",
                        "amount": amount,
                    }
                ],
            }
        },
    ).body["data"]["refundCreate"]
    assert not answer["userErrors"], answer
    return str(answer["refund"]["id"]).rsplit("/", 1)[-1]


def test_a_shopify_return_refund_makes_one_return_picking_and_one_credit_note_to_the_cent(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    shopify_standin: ChannelStandin,
    shop: Any,
    live_server: Any,
) -> None:
    sb = sandbox_settings
    channel, order, invoice = shop
    worker = celery_worker_factory(queues=QUEUES, concurrency=2, **worker_env(sb))
    # when the merchant refunds one T-shirt (22.50 + 1.80 tax) that comes back to the warehouse
    rid = merchant_refund(shopify_standin, SHOP_OID, [(1, 1, "RETURN")], "24.30")
    # then Shopify's refunds/create reaches the hub, and the worker makes the Odoo side
    settle(lambda: synced("odoo_return") and synced("odoo_credit"), worker)
    origin = f"shop:return:refund-{rid}"
    [picking] = return_pickings(sb)
    assert picking["origin"] == origin
    assert picking["state"] == "assigned" and picking["picking_type_code"] == "incoming"
    [note] = credit_notes(sb)
    assert note["ref"] == f"shop:refund:{rid}", state_of_the_hub()
    assert note["state"] == "posted", (note, list(ChannelRefund.objects.values()))
    assert m2o(note["reversed_entry_id"]) == invoice["id"]
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("24.30")
    refund = ChannelRefund.objects.get()
    assert refund.state == "credited" and refund.amount == Decimal("24.30")
    assert refund.odoo_credit_note_total == Decimal("24.30")
    ret = ChannelReturn.objects.get()
    assert ret.state == "expected" and ret.odoo_return_picking_id == picking["id"]
    # when the same refunds/create arrives twice more (a retry, and another subscription)
    [hook] = [d for d in shopify_standin._control("GET", "deliveries") if "refund" in d["topic"]]
    for webhook_id in (hook["headers"]["X-Shopify-Webhook-Id"], "another-subscription"):
        sent = shopify_standin.send_webhook(
            f"{live_server.url}/webhooks/shopify/shop/",
            "refunds/create",
            hook["payload"],
            SHOPIFY_SECRET,
            webhook_id=webhook_id,
        )
        assert sent["status"] in (200, 202), sent
    # (a 2xx means the delivery is recorded: the hub is quiet once the worker has handled it)
    settle(hub_is_quiet, worker)
    # then still one of each, in Odoo and in the hub
    assert len(return_pickings(sb)) == 1 and len(credit_notes(sb)) == 1
    assert ChannelRefund.objects.count() == 1 and ChannelReturn.objects.count() == 1
    assert ReturnSync.objects.count() == 2
    assert BusinessEvent.objects.filter(type="refund.created").count() == 1
    assert BusinessEvent.objects.filter(type="return.requested").count() == 1
    assert channel.pk and order.pk


# --- WooCommerce -----------------------------------------------------------------------------

WOO_OID = 7_500_001


@pytest.fixture
def woo(
    sandbox_settings: Any,
    gateway: Any,
    woo_standin: ChannelStandin,
    bind_all: Any,
    live_server: Any,
) -> tuple[Channel, ChannelOrder, dict[str, Any]]:
    """A WooCommerce order (2 x TSHIRT-BLU-M at 45.00 + 3.60 tax, 1 x MUG-WHT-11OZ at
    11.25 + 0.90, shipping 5.99; 8 % mapped) in the stand-in, the hub and the sandbox, shipped
    and invoiced; the stand-in sends `order.updated` to the hub."""
    sb = sandbox_settings
    channel = _channel("woo", "woocommerce", woo_standin)
    bind_all(channel)
    map_tax8(channel, sb)
    payload = load("woocommerce_order.json")
    payload["id"] = WOO_OID
    payload["number"] = str(WOO_OID)
    for n, line in enumerate(payload["line_items"], start=1):
        line["id"] = WOO_OID * 100 + n  # the stand-in's line item ids
    woo_standin.seed_order(**json.loads(json.dumps(payload)))
    order = _pushed(order_ingest(order=order_from_woocommerce(payload, channel="woo")))
    ship_in_odoo(gateway, order)
    invoice = invoice_in_odoo(gateway, order)
    woo_standin.set_config(
        webhook_url=f"{live_server.url}/webhooks/woocommerce/woo/", webhook_secret=WOO_SECRET
    )
    return channel, order, invoice


def test_a_woocommerce_partial_refund_makes_a_partial_credit_note_to_the_cent(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    woo_standin: ChannelStandin,
    woo: Any,
) -> None:
    sb = sandbox_settings
    _, order, invoice = woo
    worker = celery_worker_factory(queues=QUEUES, concurrency=2, **worker_env(sb))
    # when the merchant refunds the T-shirt line (2 x 22.50 + 8 % tax), not the mug
    made = woo_standin.api(
        "POST",
        f"orders/{WOO_OID}/refunds",
        {
            "amount": "48.60",
            "reason": "wrong size",
            "api_refund": False,
            "line_items": [
                {
                    "id": WOO_OID * 100 + 1,
                    "quantity": 2,
                    "refund_total": "45.00",
                    "refund_tax": [{"id": 75, "refund_total": "3.60"}],
                }
            ],
        },
    )
    assert made.status == 201, made.body
    # then order.updated reaches the hub, which reads the refund and credits it in Odoo
    settle(lambda: synced("odoo_credit"), worker)
    [note] = credit_notes(sb)
    assert note["ref"] == f"woo:refund:{made.body['id']}"
    assert note["state"] == "posted" and m2o(note["reversed_entry_id"]) == invoice["id"]
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("48.60")
    assert Decimal(str(note["amount_total"])) < Decimal(str(invoice["amount_total"]))
    refund = ChannelRefund.objects.get()
    assert (refund.state, refund.amount, refund.tax_amount) == (
        "credited",
        Decimal("48.60"),
        Decimal("3.60"),
    )
    assert [(ln.sku, ln.quantity) for ln in refund.lines.all()] == [("TSHIRT-BLU-M", 2)]
    assert not return_pickings(sb)  # no goods back: only the money
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


# --- Odoo → Shopify: the return received refunds on the channel ------------------------------


def odoo_return_received(gateway: Any, sb: Any, order: ChannelOrder, sku: str, qty: int) -> int:
    """The warehouse takes goods back in Odoo: a return of the done delivery, validated."""
    from apps.fulfillment.models import Shipment

    [product] = sb.execute("product.product", "search", [["default_code", "=", sku]])
    delivery = Shipment.objects.get(order=order).odoo_picking_id
    picking = int(gateway.return_create(picking_id=delivery, quantities={product: qty}))
    gateway.picking_validate(picking_id=picking, backorder=False)
    return picking


def test_a_return_received_in_odoo_refunds_on_shopify_once_even_when_the_answer_is_lost(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    shopify_standin: ChannelStandin,
    shop: Any,
) -> None:
    sb = sandbox_settings
    channel, order, _ = shop
    channel.refund_on_receipt = True
    channel.save(update_fields=["refund_on_receipt"])
    # given Shopify makes the refund but its answer never arrives
    drop_answer_of(shopify_standin, path="graphql", body="refundCreate")
    worker = celery_worker_factory(queues=QUEUES, concurrency=2, **worker_env(sb))
    # when one T-shirt comes back and is received in Odoo, and the hub polls (twice: overlap)
    picking = odoo_return_received(gateway, sb, order, "SKU-001", 1)
    assert receipts_poll().get("new") == 1
    assert receipts_poll().get("seen") == 1
    ret = ChannelReturn.objects.get()
    assert (ret.source, ret.odoo_return_picking_id) == ("odoo", picking) and ret.received_at
    assert ret.state in ("received", "refunded")  # the worker may be quicker than this test
    assert [(ln.sku, ln.quantity_received) for ln in ret.lines.all()] == [("TSHIRT-BLU-M", 1)]
    assert BusinessEvent.objects.filter(type="return.received").count() == 1
    req = RefundRequest.objects.get()
    assert req.amount == Decimal("24.30") and req.decided_at  # 22.50 + 1.80 tax, no approval
    # then the worker refunds on Shopify: the retry reads first and finds the refund
    settle(lambda: synced("channel_refund"), worker)
    row = ReturnSync.objects.get(action="channel_refund")
    assert row.attempts == 1 and row.result["found_existing"] is True
    [made] = _shopify_refunds(shopify_standin, SHOP_OID)
    assert made["totalRefundedSet"]["presentmentMoney"]["amount"] in ("24.3", "24.30")
    assert len(writes(shopify_standin, "refundCreate")) == 1
    req.refresh_from_db()
    assert req.state == "sent" and req.channel_refund_id == made["id"].rsplit("/", 1)[-1]
    ret.refresh_from_db()
    assert ret.state == "refunded"
    # Shopify's own refunds/create for it changes nothing: one refund, the hub's
    settle(hub_is_quiet, worker)
    refund = ChannelRefund.objects.get()
    assert refund.by_hub and refund.ret_id == ret.pk
    # and Odoo records the money like any refund: one credit note, to the cent
    [note] = credit_notes(sb)
    assert note["state"] == "posted" and refund.state == "credited"
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("24.30")


def _user(django_user_model: Any, name: str, group: str) -> Any:
    call_command("hub_roles", verbosity=0)
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return django_user_model.objects.get(pk=user.pk)


def test_a_refund_above_the_threshold_waits_for_an_approver_then_goes_out_once(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    shopify_standin: ChannelStandin,
    shop: Any,
    settings: Any,
    django_user_model: Any,
) -> None:
    sb = sandbox_settings
    channel, order, _ = shop
    channel.refund_on_receipt = True
    channel.save(update_fields=["refund_on_receipt"])
    settings.HUB_REFUND_APPROVAL_ABOVE = "30.00"
    worker = celery_worker_factory(queues=QUEUES, concurrency=2, **worker_env(sb))
    # when both T-shirts come back (2 x 24.30 = 48.60, above 30.00)
    odoo_return_received(gateway, sb, order, "SKU-001", 2)
    receipts_poll()
    req = RefundRequest.objects.get()
    assert (req.state, req.amount) == ("awaiting_approval", Decimal("48.60"))
    # then nothing goes to Shopify while it waits
    time.sleep(1.5)
    assert not ReturnSync.objects.filter(action="channel_refund").exists()
    assert writes(shopify_standin, "refundCreate") == []
    url = "/admin/returns/refundrequest/"
    body = {"action": "approve", "_selected_action": [req.pk], "decide": "1", "reason": "ok"}
    # a Support user cannot decide it
    support = Client()
    support.force_login(_user(django_user_model, "sam", "Support"))
    support.post(url, body)
    req.refresh_from_db()
    assert req.state == "awaiting_approval"
    time.sleep(0.5)
    assert writes(shopify_standin, "refundCreate") == []
    # an Approver approves it: it goes out once
    approver = Client()
    approver.force_login(_user(django_user_model, "ann", "Approver"))
    approver.post(url, body)
    req.refresh_from_db()
    assert req.state in ("approved", "sent") and req.decided_by == "ann"
    settle(lambda: synced("channel_refund"), worker)
    approver.post(url, body)  # a second click changes nothing
    settle(hub_is_quiet, worker)
    assert len(writes(shopify_standin, "refundCreate")) == 1
    [made] = _shopify_refunds(shopify_standin, SHOP_OID)
    assert made["totalRefundedSet"]["presentmentMoney"]["amount"] in ("48.6", "48.60")
    req.refresh_from_db()
    assert req.state == "sent"


# --- B2B -------------------------------------------------------------------------------------


def test_a_b2b_return_asked_through_the_api_is_made_and_credited_in_odoo(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    gateway: Any,
    bind_all: Any,
) -> None:
    sb = sandbox_settings
    portal = _channel("portal", "b2b_api", None)
    bind_all(portal)
    map_tax8(portal, sb)
    order = _pushed(order_ingest(order=order_from_b2b(b2b_payload("PO-RET-1"), channel="portal")))
    ship_in_odoo(gateway, order)
    invoice = invoice_in_odoo(gateway, order)
    worker = celery_worker_factory(queues=QUEUES, concurrency=2, **worker_env(sb))
    api = APIClient()
    _, raw = api_token_create(channel=portal, scopes=["returns:write"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # when the portal asks for one T-shirt back
    body = {"order_id": order.pk, "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1}]}
    res = api.post("/api/v1/returns/", body, format="json")
    assert res.status_code == 201, res.content
    rid = res.json()["id"]
    # then Odoo gets the return picking, ready to receive
    settle(lambda: synced("odoo_return"), worker)
    ret = ChannelReturn.objects.get(pk=rid)
    [picking] = return_pickings(sb)
    assert picking["origin"] == f"portal:return:{ret.external_id}"
    assert picking["state"] == "assigned" and m2o(picking["sale_id"]) == order.odoo_id
    assert api.get(f"/api/v1/returns/{rid}/").json()["state"] == "expected"
    # when the warehouse receives it, and the hub polls
    gateway.picking_validate(picking_id=picking["id"], backorder=False)
    assert receipts_poll().get("received") == 1
    # then the credit note: the order's net price (22.50) with its 8 % tax, posted
    settle(lambda: synced("odoo_credit"), worker)
    [note] = credit_notes(sb)
    assert note["ref"] == f"portal:return:{ret.external_id}"
    assert note["state"] == "posted" and m2o(note["reversed_entry_id"]) == invoice["id"]
    assert Decimal(str(note["amount_total"])).quantize(Decimal("0.01")) == Decimal("24.30")
    got = api.get(f"/api/v1/returns/{rid}/").json()
    assert got["state"] == "credited" and got["credit_note"]["posted"] is True
    assert got["lines"][0]["quantity_received"] == 1
    assert BusinessEvent.objects.filter(type="return.received").count() == 1
