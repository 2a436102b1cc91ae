"""Magento end to end: the stand-in places an order with a configurable product and a coupon
and sends its Adobe I/O event (RSA-signed, keys on the stand-in's key host) to the hub over HTTP
→ verified and recorded → a real worker re-reads the order over REST → translator → push → one
sale order in the Odoo sandbox with the right lines and totals. The same delivery twice more,
and the poll, still make one. An order no event announced (Magento Open Source) comes in by the
poll alone, translated from the polled body without a second read."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from apps.ledger.models import InboundEvent
from apps.orders.models import ChannelOrder, OrderState
from apps.sales_channels import adobe_keys
from apps.webhooks.backstop import channel_orders_poll
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.worker import wait_for

from .conftest import product_ids
from .helpers import line_rows, sale_orders
from .test_webhooks_e2e import _channel
from .test_worker_e2e import worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CODE = "mg-e2e"


def untaxed(lines: list[tuple[int, float, float, float]]) -> float:
    return round(sum(qty * price * (1 - disc / 100) for _, qty, price, disc in lines), 2)


def in_odoo(ref: str) -> bool:
    return ChannelOrder.objects.filter(odoo_ref=ref, state=OrderState.IN_ODOO).exists()


def test_io_event_twice_and_the_poll_make_one_sale_order(
    celery_worker_factory: Any,
    sandbox_settings: Any,
    magento_standin: ChannelStandin,
    live_server: Any,
    settings: Any,
) -> None:
    sb, mg = sandbox_settings, magento_standin
    settings.HUB_ADOBE_KEY_HOST = mg.url  # the stand-in is Adobe's key host here
    adobe_keys.cache_clear()
    _channel(
        CODE,
        "magento",
        "",
        sb,
        api_base_url=mg.url,
        access_token=mg.access_token,
        magento_client_id=mg.client_id,
        magento_io_events=True,
    )
    mg.add_products(
        [
            {"sku": "TSHIRT-BLU-M", "stock": 10, "group": "Classic T-shirt", "price": "25.00"},
            {"sku": "TSHIRT-RED-M", "stock": 10, "group": "Classic T-shirt", "price": "25.00"},
            {"sku": "MUG-WHT-11OZ", "stock": 10, "price": "12.50"},
        ]
    )
    mg.set_config(io_events_url=f"{live_server.url}/webhooks/{'magento'}/{CODE}/")
    celery_worker_factory(queues="intake,odoo,maintenance", concurrency=2, **worker_env(sb))

    seeded = mg.seed_order(
        customer={
            "id": 87,
            "email": "maria.lopez@example.com",
            "firstname": "Maria",
            "lastname": "Lopez",
            "group_id": 1,
        },
        coupon_code="WELCOME10",
        lines=[
            {"sku": "TSHIRT-BLU-M", "qty": 2, "price": "25.00", "discount": "5.00"},
            {"sku": "MUG-WHT-11OZ", "qty": 1, "price": "12.50", "discount": "1.25"},
        ],
        shipping_amount="5.99",
    )
    ref = f"{CODE}:{seeded['entity_id']}"
    # the stand-in delivered the event itself, and the hub answered 202
    [delivery] = wait_for(lambda: [d for d in mg._control("GET", "deliveries") if d["status"]])
    assert delivery["status"] == 202, delivery
    wait_for(lambda: in_odoo(ref), timeout=90)

    # Adobe retries: the exact same delivery twice more is a duplicate each time
    body = delivery["sent_body"].encode()
    for _ in range(2):
        again = requests.post(delivery["url"], data=body, headers=delivery["headers"], timeout=10)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == "duplicate"
    # and the poll finds the order already covered by the event
    poll = channel_orders_poll(channel_code=CODE)
    assert (poll.recorded, poll.duplicates) == (0, 1)
    assert InboundEvent.objects.filter(channel_code=CODE).count() == 1

    [so] = sale_orders(sb, ref)
    assert so["state"] == "sale" and so["client_order_ref"] == "000000001"
    ids = product_ids(sb, ["SKU-001", "SKU-003", "SHIP"])
    lines = line_rows(sb, so)
    # one line for the configurable T-shirt (its child's SKU), the coupon as 10 % off each line
    assert lines == [
        (ids["SKU-001"], 2.0, 25.0, 10.0),
        (ids["SKU-003"], 1.0, 12.5, 10.0),
        (ids["SHIP"], 1.0, 5.99, 0.0),
    ]
    # 62.50 - 6.25 + 5.99 before tax (the channel sent none; Odoo adds its product taxes)
    assert untaxed(lines) == pytest.approx(62.24)
    row = ChannelOrder.objects.get(odoo_ref=ref)
    assert row.number == "000000001" and row.customer_external_id == "87"
    assert mg.stats()["calls"].get("order_get", 0) == 1  # the event re-read the order once
    partner = sb.execute("res.partner", "read", [so["partner_id"][0]], ["email"])[0]
    assert partner["email"] == "maria.lopez@example.com"

    # Magento Open Source: no event at all; the poll alone brings the order in
    quiet = mg.seed_order(
        lines=[{"sku": "TSHIRT-BLU-M", "qty": 1, "price": "25.00"}],
        shipping_amount="5.00",
        io_event=False,
    )
    quiet_ref = f"{CODE}:{quiet['entity_id']}"
    poll = channel_orders_poll(channel_code=CODE)
    assert poll.recorded == 1
    wait_for(lambda: in_odoo(quiet_ref), timeout=90)
    [guest_so] = sale_orders(sb, quiet_ref)
    guest_lines = line_rows(sb, guest_so)
    assert guest_lines == [(ids["SKU-001"], 1.0, 25.0, 0.0), (ids["SHIP"], 1.0, 5.0, 0.0)]
    assert mg.stats()["calls"].get("order_get", 0) == 1  # the polled body was enough
    event = InboundEvent.objects.get(channel_code=CODE, external_ref=str(quiet["entity_id"]))
    assert json.loads(bytes(event.body))["data"]["value"]["customer_is_guest"] == 1
