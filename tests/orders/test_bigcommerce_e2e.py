"""BigCommerce: a thin signed callback (data.id only) → ledger → worker fetches the order from
the stand-in over HTTP → translator → push → one confirmed sale order in the sandbox → the
worker acknowledges it on the channel queue (staff notes)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from apps.orders.models import ChannelOrder, OrderState
from tests.fixtures.channels import BIGCOMMERCE_SECRET, sign_standard
from tests.fixtures.worker import wait_for

from .conftest import product_ids
from .helpers import order_lines, sale_orders
from .test_webhooks_e2e import _channel
from .test_worker_e2e import worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def deliver(order_id: int, msg_id: str, scope: str = "store/order/created") -> int:
    body = json.dumps(
        {"scope": scope, "store_id": "1", "data": {"type": "order", "id": order_id}}
    ).encode()
    ts = int(time.time())
    resp = Client().generic(
        "POST",
        "/webhooks/bigcommerce/bc-e2e/",
        body,
        content_type="application/json",
        HTTP_WEBHOOK_ID=msg_id,
        HTTP_WEBHOOK_TIMESTAMP=str(ts),
        HTTP_WEBHOOK_SIGNATURE=sign_standard(BIGCOMMERCE_SECRET.encode(), msg_id, ts, body),
    )
    return resp.status_code


def test_bigcommerce_callback_fetches_the_order_and_makes_one_sale_order(
    celery_worker_factory: Any, sandbox_settings: Any, bigcommerce_standin: Any
) -> None:
    sb = sandbox_settings
    bc = bigcommerce_standin
    _channel(
        "bc-e2e",
        "bigcommerce",
        BIGCOMMERCE_SECRET,
        sb,
        api_base_url=bc.base_url,
        access_token=bc.auth_token,
    )
    seeded = bc.seed_order(
        status_id=11,
        customer_id=0,
        billing_address={
            "first_name": "Ada",
            "last_name": "Byron",
            "email": "ada@example.com",
            "street_1": "1 Main St",
            "city": "Austin",
            "zip": "73301",
            "country_iso2": "US",
        },
        line_items=[
            {"sku": "TSHIRT-BLU-M", "quantity": 2, "price": 25},
            {"sku": "MUG-WHT-11OZ", "quantity": 1, "price": 12.5},
        ],
    )
    celery_worker_factory(
        queues="intake,odoo,channel_io,maintenance", concurrency=2, **worker_env(sb)
    )
    # created, then updated: two callbacks, one order
    assert deliver(seeded["id"], "msg-1") == 202
    assert deliver(seeded["id"], "msg-2", "store/order/statusUpdated") == 202
    ref = f"bc-e2e:{seeded['id']}"
    wait_for(
        lambda: ChannelOrder.objects.filter(odoo_ref=ref, state=OrderState.IN_ODOO).exists(),
        timeout=60,
    )
    [so] = sale_orders(sb, ref)
    assert so["state"] == "sale" and so["client_order_ref"] == str(seeded["id"])
    ids = product_ids(sb, ["SKU-001", "SKU-003", "SHIP"])
    lines = [
        (ln["product_id"][0], ln["product_uom_qty"], ln["price_unit"])
        for ln in order_lines(sb, so["order_line"])
    ]
    # The order's shipping address carries its method ("Flat Rate", free here): a shipping line
    # at 0 on the fallback product, as on the real platform's orders.
    assert lines == [
        (ids["SKU-001"], 2.0, 25.0),
        (ids["SKU-003"], 1.0, 12.5),
        (ids["SHIP"], 1.0, 0.0),
    ]
    partner = sb.execute("res.partner", "read", [so["partner_id"][0]], ["email"])[0]
    assert partner["email"] == "ada@example.com"
    assert bc.stats()["calls"].get("GET v2/orders/{id}", 0) >= 1
    # and the worker acknowledged it on the channel queue: the Odoo name is in the staff notes
    row = ChannelOrder.objects.get(odoo_ref=ref)
    wait_for(lambda: ChannelOrder.objects.filter(pk=row.pk, ack_state="done").exists(), timeout=30)
    notes = bc.api("GET", f"v2/orders/{seeded['id']}").body["staff_notes"]
    assert notes == f"Odoo sale order {so['name']} (hub reference {ref})"
