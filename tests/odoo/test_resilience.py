"""Retries, idempotency under lost responses, the breaker, the cap and the RPC budget.

These need the sandbox's fault injection and call counters, so they never run on a real Odoo.
Retry policy under test: the client retries idempotent reads (search/read/...) up to twice on a
transient error; writes are never retried inside the gateway and surface as TransientError for
the task layer, which re-runs the whole check-before-create service.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Any

import pytest
from pytest_django.fixtures import SettingsWrapper

from apps.core.errors import LockContention, PermanentError, TransientError
from apps.odoo.client import OdooClient, OdooConfig
from apps.odoo.errors import OdooAuthError, OdooBreakerOpen, OdooValidationError
from apps.odoo.gateway import OdooGateway
from apps.odoo.health import probe_odoo

from .conftest import OdooTarget, delta
from .helpers import order, seed

SERIALIZATION = {
    "error_name": "psycopg2.errors.SerializationFailure",
    "message": "could not serialize access due to concurrent update",
}


def _warm(client: OdooClient, target: OdooTarget) -> None:
    """Version and login happen once per process; keep them out of the counted window. The
    adapter is the one of the version the sandbox presents (17, or 19 for the JSON-2 run)."""
    assert target.sandbox is not None
    assert client.adapter.major == target.sandbox.version
    client.uid()


def test_create_and_confirm_20_orders_costs_three_rpcs(
    odoo_sb: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    # given 20 three-line orders
    s = seed(gateway, unique, n_products=3)
    skus = list(s.products)
    orders = [order(unique, s, n, [(skus[0], 1), (skus[1], 2), (skus[2], 1)]) for n in range(20)]
    _warm(gateway.client, odoo_sb)
    before = odoo_sb.calls()
    # when
    ids = gateway.sale_orders_ensure(orders=orders, confirm=True)
    # then: 1 search + 1 create + 1 confirm
    assert delta(before, odoo_sb.calls()) == {
        "sale.order.search_read": 1,
        "sale.order.create": 1,
        "sale.order.action_confirm": 1,
    }
    assert len(set(ids.values())) == 20


def test_stock_for_many_products_is_one_read_per_warehouse(
    odoo_sb: OdooTarget, gateway: OdooGateway
) -> None:
    _warm(gateway.client, odoo_sb)
    warehouses = [
        w["id"]
        for w in gateway.client.call("stock.warehouse", "search_read", [[]], {"fields": ["code"]})
    ]
    products = gateway.client.call("product.product", "search", [[]])
    before = odoo_sb.calls()
    levels = gateway.stock_levels(product_ids=products, warehouse_ids=warehouses)
    assert delta(before, odoo_sb.calls()) == {"product.product.read": len(warehouses)}
    assert set(levels) == set(warehouses)
    assert len(warehouses) >= 2


def test_transient_read_is_retried(odoo_sb: OdooTarget, gateway: OdooGateway) -> None:
    # given the next product search fails with a serialization failure
    _warm(gateway.client, odoo_sb)
    odoo_sb.sandbox.set_faults(  # type: ignore[union-attr]
        fail_next=[{"model": "product.product", "method": "search_read", **SERIALIZATION}]
    )
    before = odoo_sb.calls()
    # when
    lookup = gateway.products_ids(skus=["SKU-001"])
    # then the read was retried and succeeded
    assert lookup.ids.get("SKU-001")
    assert delta(before, odoo_sb.calls()) == {"product.product.search_read": 2}


def test_transient_write_is_surfaced_not_retried(
    odoo_sb: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    s = seed(gateway, unique)
    _warm(gateway.client, odoo_sb)
    odoo_sb.sandbox.set_faults(  # type: ignore[union-attr]
        fail_next=[{"model": "sale.order", "method": "create", **SERIALIZATION}]
    )
    before = odoo_sb.calls()
    with pytest.raises(LockContention) as exc_info:
        gateway.sale_orders_ensure(orders=[order(unique, s, 1, [(next(iter(s.products)), 1)])])
    assert exc_info.value.context["model"] == "sale.order"
    assert exc_info.value.context["odoo_error"] == SERIALIZATION["error_name"]
    assert delta(before, odoo_sb.calls()).get("sale.order.create") == 1


def test_permanent_error_is_not_retried(odoo_sb: OdooTarget, gateway: OdooGateway) -> None:
    _warm(gateway.client, odoo_sb)
    odoo_sb.sandbox.set_faults(  # type: ignore[union-attr]
        fail_next=[
            {
                "model": "product.product",
                "method": "search_read",
                "error_name": "odoo.exceptions.ValidationError",
                "message": "Nope",
            }
        ]
    )
    before = odoo_sb.calls()
    with pytest.raises(OdooValidationError) as exc_info:
        gateway.products_ids(skus=["SKU-001"])
    assert isinstance(exc_info.value, PermanentError)
    assert exc_info.value.context["odoo_message"] == "Nope"
    assert delta(before, odoo_sb.calls()) == {"product.product.search_read": 1}


def test_access_denied_logs_in_again_once(odoo_sb: OdooTarget, gateway: OdooGateway) -> None:
    _warm(gateway.client, odoo_sb)
    if odoo_sb.transport == "json2":
        # JSON-2 has no login to redo: the key decides who acts, and a refused key (401, as a
        # revoked one answers, transcript 20 #05) is a configuration error; asking again with
        # the same key would gain nothing, so the call is made once.
        odoo_sb.sandbox.set_faults(  # type: ignore[union-attr]
            fail_next=[
                {
                    "model": "product.product",
                    "method": "search_read",
                    "error_name": "werkzeug.exceptions.Unauthorized",
                    "message": "Invalid apikey",
                }
            ]
        )
        before = odoo_sb.calls()
        with pytest.raises(OdooAuthError):
            gateway.products_ids(skus=["SKU-001"])
        assert delta(before, odoo_sb.calls()) == {"product.product.search_read": 1}
        return
    odoo_sb.sandbox.set_faults(  # type: ignore[union-attr]
        fail_next=[
            {
                "model": "product.product",
                "method": "search_read",
                "error_name": "odoo.exceptions.AccessDenied",
                "message": "Access Denied",
            }
        ]
    )
    before = odoo_sb.calls()
    assert gateway.products_ids(skus=["SKU-001"]).ids.get("SKU-001")
    # the refused call, a new login, the same call again
    assert delta(before, odoo_sb.calls()) == {
        "product.product.search_read": 2,
        "common.authenticate": 1,
    }


def test_a_new_process_does_not_log_in_again(
    odoo_sb: OdooTarget, gateway: OdooGateway, settings: SettingsWrapper
) -> None:
    """A worker that starts (a restart, a new child) takes the uid another process logged in
    with from the cache instead of making Odoo hash the password again (SharedLogin)."""
    _warm(gateway.client, odoo_sb)
    before = odoo_sb.calls()
    fresh = OdooGateway(OdooClient(gateway.client.config))  # a new process's client
    assert fresh.products_ids(skus=["SKU-001"]).ids.get("SKU-001")
    assert delta(before, odoo_sb.calls()) == {"product.product.search_read": 1}
    if odoo_sb.transport == "json2":
        return  # JSON-2 has no login at all (the key goes with every call)
    # a wrong secret never uses the shared uid: its own login is refused
    wrong = dataclasses.replace(gateway.client.config, password="not-the-password")
    with pytest.raises(OdooAuthError):
        OdooGateway(OdooClient(wrong)).products_ids(skus=["SKU-001"])
    # with the cache gone (flushed, or a new cache), the next new client logs in once
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    before = odoo_sb.calls()
    assert OdooGateway(OdooClient(gateway.client.config)).products_ids(skus=["SKU-001"]).ids
    assert delta(before, odoo_sb.calls())["common.authenticate"] == 1


def test_lost_create_response_never_duplicates(
    odoo_sb: OdooTarget, gateway: OdooGateway, unique: str
) -> None:
    # given orders, and a sandbox that commits the next write and then drops the response
    s = seed(gateway, unique)
    sku = next(iter(s.products))
    orders = [order(unique, s, n, [(sku, 1)]) for n in range(5)]
    _warm(gateway.client, odoo_sb)
    odoo_sb.sandbox.set_faults(drop_after_commit=1)  # type: ignore[union-attr]
    # when the batch create's answer is lost
    with pytest.raises(TransientError):
        gateway.sale_orders_ensure(orders=orders, confirm=True)
    # and the task layer runs the service again
    odoo_sb.sandbox.set_faults(drop_after_commit=0)  # type: ignore[union-attr]
    ids = gateway.sale_orders_ensure(orders=orders, confirm=True)
    # then exactly one order per reference exists, confirmed
    for o in orders:
        count = gateway.client.call("sale.order", "search_count", [[["origin", "=", o["ref"]]]])
        assert count == 1
    assert {
        st["state"] for st in gateway.sale_orders_read(order_ids=list(ids.values())).values()
    } == {"sale"}


def test_breaker_opens_after_failures_and_closes_after_a_good_probe(
    odoo_sb: OdooTarget, settings: SettingsWrapper, db: None, breaker_clock: Any
) -> None:
    # given a breaker that opens after 3 failures and probes every 0.5 s
    settings.ODOO_BREAKER_THRESHOLD = 3
    settings.ODOO_BREAKER_PROBE_SECONDS = 0.5
    client = OdooClient(OdooConfig.from_settings())
    _warm(client, odoo_sb)
    odoo_sb.sandbox.set_faults(transient_rate=1.0, transient_kind="http503")  # type: ignore[union-attr]
    # when a write fails 3 times
    for _ in range(3):
        with pytest.raises(TransientError):
            client.call("res.partner", "write", [[1], {"comment": "x"}])
    # then the breaker is open and calls fail without reaching Odoo
    assert client.breaker.state() == "open"
    before = odoo_sb.calls()
    with pytest.raises(OdooBreakerOpen) as exc_info:
        client.call("res.partner", "search_count", [[]])
    assert 0 < exc_info.value.retry_after <= 0.5
    assert delta(before, odoo_sb.calls()) == {}
    assert probe_odoo().detail["breaker"] == "open"
    # when Odoo recovers and the probe interval passes
    odoo_sb.sandbox.set_faults(transient_rate=0.0)  # type: ignore[union-attr]
    breaker_clock.advance(0.6)
    assert client.breaker.state() == "half-open"
    # then the next call is the probe, succeeds, and closes the breaker
    assert client.call("res.partner", "search_count", [[]]) >= 0
    assert client.breaker.state() == "closed"


def test_readiness_probe(odoo_sb: OdooTarget, db: None) -> None:
    result = probe_odoo()
    assert result.ok
    assert odoo_sb.sandbox is not None
    assert result.detail["version"] == f"{odoo_sb.sandbox.version}.0"
    assert result.detail["breaker"] == "closed"
    assert result.detail["url"] == odoo_sb.url
    odoo_sb.sandbox.set_faults(down=True)  # type: ignore[union-attr]
    down = probe_odoo()
    assert not down.ok
    assert "error" in down.detail


HAMMER = r"""
import json, os, sys, threading, time
import django
django.setup()
from apps.odoo.client import get_client
client = get_client()
client.uid()
spans = []
real = client.transport.execute
def timed(*a, **kw):
    start = time.time()
    try:
        return real(*a, **kw)
    finally:
        spans.append((start, time.time()))
