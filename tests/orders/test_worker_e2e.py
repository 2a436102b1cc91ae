"""End to end over HTTP with a real worker process and the sandbox Odoo."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.orders.handlers import order_event_handle
from apps.orders.models import ChannelOrder, OrderState
from tests.fixtures.worker import wait_for

from .conftest import SKU_MAP, b2b_payload, bind, product_ids, shopify_payload
from .helpers import count_orders_with_prefix, line_rows, sale_orders

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def worker_env(sandbox: Any) -> dict[str, str]:
    return {
        "ODOO_URL": sandbox.url.rstrip("/"),
        "ODOO_DB": sandbox.db,
        "ODOO_USER": sandbox.user,
        "ODOO_PASSWORD": sandbox.password,
        "ODOO_BREAKER_PROBE_SECONDS": "1",
        "HUB_ORDER_RETRY_BASE_SECONDS": "0.3",
        "HUB_ORDER_RETRY_MAX_SECONDS": "1",
    }


@pytest.fixture
def start_worker(celery_worker_factory: Any, sandbox_settings: Any) -> Any:
    def start(concurrency: int = 2) -> Any:
        return celery_worker_factory(
            queues="intake,odoo", concurrency=concurrency, **worker_env(sandbox_settings)
        )

    return start


@pytest.fixture
def portal(b2b: Any, sandbox_settings: Any) -> tuple[Any, APIClient]:
    channel, raw = b2b
    ids = product_ids(sandbox_settings, list(SKU_MAP.values()))
    bind(channel, "TSHIRT-BLU-M", ids["SKU-001"])
    bind(channel, "MUG-WHT-11OZ", ids["SKU-003"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return channel, client


def post(client: APIClient, payload: dict[str, Any], key: str | None = None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/orders/", data=json.dumps(payload), content_type="application/json", **headers
    )


def in_odoo(*external_ids: str) -> bool:
    n = ChannelOrder.objects.filter(external_id__in=external_ids, state=OrderState.IN_ODOO)
    return n.count() == len(external_ids)


def test_api_order_becomes_a_confirmed_sale_order(
    start_worker: Any, portal: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    _, client = portal
    start_worker()
    # when a B2B portal posts an order
    resp = post(client, b2b_payload("PO-1"), key="e2e-1")
    assert resp.status_code == 201, resp.content
    # then the worker pushes it and the API shows the Odoo reference
    wait_for(lambda: in_odoo("PO-1"), timeout=60)
    detail = client.get(f"/api/v1/orders/{resp.json()['id']}/").json()
    assert detail["state"] == "in_odoo" and detail["odoo"]["name"]
    [so] = sale_orders(sb, "portal:PO-1")
    assert so["state"] == "sale" and so["client_order_ref"] == "PO-1"
    partner = sb.execute("res.partner", "read", [so["partner_id"][0]], ["name", "email"])[0]
    assert partner["name"] == "Jordan Reyes"
    shipping = sb.execute("res.partner", "read", [so["partner_shipping_id"][0]], ["city"])[0]
    assert shipping["city"] == "Philadelphia"
    ids = product_ids(sb, ["SKU-001", "SKU-003", "SHIP"])
    lines = line_rows(sb, so)
    assert lines == [
        (ids["SKU-001"], 2.0, 25.0, 10.0),
        (ids["SKU-003"], 1.0, 12.5, 10.0),
        (ids["SHIP"], 1.0, 5.99, 0.0),
    ]


def test_duplicates_sequential_and_concurrent_make_one_sale_order(
    start_worker: Any, portal: Any, sandbox_settings: Any
) -> None:
    _, client = portal
    start_worker()
    # the same order three times in a row
    codes = [post(client, b2b_payload("PO-DUP")).status_code for _ in range(3)]
    assert codes == [201, 200, 200]
    # and five times at once (threads, each with its own DB connection)
    results: list[int] = []

    def hit() -> None:
        from django.db import connection

        try:
            results.append(post(client, b2b_payload("PO-DUP5")).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=hit) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 200, 200, 200, 201]
    wait_for(lambda: in_odoo("PO-DUP", "PO-DUP5"), timeout=60)
    assert len(sale_orders(sandbox_settings, "portal:PO-DUP")) == 1
    assert len(sale_orders(sandbox_settings, "portal:PO-DUP5")) == 1


@dataclass
class FakeEvent:
    channel_code: str
    topic: str
    body: bytes


def test_shopify_webhooks_update_before_create_and_concurrent_duplicates(
    start_worker: Any, make_channel: Any, bind_all: Any, sandbox_settings: Any
) -> None:
    shop = make_channel(code="shop")
    bind_all(shop)
    start_worker()
    # the update (paid) arrives before the create (pending)
    update = shopify_payload(7001, updated_at="2025-01-14T12:00:00Z", financial_status="paid")
    create = shopify_payload(7001, updated_at="2025-01-14T10:00:00Z", financial_status="pending")
    order_event_handle(FakeEvent("shop", "orders/updated", json.dumps(update).encode()))
    order_event_handle(FakeEvent("shop", "orders/create", json.dumps(create).encode()))
    # and another order's webhook is delivered five times at once
    body = json.dumps(shopify_payload(7002)).encode()

    def deliver() -> None:
        from django.db import connection

        try:
            order_event_handle(FakeEvent("shop", "orders/create", body))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: in_odoo("7001", "7002"), timeout=60)
    assert len(sale_orders(sandbox_settings, "shop:7001")) == 1
    assert len(sale_orders(sandbox_settings, "shop:7002")) == 1
    assert ChannelOrder.objects.get(external_id="7001").financial_status == "paid"


def test_unknown_sku_hold_is_released_when_mapped(
    start_worker: Any, b2b: Any, sandbox_settings: Any
) -> None:
    channel, raw = b2b
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    ids = product_ids(sandbox_settings, ["SKU-001", "SKU-003"])
    bind(channel, "TSHIRT-BLU-M", ids["SKU-001"])
    start_worker()
    # given two orders held for the unmapped mug
    for n in ("H1", "H2"):
        body = post(client, b2b_payload(n)).json()
        assert body["hold"]["reason"] == "unknown_sku"
    # when support maps the SKU
    bind(channel, "MUG-WHT-11OZ", ids["SKU-003"])
    # then both are released and pushed
    wait_for(lambda: in_odoo("H1", "H2"), timeout=60)
    assert count_orders_with_prefix(sandbox_settings, "portal:H") == 2


def test_odoo_down_then_back_every_order_arrives_once(
    start_worker: Any, portal: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    _, client = portal
    start_worker()
    sb.set_faults(down=True)
    for n in range(4):
        assert post(client, b2b_payload(f"D{n}")).status_code == 201
    # the orders wait with a due time and the error
    wait_for(
        lambda: ChannelOrder.objects.filter(state=OrderState.READY, attempts__gte=2).count() == 4,
        timeout=60,
    )
    sb.set_faults(down=False)
    wait_for(lambda: in_odoo("D0", "D1", "D2", "D3"), timeout=90)
    for n in range(4):
        assert len(sale_orders(sb, f"portal:D{n}")) == 1


def test_dropped_response_during_a_batch_never_duplicates(
    start_worker: Any, portal: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    _, client = portal
    # given a backlog of orders posted while no worker runs, and a sandbox that will commit the
    # next write and drop its answer
    for n in range(6):
        assert post(client, b2b_payload(f"B{n}")).status_code == 201
    sb.set_faults(drop_after_commit=2)
    # when the worker starts and pushes them in a batch
    start_worker(concurrency=1)
    wait_for(lambda: in_odoo(*[f"B{n}" for n in range(6)]), timeout=90)
    # then each exists once, and the customer once
    for n in range(6):
        assert len(sale_orders(sb, f"portal:B{n}")) == 1
    partners = sb.execute("res.partner", "search_count", [["ref", "like", "portal:customer:"]])
    assert partners == 1
    rows = ChannelOrder.objects.all()
    assert max(r.attempts for r in rows) >= 2  # the drop really made it retry
