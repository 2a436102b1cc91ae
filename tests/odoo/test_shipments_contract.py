"""Shipments contract: carrier on the order, done pickings by cursor, the shipment hint.

The same tests run on the sandbox and, with ODOO_URL set (``-m live_odoo``), on a real Odoo 17.
With ODOO_RECORD_TRANSCRIPTS=<dir> the live run records each test's exchanges as a transcript
(tests/data/odoo/transcripts/3x_hub_*.json) that the sandbox then replays in CI.
The warehouse's own steps (picking quantities, the backorder wizard, tracking numbers) are done
with raw calls the way transcript 13 does them; everything else is the hub's gateway.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from apps.odoo.gateway import (
    SHIPMENT_WEBHOOK_DOMAIN,
    SHIPMENT_WEBHOOK_FIELDS,
    OdooGateway,
)

from .conftest import OdooTarget, Recorder
from .helpers import Seed, seed


def _carrier(gateway: OdooGateway) -> dict[str, Any]:
    """The first active carrier with a product (Odoo demo: "Standard delivery")."""
    carriers = gateway.carriers_read()
    return next(c for c in carriers.values() if c["active"] and c["product_id"])


def _order(tag: str, s: Seed, carrier: dict[str, Any], n: int = 1) -> dict[str, Any]:
    a, b = list(s.products.values())[:2]
    return {
        "ref": f"hubtest:{tag}:ship{n}",
        "partner_id": s.partner.id,
        "partner_shipping_id": s.partner.delivery_id,
        "warehouse_id": s.warehouse_id,
        "client_order_ref": f"PO-{tag}-ship{n}",
        "carrier_id": carrier["id"],
        "lines": [
            {"product_id": a, "qty": 10, "price_unit": 10},
            {"product_id": b, "qty": 2, "price_unit": 20},
            {
                "product_id": carrier["product_id"],
                "qty": 1,
                "price_unit": 7.5,
                "name": "Express (channel)",
                "is_delivery": True,
            },
        ],
    }


def _odoo_now(gateway: OdooGateway) -> str:
    """A cursor a little before now, in Odoo's wire format (UTC)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    return now.strftime("%Y-%m-%d %H:%M:%S")


def _all_pages(gateway: OdooGateway, cursor: str, limit: int) -> tuple[list[dict[str, Any]], str]:
    out: list[dict[str, Any]] = []
    for _ in range(200):
        page = gateway.pickings_done_since(cursor=cursor, limit=limit)
        if not page.pickings:
            return out, cursor
        assert page.next_cursor and page.next_cursor != cursor
        out += page.pickings
        cursor = page.next_cursor
    raise AssertionError("the cursor never reached the end")


def test_sale_order_with_carrier_picking_inherits_it(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "30_hub_sale_order_carrier",
        "Hub: a sale order with carrier_id and the hub's own is_delivery line at the channel's "
        "price; the picking inherits the carrier",
    )
    s = seed(gateway, unique)
    # given the carriers, read once (the push reads them once per batch)
    carrier = _carrier(gateway)
    again = gateway.carriers_read(carrier_ids=[carrier["id"], 999999])
    assert list(again) == [carrier["id"]]  # an unknown id is left out, not an error
    # when the hub creates and confirms an order with the carrier and its shipping line
    ids = gateway.sale_orders_ensure(orders=[_order(unique, s, carrier)], confirm=True)
    so = ids[f"hubtest:{unique}:ship1"]
    # then Odoo added no line of its own, kept the channel's price, and set delivery_set
    row = gateway.client.call(
        "sale.order", "read", [[so], ["carrier_id", "delivery_set", "order_line", "picking_ids"]]
    )[0]
    assert row["carrier_id"][0] == carrier["id"]
    assert row["delivery_set"] is True
    lines = gateway.client.call(
        "sale.order.line", "read", [row["order_line"], ["product_id", "price_unit", "is_delivery"]]
    )
    assert len(lines) == 3
    ship = [ln for ln in lines if ln["is_delivery"]]
    assert [(ln["product_id"][0], ln["price_unit"]) for ln in ship] == [
        (carrier["product_id"], 7.5)
    ]
    # and the delivery picking carries the carrier
    [picking] = gateway.pickings_read(picking_ids=row["picking_ids"])
    assert picking["carrier_id"] == carrier["id"]
    assert picking["carrier"] == carrier["name"]
    assert picking["picking_type_code"] == "outgoing"
    assert picking["dropship"] is False
    recorder.note(f"carrier {carrier['id']} {carrier['name']!r}; order {so}")