client.transport.execute = timed
errors = []
def work():
    for _ in range(int(sys.argv[1])):
        try:
            client.call("res.partner", "search_count", [[]])
        except Exception as exc:
            errors.append(repr(exc))
threads = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"spans": spans, "errors": errors}))
"""


@pytest.mark.slow
def test_concurrency_cap_holds_across_two_processes(
    odoo_sb: OdooTarget, transactional_db: None
) -> None:
    # given a cap of 2 and an Odoo that takes 100 ms per call
    from tests.fixtures.worker import ROOT, child_env

    odoo_sb.sandbox.set_faults(latency_ms=100)  # type: ignore[union-attr]
    env = child_env(
        ODOO_URL=odoo_sb.url,
        ODOO_DB=odoo_sb.db,
        ODOO_USER=odoo_sb.user,
        ODOO_PASSWORD=odoo_sb.password,
        ODOO_MAX_CONCURRENCY="2",
        DJANGO_SETTINGS_MODULE="integration_hub.settings",
    )
    # when two processes with 4 threads each hammer it
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, "3"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-3000:]
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    # then every call succeeded and at no instant were more than 2 calls in flight
    assert [r["errors"] for r in results] == [[], []]
    events = sorted(
        [(s, 1) for r in results for s, _ in r["spans"]]
        + [(e, -1) for r in results for _, e in r["spans"]],
        key=lambda ev: (ev[0], ev[1]),  # an exit at the same instant counts before an entry
    )
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    assert sum(len(r["spans"]) for r in results) == 24
    assert peak == 2
