"""The polling backstop finds refunds the webhooks lost, each recorded once.

Against the Shopify stand-in over HTTP, its signed webhooks to a live server; the ledger events
run in process (no worker, no Odoo: the returns work rows are only counted).

- `refunds/create` is not delivered (the hub's URL answers 404): the poll records the order as
  `orders/updated`; the order shows a refund the hub lacks → ONE `refunds_read`, the refund is
  recorded (one `ChannelRefund`, one `refund.created`, one credit-note row).
- Polled again (the overlap): no second read. Polled after another change: the stand-in's order
  body names no refunds, so the status heuristic reads once more and records nothing new; a body
  whose `refunds[]` names only known refunds reads nothing.
- The lost webhook delivered later: `seen`, still one of each.
- BigCommerce: the polled event's thin body cannot show refunds, so the poll carries the order's
  `refunded_amount` in a header; above what the hub recorded → one read; the later
  `store/order/refund/created` finds it recorded.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

import pytest

from apps.core.workrow import ACTIVE
from apps.events.models import BusinessEvent
from apps.ledger.models import InboundEvent
from apps.ledger.services import event_process, inbound_event_record
from apps.orders.services import order_ingest
from apps.returns.adapters import shopify as shopify_adapter
from apps.returns.models import ChannelRefund, ReturnSync
from apps.sales_channels.translators import order_from_shopify
from apps.webhooks.backstop import channel_orders_poll
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.channels import SHOPIFY_SECRET
from tests.orders.conftest import shopify_payload

from . import test_e2e as e2e
from .adapter_helpers import fresh_cache, refund_request, standin_channel

__all__ = ["fresh_cache"]

pytestmark = pytest.mark.django_db(transaction=True)

OID = 7_600_001


def process_events() -> list[tuple[str, str]]:
    """Run every recorded ledger event, in process (what the worker would do)."""
    out = []
    for pk, topic in (
        InboundEvent.objects.filter(state__in=ACTIVE).order_by("pk").values_list("pk", "topic")
    ):
        InboundEvent.objects.filter(pk=pk).update(next_attempt_at=None)
        out.append((topic, event_process(event_id=pk)))
    return out


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the adapter's `refunds_read` calls (each one GraphQL read)."""
    calls: list[str] = []
    real = shopify_adapter.ShopifyRefunds.refunds_read

    def counted(self: Any, order_external_id: str) -> Any:
        calls.append(order_external_id)
        return real(self, order_external_id)

    monkeypatch.setattr(shopify_adapter.ShopifyRefunds, "refunds_read", counted)
    return calls


def test_a_refund_the_webhooks_lost_is_recorded_once_by_the_poll_and_not_again_by_the_webhook(
    shopify_standin: ChannelStandin,
    live_server: Any,
    rings: Any,
    reads: list[str],
) -> None:
    channel = e2e._channel("bshop", "shopify", shopify_standin)
    payload = shopify_payload(OID)
    for n, line in enumerate(payload["line_items"], start=1):
        line["id"] = OID * 100 + n
    shopify_standin.seed_order(**json.loads(json.dumps(payload)))
    order = order_ingest(order=order_from_shopify(payload, channel=channel.code))
    # the hub's webhook URL is broken: nothing the stand-in sends arrives
    shopify_standin.set_config(
        webhook_url=f"{live_server.url}/webhooks/shopify/no-such-channel/",
        webhook_secret=SHOPIFY_SECRET,
    )
    rid = e2e.merchant_refund(shopify_standin, OID, [(2, 1, "NO_RESTOCK")], "10.00")
    assert not ChannelRefund.objects.exists()
    # when the backstop polls the channel
    result = channel_orders_poll(channel_code=channel.code)
    assert result.recorded == 1, result.summary()
    done = process_events()
    assert [t for t, _ in done] == ["orders/updated"], done
    # then the refund is recorded once, with one read of the order's refunds
    assert ChannelRefund.objects.exists(), list(InboundEvent.objects.values("state", "last_error"))
    [refund] = ChannelRefund.objects.all()
    assert refund.external_id == rid and refund.order_id == order.pk
    assert refund.amount == Decimal("10.00")
    assert reads == [str(OID)]
    assert BusinessEvent.objects.filter(type="refund.created").count() == 1
    assert ReturnSync.objects.filter(action="odoo_credit").count() == 1
    # when the poll runs again (its overlap re-reads the same version): nothing new, no read
    channel_orders_poll(channel_code=channel.code)
    process_events()
    assert reads == [str(OID)]
    # when the order changes again and is polled: its body names no refunds (the stand-in's REST
    # order keeps its seed's `refunds: []`), so a refunded order changed after the hub's newest
    # refund costs one read, and records nothing new
    time.sleep(1.1)  # the REST `updated_at` has whole seconds
    changed = shopify_standin.graphql(
        "mutation N($i: OrderInput!) { orderUpdate(input: $i) { order { id } userErrors "
        "{ message } } }",
        {"i": {"id": f"gid://shopify/Order/{OID}", "note": "gift wrap"}},
    ).body
    assert not changed["data"]["orderUpdate"]["userErrors"], changed
    assert channel_orders_poll(channel_code=channel.code).recorded == 1
    assert [r for t, r in process_events()] == ["done"]
    assert reads == [str(OID), str(OID)] and ChannelRefund.objects.count() == 1
    # a polled order whose `refunds[]` names only refunds the hub has: no read at all
    [polled] = InboundEvent.objects.filter(topic="orders/updated").order_by("-pk")[:1]
    body = json.loads(bytes(polled.body))
    body["refunds"] = [{"id": int(rid), "order_id": OID}]
    body["updated_at"] = "2099-01-01T00:00:00+00:00"
    inbound_event_record(
        channel_code=channel.code,
        topic="orders/updated",
        dedupe_key=f"poll:order:{OID}:refunds-known",
        body=json.dumps(body).encode(),
        headers=dict(polled.headers),
        entity_key=f"order:{OID}",
        external_ref=str(OID),
    )
    assert [r for t, r in process_events()] == ["done"]
    assert len(reads) == 2
    # when the lost refunds/create finally arrives
    [hook] = [
        d for d in shopify_standin._control("GET", "deliveries") if d["topic"] == "refunds/create"
    ]
    assert hook["status"] not in (200, 202), hook
    sent = shopify_standin.send_webhook(
        f"{live_server.url}/webhooks/shopify/{channel.code}/",
        "refunds/create",
        hook["payload"],
        SHOPIFY_SECRET,
        webhook_id=hook["headers"]["X-Shopify-Webhook-Id"],
    )
    assert sent["status"] in (200, 202), sent
    assert [r for t, r in process_events() if t == "refunds/create"] == ["done"]
    # then it is seen, not recorded twice
    assert ChannelRefund.objects.count() == 1
    assert BusinessEvent.objects.filter(type="refund.created").count() == 1
    assert ReturnSync.objects.filter(action="odoo_credit").count() == 1


