"""Mixed traffic against the hub, for Locust (driven by bench/load_bench.py, one run per step).

Per 100 requests (task weights; docs/benchmarks.md "Load: mixed traffic" explains the ratio):

- 55 signed webhooks: Shopify orders/create 20, orders/updated 14, redelivery of a delivery
  already sent 4; WooCommerce order.created 9, order.updated 6, redelivery 2. Updates move the
  payment status or the note of an order sent earlier (a later version, same content), as most
  real updates do; 2 % of new orders carry a SKU nobody sells (held, with an inbox item).
- 15 POST /api/v1/orders/ from four B2B portals, each with an Idempotency-Key: 12 new orders,
  3 retries of an earlier request with the same key and body (the stored answer comes back).
- 20 inventory reads, GET /api/v1/inventory/?sku=.. with 1 to 3 SKUs.
- 5 order reads, GET /api/v1/orders/{id}/ of an order the portal posted.
- 5 admin list views by a logged-in staff user: orders changelist 3, inbox 2.

Each user sends LOAD_RATE_PER_USER requests a second (constant throughput), so the offered rate
is users x that. Every request is appended to LOAD_SAMPLES as `epoch,ms,ok,name` (ok is `1` or
`0:<why>`); the driver
cuts the warm-up off and computes the percentiles. LOAD_CONFIG names the channels, secrets,
tokens and session (written by bench/load_topology.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import os
import random
import sys
import uuid
from collections import deque
from decimal import Decimal
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant_throughput, events, task

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sandbox.channels.sender import (  # noqa: E402
    compact_json,
    sign_shopify,
    sign_woocommerce,
    wordpress_json,
)

CONFIG: dict[str, Any] = json.loads(Path(os.environ["LOAD_CONFIG"]).read_text())
STEP = int(os.environ.get("LOAD_STEP", "0"))
RATE_PER_USER = float(os.environ.get("LOAD_RATE_PER_USER", "1"))
DATA = ROOT / "tests" / "data" / "channels"
SHOPIFY = json.loads((DATA / "shopify_order.json").read_text())
WOO = json.loads((DATA / "woocommerce_order.json").read_text())
B2B = json.loads((DATA / "b2b_order.json").read_text())
UNKNOWN_SKU_SHARE = 0.02
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=STEP)

_ids = itertools.count(1)
_samples = open(os.environ["LOAD_SAMPLES"], "a", buffering=1 << 16)  # noqa: SIM115
# What later requests refer back to (gevent: one thread, no locks needed).
_shopify_orders: deque[dict[str, Any]] = deque(maxlen=2000)
_woo_orders: deque[dict[str, Any]] = deque(maxlen=2000)
_deliveries: dict[str, deque[tuple[bytes, dict[str, str]]]] = {
    "shopify": deque(maxlen=200),
    "woo": deque(maxlen=200),
}
_api_requests: deque[tuple[dict[str, str], bytes]] = deque(maxlen=500)
_api_orders: deque[tuple[dict[str, str], int]] = deque(maxlen=2000)


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, start_time: float, **_: Any) -> None:
    ok = "0:" + str(exception).replace(",", ";").replace("\n", " ")[:120] if exception else "1"
    _samples.write(f"{start_time:.3f},{response_time:.1f},{ok},{name}\n")


@events.quitting.add_listener
def _flush(**_: Any) -> None:
    _samples.flush()


def _next_id() -> int:
    return STEP * 1_000_000 + next(_ids)


def _skus(lines: int) -> list[str]:
    skus = random.sample(CONFIG["skus"], lines)
    if random.random() < UNKNOWN_SKU_SHARE:
        skus[0] = random.choice(CONFIG["unknown_skus"])
    return skus


def _at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _later(sent: deque[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """An order sent earlier, and the number of its next version."""
    entry = random.choice(sent)
    entry["version"] += 1
    return entry["order"], int(entry["version"])


def _expect(resp: Any, *codes: int) -> bool:
    """Mark a response (catch_response) as a success when its status is one of `codes`."""
    if resp.status_code in codes:
        resp.success()
        return True
    resp.failure(f"{resp.status_code}: {(resp.text or '')[:200]}")
    return False


class HubTraffic(FastHttpUser):
    wait_time = constant_throughput(RATE_PER_USER)

    def on_start(self) -> None:
        self.portal = random.choice(CONFIG["portals"])
        self.api_headers = {"Authorization": f"Bearer {self.portal['token']}"}
        session = CONFIG["session"]
        self.admin_headers = {"Cookie": f"{session['name']}={session['value']}"}

    # -- helpers ---------------------------------------------------------------------------------
    def _post(self, kind: str, name: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        """A webhook delivery: 202 recorded or 200 duplicate; kept for a later redelivery."""
        headers = {"Content-Type": "application/json", **headers}
        with self.client.post(
            path, data=body, headers=headers, name=name, catch_response=True
        ) as resp:
            if _expect(resp, 200, 202):
                _deliveries[kind].append((body, headers))

    def _standin_order(self, kind: str, order: dict[str, Any]) -> None:
        """The order exists on the shop before its webhook, as on the real platform, so the
        hub's acknowledgement and payment reads find it. Not a hub request: left out of the
        figures (the driver drops the "standin" samples)."""
        url = f"{CONFIG[kind]['standin']}/__standin__/orders"
        headers = {"Content-Type": "application/json"}
        self.client.post(url, data=json.dumps(order), headers=headers, name=f"standin {kind} order")

    def _shopify(self, order: dict[str, Any], topic: str, name: str) -> None:
        body = compact_json(order)
        cfg = CONFIG["shopify"]
        headers = sign_shopify(body, cfg["secret"], topic=topic, shop_domain=cfg["shop"])
        self._post("shopify", name, f"/webhooks/shopify/{cfg['code']}/", body, headers)

    def _woo(self, order: dict[str, Any], topic: str, name: str) -> None:
        body = wordpress_json(order)
        cfg = CONFIG["woo"]
        headers = sign_woocommerce(body, cfg["secret"], topic=topic, source=cfg["source"])
        self._post("woo", name, f"/webhooks/woocommerce/{cfg['code']}/", body, headers)

    def _redeliver(self, kind: str, name: str, path: str) -> None:
        if not _deliveries[kind]:
            return
        body, headers = random.choice(_deliveries[kind])
        with self.client.post(
            path, data=body, headers=headers, name=name, catch_response=True
        ) as resp:
            _expect(resp, 200, 202)

    # -- webhooks: 55 ----------------------------------------------------------------------------
    @task(20)
    def shopify_create(self) -> None:
        n = _next_id()
        order = copy.deepcopy(SHOPIFY)
        order["id"] = 7_000_000_000_000 + n
        order["order_number"] = order["number"] = n
        order["name"] = f"#L{n}"
        order["created_at"] = order["processed_at"] = _at(0).isoformat()
        order["updated_at"] = _at(1).isoformat()
        order["customer"]["id"] = 8_000_000_000_000 + random.randrange(500)
        order["customer"]["email"] = f"buyer{order['customer']['id'] % 500}@example.com"
        for line, sku in zip(order["line_items"], _skus(len(order["line_items"])), strict=True):
            line["sku"] = sku
        _shopify_orders.append({"order": order, "version": 1})
        lines = [
            {"sku": ln["sku"], "quantity": ln["quantity"], "price": ln["price"]}
            for ln in order["line_items"]
        ]
        self._standin_order(
            "shopify", {"id": order["id"], "name": order["name"], "line_items": lines}
        )
        self._shopify(order, "orders/create", "webhook shopify orders/create")

    @task(14)
    def shopify_update(self) -> None:
        if not _shopify_orders:
            self.shopify_create()
            return
        order, version = _later(_shopify_orders)
        order["updated_at"] = _at(version).isoformat()
        order["note"] = f"updated {version}"
        order["tags"] = random.choice(["vip", "vip, newsletter", "wholesale"])
        self._shopify(order, "orders/updated", "webhook shopify orders/updated")

    @task(4)
    def shopify_redelivery(self) -> None:
        path = f"/webhooks/shopify/{CONFIG['shopify']['code']}/"
        self._redeliver("shopify", "webhook shopify redelivery", path)

    @task(9)
    def woo_create(self) -> None:
        n = _next_id()
        order = copy.deepcopy(WOO)
        order["id"] = 50_000_000 + n
        order["number"] = str(order["id"])
        order["order_key"] = f"wc_order_{uuid.uuid4().hex[:13]}"
        stamp = _at(0).strftime("%Y-%m-%dT%H:%M:%S")
        order["date_created_gmt"] = order["date_paid_gmt"] = order["date_modified_gmt"] = stamp
        order["customer_id"] = random.randrange(1, 500)
        order["billing"]["email"] = f"wbuyer{order['customer_id']}@example.com"
        for line, sku in zip(order["line_items"], _skus(len(order["line_items"])), strict=True):
            line["sku"] = sku
        _woo_orders.append({"order": order, "version": 0})
        self._standin_order("woo", order)
        self._woo(order, "order.created", "webhook woocommerce order.created")

    @task(6)
    def woo_update(self) -> None:
        if not _woo_orders:
            self.woo_create()
            return
        order, version = _later(_woo_orders)
        order["date_modified_gmt"] = _at(version).strftime("%Y-%m-%dT%H:%M:%S")
        order["customer_note"] = f"updated {version}"
        self._woo(order, "order.updated", "webhook woocommerce order.updated")

    @task(2)
    def woo_redelivery(self) -> None:
        path = f"/webhooks/woocommerce/{CONFIG['woo']['code']}/"
        self._redeliver("woo", "webhook woocommerce redelivery", path)

    # -- order API: 15 ---------------------------------------------------------------------------
    def _api_post(self, headers: dict[str, str], body: bytes, name: str) -> None:
        with self.client.post(
            "/api/v1/orders/",
            data=body,
            headers={"Content-Type": "application/json", **headers},
            name=name,
            catch_response=True,
        ) as resp:
            if _expect(resp, 200, 201):
                _api_requests.append((headers, body))
                order_id = (resp.json() or {}).get("id")
                if order_id is not None:  # read back later with the poster's own token
                    token = {"Authorization": headers["Authorization"]}
                    _api_orders.append((token, int(order_id)))

    @task(12)
    def api_order(self) -> None:
        n = _next_id()
        order = copy.deepcopy(B2B)
        order["external_id"] = order["number"] = order["po_number"] = f"PO-L{n}"
        order["created_at"] = _at(0).isoformat().replace("+00:00", "Z")
        order["customer"]["external_id"] = f"ACCT-{random.randrange(40)}"
        lines = []
        for i, sku in enumerate(_skus(random.randint(1, 3)), 1):
            qty = random.randint(1, 12)
            lines.append({"line_id": str(i), "sku": sku, "quantity": qty, "unit_price": "25.00"})
        order["lines"] = lines
        total = sum(Decimal("25.00") * ln["quantity"] for ln in lines) + Decimal("5.99")
        order["shipping"] = {"title": "Freight", "price": "5.99", "tax": "0.00"}
        order["totals"] = {"total": str(total)}
        headers = {**self.api_headers, "Idempotency-Key": uuid.uuid4().hex}
        self._api_post(headers, json.dumps(order).encode(), "api POST orders")

    @task(3)
    def api_order_retry(self) -> None:
        if not _api_requests:
            self.api_order()
            return
        headers, body = random.choice(_api_requests)
        self._api_post(headers, body, "api POST orders (same Idempotency-Key)")

    # -- reads: 25 -------------------------------------------------------------------------------
    @task(20)
    def inventory_read(self) -> None:
        query = "&".join(f"sku={s}" for s in random.sample(CONFIG["skus"], random.randint(1, 3)))
        self.client.get(
            f"/api/v1/inventory/?{query}", headers=self.api_headers, name="api GET inventory"
        )

    @task(5)
    def order_read(self) -> None:
        if not _api_orders:
            self.inventory_read()
            return
        headers, order_id = random.choice(_api_orders)
        self.client.get(f"/api/v1/orders/{order_id}/", headers=headers, name="api GET order")

    # -- admin: 5 --------------------------------------------------------------------------------
    def _admin(self, path: str, name: str) -> None:
        with self.client.get(
            path, headers=self.admin_headers, name=name, allow_redirects=False, catch_response=True
        ) as resp:
            _expect(resp, 200)  # a redirect is the login page: the session was not accepted

    @task(3)
    def admin_orders(self) -> None:
        self._admin("/admin/orders/channelorder/", "admin orders changelist")

    @task(2)
    def admin_inbox(self) -> None:
        self._admin("/admin/inbox/issue/", "admin inbox changelist")
