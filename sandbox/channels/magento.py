"""Adobe Commerce / Magento 2 REST stand-in (``/rest/<store code>/V1/...``), reads side.

What it answers (CHANNELS.md 4.4, 4.5):

- ``GET orders`` with ``searchCriteria`` (filters with ``eq neq gt gteq lt lteq in nin like
  null notnull``, ``sortOrders``, ``pageSize``/``currentPage``), answering
  ``{items, search_criteria, total_count}`` with FULL orders; a page past the end answers the
  last page again, as Magento's collections do; without ``searchCriteria`` at all it answers
  Magento's 400 ``"%fieldName" is required``.
- ``GET orders/{id}``, ``GET orders/items/{id}``.
- ``GET products`` (search, simple and configurable products: a SKU added with a ``group`` is a
  simple child of the configurable product named by the group), ``GET products/{sku}``,
  ``GET configurable-products/{sku}/children``.
- Orders in REST format: money as JSON numbers, ``created_at``/``updated_at`` as
  ``YYYY-MM-DD HH:MM:SS`` UTC, the order-level ``discount_amount`` negative, line discounts
  positive, a configurable product as a parent line (type ``configurable``, the child's SKU, the
  price) plus a child line (type ``simple``, price 0, ``parent_item_id``), shipping under
  ``extension_attributes.shipping_assignments``; B2B orders carry
  ``extension_attributes.company_order_attributes``.
- Errors as Magento writes them: ``{"message": "...%1...", "parameters": [...]}`` (or a dict
  of ``%name`` parameters); 401 for a wrong token or signature, 404 "Request does not match any
  route." for an unknown path.
- Auth: ``Authorization: Bearer <access token>`` (refused when ``bearer_allowed`` is off, as
  Magento 2.4.4+ does for integration tokens unless enabled), or OAuth 1.0a HMAC-SHA256 with
  the consumer and access token pairs, verified here per RFC 5849.
- The Adobe key host: ``GET /prod/keys/<name>.pem`` (no auth) serves the public keys of the
  I/O Events sender (``adobe_io.py``); ``seed_order`` delivers an I/O event when configured.

Write endpoints (source items, ship, refund, comments, ...) plug in through ``extend``: an
extension is ``handler(platform, req, route, body) -> Response | None`` (``route`` is the path
after ``/V1/`` without a trailing slash, ``body`` the parsed JSON; auth and JSON errors are
already handled; ``None`` = not mine). ``server.StandIn`` registers them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import threading
import time
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import quote

from . import adobe_io, sender
from .base import Request, Response, int_or_none
from .store import Item, Store

DEFAULT_TOKEN = "mg_standin_access_token"
DEFAULT_CONSUMER_KEY = "mg_standin_consumer_key"
DEFAULT_CONSUMER_SECRET = "mg_standin_consumer_secret"
DEFAULT_TOKEN_SECRET = "mg_standin_access_token_secret"
DEFAULT_CLIENT_ID = "standin-io-client-id"
DEFAULT_PROVIDER = "8c1a3d2e-0000-4000-8000-standin00001"
PATH_RE = re.compile(r"^/rest(?:/([A-Za-z0-9_]+))?/V1/(.*)$")
DATE_FMT = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")

Extension = Callable[["Magento", Request, str, Any], "Response | None"]

ERR_ROUTE = "Request does not match any route."
ERR_ENTITY = "The entity that was requested doesn't exist. Verify the entity and try again."
ERR_PRODUCT = "The product that was requested doesn't exist. Verify the product and try again."
ERR_AUTH = "The consumer isn't authorized to access %resources."
ERR_REQUIRED = '"%fieldName" is required. Enter and try again.'


def error(status: int, message: str, parameters: Any = None, op: str = "error") -> Response:
    body: dict[str, Any] = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    return Response(status, body, op=op)


def mdate(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime(DATE_FMT)


def num(value: Decimal) -> int | float:
    """Magento's JSON number: 25 for 25.00, 66.74 for 66.74."""
    value = value.quantize(Decimal("0.0001"))
    return int(value) if value == value.to_integral_value() else float(value)


def dec(value: Any, default: str = "0") -> Decimal:
    return Decimal(str(value if value not in (None, "") else default))


def _oauth_encode(value: str) -> str:
    return quote(value, safe="~-._")


