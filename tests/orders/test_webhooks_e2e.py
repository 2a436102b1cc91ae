"""Webhook -> ledger -> orders handler -> push -> sale order, with a real worker and the sandbox.

Shopify and WooCommerce deliveries are signed like the platforms sign them and go through the
real ingress view (verify -> record -> 202); the worker runs the ledger processing and the push.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.test import Client

from apps.orders.models import ChannelOrder, OrderState
from apps.sales_channels.services import channel_create
from tests.fixtures.channels import SHOPIFY_SECRET, WOO_SECRET, shopify_headers, sign_base64
from tests.fixtures.worker import wait_for

from .conftest import SKU_MAP, bind, load, product_ids, shopify_payload
from .helpers import line_rows, order_lines, sale_orders
from .test_worker_e2e import worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(celery_worker_factory: Any, sandbox_settings: Any) -> Any:
    return celery_worker_factory(
        queues="intake,odoo,maintenance", concurrency=2, **worker_env(sandbox_settings)
    )


def _channel(code: str, kind: str, secret: str, sandbox: Any, **options: Any) -> Any:
    channel, _ = channel_create(code=code, kind=kind, secret=secret, **options)
    import datetime as dt

    channel.secrets.update(valid_from=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    ids = product_ids(sandbox, list(SKU_MAP.values()))
    for sku, code_ in SKU_MAP.items():
        bind(channel, sku, ids[code_])
    return channel


def test_shopify_webhooks_duplicates_make_one_sale_order(
    worker: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    _channel(
        "shopify-e2e", "shopify", SHOPIFY_SECRET, sb, api_base_url="https://acme.myshopify.com"
    )
    url = "/webhooks/shopify/shopify-e2e/"
    body = json.dumps(shopify_payload(9001)).encode()
    client = Client()
    # the same delivery three times in a row
    for _ in range(3):
        resp = client.generic(
            "POST",
            url,
            body,
            content_type="application/json",
            **shopify_headers(body, webhook_id="same-id"),
        )
        assert resp.status_code in (200, 202), resp.content
    # and five different deliveries of the same order at once
    codes: list[int] = []

    def deliver(n: int) -> None:
        from django.db import connection

        try:
            r = Client().generic(
                "POST",
                url,
                body,
                content_type="application/json",
                **shopify_headers(body, webhook_id=f"burst-{n}", topic="orders/updated"),
            )
            codes.append(r.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(c in (200, 202) for c in codes), codes
    wait_for(
        lambda: ChannelOrder.objects.filter(external_id="9001", state=OrderState.IN_ODOO).exists(),
        timeout=90,
    )
    [so] = sale_orders(sb, "shopify-e2e:9001")
    assert so["state"] == "sale"
    assert len(order_lines(sb, so["order_line"])) == 3  # two products and the shipping line


def test_woocommerce_order_updated_becomes_a_sale_order(worker: Any, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    _channel("woo-e2e", "woocommerce", WOO_SECRET, sb, api_base_url="https://shop.example.com")
    payload = load("woocommerce_order.json")
    body = json.dumps(payload).encode()
    resp = Client().generic(
        "POST",
        "/webhooks/woocommerce/woo-e2e/",
        body,
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_SIGNATURE=sign_base64(WOO_SECRET, body),
        HTTP_X_WC_WEBHOOK_TOPIC="order.updated",
        HTTP_X_WC_WEBHOOK_RESOURCE="order",
        HTTP_X_WC_WEBHOOK_EVENT="updated",
        HTTP_X_WC_WEBHOOK_DELIVERY_ID="1",
    )
    assert resp.status_code in (200, 202), resp.content
    ref = f"woo-e2e:{payload['id']}"
    wait_for(
        lambda: ChannelOrder.objects.filter(odoo_ref=ref, state=OrderState.IN_ODOO).exists(),
        timeout=90,
    )
    [so] = sale_orders(sb, ref)
    ids = product_ids(sb, ["SKU-001", "SKU-003", "SHIP"])
    lines = line_rows(sb, so)
    # WooCommerce line totals: 50.00 -> 45.00 and 12.50 -> 11.25 are 10 % discounts
    assert lines == [
        (ids["SKU-001"], 2.0, 25.0, 10.0),
        (ids["SKU-003"], 1.0, 12.5, 10.0),
        (ids["SHIP"], 1.0, 5.99, 0.0),
    ]
