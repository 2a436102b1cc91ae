"""BigCommerce API stand-in (``/stores/<hash>/v3/...`` and ``/stores/<hash>/v2/...``).

Auth is ``X-Auth-Token``. Every response, 429 included, carries the ``X-Rate-Limit-*`` headers of
BigCommerce's per-store quota (150 requests per 30 s window on Standard/Plus by default). v3
errors are problem documents ``{status, title, type, errors}``; v2 errors are lists of
``{status, message}``; an empty v2 page is ``204 No Content``.

v2 shipments: an order's products each belong to one shipping address (``order_address_id``); a
shipment names one address and a subset of its products with quantities, at most what is left to
ship of each. ``shipping_provider`` must be one of BigCommerce's values (or ``carrier_<id>``);
with a provider or an AfterShip ``tracking_carrier`` the answer carries a generated link, else the
custom ``tracking_link``. Over-shipping is a 400 whose wording is UNCONFIRMED (LIFECYCLE.md §1.3).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
import threading
import time
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import catalog_standin, sender
from .base import Request, Response, int_or_none, rfc2822
from .bigcommerce_customers import Customers
from .ratelimit import FixedWindowQuota
from .store import Item, Store

DEFAULT_TOKEN = "bc_standin_auth_token"
DEFAULT_HASH = "abc123"
DEFAULT_QUOTA = 150
DEFAULT_WINDOW_MS = 30_000
ADJUSTMENT_LIMIT = 2000  # inventory adjustments: "Limit of 2000 items for payload length"
MAX_LIMIT = 250
DEFAULT_LOCATION = 1
PROBLEM_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
STATUSES = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
PATH_RE = re.compile(r"^/stores/([^/]+)/(v2|v3)/(.*)$")
SHIPPING_PROVIDERS = {
    "": "",
    "auspost": "Australia Post",
    "canadapost": "Canada Post",
    "endicia": "Endicia",
    "usps": "USPS",
    "fedex": "FedEx",
    "ups": "UPS",
    "upsready": "UPS",
    "upsonline": "UPS",
    "shipperhq": "ShipperHQ",
    "royalmail": "Royal Mail",
}
# Link templates of the stand-in (BigCommerce builds its own; only "a link exists" matters).
PROVIDER_LINKS = {
    "auspost": "https://auspost.com.au/mypost/track/#/details/{n}",
    "canadapost": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "ups": "https://www.ups.com/track?tracknum={n}",
    "royalmail": "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
}
# UNCONFIRMED wording: BigCommerce's over-shipping error is not documented.
ERR_OVERSHIP = (
    "The quantity specified for order product {id} is greater than the quantity left to ship "
    "({left})."
)


def problem(status: int, title: str, errors: dict[str, Any] | None = None) -> Response:
    return Response(
        status, {"status": status, "title": title, "type": PROBLEM_TYPE, "errors": errors or {}}
    )


def v2_error(status: int, message: str) -> Response:
    return Response(status, [{"status": status, "message": message}])


def money(value: Any) -> str:
    return f"{float(value or 0):.4f}"


class BigCommerce:
    kind = "bigcommerce"

    def __init__(
        self, store: Store, auth_token: str = DEFAULT_TOKEN, store_hash: str = DEFAULT_HASH
    ) -> None:
        self.store = store
        self.auth_token = auth_token
        self.store_hash = store_hash
        self.quota = FixedWindowQuota(DEFAULT_QUOTA, DEFAULT_WINDOW_MS)
        self.webhook_url = ""
        self.webhook_secret = ""
        # How long a refund POST takes (the payment call): a second refund of the same order
        # arriving meanwhile is refused, as BigCommerce does not support concurrent refunds.
        self.refund_processing_ms = 0.0

    # -- control --------------------------------------------------------------------------------
    def credentials(self) -> dict[str, str]:
        return {"auth_token": self.auth_token, "store_hash": self.store_hash}

    def config(self) -> dict[str, Any]:
        return {
            "quota": self.quota.quota,
            "window_ms": self.quota.window_ms,
            "webhook_url": self.webhook_url,
            "webhook_secret": self.webhook_secret,
            "refund_processing_ms": self.refund_processing_ms,
        }

    def configure(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.config())
        if unknown:
            raise ValueError(f"unknown bigcommerce config keys: {sorted(unknown)}")
        self.quota.configure(values.get("quota"), values.get("window_ms"))
        for key in ("webhook_url", "webhook_secret"):
            if key in values:
                setattr(self, key, str(values[key] or ""))
        if "refund_processing_ms" in values:
            self.refund_processing_ms = max(0.0, float(values["refund_processing_ms"] or 0))
        return self.config()

    def reset_limits(self) -> None:
        self.quota.reset()

    def seed_order(self, data: dict[str, Any]) -> dict[str, Any]:
        st = self.store
        with st.lock:
            oid = int(data.get("id") or st.new_order_id())
            now = float(data.get("updated_at_ts") or time.time())
            status_id = int(data.get("status_id", 11))
            products: list[dict[str, Any]] = []
            subtotal = 0.0
            given_addresses = list(data.get("shipping_addresses") or [{}])
            for n, line in enumerate(data.get("line_items") or data.get("products") or [], start=1):
                item = st.items.get(str(line.get("sku") or ""))
                qty = int(line.get("quantity") or 1)
                # ``address``: 1-based index into shipping_addresses (default the first).
                address = max(1, int(line.get("address") or 1))
                if address > len(given_addresses):
                    given_addresses.extend({} for _ in range(address - len(given_addresses)))
                price = float(line.get("price") or (item.price if item else 0))
                subtotal += price * qty
                products.append(
                    {
                        "id": oid * 10 + n,
                        "order_id": oid,
                        "product_id": item.product_id if item else 0,
                        "variant_id": item.variant_id if item else 0,
                        "order_address_id": oid * 10 + address - 1,
                        "name": item.name if item else str(line.get("sku") or "Item"),
                        "sku": str(line.get("sku") or ""),
                        "type": "physical",
                        "quantity": qty,
                        "price_ex_tax": money(price),
                        "price_inc_tax": money(price),
                        "price_tax": money(0),
                        "total_ex_tax": money(price * qty),
                        "total_inc_tax": money(price * qty),
                        "total_tax": money(0),
                        "quantity_shipped": 0,
                        "quantity_refunded": 0,
                        "applied_discounts": [],
                        "product_options": [],
                    }
                )
            base = f"https://api.bigcommerce.com/stores/{self.store_hash}/v2/orders/{oid}"
            addresses = []
            for k, given in enumerate(given_addresses):
                aid = oid * 10 + k
                addresses.append(
                    {
                        "first_name": "Ada",
                        "last_name": "Lovelace",
                        "company": "",
                        "street_1": f"{k + 1} Main Street",
                        "street_2": "",
                        "city": "Austin",
                        "state": "Texas",
                        "zip": "78701",
                        "country": "United States",
                        "country_iso2": "US",
                        "phone": "",
                        "email": "ada@example.com",
                        "shipping_method": "Flat Rate",
                        "base_cost": money(0),
                        **{k2: v for k2, v in given.items() if k2 not in ("id", "order_id")},
                        "id": aid,
                        "order_id": oid,
                        "items_total": sum(
                            p["quantity"] for p in products if p["order_address_id"] == aid
                        ),
                        "items_shipped": 0,
                    }
                )
            order = {
                "id": oid,
                "customer_id": int(data.get("customer_id") or 0),
                "date_created": rfc2822(now),
                "date_modified": rfc2822(now),
                "date_shipped": "",
                "status_id": status_id,
                "status": STATUSES.get(status_id, "Pending"),
                "custom_status": STATUSES.get(status_id, "Pending"),
                "subtotal_ex_tax": money(subtotal),
                "subtotal_inc_tax": money(subtotal),
                "total_ex_tax": money(subtotal),
                "total_inc_tax": money(subtotal),
                "items_total": sum(p["quantity"] for p in products),
                "items_shipped": 0,
                "payment_status": str(data.get("payment_status") or "captured"),
                "currency_code": "USD",
                "default_currency_code": "USD",
                "currency_exchange_rate": "1.0000000000",
                "customer_message": str(data.get("customer_message") or ""),
                "staff_notes": str(data.get("staff_notes") or ""),
                "billing_address": dict(data.get("billing_address") or {}),
                "products": {"url": f"{base}/products", "resource": f"/orders/{oid}/products"},
                "shipping_addresses": {
                    "url": f"{base}/shipping_addresses",
                    "resource": f"/orders/{oid}/shipping_addresses",
                },
                "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{oid}/coupons"},
                "_products": products,
                "_addresses": addresses,
                "_shipments": [],
                "_refunds": [],
                "_refunding": False,
                "_providers": list(data.get("payment_providers") or ["braintree"]),
                "_transactions": self._seed_transactions(oid, now, subtotal, data),
                "refunded_amount": money(0),
                "store_credit_amount": money(0),
                "_modified": now,
            }
            st.orders[oid] = order
            return {"id": oid}

    def _seed_transactions(
        self, oid: int, now: float, total: float, data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """``GET /v3/orders/<id>/transactions`` rows (LIFECYCLE.md §3.3): ``transactions`` as
        given (``[{event, amount, gateway, gateway_transaction_id, status, method, offline}]``),
        else one successful ``purchase`` of the order total through the first provider."""
        given = data.get("transactions")
        if given is None:
            gateway = str((data.get("payment_providers") or ["braintree"])[0])
            given = [{"event": "purchase", "amount": total, "gateway": gateway}]
        rows = []
        for n, t in enumerate(given, start=1):
            rows.append(
                {
                    "id": oid * 100 + n,
                    "order_id": str(oid),
                    "event": str(t.get("event") or "purchase"),
                    "method": str(t.get("method") or "credit_card"),
                    "amount": float(t.get("amount") if t.get("amount") is not None else total),
                    "currency": str(t.get("currency") or "USD"),
                    "gateway": str(t.get("gateway") or "braintree"),
                    "gateway_transaction_id": str(
                        t.get("gateway_transaction_id") or f"gw{oid}x{n}{uuid.uuid4().hex[:8]}"
                    ),
                    "date_created": dt.datetime.fromtimestamp(now, dt.UTC).strftime(
                        "%Y-%m-%dT%H:%M:%S+00:00"
                    ),
                    "test": True,
                    "status": str(t.get("status") or "ok"),
                    "fraud_review": False,
                    "reference_transaction_id": t.get("reference_transaction_id"),
                    "offline": bool(t.get("offline", False)),
                    "custom": t.get("custom"),
                }
            )
        return rows

    # -- HTTP -----------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        decision, state = self.quota.hit()
        headers = {
            "X-Rate-Limit-Requests-Left": str(state["left"]),
            "X-Rate-Limit-Time-Reset-Ms": str(state["reset_ms"]),
            "X-Rate-Limit-Requests-Quota": str(state["quota"]),
            "X-Rate-Limit-Time-Window-Ms": str(state["window_ms"]),
        }
        if not decision.allowed:
            self.store.throttled()
            resp = problem(429, "Too many requests")
            resp.headers["X-Retry-After"] = str(max(1, math.ceil(decision.retry_after)))
            resp.op = "throttled"
        else:
            resp = self._dispatch(req)
        resp.headers.update(headers)
        return resp

    def _dispatch(self, req: Request) -> Response:
        m = PATH_RE.match(req.path)
        if m is None or m.group(1) != self.store_hash:
            resp = problem(404, "Store not found")
            resp.op = "not_found"
            return resp
        version, route = m.group(2), m.group(3).rstrip("/")
        if req.headers.get("X-Auth-Token") != self.auth_token:
            resp = (
                problem(401, "No valid credentials were found in this request")
                if version == "v3"
                else v2_error(401, "No valid credentials were found in this request")
            )
            resp.op = "unauthorized"
            return resp
        try:
            body = req.json() if req.method in ("POST", "PUT") else None
        except ValueError:
            return (
                problem(400, "Input is invalid")
                if version == "v3"
                else v2_error(400, "The request body is not valid JSON.")
            )
        resp = self._v3(req, route, body) if version == "v3" else self._v2(req, route, body)
        resp.write = req.method != "GET"
        return resp

    # -- v3 -------------------------------------------------------------------------------------
    def _paging(self, req: Request) -> tuple[int, int] | Response:
        page = int_or_none(req.arg("page", "1"))
        limit = int_or_none(req.arg("limit", "50"))
        if page is None or page < 1 or limit is None or limit < 1:
            return problem(422, "Invalid paging parameters", {"page": "must be a positive integer"})
        return page, min(limit, MAX_LIMIT)

    def _page(self, req: Request, rows: list[dict[str, Any]], op: str) -> Response:
        args = self._paging(req)
        if isinstance(args, Response):
            return args
        page, limit = args
        total = len(rows)
        pages = max(1, math.ceil(total / limit)) if total else 0
        chunk = rows[(page - 1) * limit : page * limit]
        links: dict[str, str] = {"current": f"?page={page}&limit={limit}"}
        if page > 1:
            links["previous"] = f"?page={page - 1}&limit={limit}"
        if page < pages:
            links["next"] = f"?page={page + 1}&limit={limit}"
        meta = {
            "pagination": {
                "total": total,
                "count": len(chunk),
                "per_page": limit,
                "current_page": page,
                "total_pages": pages,
                "links": links,
            }
        }
        resp = Response(200, {"data": chunk, "meta": meta})
        resp.op = op
        return resp

    def _tracking(self, product_id: int) -> str:
        product = self.store.products[product_id]
        return "variant" if product.has_variants else "product"

    def _variant_json(self, item: Item) -> dict[str, Any]:
        return {
            "id": item.variant_id,
            "product_id": item.product_id,
            "sku": item.sku,
            "sku_id": None
            if not self.store.products[item.product_id].has_variants
            else item.variant_id + 1000,
            "price": float(item.price),
            "calculated_price": float(item.price),
            "inventory_level": item.stock,
            "inventory_warning_level": 0,
            "purchasing_disabled": False,
            "option_values": []
            if not item.group
            else [{"id": item.variant_id, "label": item.name, "option_display_name": "Option"}],
        }

    def _product_json(self, product_id: int, include_variants: bool) -> dict[str, Any]:
        st = self.store
        product = st.products[product_id]
        items = st.product_items(product_id)
        first = items[0] if items else None
        tracking = self._tracking(product_id)
        out: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": "physical",
            "sku": "" if product.has_variants or first is None else first.sku,
            "price": float(first.price) if first else 0.0,
            "inventory_level": sum(i.stock for i in items),
            "inventory_tracking": tracking,
            "inventory_warning_level": 0,
            "is_visible": True,
            "base_variant_id": None if product.has_variants or first is None else first.variant_id,
            "date_modified": time.strftime(
                "%Y-%m-%dT%H:%M:%S+00:00",
                time.gmtime(max((i.updated_at for i in items), default=time.time())),
            ),
        }
        if include_variants:
            out["variants"] = [self._variant_json(i) for i in items]
        return out

    def _v3(self, req: Request, route: str, body: Any) -> Response:
        st = self.store
        m = req.method
        parts = route.split("/")
        includes = set((req.arg("include") or "").split(","))
        found = catalog_standin.bc_v3(self, req, parts, body)
        if found is not None:
            return found
        if parts == ["catalog", "products"] and m == "GET":
            sku = req.arg("sku")
            ids = {int(x) for x in (req.arg("id:in") or "").split(",") if x.strip().isdigit()}
            with st.lock:
                rows = [
                    self._product_json(pid, "variants" in includes)
                    for pid in sorted(st.products)
                    if (not ids or pid in ids)
                ]
            if sku is not None:
                rows = [r for r in rows if r["sku"] == sku]
            return self._page(req, rows, "GET v3/catalog/products")
        if (
            len(parts) == 3
            and parts[:2] == ["catalog", "products"]
            and parts[2].isdigit()
            and m == "GET"
        ):
            with st.lock:
                if int(parts[2]) not in st.products:
                    return problem(404, "The requested product was not found.")
                resp = Response(
                    200,
                    {"data": self._product_json(int(parts[2]), "variants" in includes), "meta": {}},
                )
            resp.op = "GET v3/catalog/products/{id}"
            return resp
        if (
            len(parts) == 4
            and parts[:2] == ["catalog", "products"]
            and parts[3] == "variants"
            and m == "GET"
        ):
            pid = int_or_none(parts[2]) or 0
            with st.lock:
                if pid not in st.products:
                    return problem(404, "The requested product was not found.")
                rows = [self._variant_json(i) for i in st.product_items(pid)]
            return self._page(req, rows, "GET v3/catalog/products/{id}/variants")
        if parts == ["catalog", "variants"] and m == "GET":
            skus = req.arg("sku:in") or req.arg("sku")
            wanted = {s.strip() for s in skus.split(",")} if skus else None
            with st.lock:
                rows = [
                    self._variant_json(i)
                    for i in sorted(st.items.values(), key=lambda x: x.variant_id)
                    if wanted is None or i.sku in wanted
                ]
            return self._page(req, rows, "GET v3/catalog/variants")
        if parts == ["inventory", "items"] and m == "GET":
            return self._inventory_items(req)
        if parts == ["inventory", "adjustments", "absolute"] and m == "PUT":
            return self._adjust(body, absolute=True)
        if parts == ["inventory", "adjustments", "relative"] and m == "POST":
            return self._adjust(body, absolute=False)
        if parts == ["customers"]:
            with st.lock:
                found = Customers(st, self._fire).v3(req, parts, body)
            if found is not None:
                found.op = f"{m} v3/customers"
                return found
        if parts[0] == "hooks":
            return self._hooks(req, parts, body)
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "transactions" and m == "GET":
            with st.lock:
                order = st.orders.get(int_or_none(parts[1]) or 0)
                if order is None:
                    return self._op(
                        problem(404, "Order not found"), "GET v3/orders/{id}/transactions"
                    )
                rows = [dict(t) for t in order["_transactions"]]
            return self._page(req, rows, "GET v3/orders/{id}/transactions")
        if len(parts) >= 2 and parts[0] == "orders" and "payment_actions" in parts:
            resp = self._payment_actions(req, parts, body)
            if resp is not None:
                return resp
        resp = problem(404, "Not Found")
        resp.op = f"{m} v3/{route}"
        return resp

    def _hooks(self, req: Request, parts: list[str], body: Any) -> Response:
        """``/v3/hooks`` list (``is_active`` filter) and create; ``/v3/hooks/<id>`` read, update
        (``is_active``, ``destination``, ``headers``) and delete. One hook per scope and
        destination, as on BigCommerce."""
        hooks: dict[int, dict[str, Any]] = self.store.extra.setdefault("hooks", {})
        m, data = req.method, body if isinstance(body, dict) else {}
        op = f"{m} v3/hooks" + ("/{id}" if len(parts) > 1 else "")
        with self.store.lock:
            if parts == ["hooks"] and m == "GET":
                active = req.arg("is_active")
                rows = [
                    dict(h)
                    for h in hooks.values()
                    if active is None or str(h["is_active"]).lower() == active.lower()
                ]
                return self._page(req, rows, op)
            if parts == ["hooks"] and m == "POST":
                scope, dest = str(data.get("scope") or ""), str(data.get("destination") or "")
                if not scope or not dest:
                    resp = problem(422, "Input is invalid", {"scope": "required"})
                elif not dest.startswith("https://"):  # BigCommerce: HTTPS on port 443 only
                    resp = problem(422, "Input is invalid", {"destination": "must be an https URL"})
                elif any(h["scope"] == scope and h["destination"] == dest for h in hooks.values()):
                    resp = problem(
                        422, "Hook already exists for this scope and destination", {"scope": scope}
                    )
                else:
                    hid = max(hooks, default=24_000_000) + 1
                    now = int(time.time())
                    hooks[hid] = {
                        "id": hid,
                        "client_id": "standin_client_id",
                        "store_hash": self.store_hash,
                        "scope": scope,
                        "destination": dest,
                        "headers": dict(data.get("headers") or {}),
                        "is_active": bool(data.get("is_active", True)),
                        "created_at": now,
                        "updated_at": now,
                    }
                    resp = Response(200, {"data": dict(hooks[hid]), "meta": {}})
                resp.op = op
                return resp
            hook = hooks.get(int(parts[1])) if len(parts) == 2 and parts[1].isdigit() else None
            if hook is None:
                resp = problem(404, "The requested hook was not found.")
            elif m == "GET":
                resp = Response(200, {"data": dict(hook), "meta": {}})
            elif m == "PUT":
                for key in ("is_active", "destination", "headers"):
                    if key in data:
                        hook[key] = data[key]
                hook["updated_at"] = int(time.time())
                resp = Response(200, {"data": dict(hook), "meta": {}})
            elif m == "DELETE":
                del hooks[hook["id"]]
                resp = Response(200, {"data": dict(hook), "meta": {}})
            else:
                resp = problem(405, "Method Not Allowed")
        resp.op = op
        return resp

    def _list_orders(self, req: Request) -> Response:
        """``GET /v2/orders``: ``min_date_modified`` (RFC 2822 or ISO 8601, inclusive),
        ``sort`` (``date_modified:asc``, ``id:asc`` …), ``page``/``limit`` (max 250); an empty
        page is 204, as v2 answers."""
        since: float | None = None
        raw = req.arg("min_date_modified")
        if raw:
            try:
                when = (
                    email.utils.parsedate_to_datetime(raw)
                    if "," in raw
                    else dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
                )
            except (TypeError, ValueError):
                return v2_error(400, "The field 'min_date_modified' is invalid.")
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            since = when.timestamp()
        field, _, direction = (req.arg("sort") or "id:asc").partition(":")
        key = "_modified" if field == "date_modified" else "id"
        page = int_or_none(req.arg("page", "1")) or 1
        limit = min(MAX_LIMIT, int_or_none(req.arg("limit", "50")) or 50)
        with self.store.lock:
            rows = sorted(
                (
                    o
                    for o in self.store.orders.values()
                    if since is None or int(o["_modified"]) >= since
                ),
                key=lambda o: (o[key], o["id"]),
                reverse=direction == "desc",
            )
            chunk = [
                {k: v for k, v in o.items() if not k.startswith("_")}
                for o in rows[(page - 1) * limit : page * limit]
            ]
        return Response(200, chunk) if chunk else Response(204)

    def _inventory_items(self, req: Request) -> Response:
        st = self.store
        skus = req.arg("sku:in")
        vids = req.arg("variant_id:in")
        pids = req.arg("product_id:in")
        with st.lock:
            rows = []
            for item in sorted(st.items.values(), key=lambda x: x.variant_id):
                if skus and item.sku not in {s.strip() for s in skus.split(",")}:
                    continue
                if vids and str(item.variant_id) not in {s.strip() for s in vids.split(",")}:
                    continue
                if pids and str(item.product_id) not in {s.strip() for s in pids.split(",")}:
                    continue
                rows.append(
                    {
                        "identity": {
                            "sku": item.sku,
                            "variant_id": item.variant_id,
                            "product_id": item.product_id,
                            "sku_id": None,
                        },
                        "locations": [
                            {
                                "location_id": DEFAULT_LOCATION,
                                "location_code": "BC-LOCATION-1",
                                "location_name": "Default location",
                                "available_to_sell": item.stock,
                                "total_inventory_onhand": item.stock,
                                "location_enabled": True,
                                "settings": {
                                    "safety_stock": 0,
                                    "is_in_stock": item.stock > 0,
                                    "warning_level": 0,
                                    "bin_picking_number": "",
                                },
                            }
                        ],
                    }
                )
        return self._page(req, rows, "GET v3/inventory/items")

    def _adjust(self, body: Any, absolute: bool) -> Response:
        st = self.store
        op = (
            "PUT v3/inventory/adjustments/absolute"
            if absolute
            else "POST v3/inventory/adjustments/relative"
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            resp = problem(422, "Payload contains invalid fields", {"items": "items is required"})
            resp.op = op
            return resp
        st.batch(op, len(items))
        if len(items) > ADJUSTMENT_LIMIT:
            resp = problem(
                422,
                f"The maximum number of items per request is {ADJUSTMENT_LIMIT}",
                {"items": f"must contain at most {ADJUSTMENT_LIMIT} items"},
            )
            resp.op = op
            return resp
        plan: list[tuple[Item, int]] = []
        with st.lock:
            errors: dict[str, str] = {}
            for n, row in enumerate(items):
                if not isinstance(row, dict):
                    errors[f"items.{n}"] = "must be an object"
                    continue
                idents = [k for k in ("sku", "variant_id", "product_id") if k in row]
                qty = row.get("quantity")
                if len(idents) != 1:
                    errors[f"items.{n}"] = "exactly one of sku, variant_id, product_id is required"
                    continue
                if row.get("location_id") != DEFAULT_LOCATION:
                    errors[f"items.{n}.location_id"] = (
                        f"location {row.get('location_id')} does not exist"
                    )
                    continue
                if not isinstance(qty, int) or isinstance(qty, bool) or (absolute and qty < 0):
                    errors[f"items.{n}.quantity"] = (
                        "must be a non-negative integer" if absolute else "must be an integer"
                    )
                    continue
                ident = idents[0]
                item: Item | None = None
                if ident == "sku":
                    item = st.items.get(str(row["sku"]))
                elif ident == "variant_id":
                    item = st.by_variant(int_or_none(row["variant_id"]) or 0)
                    if item is not None and self._tracking(item.product_id) == "product":
                        resp = problem(
                            422,
                            f"[Item with variant_id {item.variant_id} is tracked by product, "
                            "please update stock by product id]",
                        )
                        resp.op = op
                        return resp
                else:
                    pid = int_or_none(row["product_id"]) or 0
                    if pid in st.products and self._tracking(pid) == "variant":
                        resp = problem(
                            422,
                            f"[Item with product_id {pid} is tracked by variant, "
                            "please update stock by variant id]",
                        )
                        resp.op = op
                        return resp
                    prod_items = st.product_items(pid)
                    item = prod_items[0] if prod_items else None
                if item is None:
                    errors[f"items.{n}"] = f"item with {ident} {row[ident]} not found"
                    continue
                plan.append((item, qty))
            if errors:
                resp = problem(422, "Payload contains invalid fields", errors)
                resp.op = op
                return resp
            for item, qty in plan:
                st.set_stock(item, qty if absolute else item.stock + qty)
        resp = Response(200, {"transaction_id": str(uuid.uuid4())})
        resp.op = op
        return resp

    # -- v2 -------------------------------------------------------------------------------------
    def _v2(self, req: Request, route: str, body: Any) -> Response:
        st = self.store
        parts = route.split("/")
        m = req.method
        if parts == ["orders"] and m == "GET":
            resp = self._list_orders(req)
            resp.op = "GET v2/orders"
            return resp
        if parts[0] == "customer_groups":
            with st.lock:
                found = Customers(st, self._fire).v2(req, parts, body)
            if found is not None:
                found.op = f"{m} v2/customer_groups" + ("/{id}" if len(parts) > 1 else "")
                return found
        if len(parts) >= 2 and parts[0] == "orders" and parts[1].isdigit():
            oid = int(parts[1])
            with st.lock:
                order = st.orders.get(oid)
                if order is None:
                    resp = v2_error(404, "The requested resource was not found.")
                elif len(parts) == 2 and m == "GET":
                    resp = Response(200, {k: v for k, v in order.items() if not k.startswith("_")})
                elif len(parts) == 2 and m == "PUT":
                    resp = self._update_order(order, body if isinstance(body, dict) else {})
                elif len(parts) == 3 and parts[2] == "products" and m == "GET":
                    page = int_or_none(req.arg("page", "1")) or 1
                    limit = min(MAX_LIMIT, int_or_none(req.arg("limit", "50")) or 50)
                    chunk = order["_products"][(page - 1) * limit : page * limit]
                    # v2 answers an empty page with 204 and no body, not with [].
                    resp = Response(200, chunk) if chunk else Response(204)
                elif len(parts) == 3 and parts[2] == "shipping_addresses" and m == "GET":
                    rows = order["_addresses"]
                    resp = Response(200, rows) if rows else Response(204)
                elif len(parts) == 3 and parts[2] == "shipments" and m == "POST":
                    resp = self._create_shipment(order, body if isinstance(body, dict) else {})
                elif len(parts) == 3 and parts[2] == "shipments" and m == "GET":
                    resp = (
                        Response(200, order["_shipments"]) if order["_shipments"] else Response(204)
                    )
                elif parts[2:] == ["shipments", "count"] and m == "GET":
                    resp = Response(200, {"count": len(order["_shipments"])})
                elif len(parts) == 4 and parts[2] == "shipments" and parts[3].isdigit():
                    resp = self._shipment(order, int(parts[3]), m, body)
                else:
                    resp = v2_error(404, "The requested resource was not found.")
            resp.op = f"{m} v2/orders/{{id}}" + (f"/{parts[2]}" if len(parts) > 2 else "")
            if len(parts) == 4 and parts[2] == "shipments":
                resp.op += "/count" if parts[3] == "count" else "/{id}"
            return resp
        resp = v2_error(404, "The requested resource was not found.")
        resp.op = f"{m} v2/{route}"
        return resp

    def _update_order(self, order: dict[str, Any], data: dict[str, Any]) -> Response:
        if "status_id" in data:
            sid = int_or_none(data["status_id"])
            if sid not in STATUSES:
                return v2_error(400, "The field 'status_id' is invalid.")
            order["status_id"] = sid
            order["status"] = order["custom_status"] = STATUSES[sid]
        if "staff_notes" in data:
            order["staff_notes"] = str(data["staff_notes"] or "")
        order["_modified"] = time.time()
        order["date_modified"] = rfc2822(order["_modified"])
        return Response(200, {k: v for k, v in order.items() if not k.startswith("_")})

    @staticmethod
    def _tracking_fields(
        data: dict[str, Any], current: dict[str, Any]
    ) -> dict[str, Any] | Response:
        """Tracking fields of a shipment POST/PUT, validated; ``current`` supplies the rest."""
        out = {
            k: str(data[k] if data.get(k) is not None else current.get(k) or "")
            for k in (
                "tracking_number",
                "shipping_provider",
                "tracking_carrier",
                "tracking_link",
                "shipping_method",
                "comments",
            )
        }
        provider = out["shipping_provider"]
        if provider not in SHIPPING_PROVIDERS and not re.fullmatch(r"carrier_\d+", provider):
            return v2_error(400, "The field 'shipping_provider' is invalid.")
        if len(out["tracking_number"]) > 50:
            return v2_error(400, "The field 'tracking_number' exceeds the maximum length (50).")
        if len(out["tracking_link"]) > 500:
            return v2_error(400, "The field 'tracking_link' exceeds the maximum length (500).")
        number = out["tracking_number"]
        generated = ""
        if number and provider in PROVIDER_LINKS:
            generated = PROVIDER_LINKS[provider].format(n=number)
        elif number and out["tracking_carrier"]:
            generated = f"https://track.aftership.com/{out['tracking_carrier']}/{number}"
        out["shipping_provider_display_name"] = SHIPPING_PROVIDERS.get(provider, provider)
        # A custom link only counts when BigCommerce builds none (LIFECYCLE.md §1.3).
        out["generated_tracking_link"] = generated
        return out

    def _create_shipment(self, order: dict[str, Any], data: dict[str, Any]) -> Response:
        address_id = int_or_none(data.get("order_address_id"))
        address = next((a for a in order["_addresses"] if a["id"] == address_id), None)
        if address is None:
            return v2_error(400, "The field 'order_address_id' is invalid.")
        lines = {p["id"]: p for p in order["_products"]}
        items = data.get("items") or []
        if not isinstance(items, list) or not items:
            return v2_error(400, "The field 'items' cannot be empty.")
        wanted: dict[int, int] = {}
        for it in items:
            pid = int_or_none((it or {}).get("order_product_id")) or 0
            qty = int_or_none((it or {}).get("quantity")) or 0
            line = lines.get(pid)
            if line is None or qty <= 0:
                return v2_error(400, "The field 'items' is invalid.")
            if line["order_address_id"] != address_id:
                return v2_error(
                    400,
                    f"The order product {pid} does not belong to order address {address_id}.",
                )
            wanted[pid] = wanted.get(pid, 0) + qty
            left = line["quantity"] - line["quantity_shipped"]
            if wanted[pid] > left:
                return v2_error(400, ERR_OVERSHIP.format(id=pid, left=left))
        fields = self._tracking_fields(data, {})
        if isinstance(fields, Response):
            return fields
        for pid, qty in wanted.items():
            lines[pid]["quantity_shipped"] += qty
        address["items_shipped"] = sum(
            p["quantity_shipped"] for p in order["_products"] if p["order_address_id"] == address_id
        )
        shipped = sum(p["quantity_shipped"] for p in order["_products"])
        order["items_shipped"] = shipped
        # Shipped / Partially Shipped after an API shipment: UNCONFIRMED (LIFECYCLE.md §1.3).
        sid = 2 if shipped >= order["items_total"] else 3
        order["status_id"], order["status"] = sid, STATUSES[sid]
        order["custom_status"] = STATUSES[sid]
        now = time.time()
        order["date_shipped"] = rfc2822(now)
        order["_modified"] = now
        order["date_modified"] = rfc2822(now)
        seq = self.store.extra["shipment_seq"] = self.store.extra.get("shipment_seq", 0) + 1
        shipment = {
            "id": seq,
            "order_id": order["id"],
            "customer_id": order["customer_id"],
            "order_address_id": address_id,
            "date_created": rfc2822(now),
            **fields,
            "billing_address": dict(order["billing_address"]),
            "shipping_address": {
                k: v
                for k, v in address.items()
                if k not in ("id", "order_id", "items_total", "items_shipped")
            },
            "items": [
                {
                    "order_product_id": pid,
                    "product_id": lines[pid]["product_id"],
                    "quantity": qty,
                }
                for pid, qty in wanted.items()
            ],
        }
        order["_shipments"].append(shipment)
        return Response(201, shipment)

    def _shipment(
        self, order: dict[str, Any], shipment_id: int, method: str, body: Any
    ) -> Response:
        """``GET/PUT/DELETE v2/orders/{id}/shipments/{shipment_id}``. A PUT changes the tracking
        fields; ``items`` cannot be changed. Deleting keeps the order's status, as BigCommerce."""
        shipment = next((x for x in order["_shipments"] if x["id"] == shipment_id), None)
        if shipment is None:
            return v2_error(404, "The requested resource was not found.")
        if method == "GET":
            return Response(200, shipment)
        if method == "PUT":
            data = body if isinstance(body, dict) else {}
            if "items" in data:
                return v2_error(400, "The field 'items' cannot be updated.")
            fields = self._tracking_fields(data, shipment)
            if isinstance(fields, Response):
                return fields
            shipment.update(fields)
            order["_modified"] = time.time()
            order["date_modified"] = rfc2822(order["_modified"])
            return Response(200, shipment)
        if method == "DELETE":
            order["_shipments"].remove(shipment)
            lines = {p["id"]: p for p in order["_products"]}
            for it in shipment["items"]:
                lines[it["order_product_id"]]["quantity_shipped"] -= it["quantity"]
            order["items_shipped"] = sum(p["quantity_shipped"] for p in order["_products"])
            return Response(204)
        return v2_error(405, "Method Not Allowed")

    # -- refunds (LIFECYCLE.md §2.3) ----------------------------------------------------------
    def _payment_actions(self, req: Request, parts: list[str], body: Any) -> Response | None:
        m = req.method
        if parts[:2] == ["orders", "payment_actions"] and len(parts) == 4 and m == "GET":
            rid = int_or_none(parts[3]) or 0
            with self.store.lock:
                for o in self.store.orders.values():
                    for r in o.get("_refunds", []):
                        if r["id"] == rid:
                            return self._op(Response(200, {"data": r, "meta": {}}), "GET refund")
            return self._op(problem(404, "Refund not found"), "GET refund")
        oid = int_or_none(parts[1])
        if oid is None or len(parts) != 4 or parts[2] != "payment_actions":
            return None
        action = parts[3]
        op = f"{m} v3/orders/{{id}}/payment_actions/{action}"
        with self.store.lock:
            order = self.store.orders.get(oid)
            if order is None:
                return self._op(problem(404, "Order not found"), op)
            if action == "refunds" and m == "GET":
                rows = list(order["_refunds"])
                return self._op(Response(200, {"data": rows, "meta": {}}), op)
            if action == "refund_quotes" and m == "POST":
                quote = self._quote(order, body)
                if isinstance(quote, Response):
                    return self._op(quote, op)
                return self._op(Response(201, {"data": quote, "meta": {}}), op)
            if action != "refunds" or m != "POST":
                return None
            if order["_refunding"]:
                # "Processing multiple concurrent refunds on the same order is not yet
                # supported": status and wording UNCONFIRMED.
                return self._op(
                    problem(
                        409,
                        "A refund is already being processed for this order",
                        {"order_id": "concurrent refunds are not supported"},
                    ),
                    op,
                )
            order["_refunding"] = True
        try:
            if self.refund_processing_ms:
                time.sleep(self.refund_processing_ms / 1000.0)
            with self.store.lock:
                resp = self._refund(req, order, body)
        finally:
            with self.store.lock:
                order["_refunding"] = False
        return self._op(resp, op)

    @staticmethod
    def _op(resp: Response, op: str) -> Response:
        resp.op = op
        return resp

    @staticmethod
    def _dec(value: Any) -> Decimal:
        try:
            return Decimal(str(value if value not in (None, "") else 0)).quantize(
                Decimal("0.01"), ROUND_HALF_UP
            )
        except InvalidOperation:
            return Decimal("-1")

    def _items_total(self, order: dict[str, Any], body: Any) -> tuple[Decimal, Decimal] | Response:
        """(total, tax) of refund items; 422 for unknown items or more than is left."""
        items = (body or {}).get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return problem(422, "The request body is invalid", {"items": "items are required"})
        products = {p["id"]: p for p in order["_products"]}
        total = tax = Decimal("0.00")
        for n, it in enumerate(items):
            kind = str(it.get("item_type") or "")
            if kind == "PRODUCT":
                p = products.get(int_or_none(it.get("item_id")) or 0)
                qty = int_or_none(it.get("quantity")) or 0
                left = p["quantity"] - p["quantity_refunded"] if p else 0
                if p is None:
                    return problem(422, "Invalid item", {f"items.{n}.item_id": "not found"})
                if qty <= 0 or qty > left:
                    return problem(
                        422,
                        "Refund quantity exceeds the refundable quantity",
                        {f"items.{n}.quantity": f"at most {left}"},
                    )
                total += self._dec(p["price_inc_tax"]) * qty
                tax += self._dec(p["price_tax"]) * qty
            elif kind in ("SHIPPING", "HANDLING", "ORDER", "FEE"):
                amount = self._dec(it.get("amount"))
                if amount <= 0:
                    return problem(422, "Invalid item", {f"items.{n}.amount": "must be positive"})
                total += amount
            else:
                return problem(422, "Invalid item", {f"items.{n}.item_type": "unknown"})
        left = self._dec(order["total_inc_tax"]) - self._dec(order["refunded_amount"])
        if total > left:
            return problem(
                422,
                "Refund amount exceeds the refundable amount",
                {"amount": f"{total} is more than the {left} left to refund"},
            )
        return total, tax

    def _quote(self, order: dict[str, Any], body: Any) -> dict[str, Any] | Response:
        totals = self._items_total(order, body)
        if isinstance(totals, Response):
            return totals
        total, tax = totals
        methods = [
            [
                {
                    "provider_id": p,
                    "provider_description": p.title(),
                    "amount": float(total),
                    "offline": False,
                    "offline_provider": False,
                    "offline_reason": "",
                }
            ]
            for p in order["_providers"]
        ]
        if order.get("customer_id"):
            methods.append(
                [
                    {
                        "provider_id": "storecredit",
                        "provider_description": "Store Credit",
                        "amount": float(total),
                        "offline": False,
                        "offline_provider": False,
                        "offline_reason": "",
                    }
                ]
            )
        methods.append(
            [
                {
                    "provider_id": "custom",
                    "provider_description": "Manual refund",
                    "amount": float(total),
                    "offline": True,
                    "offline_provider": True,
                    "offline_reason": "Refund outside BigCommerce",
                }
            ]
        )
        return {
            "order_id": order["id"],
            "total_refund_amount": float(total),
            "total_refund_tax_amount": float(tax),
            "rounding": 0,
            "adjustment": 0,
            "is_tax_included": True,
            "order_level_refund_amount": 0,
            "refund_methods": methods,
        }

    def _refund(self, req: Request, order: dict[str, Any], body: Any) -> Response:
        quote = self._quote(order, body)
        if isinstance(quote, Response):
            return quote
        payments = (body or {}).get("payments") if isinstance(body, dict) else None
        if not isinstance(payments, list) or not payments:
            return problem(422, "The request body is invalid", {"payments": "required"})
        given = sorted(
            (str(p.get("provider_id")), self._dec(p.get("amount")), bool(p.get("offline")))
            for p in payments
        )
        allowed = [
            sorted(
                (str(x["provider_id"]), self._dec(x["amount"]), bool(x["offline"])) for x in combo
            )
            for combo in quote["refund_methods"]
        ]
        if given not in allowed:
            return problem(
                422,
                "Refund payment amounts must match a refund quote",
                {"payments": "must equal one of the quote's refund_methods"},
            )
        if any(p[0] == "storecredit" for p in given) and not order.get("customer_id"):
            return problem(422, "Unable to provide store credit for a guest customer")
        st = self.store
        rid = st.extra["refund_seq"] = st.extra.get("refund_seq", 0) + 1
        pay_seq = st.extra.get("refund_payment_seq", 0)
        out_payments = []
        for provider, amount, offline in given:
            pay_seq += 1
            out_payments.append(
                {
                    "id": pay_seq,
                    "provider_id": provider,
                    "amount": float(amount),
                    "offline": offline,
                    "is_declined": False,
                    "declined_message": "",
                }
            )
        st.extra["refund_payment_seq"] = pay_seq
        products = {p["id"]: p for p in order["_products"]}
        items = []
        for it in body["items"]:
            qty = int_or_none(it.get("quantity")) or 0
            if it.get("item_type") == "PRODUCT":
                p = products[int(it["item_id"])]
                p["quantity_refunded"] += qty
                amount = self._dec(p["price_inc_tax"]) * qty
                p["refund_amount"] = money(self._dec(p.get("refund_amount") or 0) + amount)
                p["is_refunded"] = p["quantity_refunded"] >= p["quantity"]
            else:
                amount = self._dec(it.get("amount"))
            items.append(
                {
                    "item_type": it.get("item_type"),
                    "item_id": it.get("item_id"),
                    "reason": it.get("reason") or "",
                    "quantity": qty,
                    "requested_amount": float(amount),
                }
            )
        now = time.time()
        total = Decimal(str(quote["total_refund_amount"])).quantize(Decimal("0.01"))
        refund = {
            "id": rid,
            "order_id": order["id"],
            "user_id": 0,
            "created": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "reason": str((body or {}).get("reason") or ""),
            "total_amount": float(total),
            "total_tax": quote["total_refund_tax_amount"],
            "uses_merchant_override_values": False,
            "items": items,
            "payments": out_payments,
        }
        order["_refunds"].append(refund)
        refunded = self._dec(order["refunded_amount"]) + total
        order["refunded_amount"] = money(refunded)
        if any(p[0] == "storecredit" for p in given):
            order["store_credit_amount"] = money(self._dec(order["store_credit_amount"]) + total)
        status = 4 if refunded >= self._dec(order["total_inc_tax"]) else 14
        order["status_id"] = status
        order["status"] = order["custom_status"] = STATUSES[status]
        order["_modified"] = now
        order["date_modified"] = rfc2822(now)
        self._fire(
            "store/order/refund/created",
            {"type": "order", "id": order["id"], "refund": {"refund_id": rid}},
        )
        return Response(201, {"data": refund, "meta": {}})

    def _fire(self, scope: str, data: dict[str, Any]) -> None:
        """Deliver one webhook to ``webhook_url`` in the background (Standard Webhooks keyed by
        ``webhook_secret``, the thin envelope); listed at ``GET /__standin__/deliveries``."""
        if not self.webhook_url:
            return
        body, headers = sender.build_delivery(
            "bigcommerce", scope, data, self.webhook_secret, store_hash=self.store_hash
        )
        entry: dict[str, Any] = {
            "topic": scope,
            "url": self.webhook_url,
            "headers": headers,
            "payload": data,
            "status": None,
            "queued_at": time.time(),
        }
        self.store.extra.setdefault("deliveries", []).append(entry)
        url, lock = self.webhook_url, self.store.lock

        def deliver() -> None:
            result = sender.post(url, body, headers, timeout=10.0)
            with lock:
                entry.update(result, sent_at=time.time())

        threading.Thread(target=deliver, name=f"webhook {scope}", daemon=True).start()