def test_done_pickings_with_backorder_and_tracking_found_once_each(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "31_hub_done_pickings_poll",
        "Hub: the shipment poll (pickings_done_since) over a partial delivery validated through "
        "the backorder wizard, its backorder, and a later tracking change",
    )
    s = seed(gateway, unique)
    carrier = _carrier(gateway)
    a, b = list(s.products.values())[:2]
    start = f"{_odoo_now(gateway)}|0"
    so = gateway.sale_orders_ensure(orders=[_order(unique, s, carrier)], confirm=True)[
        f"hubtest:{unique}:ship1"
    ]
    pick1 = gateway.sale_orders_read(order_ids=[so])[so]["picking_ids"][0]
    moves = {
        m["product_id"]: m["move_id"]
        for m in gateway.pickings_read(picking_ids=[pick1])[0]["moves"]
    }

    # when the warehouse ships 6 of 10 of A (B left unpicked) with a tracking number, through the
    # backorder wizard (transcript 13), then the backorder with another tracking number
    call = gateway.client.call
    call("stock.move", "write", [[moves[a]], {"quantity": 6, "picked": True}])
    call("stock.picking", "write", [[pick1], {"carrier_tracking_ref": f"TRK1-{unique}"}])
    action = call("stock.picking", "button_validate", [[pick1]])
    assert action["res_model"] == "stock.backorder.confirmation"
    ctx = action["context"]
    wizard = call("stock.backorder.confirmation", "create", [{}], context=ctx)
    call("stock.backorder.confirmation", "process", [[wizard]], context=ctx)
    pick2 = call("stock.picking", "read", [[pick1], ["backorder_ids"]])[0]["backorder_ids"][0]
    call("stock.picking", "write", [[pick2], {"carrier_tracking_ref": f"TRK2-{unique}"}])
    assert call("stock.picking", "button_validate", [[pick2]]) is True

    # then the poll, paged two at a time from before the order, finds each picking once
    found, cursor = _all_pages(gateway, start, limit=2)
    ours = [p for p in found if p["id"] in (pick1, pick2)]
    assert sorted(p["id"] for p in ours) == [pick1, pick2]
    first, second = (next(p for p in ours if p["id"] == i) for i in (pick1, pick2))
    assert first["tracking_ref"] == f"TRK1-{unique}" and first["backorder_of"] is None
    assert second["tracking_ref"] == f"TRK2-{unique}" and second["backorder_of"] == pick1
    for p in (first, second):
        assert p["sale_id"] == so and p["carrier_id"] == carrier["id"]
        assert p["picking_type_code"] == "outgoing" and p["dropship"] is False
        assert p["origin"] and p["date_done"] and p["tracking_url"] is None
    shipped = {
        p["id"]: {m["sku"]: m["done"] for m in p["moves"] if m["state"] == "done"}
        for p in (first, second)
    }
    sku_a, sku_b = (sku for sku, pid in s.products.items() if pid in (a, b))
    # the unpicked move of B went whole to the backorder (transcript 13)
    assert shipped[pick1] == {sku_a: 6.0}
    assert shipped[pick2] == {sku_a: 4.0, sku_b: 2.0}
    assert all(m["sale_line_id"] for p in (first, second) for m in p["moves"])

    # when polled again from where it stopped: nothing of ours comes back
    again, _ = _all_pages(gateway, cursor, limit=50)
    assert not [p for p in again if p["id"] in (pick1, pick2)]
    # and a poll that overlaps (cursor minus a margin) sees them again: (id, write_date) dedupes
    overlap, _ = _all_pages(gateway, start, limit=50)
    keys = {(p["id"], p["write_date"]) for p in overlap if p["id"] in (pick1, pick2)}
    assert keys == {(p["id"], p["write_date"]) for p in ours}

    # when the tracking number of the first shipment changes later
    time.sleep(1.1)  # a new write_date second, so the change is after the cursor
    call("stock.picking", "write", [[pick1], {"carrier_tracking_ref": f"TRK1b-{unique}"}])
    changed, _ = _all_pages(gateway, cursor, limit=50)
    mine = [p for p in changed if p["id"] in (pick1, pick2)]
    # then only that picking comes back, once, with the new number
    assert [(p["id"], p["tracking_ref"]) for p in mine] == [(pick1, f"TRK1b-{unique}")]
    recorder.note(f"order {so}: pickings {pick1} (6 of A) and backorder {pick2} (4 A + 2 B)")