def test_bigcommerce_a_refund_found_by_the_poll_is_recorded_once(
    make_channel: Any,
    bigcommerce_standin: ChannelStandin,
    rings: Any,
    fresh_cache: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apps.returns.adapters import bigcommerce as bc_adapter

    calls: list[str] = []
    real = bc_adapter.BigCommerceRefunds.refunds_read

    def counted(self: Any, order_external_id: str) -> Any:
        calls.append(order_external_id)
        return real(self, order_external_id)

    monkeypatch.setattr(bc_adapter.BigCommerceRefunds, "refunds_read", counted)
    channel = standin_channel(make_channel, bigcommerce_standin, "bcpoll")
    seeded = bigcommerce_standin.seed_order(
        customer_id=7, line_items=[{"sku": "SKU-001", "quantity": 3, "price": "10.10"}]
    )
    oid = int(seeded["id"])
    # a refund made in the BigCommerce control panel (its reason ends in `[hub:merchant-note]`,
    # not a hub key: intake must not choke on it); no webhook reaches the hub
    adapter = bc_adapter.BigCommerceRefunds(channel)
    made = adapter.refund(
        refund_request(oid, [("SKU-001", 1, "10.10", "0")], "10.10", key="merchant-note")
    )
    calls.clear()
    # when the poll records the order (the order handler ingests it), the refund follows
    result = channel_orders_poll(channel_code=channel.code)
    assert result.recorded == 1, result.summary()
    [polled] = InboundEvent.objects.filter(topic="store/order/updated")
    assert Decimal(polled.headers["x-hub-refunded-amount"]) == Decimal("10.10")
    assert [r for _, r in process_events()] == ["done"], list(
        InboundEvent.objects.values("state", "last_error")
    )
    [refund] = ChannelRefund.objects.all()
    assert refund.external_id == made.refund.external_id and refund.amount == Decimal("10.10")
    assert calls == [str(oid)]
    # polled again: the hub has what the order shows, no read
    channel_orders_poll(channel_code=channel.code)
    process_events()
    assert calls == [str(oid)]
    # the refund webhook arriving later finds it recorded
    inbound_event_record(
        channel_code=channel.code,
        topic="store/order/refund/created",
        dedupe_key=f"late-refund-{oid}",
        body=json.dumps(
            {"scope": "store/order/refund/created", "data": {"type": "order", "id": oid}}
        ).encode(),
        headers={"content-type": "application/json"},
        entity_key=f"order:{oid}",
        external_ref=str(oid),
    )
    assert [r for _, r in process_events()] == ["done"]
    assert ChannelRefund.objects.count() == 1
    assert BusinessEvent.objects.filter(type="refund.created").count() == 1