class Magento:
    kind = "magento"

    def __init__(self, store: Store) -> None:
        self.store = store
        self.access_token = DEFAULT_TOKEN
        self.consumer_key = DEFAULT_CONSUMER_KEY
        self.consumer_secret = DEFAULT_CONSUMER_SECRET
        self.access_token_secret = DEFAULT_TOKEN_SECRET
        self.bearer_allowed = True
        self.store_codes = ("default", "all")
        self.extensions: list[Extension] = []
        self.keys = adobe_io.KeyRing()
        self.io_events_url = ""
        self.client_id = DEFAULT_CLIENT_ID
        self.provider_id = DEFAULT_PROVIDER

    def extend(self, handler: Extension) -> None:
        self.extensions.append(handler)

    # -- control --------------------------------------------------------------------------------
    def credentials(self) -> dict[str, str]:
        return {
            "access_token": self.access_token,
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "access_token_secret": self.access_token_secret,
            "store_code": "default",
            "client_id": self.client_id,
        }

    def config(self) -> dict[str, Any]:
        return {
            "bearer_allowed": self.bearer_allowed,
            "io_events_url": self.io_events_url,
            "client_id": self.client_id,
            "provider_id": self.provider_id,
        }

    def configure(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.config())
        if unknown:
            raise ValueError(f"unknown magento config keys: {sorted(unknown)}")
        if "bearer_allowed" in values:
            self.bearer_allowed = bool(values["bearer_allowed"])
        for key in ("io_events_url", "client_id", "provider_id"):
            if key in values:
                setattr(self, key, str(values[key] or ""))
        return self.config()

    def reset_limits(self) -> None:
        return None

    # -- orders ---------------------------------------------------------------------------------
    def seed_order(self, data: dict[str, Any]) -> dict[str, Any]:
        from .magento_orders import build_order

        st = self.store
        with st.lock:
            oid = int(data.get("entity_id") or st.new_order_id())
            order = build_order(self, oid, data)
            st.orders[oid] = order
        if self.io_events_url and data.get("io_event", True):
            self.fire_order_event(order, str(data.get("event_code") or adobe_io.ORDER_PLACED))
        return {"entity_id": oid, "increment_id": order["increment_id"]}

    def touch_order(self, order: dict[str, Any], **changes: Any) -> None:
        """A write to an order (by an extension): new ``updated_at``, one I/O event."""
        order.update(changes)
        now = max(time.time(), order["_modified"] + 1)
        order["_modified"] = now
        order["updated_at"] = mdate(now)
        if self.io_events_url:
            self.fire_order_event(order, adobe_io.ORDER_SAVED)

    # -- I/O Events -----------------------------------------------------------------------------
    def event_delivery(self, event_code: str, value: dict[str, Any], **kw: Any) -> Any:
        body = adobe_io.event_body(
            event_code,
            value,
            client_id=str(kw.pop("client_id", self.client_id)),
            provider_id=self.provider_id,
            event_id=kw.pop("event_id", None),
        )
        return adobe_io.build_event_delivery(
            body, self.keys.ensure(), provider_id=self.provider_id, **kw
        )

    def fire_order_event(self, order: dict[str, Any], event_code: str) -> None:
        """Deliver one order event to ``io_events_url`` in the background; listed at
        ``GET /__standin__/deliveries`` (with the exact body, so a test can replay it)."""
        body, headers = self.event_delivery(event_code, adobe_io.order_value(order))
        entry: dict[str, Any] = {
            "topic": headers["x-adobe-event-code"],
            "url": self.io_events_url,
            "headers": headers,
            "sent_body": body.decode(),  # "body" becomes the hub's answer once sent
            "status": None,
            "queued_at": time.time(),
        }
        self.store.extra.setdefault("deliveries", []).append(entry)
        url, lock = self.io_events_url, self.store.lock

        def deliver() -> None:
            result = sender.post(url, body, headers, timeout=10.0)
            with lock:
                entry.update(result, sent_at=time.time())

        threading.Thread(target=deliver, name="adobe io event", daemon=True).start()

    def send_webhook(self, req: Request, body: dict[str, Any]) -> Response:
        """``POST /__standin__/send-webhook`` for Magento: one signed I/O Events delivery,
        ``{url, topic (event code), payload (data.value) | raw_body, event_id?, client_id?,
        corrupt: [1|2], key_paths: {"1": path}, omit: [header], retry_count, dry_run}``;
        ``dry_run`` answers the signed body and headers without sending them."""
        url, topic = body.get("url"), body.get("topic")
        if not topic or not (url or body.get("dry_run")):
            return Response(400, {"error": "url (or dry_run) and topic are required"})
        raw = body.get("raw_body")
        kw: dict[str, Any] = {
            "corrupt": tuple(int(n) for n in body.get("corrupt") or ()),
            "key_paths": {int(k): str(v) for k, v in (body.get("key_paths") or {}).items()},
            "omit": tuple(str(h) for h in body.get("omit") or ()),
            "retry_count": int(body.get("retry_count") or 0),
        }
        for name in ("event_id", "client_id"):
            if body.get(name) is not None:
                kw[name] = str(body[name])
        if isinstance(raw, str):
            payload, headers = adobe_io.build_event_delivery(
                None,
                self.keys.ensure(),
                provider_id=self.provider_id,
                raw_body=raw.encode(),
                **{k: v for k, v in kw.items() if k not in ("event_id", "client_id")},
            )
        else:
            payload, headers = self.event_delivery(
                str(topic), dict(body.get("payload") or {}), **kw
            )
        if body.get("dry_run"):
            return Response(200, {"headers": headers, "body": payload.decode()})
        result = sender.post(str(url), payload, headers, float(body.get("timeout", 10.0)))
        return Response(200, {"headers": headers, "body": payload.decode(), **result})

    # -- HTTP -----------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.method == "GET" and req.path.startswith(adobe_io.KEY_PATH_PREFIX):
            pem = self.keys.get(req.path)
            if pem is None:
                return Response(404, b"Not Found", {"Content-Type": "text/plain"}, op="adobe_key")
            return Response(200, pem, {"Content-Type": "application/x-pem-file"}, op="adobe_key")
        m = PATH_RE.match(req.path)
        if m is None:
            return error(404, ERR_ROUTE, op="not_found")
        store_code, route = m.group(1) or "default", m.group(2).rstrip("/")
        if store_code not in self.store_codes:
            return error(
                400,
                "The store that was requested wasn't found. Verify the store and try again.",
                op="bad_store",
            )
        if not self._authorized(req):
            return error(401, ERR_AUTH, {"resources": "Magento_Sales::sales"}, op="unauthorized")
        try:
            body = req.json() if req.method in ("POST", "PUT") else None
        except ValueError:
            return error(400, "Decoding error.", op="bad_json")
        with self.store.lock:
            resp = self._route(req, route, body)
            if resp is None:
                for extension in self.extensions:
                    resp = extension(self, req, route, body)
                    if resp is not None:
                        break
        if resp is None:
            return error(404, ERR_ROUTE, op="not_found")
        resp.write = resp.write or req.method != "GET"
        return resp

    def _authorized(self, req: Request) -> bool:
        auth = req.headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            return self.bearer_allowed and hmac.compare_digest(auth[7:], self.access_token)
        if auth.startswith("OAuth "):
            return self._oauth_valid(req, auth[6:])
        return False

    def _oauth_valid(self, req: Request, header: str) -> bool:
        """RFC 5849 signature check (HMAC-SHA256 or HMAC-SHA1) of the request as received."""
        from urllib.parse import unquote

        oauth: dict[str, str] = {}
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            oauth[unquote(name)] = unquote(value.strip('"'))
        if oauth.get("oauth_consumer_key") != self.consumer_key:
            return False
        if oauth.get("oauth_token") != self.access_token:
            return False
        method = oauth.get("oauth_signature_method", "")
        digest = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}.get(method)
        if digest is None:
            return False
        params = [
            (k, v)
            for k, v in oauth.items()
            if k.startswith("oauth_") and k not in ("oauth_signature",)
        ]
        params += [(k, v) for k, values in req.query.items() for v in values]
        normalized = "&".join(
            f"{a}={b}" for a, b in sorted((_oauth_encode(k), _oauth_encode(v)) for k, v in params)
        )
        base_url = f"http://{req.host.lower()}{req.path}"
        base = "&".join(_oauth_encode(s) for s in (req.method.upper(), base_url, normalized))
        key = f"{_oauth_encode(self.consumer_secret)}&{_oauth_encode(self.access_token_secret)}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), digest).digest())
        return hmac.compare_digest(expected.decode(), oauth.get("oauth_signature", ""))

    def _route(self, req: Request, route: str, body: Any) -> Response | None:
        parts = route.split("/")
        if req.method != "GET":
            return None
        if route == "orders":
            return self._search(req, self._orders(), "orders_search")
        if len(parts) == 2 and parts[0] == "orders":
            order = self.store.orders.get(int_or_none(parts[1]) or -1)
            if order is None:
                return error(404, ERR_ENTITY, op="order_missing")
            return Response(200, public(order), op="order_get")
        if len(parts) == 3 and parts[:2] == ["orders", "items"]:
            wanted = int_or_none(parts[2])
            for order in self.store.orders.values():
                for line in order["items"]:
                    if line["item_id"] == wanted:
                        return Response(200, line, op="order_item_get")
            return error(404, ERR_ENTITY, op="order_item_missing")
        if route == "products":
            return self._search(req, self.products(), "products_search")
        if len(parts) == 2 and parts[0] == "products":
            product = next((p for p in self.products() if p["sku"] == parts[1]), None)
            if product is None:
                return error(404, ERR_PRODUCT, op="product_missing")
            return Response(200, product, op="product_get")
        if len(parts) == 3 and parts[0] == "configurable-products" and parts[2] == "children":
            parent = next((p for p in self.products() if p["sku"] == parts[1]), None)
            if parent is None:
                return error(404, ERR_PRODUCT, op="product_missing")
            links = set(parent["extension_attributes"].get("configurable_product_links") or [])
            children = [p for p in self.products() if p["id"] in links]
            return Response(200, children, op="configurable_children")
        return None

    def _orders(self) -> list[dict[str, Any]]:
        return [public(o) for o in sorted(self.store.orders.values(), key=lambda o: o["entity_id"])]

    def _search(self, req: Request, rows: list[dict[str, Any]], op: str) -> Response:
        if "searchCriteria" not in req.raw_query:
            return error(400, ERR_REQUIRED, {"fieldName": "searchCriteria"}, op="criteria_missing")
        from .magento_orders import search

        try:
            result = search(rows, req)
        except ValueError as exc:
            return error(400, str(exc), op="criteria_invalid")
        return Response(200, result, op=op)

    # -- catalog --------------------------------------------------------------------------------
    def products(self) -> list[dict[str, Any]]:
        """Every product as ``GET /V1/products`` lists it: simple ones (a SKU of the store), and
        one configurable parent per group whose ``configurable_product_links`` name them."""
        st = self.store
        out: list[dict[str, Any]] = []
        for product in sorted(st.products.values(), key=lambda p: p.id):
            children = st.product_items(product.id)
            if product.has_variants:
                parent = self._product_json(
                    product.id, parent_sku(product.group), product.name, "configurable"
                )
                parent["extension_attributes"]["configurable_product_links"] = [
                    c.variant_id for c in children
                ]
                parent["price"] = 0
                out.append(parent)
            for item in children:
                child = self._product_json(item.variant_id, item.sku, item.name, "simple", item)
                if product.has_variants:
                    child["visibility"] = 1  # "Not Visible Individually"
                out.append(child)
        return sorted(out, key=lambda p: p["id"])

    @staticmethod
    def _product_json(
        pid: int, sku: str, name: str, type_id: str, item: Item | None = None
    ) -> dict[str, Any]:
        updated = mdate(item.updated_at if item else time.time())
        return {
            "id": pid,
            "sku": sku,
            "name": name,
            "attribute_set_id": 4,
            "price": num(dec(item.price)) if item else 0,
            "status": 1,
            "visibility": 4,
            "type_id": type_id,
            "created_at": updated,
            "updated_at": updated,
            "weight": num(dec(item.weight or "1")) if item else None,
            "extension_attributes": {
                "website_ids": [1],
                "category_links": [],
                **(
                    {
                        "stock_item": {
                            "item_id": pid,
                            "product_id": pid,
                            "stock_id": 1,
                            "qty": item.stock,
                            "is_in_stock": item.stock > 0,
                            "manage_stock": item.manage_stock,
                        }
                    }
                    if item
                    else {}
                ),
            },
            "product_links": [],
            "options": [],
            "media_gallery_entries": [],
            "tier_prices": [],
            "custom_attributes": [],
        }


def parent_sku(group: str) -> str:
    """The configurable parent's SKU for a stand-in product group."""
    return re.sub(r"[^A-Za-z0-9]+", "-", group).strip("-").upper() or "CONFIGURABLE"


def public(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if not k.startswith("_")}


def new_id() -> str:
    return str(uuid.uuid4())


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)