@pytest.fixture
def hook_listener() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP receiver the (sandbox or real) Odoo can POST to."""
    bodies: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            bodies.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    server.shutdown()
    server.server_close()


def test_shipment_webhook_installer_is_idempotent_and_posts_done_deliveries(
    odoo: OdooTarget,
    gateway: OdooGateway,
    unique: str,
    recorder: Recorder,
    hook_listener: tuple[str, list[dict[str, Any]]],
) -> None:
    recorder.start(
        "32_hub_shipment_webhook",
        "Hub: install-shipment-webhook (base.automation on stock.picking with a filter_domain, "
        "found by name the second time) and a validation that fires it",
    )
    base, bodies = hook_listener
    name = f"Integration Hub test: shipment done {unique}"
    url = f"{base}/webhooks/odoo/t0k3n/pickings/"
    # when the rule is installed twice
    rule, created = gateway.picking_webhook_ensure(name=name, url=url)
    again, created_again = gateway.picking_webhook_ensure(name=name, url=url)
    try:
        # then there is one rule, on stock.picking, with its filter and fields
        assert created is True and created_again is False and again == rule
        call = gateway.client.call
        [row] = call(
            "base.automation",
            "read",
            [[rule], ["trigger", "filter_domain", "trigger_field_ids", "action_server_ids"]],
        )
        assert row["trigger"] == "on_create_or_write"
        assert row["filter_domain"] == SHIPMENT_WEBHOOK_DOMAIN
        assert len(row["trigger_field_ids"]) == 2
        actions = call(
            "ir.actions.server",
            "read",
            [row["action_server_ids"], ["state", "webhook_url", "webhook_field_ids"]],
        )
        assert [(a["state"], a["webhook_url"]) for a in actions] == [("webhook", url)]
        count = call("base.automation", "search_count", [[["name", "=", name]]])
        assert count == 1

        # when a delivery is validated (a confirm and the backorder of nothing: no POST)
        s = seed(gateway, unique)
        carrier = _carrier(gateway)
        so = gateway.sale_orders_ensure(orders=[_order(unique, s, carrier)], confirm=True)[
            f"hubtest:{unique}:ship1"
        ]
        pick = gateway.sale_orders_read(order_ids=[so])[so]["picking_ids"][0]
        call("stock.picking", "write", [[pick], {"carrier_tracking_ref": f"HOOK-{unique}"}])
        assert call("stock.picking", "button_validate", [[pick]]) is True
        deadline = time.monotonic() + 5
        while not bodies and time.monotonic() < deadline:
            time.sleep(0.05)
        # then Odoo POSTed the picking once, as its webhook action writes it
        mine = [b for b in bodies if b["body"].get("id") == pick]
        assert len(mine) == 1, bodies
        # the confirm (picking assigned) did not match the rule's filter: only done ones POST
        assert {b["body"]["state"] for b in bodies} == {"done"}
        body = mine[0]["body"]
        assert mine[0]["path"] == "/webhooks/odoo/t0k3n/pickings/"
        assert list(body) == sorted(body)
        assert set(body) == {"_action", "_id", "_model", *SHIPMENT_WEBHOOK_FIELDS}
        assert body["_model"] == "stock.picking" and body["_id"] == pick
        assert body["state"] == "done" and body["carrier_tracking_ref"] == f"HOOK-{unique}"
        # write_date with microseconds (str() of the datetime), unlike read over RPC
        assert len(body["write_date"]) in (19, 26)
        recorder.note(f"webhook body: {json.dumps(body, sort_keys=True)}")
    finally:
        call = gateway.client.call
        call("base.automation", "unlink", [[rule]])


@pytest.mark.django_db
def test_install_shipment_webhook_command_builds_the_url_from_settings(
    odoo_sb: OdooTarget, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    sb = odoo_sb.sandbox
    assert sb is not None
    settings.HUB_PUBLIC_URL = ""
    with pytest.raises(CommandError, match="--url is required"):
        call_command("odoo", "install-shipment-webhook")
    settings.HUB_PUBLIC_URL = "https://hub.example.com/"
    settings.HUB_ODOO_WEBHOOK_TOKEN = "s3cret"
    call_command("odoo", "install-shipment-webhook")
    call_command("odoo", "install-shipment-webhook")
    out = capsys.readouterr().out
    assert "'Integration Hub: shipment done' created" in out
    assert "already present, kept up to date" in out
    rules = sb.execute(
        "base.automation", "search_read", [], fields=["name", "model_name", "action_server_ids"]
    )
    assert [(r["name"], r["model_name"]) for r in rules] == [
        ("Integration Hub: shipment done", "stock.picking")
    ]
    [action] = sb.execute(
        "ir.actions.server", "read", rules[0]["action_server_ids"], ["webhook_url"]
    )
    assert action["webhook_url"] == "https://hub.example.com/webhooks/odoo/s3cret/pickings/"
