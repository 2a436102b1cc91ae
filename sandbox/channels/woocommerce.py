"""WooCommerce REST API v3 stand-in (``/wp-json/wc/v3/...``).

Auth is HTTP Basic with the consumer key/secret (or the ``consumer_key``/``consumer_secret``
query parameters WooCommerce accepts when a server strips ``Authorization``). Errors use the
WordPress shape ``{code, message, data: {status}}``. Core WooCommerce has no rate limiting; the
optional requests-per-second limiter stands for the host/WAF in front of a real store.

The Shipment Tracking extension (``/wp-json/wc-shipment-tracking/v3/``) is switchable per store
(config ``shipment_tracking``, off by default as on a core WooCommerce): off, its routes answer
``404 rest_no_route`` like any unknown route; on, an order's tracking items can be listed, added,
read and deleted. Items have no lines: the extension knows nothing of partial shipments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re
import threading
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from . import catalog_create, catalog_standin, sender
from .base import Request, Response, int_or_none, iso_naive
from .ratelimit import RequestsPerSecond
from .store import Item, Store

DEFAULT_KEY = "ck_standin_consumer_key"
DEFAULT_SECRET = "cs_standin_consumer_secret"
BATCH_LIMIT = (
    100  # woocommerce_rest_batch_items_limit default (WC_REST_Controller::check_batch_limit)
)
MAX_PER_PAGE = 100  # WordPress REST collection maximum
WEBHOOK_STATUSES = ("active", "paused", "disabled")
PREFIX = "/wp-json/wc/v3/"
TRACKING_PREFIX = "/wp-json/wc-shipment-tracking/v3/"
# The extension's predefined providers (country -> display name -> link template, ``%1$s`` = the
# number). The display name is the API key. An excerpt: the full list and the exact spellings
# are UNCONFIRMED (LIFECYCLE.md §1.2 names Australia Post, Fastway Couriers, bpost, Correios, ...).
TRACKING_PROVIDERS: dict[str, dict[str, str]] = {
    "Australia": {
        "Australia Post": "https://auspost.com.au/mypost/track/#/details/%1$s",
        "Fastway Couriers": "https://www.fastway.com.au/tools/track/?l=%1$s",
    },
    "Belgium": {"bpost": "https://track.bpost.cloud/btr/web/#/search?itemCode=%1$s"},
    "Brazil": {"Correios": "https://rastreamento.correios.com.br/app/index.php?objeto=%1$s"},
    "Canada": {
        "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/%1$s",
        "Purolator": "https://www.purolator.com/en/shipping/tracker?pin=%1$s",
    },
    "United Kingdom": {
        "DHL": "https://www.dhl.com/en/express/tracking.html?AWB=%1$s",
        "DPD.co.uk": "https://track.dpd.co.uk/parcels/%1$s",
        "ParcelForce": "https://www.parcelforce.com/track-trace?trackNumber=%1$s",
        "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/%1$s",
        "TNT Express (consignment)": "https://www.tnt.com/express/en_gb/site/tracking.html?cons=%1$s",
    },
    "United States": {
        "Fedex": "https://www.fedex.com/apps/fedextrack/?tracknumbers=%1$s",
        "OnTrac": "https://www.ontrac.com/tracking/?number=%1$s",
        "UPS": "https://www.ups.com/track?tracknum=%1$s",
        "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels=%1$s",
        "DHL US": "https://www.dhl.com/us-en/home/tracking.html?tracking-id=%1$s",
    },
}
ORDER_STATUSES = {
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
}


def wc_error(status: int, code: str, message: str, **data: Any) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status, **data}})


# -- refunds (LIFECYCLE.md §2.2) ---
CENT = Decimal("0.01")
ERR_NO_REFUND = "Invalid ID."


def _dec(value: Any) -> Decimal | None:
    """A WooCommerce amount (string or number) -> Decimal to the cent; None if not numeric."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        return None


def _flag(value: Any, default: bool) -> bool:
    """WordPress boolean coercion of a REST argument."""
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


class WooCommerce:
    kind = "woocommerce"

    def __init__(
        self, store: Store, consumer_key: str = DEFAULT_KEY, consumer_secret: str = DEFAULT_SECRET
    ) -> None:
        self.store = store
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.limiter = RequestsPerSecond(0)
        self.shipment_tracking = False  # the Shipment Tracking extension is installed
        # Webhook subscription fired by the stand-in itself (order.updated after a refund).
        self.webhook_url = ""
        self.webhook_secret = ""
        # A payment gateway that refuses refunds: its message ("" = the gateway pays).
        self.gateway_refund_error = ""

    # -- control --------------------------------------------------------------------------------
    def credentials(self) -> dict[str, str]:
        return {"consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret}

    def config(self) -> dict[str, Any]:
        return {
            "rps": self.limiter.rps,
            "shipment_tracking": self.shipment_tracking,
            "webhook_url": self.webhook_url,
            "webhook_secret": self.webhook_secret,
            "gateway_refund_error": self.gateway_refund_error,
        }

    def configure(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.config())
        if unknown:
            raise ValueError(f"unknown woocommerce config keys: {sorted(unknown)}")
        if "rps" in values:
            self.limiter.configure(float(values["rps"] or 0))
        if "shipment_tracking" in values:
            self.shipment_tracking = bool(values["shipment_tracking"])
        for key in ("webhook_url", "webhook_secret", "gateway_refund_error"):
            if key in values:
                setattr(self, key, str(values[key] or ""))
        return self.config()

    def reset_limits(self) -> None:
        self.limiter.reset()

    def seed_order(self, data: dict[str, Any]) -> dict[str, Any]:
        st = self.store
        with st.lock:
            oid = int(data.get("id") or st.new_order_id())
            now = float(data.get("updated_at_ts") or time.time())
            lines = []
            for n, line in enumerate(data.get("line_items") or [], start=1):
                item = st.items.get(str(line.get("sku") or ""))
                lines.append(
                    {
                        # Fields the stand-in does not model (subtotal, taxes) stay as given.
                        **{k: v for k, v in line.items() if k != "id"},
                        "id": oid * 100 + n,
                        "name": item.name if item else str(line.get("sku") or "Item"),
                        "product_id": item.product_id if item else 0,
                        "variation_id": item.variant_id if item and item.group else 0,
                        "quantity": int(line.get("quantity") or 1),
                        "sku": str(line.get("sku") or ""),
                        "price": float(line.get("price") or (item.price if item else 0)),
                        "total": str(line.get("total") or "0.00"),
                    }
                )
            given = {
                k: v
                for k, v in data.items()
                if k not in ("id", "updated_at_ts", "line_items") and not k.startswith("_")
            }
            order = {
                # A full wc/v3 order may be seeded: what the stand-in does not model is kept.
                **given,
                "id": oid,
                "parent_id": 0,
                "number": str(oid),
                "order_key": f"wc_order_{oid:x}standin",
                "created_via": "checkout",
                "status": str(data.get("status") or "pending"),
                "currency": str(data.get("currency") or "USD"),
                "date_created": iso_naive(now),
                "date_created_gmt": iso_naive(now),
                "date_modified": iso_naive(now),
                "date_modified_gmt": iso_naive(now),
                "total": str(data.get("total") or "0.00"),
                "customer_id": 0,
                "customer_note": str(data.get("customer_note") or ""),
                "billing": dict(data.get("billing") or {}),
                "shipping": dict(data.get("shipping") or {}),
                "line_items": lines,
                "meta_data": list(data.get("meta_data") or []),
                "refunds": [],
                "_refunds": [],
                "_notes": [],
                "_trackings": [],
            }
            st.orders[oid] = order
            return {"id": oid}

    # -- HTTP -----------------------------------------------------------------------------------
    def _authenticate(self, req: Request) -> Response | None:
        key = secret = None
        auth = req.headers.get("Authorization") or ""
        if auth.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                key = secret = None
        elif req.arg("consumer_key"):
            key, secret = req.arg("consumer_key"), req.arg("consumer_secret")
        if key is None:
            # What WooCommerce answers an anonymous caller: a permission error, not "bad key".
            verb = "list resources" if req.method == "GET" else "edit this resource"
            return wc_error(401, "woocommerce_rest_cannot_view", f"Sorry, you cannot {verb}.")
        if key != self.consumer_key:
            return wc_error(
                401, "woocommerce_rest_authentication_error", "Consumer key is invalid."
            )
        if secret != self.consumer_secret:
            return wc_error(
                401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."
            )
        return None

    def handle(self, req: Request) -> Response:
        tracking = req.path.startswith(TRACKING_PREFIX) and self.shipment_tracking
        if not req.path.startswith(PREFIX) and not tracking:
            # WordPress matches routes before it looks at credentials.
            resp = wc_error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            )
            resp.op = "no_route"
            return resp
        decision = self.limiter.hit()
        if not decision.allowed:
            self.store.throttled()
            resp = Response(
                429,
                {
                    "code": "too_many_requests",
                    "message": "Too Many Requests",
                    "data": {"status": 429},
                },
                {"Retry-After": str(max(1, math.ceil(decision.retry_after)))},
                op="throttled",
            )
            return resp
        denied = self._authenticate(req)
        if denied is not None:
            denied.op = "unauthorized"
            return denied
        if tracking:
            resp = self._tracking_route(req, req.path[len(TRACKING_PREFIX) :].rstrip("/"))
        else:
            resp = self._route(req, req.path[len(PREFIX) :].rstrip("/"))
        resp.write = req.method != "GET"
        return resp

    def _route(self, req: Request, route: str) -> Response:
        m = req.method
        parts = route.split("/")
        try:
            body = req.json() if m in ("POST", "PUT", "PATCH") else None
        except ValueError:
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        body = body if isinstance(body, dict) else {}
        if parts == ["products"] and m == "GET":
            return self._with_op(self._list_products(req), "GET products")
        if parts == ["products"] and m == "POST":
            return self._with_op(catalog_create.woo_create_product(self, body), "POST products")
        if parts == ["products", "batch"] and m in ("POST", "PUT", "PATCH"):
            return self._with_op(self._batch(body, None), "POST products/batch")
        if len(parts) == 2 and parts[0] == "products" and parts[1].isdigit():
            pid = int(parts[1])
            if m == "GET":
                return self._with_op(self._get_product(pid), "GET products/{id}")
            if m in ("PUT", "PATCH", "POST"):
                return self._with_op(self._update_product(pid, body), "PUT products/{id}")
        if (
            len(parts) >= 3
            and parts[0] == "products"
            and parts[1].isdigit()
            and parts[2] == "variations"
        ):
            pid = int(parts[1])
            if len(parts) == 3 and m == "GET":
                return self._with_op(
                    self._list_variations(req, pid), "GET products/{id}/variations"
                )
            if len(parts) == 4 and parts[3] == "batch" and m in ("POST", "PUT", "PATCH"):
                return self._with_op(self._batch(body, pid), "POST products/{id}/variations/batch")
            if len(parts) == 4 and parts[3].isdigit():
                vid = int(parts[3])
                if m == "GET":
                    return self._with_op(
                        self._get_variation(pid, vid), "GET products/{id}/variations/{id}"
                    )
                if m in ("PUT", "PATCH", "POST"):
                    return self._with_op(
                        self._update_variation(pid, vid, body), "PUT products/{id}/variations/{id}"
                    )
        if parts == ["orders"] and m == "GET":
            return self._with_op(self._list_orders(req), "GET orders")
        if parts[0] == "webhooks":
            return self._webhooks(req, parts, body)
        if len(parts) >= 2 and parts[0] == "orders" and parts[1].isdigit():
            oid = int(parts[1])
            if len(parts) == 2 and m == "GET":
                return self._with_op(self._get_order(oid), "GET orders/{id}")
            if len(parts) == 2 and m in ("PUT", "PATCH", "POST"):
                return self._with_op(self._update_order(oid, body), "PUT orders/{id}")
            if len(parts) == 3 and parts[2] == "notes" and m == "POST":
                return self._with_op(self._add_note(oid, body), "POST orders/{id}/notes")
            if len(parts) == 3 and parts[2] == "notes" and m == "GET":
                return self._with_op(self._list_notes(oid), "GET orders/{id}/notes")
            if len(parts) == 3 and parts[2] == "refunds" and m == "GET":
                return self._with_op(self._list_refunds(req, oid), "GET orders/{id}/refunds")
            if len(parts) == 3 and parts[2] == "refunds" and m == "POST":
                return self._with_op(
                    self._create_refund(req, oid, body), "POST orders/{id}/refunds"
                )
            if len(parts) == 4 and parts[2] == "refunds" and parts[3].isdigit() and m == "GET":
                return self._with_op(
                    self._get_refund(oid, int(parts[3])), "GET orders/{id}/refunds/{id}"
                )
        return wc_error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )

    @staticmethod
    def _with_op(resp: Response, op: str) -> Response:
        resp.op = op
        return resp

    # -- serialisation --------------------------------------------------------------------------
    def _stock_fields(self, item: Item) -> dict[str, Any]:
        return {
            "manage_stock": item.manage_stock,
            "stock_quantity": item.stock if item.manage_stock else None,
            "stock_status": "instock"
            if (not item.manage_stock or item.stock > 0)
            else "outofstock",
            "backorders": "no",
        }

    def _product_json(self, product_id: int) -> dict[str, Any]:
        st = self.store
        product = st.products[product_id]
        items = st.product_items(product_id)
        variable = product.has_variants
        first = items[0] if items else None
        modified = max((i.updated_at for i in items), default=time.time())
        out: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "slug": re.sub(r"[^a-z0-9]+", "-", product.name.lower()).strip("-"),
            "type": "variable" if variable else "simple",
            "status": "publish",
            "sku": catalog_create.woo_parent_sku(st, product.id)
            if variable or first is None
            else first.sku,
            "price": "" if first is None else first.price,
            "regular_price": "" if variable or first is None else first.price,
            "parent_id": 0,
            "date_modified": iso_naive(modified),
            "date_modified_gmt": iso_naive(modified),
            "variations": [i.variant_id for i in items] if variable else [],
            "_links": {"self": [{"href": f"/wp-json/wc/v3/products/{product.id}"}]},
        }
        if variable or first is None:
            # A variable product's stock lives on its variations unless managed at parent level.
            out.update(
                manage_stock=False, stock_quantity=None, stock_status="instock", backorders="no"
            )
        else:
            out.update(self._stock_fields(first))
        return out

    def _variation_json(self, item: Item) -> dict[str, Any]:
        return {
            "id": item.variant_id,
            "parent_id": item.product_id,
            "name": item.name,
            "sku": item.sku,
            "price": item.price,
            "regular_price": item.price,
            "status": "publish",
            "date_modified": iso_naive(item.updated_at),
            "date_modified_gmt": iso_naive(item.updated_at),
            "attributes": [],
            **self._stock_fields(item),
        }

    # -- collections ----------------------------------------------------------------------------
    def _page_args(self, req: Request) -> tuple[int, int] | Response:
        per_page = int_or_none(req.arg("per_page", "10"))
        page = int_or_none(req.arg("page", "1"))
        if per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
            return wc_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                params={
                    "per_page": (
                        f"per_page must be between 1 (inclusive) and {MAX_PER_PAGE} (inclusive)"
                    )
                },
            )
        if page is None or page < 1:
            return wc_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): page",
                params={"page": "page must be greater than or equal to 1"},
            )
        return per_page, page

    def _paged(self, req: Request, rows: list[dict[str, Any]]) -> Response:
        args = self._page_args(req)
        if isinstance(args, Response):
            return args
        per_page, page = args
        total = len(rows)
        pages = math.ceil(total / per_page) if total else 0
        chunk = rows[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        base = {
            k: v[-1]
            for k, v in req.query.items()
            if k not in ("page", "consumer_key", "consumer_secret")
        }
        if page > 1:
            links.append(f'<{req.path}?{urlencode({**base, "page": page - 1})}>; rel="prev"')
        if page < pages:
            links.append(f'<{req.path}?{urlencode({**base, "page": page + 1})}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return Response(200, chunk, headers)

    def _list_products(self, req: Request) -> Response:
        st = self.store
        sku = req.arg("sku")
        include = {int(x) for x in (req.arg("include") or "").split(",") if x.strip().isdigit()}
        with st.lock:
            rows = []
            for pid in sorted(st.products):
                if include and pid not in include:
                    continue
                product_json = self._product_json(pid)
                if sku is not None:
                    wanted = {s.strip() for s in sku.split(",")}
                    if product_json["sku"] not in wanted:
                        continue
                rows.append(product_json)
            # WooCommerce's default order is date DESC; id DESC is the same for seeded data.
            if (req.arg("order") or "desc").lower() == "desc" and (
                req.arg("orderby") or "date"
            ) in ("date", "id"):
                rows.reverse()
        return self._paged(req, rows)

    def _list_variations(self, req: Request, pid: int) -> Response:
        st = self.store
        with st.lock:
            product = st.products.get(pid)
            if product is None:
                return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            rows = (
                [self._variation_json(i) for i in st.product_items(pid)]
                if product.has_variants
                else []
            )
        return self._paged(req, rows)

    # -- single resources -----------------------------------------------------------------------
    def _get_product(self, pid: int) -> Response:
        with self.store.lock:
            if pid in self.store.products:
                return Response(200, self._product_json(pid))
            item = self.store.by_variant(pid)
            if item is not None and item.group:
                return Response(200, self._variation_json(item))
        return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")

    def _apply_stock(self, item: Item, data: dict[str, Any]) -> Response | None:
        if "manage_stock" in data:
            item.manage_stock = bool(data["manage_stock"])
        if "stock_quantity" in data:
            qty = data["stock_quantity"]
            if qty is not None and (isinstance(qty, bool) or int_or_none(qty) is None):
                return wc_error(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): stock_quantity",
                    params={"stock_quantity": "stock_quantity is not of type integer."},
                )
            if qty is not None:
                self.store.set_stock(item, int(qty))
        if "regular_price" in data:
            item.price = str(data["regular_price"])
        catalog_standin.woo_item(self.store, item, data)
        item.updated_at = time.time()
        return None

    def _simple_item(self, pid: int) -> Item | None | Response:
        st = self.store
        product = st.products.get(pid)
        if product is None:
            if st.by_variant(pid) is not None:
                # A variation id on the products endpoint: WooCommerce refuses to edit it there.
                return wc_error(
                    400,
                    "woocommerce_rest_invalid_product_id",
                    "To manipulate product variations you should use the "
                    "/products/<product_id>/variations/<id> endpoint.",
                )
            return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        if product.has_variants:
            return None  # variable parent: stock fields are accepted but not stored (see docs)
        return st.items[product.skus[0]]

    def _update_product(self, pid: int, data: dict[str, Any]) -> Response:
        st = self.store
        with st.lock:
            found = self._simple_item(pid)
            if isinstance(found, Response):
                return found
            if found is not None:
                problem = self._apply_stock(found, data)
                if problem is not None:
                    return problem
            st.batch("PUT products/{id}", 1)
            return Response(200, self._product_json(pid))

    def _get_variation(self, pid: int, vid: int) -> Response:
        with self.store.lock:
            item = self.store.by_variant(vid)
            if pid not in self.store.products:
                return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            if item is None or item.product_id != pid or not item.group:
                return wc_error(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
            return Response(200, self._variation_json(item))

    def _update_variation(self, pid: int, vid: int, data: dict[str, Any]) -> Response:
        st = self.store
        with st.lock:
            resp = self._get_variation(pid, vid)
            if resp.status != 200:
                return resp
            item = st.by_variant(vid)
            assert item is not None
            problem = self._apply_stock(item, data)
            if problem is not None:
                return problem
            st.batch("PUT products/{id}/variations/{id}", 1)
            return Response(200, self._variation_json(item))

    def _batch(self, data: dict[str, Any], parent: int | None) -> Response:
        st = self.store
        ops: dict[str, Any] = {k: data.get(k) for k in ("create", "update", "delete") if k in data}
        for k, v in ops.items():
            if not isinstance(v, list):
                return wc_error(
                    400,
                    "rest_invalid_param",
                    f"Invalid parameter(s): {k}",
                    params={k: f"{k} is not of type array."},
                )
        total = sum(len(v or []) for v in ops.values())
        key = "products/batch" if parent is None else "products/{id}/variations/batch"
        st.batch(key, total)
        if total > BATCH_LIMIT:
            return wc_error(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        out: dict[str, list[Any]] = {}
        with st.lock:
            if parent is not None and parent not in st.products:
                return wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
            if "create" in ops:
                out["create"] = []
                for row in ops["create"] or []:
                    sku = str((row or {}).get("sku") or "")
                    if not sku or catalog_create.woo_sku_taken(st, sku):
                        out["create"].append(
                            {
                                "id": 0,
                                "error": {
                                    "code": "product_invalid_sku",
                                    "message": "Invalid or duplicated SKU.",
                                    "data": {"status": 400},
                                },
                            }
                        )
                        continue
                    group = st.products[parent].group if parent is not None else ""
                    if parent is not None and not group:
                        group = st.products[parent].group = f"product-{parent}"
                    (created,) = st.upsert_items(
                        [
                            {
                                "sku": sku,
                                "stock": int(row.get("stock_quantity") or 0),
                                "name": row.get("name") or sku,
                                "group": group,
                            }
                        ]
                    )
                    # The catalog fields of a new product or variation (the hub's creation).
                    if row.get("regular_price") is not None:
                        created.price = str(row["regular_price"])
                    catalog_standin.woo_item(
                        st, created, {k: v for k, v in row.items() if k != "sku"}
                    )
                    if parent is None and row.get("description") is not None:
                        st.products[created.product_id].description = str(row["description"])
                    out["create"].append(
                        self._variation_json(created)
                        if parent is not None
                        else self._product_json(created.product_id)
                    )
            if "update" in ops:
                out["update"] = []
                for row in ops["update"] or []:
                    rid = int_or_none((row or {}).get("id"))
                    if parent is None:
                        found = self._simple_item(rid or 0)
                        if isinstance(found, Response):
                            out["update"].append({"id": rid or 0, "error": found.body})
                            continue
                        if found is not None:
                            problem = self._apply_stock(found, row)
                            if problem is not None:
                                out["update"].append({"id": rid, "error": problem.body})
                                continue
                        catalog_standin.woo_product(st, rid or 0, row)
                        out["update"].append(self._product_json(rid or 0))
                    else:
                        item = st.by_variant(rid or 0)
                        if item is None or item.product_id != parent or not item.group:
                            out["update"].append(
                                {
                                    "id": rid or 0,
                                    "error": {
                                        "code": "woocommerce_rest_product_variation_invalid_id",
                                        "message": "Invalid ID.",
                                        "data": {"status": 400},
                                    },
                                }
                            )
                            continue
                        problem = self._apply_stock(item, row)
                        if problem is not None:
                            out["update"].append({"id": rid, "error": problem.body})
                            continue
                        out["update"].append(self._variation_json(item))
            if "delete" in ops:
                out["delete"] = []
                for rid_raw in ops["delete"] or []:
                    rid = int_or_none(rid_raw) or 0
                    item = st.by_variant(rid)
                    if item is None:
                        out["delete"].append(
                            {
                                "id": rid,
                                "error": {
                                    "code": "woocommerce_rest_product_invalid_id",
                                    "message": "Invalid ID.",
                                    "data": {"status": 400},
                                },
                            }
                        )
                        continue
                    body = (
                        self._variation_json(item)
                        if item.group
                        else self._product_json(item.product_id)
                    )
                    product = st.products[item.product_id]
                    product.skus.remove(item.sku)
                    del st.items[item.sku]
                    if not product.skus and not product.group:
                        del st.products[product.id]
                    out["delete"].append(body)
        return Response(200, out)

    # -- orders ---------------------------------------------------------------------------------
    def _order_json(self, order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if not k.startswith("_")}

    def _list_orders(self, req: Request) -> Response:
        """``GET orders``: ``modified_after`` (exclusive, as WordPress' date query), with
        ``dates_are_gmt``; ``orderby`` id/date/modified, ``order`` asc/desc; paged."""
        after: str | None = req.arg("modified_after")
        gmt = (req.arg("dates_are_gmt") or "").lower() in ("1", "true")
        if after:
            after = after.replace("Z", "").split("+")[0]
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", after):
                return wc_error(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): modified_after",
                    params={"modified_after": "Invalid date."},
                )
        field = "date_modified_gmt" if gmt else "date_modified"
        orderby = {"modified": field, "id": "id"}.get(req.arg("orderby") or "", "date_created_gmt")
        with self.store.lock:
            rows = [
                self._order_json(o)
                for o in self.store.orders.values()
                if o.get("status") != "trash" and (not after or o[field] > after)
            ]
        rows.sort(key=lambda o: (o[orderby], o["id"]), reverse=req.arg("order") != "asc")
        return self._paged(req, rows)

    def _webhooks(self, req: Request, parts: list[str], body: dict[str, Any]) -> Response:
        """``/webhooks`` list (``status`` all/active/paused/disabled) and create; ``/webhooks/<id>``
        read, update (``status``) and delete. The secret is write-only, as in WooCommerce."""
        hooks: dict[int, dict[str, Any]] = self.store.extra.setdefault("webhooks", {})
        m, op = req.method, f"{req.method} webhooks" + ("/{id}" if len(parts) > 1 else "")

        def shown(h: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in h.items() if k != "secret"}

        with self.store.lock:
            if parts == ["webhooks"] and m == "GET":
                status = req.arg("status") or "all"
                rows = [shown(h) for h in hooks.values() if status in ("all", h["status"])]
                return self._with_op(self._paged(req, rows), op)
            if parts == ["webhooks"] and m == "POST":
                topic = str(body.get("topic") or "")
                if not body.get("delivery_url") or not topic:
                    return self._with_op(
                        wc_error(
                            400,
                            "rest_missing_callback_param",
                            "Missing parameter(s): topic, delivery_url",
                            params=["topic", "delivery_url"],
                        ),
                        op,
                    )
                status = str(body.get("status") or "active")
                if status not in WEBHOOK_STATUSES:
                    return self._with_op(
                        wc_error(400, "rest_invalid_param", "Invalid parameter(s): status"), op
                    )
                hid = max(hooks, default=0) + 1
                now = iso_naive(time.time())
                resource, _, event = topic.partition(".")
                hooks[hid] = {
                    "id": hid,
                    "name": str(body.get("name") or f"Webhook created on {now}"),
                    "status": status,
                    "topic": topic,
                    "resource": resource,
                    "event": event,
                    "hooks": [f"woocommerce_{event}_{resource}"],
                    "delivery_url": str(body["delivery_url"]),
                    "secret": str(body.get("secret") or ""),
                    "date_created": now,
                    "date_created_gmt": now,
                    "date_modified": now,
                    "date_modified_gmt": now,
                }
                return self._with_op(Response(201, shown(hooks[hid])), op)
            hook = hooks.get(int(parts[1])) if len(parts) == 2 and parts[1].isdigit() else None
            if hook is None:
                return self._with_op(
                    wc_error(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID."), op
                )
            if m == "GET":
                return self._with_op(Response(200, shown(hook)), op)
            if m in ("PUT", "PATCH", "POST"):
                if body.get("status") is not None and body["status"] not in WEBHOOK_STATUSES:
                    return self._with_op(
                        wc_error(400, "rest_invalid_param", "Invalid parameter(s): status"), op
                    )
                for key in ("name", "status", "delivery_url", "secret"):
                    if body.get(key) is not None:
                        hook[key] = str(body[key])
                hook["date_modified"] = hook["date_modified_gmt"] = iso_naive(time.time())
                return self._with_op(Response(200, shown(hook)), op)
            if m == "DELETE":
                del hooks[hook["id"]]
                return self._with_op(Response(200, shown(hook)), op)
        return self._with_op(
            wc_error(
                404, "rest_no_route", "No route was found matching the URL and request method."
            ),
            op,
        )

    def _get_order(self, oid: int) -> Response:
        with self.store.lock:
            order = self.store.orders.get(oid)
            if order is None:
                return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return Response(200, self._order_json(order))

    def _update_order(self, oid: int, data: dict[str, Any]) -> Response:
        with self.store.lock:
            order = self.store.orders.get(oid)
            if order is None:
                return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            status = data.get("status")
            if status is not None:
                if status not in ORDER_STATUSES:
                    return wc_error(
                        400,
                        "rest_invalid_param",
                        "Invalid parameter(s): status",
                        params={
                            "status": f"status is not one of {', '.join(sorted(ORDER_STATUSES))}."
                        },
                    )
                order["status"] = status
                if status == "completed":
                    order["date_completed"] = iso_naive(time.time())
            if data.get("set_paid"):
                order["date_paid"] = iso_naive(time.time())
                if order["status"] in ("pending", "on-hold", "failed"):
                    order["status"] = "processing"
            for meta in data.get("meta_data") or []:
                existing = next(
                    (m for m in order["meta_data"] if m.get("key") == meta.get("key")), None
                )
                if existing is not None:
                    existing["value"] = meta.get("value")
                else:
                    order["meta_data"].append(
                        {
                            "id": len(order["meta_data"]) + 1,
                            "key": meta.get("key"),
                            "value": meta.get("value"),
                        }
                    )
            if "customer_note" in data:
                order["customer_note"] = str(data["customer_note"] or "")
            now = time.time()
            order["date_modified"] = order["date_modified_gmt"] = iso_naive(now)
            return Response(200, self._order_json(order))

    def _add_note(self, oid: int, data: dict[str, Any]) -> Response:
        with self.store.lock:
            order = self.store.orders.get(oid)
            if order is None:
                return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            text = str(data.get("note") or "")
            if not text:
                return wc_error(
                    400,
                    "rest_missing_callback_param",
                    "Missing parameter(s): note",
                    params=["note"],
                )
            now = time.time()
            note = {
                "id": 9000 + sum(len(o["_notes"]) for o in self.store.orders.values()) + 1,
                "author": "system",
                "date_created": iso_naive(now),
                "date_created_gmt": iso_naive(now),
                "note": text,
                "customer_note": bool(data.get("customer_note")),
                "added_by_user": bool(data.get("added_by_user")),
            }
            order["_notes"].append(note)
            return Response(201, note)

    def _list_notes(self, oid: int) -> Response:
        with self.store.lock:
            order = self.store.orders.get(oid)
            if order is None:
                return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            return Response(200, list(reversed(order["_notes"])))

    # -- Shipment Tracking extension -----------------------------------------------------------
    def _tracking_route(self, req: Request, route: str) -> Response:
        """``orders/<id>/shipment-trackings`` (GET list, POST add), ``…/<tracking_id>`` (GET,
        DELETE) and ``…/providers`` (GET)."""
        parts = route.split("/")
        m = req.method
        no_route = wc_error(
            404, "rest_no_route", "No route was found matching the URL and request method."
        )
        if len(parts) < 3 or parts[0] != "orders" or not parts[1].isdigit():
            return self._with_op(no_route, "tracking:no_route")
        if parts[2] != "shipment-trackings":
            return self._with_op(no_route, "tracking:no_route")
        oid = int(parts[1])
        try:
            body = req.json() if m in ("POST", "PUT") else None
        except ValueError:
            return wc_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        body = body if isinstance(body, dict) else {}
        with self.store.lock:
            order = self.store.orders.get(oid)
            if len(parts) == 4 and parts[3] == "providers" and m == "GET":
                return self._with_op(
                    Response(200, TRACKING_PROVIDERS), "GET shipment-trackings/providers"
                )
            op = f"{m} shipment-trackings" + ("/{id}" if len(parts) == 4 else "")
            if order is None:
                return self._with_op(
                    wc_error(404, "woocommerce_rest_order_invalid_id", "Order ID is invalid."), op
                )
            items: list[dict[str, Any]] = order["_trackings"]
            if len(parts) == 3 and m == "GET":
                return self._with_op(
                    Response(200, [self._tracking_json(oid, t) for t in items]), op
                )
            if len(parts) == 3 and m == "POST":
                return self._with_op(self._add_tracking(oid, order, body), op)
            if len(parts) == 4:
                found = next((t for t in items if t["tracking_id"] == parts[3]), None)
                if found is None:
                    return self._with_op(
                        wc_error(
                            404,
                            "woocommerce_rest_shipment_tracking_invalid_id",
                            "Invalid tracking ID.",
                        ),
                        op,
                    )
                if m == "GET":
                    return self._with_op(Response(200, self._tracking_json(oid, found)), op)
                if m == "DELETE":
                    items.remove(found)
                    return self._with_op(Response(200, self._tracking_json(oid, found)), op)
        return self._with_op(no_route, "tracking:no_route")

    @staticmethod
    def _provider_link(name: str) -> str | None:
        for providers in TRACKING_PROVIDERS.values():
            if name in providers:
                return providers[name]
        return None

    def _add_tracking(self, oid: int, order: dict[str, Any], data: dict[str, Any]) -> Response:
        number = str(data.get("tracking_number") or "").strip()
        if not number:
            return wc_error(
                400,
                "rest_missing_callback_param",
                "Missing parameter(s): tracking_number",
                params=["tracking_number"],
            )
        provider = str(data.get("tracking_provider") or "").strip()
        custom = str(data.get("custom_tracking_provider") or "").strip()
        template = self._provider_link(provider) if provider else None
        if template is not None:
            # Predefined provider: the extension builds the link, a given link is ignored.
            custom, link = "", template.replace("%1$s", number)
        else:
            custom = custom or provider
            provider = ""
            link = str(data.get("custom_tracking_link") or "").replace("%1$s", number)
        shipped = str(data.get("date_shipped") or "")[:10] or iso_naive(time.time())[:10]
        seq = self.store.extra["tracking_seq"] = self.store.extra.get("tracking_seq", 0) + 1
        item = {
            "tracking_id": hashlib.md5(f"{oid}-{seq}-{number}".encode()).hexdigest(),
            "tracking_provider": provider,
            "custom_tracking_provider": custom,
            "custom_tracking_link": link if custom else "",
            "tracking_number": number,
            "tracking_link": link,
            "date_shipped": shipped,
        }
        order["_trackings"].append(item)
        order["date_modified"] = order["date_modified_gmt"] = iso_naive(time.time())
        return Response(201, self._tracking_json(oid, item))

    @staticmethod
    def _tracking_json(oid: int, item: dict[str, Any]) -> dict[str, Any]:
        href = f"/wp-json/wc-shipment-tracking/v3/orders/{oid}/shipment-trackings"
        return {
            **item,
            "tracking_provider": item["tracking_provider"] or item["custom_tracking_provider"],
            "_links": {
                "self": [{"href": f"{href}/{item['tracking_id']}"}],
                "collection": [{"href": href}],
                "up": [{"href": f"/wp-json/wc/v3/orders/{oid}"}],
            },
        }

    # -- refunds (LIFECYCLE.md §2.2) ------------------------------------------------------------

    @staticmethod
    def _refund_total(order: dict[str, Any]) -> Decimal:
        return sum((_dec(r["amount"]) or Decimal("0") for r in order["_refunds"]), Decimal("0.00"))

    @staticmethod
    def _refund_json(r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if not k.startswith("_")}

    def _list_refunds(self, req: Request, oid: int) -> Response:
        with self.store.lock:
            order = self.store.orders.get(oid)
            if order is None:
                return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            rows = [self._refund_json(r) for r in reversed(order["_refunds"])]  # newest first
        return self._paged(req, rows)

    def _get_refund(self, oid: int, rid: int) -> Response:
        with self.store.lock:
            order = self.store.orders.get(oid)
            found = next((r for r in (order or {}).get("_refunds", []) if r["id"] == rid), None)
            if found is None:
                return wc_error(404, "woocommerce_rest_invalid_id", ERR_NO_REFUND)
            return Response(200, self._refund_json(found))

    def _create_refund(self, req: Request, oid: int, data: dict[str, Any]) -> Response:
        """``wc_create_refund`` as the REST controller runs it: amount (or the lines' totals),
        over-refund and gateway errors as 500 ``woocommerce_rest_cannot_create_order_refund``
        (the refund is deleted), ``api_refund`` / ``api_restock`` default **true**, no
        idempotency (an identical POST refunds again), status ``refunded`` when nothing is
        left, then ``order.updated``."""
        st = self.store
        with st.lock:
            order = st.orders.get(oid)
            if order is None:
                return wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            by_id = {int(ln["id"]): ln for ln in order["line_items"]}
            lines_in = data.get("line_items") or []
            amount = _dec(data.get("amount"))
            if data.get("amount") not in (None, "") and amount is None:
                return wc_error(400, "rest_invalid_param", "Invalid parameter(s): amount")
            if amount is None:
                # Omitted: the lines' refund_total + refund_tax, only if every line has one.
                totals = [_dec(li.get("refund_total")) for li in lines_in]
                if lines_in and all(t is not None for t in totals):
                    amount = sum((t for t in totals if t is not None), Decimal("0.00")) + sum(
                        (
                            _dec(t.get("refund_total")) or Decimal("0")
                            for li in lines_in
                            for t in li.get("refund_tax") or []
                        ),
                        Decimal("0.00"),
                    )
                else:
                    amount = Decimal("0.00")
            if amount < 0:
                return wc_error(
                    400,
                    "woocommerce_rest_invalid_order_refund",
                    "Refund amount must be greater than zero.",
                )
            remaining = (_dec(order.get("total")) or Decimal("0")) - self._refund_total(order)
            if amount > remaining:
                return wc_error(
                    500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount."
                )
            refund_lines = []
            seq = st.extra.get("refund_line_seq", 90_000)
            for li in lines_in:
                orig = by_id.get(int_or_none(li.get("id")) or 0)
                if orig is None:
                    continue  # WooCommerce skips unknown item ids
                qty = int_or_none(li.get("quantity")) or 0
                total = _dec(li.get("refund_total")) or Decimal("0.00")
                taxes = [
                    {
                        "id": int_or_none(t.get("id")) or 0,
                        "total": str(-(_dec(t.get("refund_total")) or Decimal("0.00"))),
                        "subtotal": str(-(_dec(t.get("refund_total")) or Decimal("0.00"))),
                    }
                    for t in li.get("refund_tax") or []
                ]
                tax = sum((-Decimal(t["total"]) for t in taxes), Decimal("0.00"))
                seq += 1
                refund_lines.append(
                    {
                        "id": seq,
                        "name": orig.get("name"),
                        "product_id": orig.get("product_id"),
                        "variation_id": orig.get("variation_id"),
                        "quantity": -qty,
                        "tax_class": "",
                        "subtotal": str(-total),
                        "subtotal_tax": str(-tax),
                        "total": str(-total),
                        "total_tax": str(-tax),
                        "taxes": taxes,
                        "meta_data": [
                            {
                                "id": seq * 10,
                                "key": "_refunded_item_id",
                                "value": str(orig["id"]),
                                "display_key": "_refunded_item_id",
                                "display_value": str(orig["id"]),
                            }
                        ],
                        "sku": orig.get("sku"),
                        "price": -float((total / qty) if qty else total),
                    }
                )
            st.extra["refund_line_seq"] = seq
            api_refund = _flag(data.get("api_refund"), True)
            api_restock = _flag(data.get("api_restock"), True)
            if api_refund and self.gateway_refund_error:
                # The gateway refused: wc_create_refund deletes the refund it saved.
                return wc_error(
                    500, "woocommerce_rest_cannot_create_order_refund", self.gateway_refund_error
                )
            rid = st.extra["refund_seq"] = st.extra.get("refund_seq", 9000) + 1
            now = iso_naive(time.time())
            reason = str(data.get("reason") or "") or None
            meta = [
                {"id": rid * 10 + n, "key": m.get("key"), "value": m.get("value")}
                for n, m in enumerate(data.get("meta_data") or [], start=1)
                if isinstance(m, dict) and m.get("key")
            ]
            refund = {
                "id": rid,
                "date_created": now,
                "date_created_gmt": now,
                "amount": str(amount),
                "reason": reason or "",
                "refunded_by": 1,
                "refunded_payment": api_refund,
                "meta_data": meta,
                "line_items": refund_lines,
                "shipping_lines": [],
                "tax_lines": [],
                "fee_lines": [],
                "_api_restock": api_restock,
            }
            order["_refunds"].append(refund)
            order["refunds"] = [
                {"id": r["id"], "reason": r["reason"], "total": str(-Decimal(r["amount"]))}
                for r in reversed(order["_refunds"])
            ]
            if api_restock:
                for li in refund_lines:
                    item = st.items.get(str(li.get("sku") or ""))
                    if item is not None and item.manage_stock and li["quantity"]:
                        st.set_stock(item, item.stock - li["quantity"])  # quantity is negative
            if (_dec(order.get("total")) or Decimal("0")) - self._refund_total(order) <= 0:
                order["status"] = "refunded"
            order["date_modified"] = order["date_modified_gmt"] = now
            answer = self._refund_json(refund)
            self._fire("order.updated", self._order_json(order), req.host, oid)
        return Response(201, answer)

    def _fire(self, topic: str, payload: dict[str, Any], host: str, rid: int) -> None:
        """Deliver one webhook to ``webhook_url`` in the background, as WooCommerce's queued
        delivery does; listed at ``GET /__standin__/deliveries``."""
        if not self.webhook_url:
            return
        body, headers = sender.build_delivery(
            "woocommerce", topic, payload, self.webhook_secret, source=f"http://{host}/"
        )
        entry: dict[str, Any] = {
            "topic": topic,
            "url": self.webhook_url,
            "headers": headers,
            "payload": payload,
            "status": None,
            "queued_at": time.time(),
        }
        self.store.extra.setdefault("deliveries", []).append(entry)
        url, lock = self.webhook_url, self.store.lock

        def deliver() -> None:
            result = sender.post(url, body, headers, timeout=10.0)
            with lock:
                entry.update(result, sent_at=time.time())

        threading.Thread(target=deliver, name=f"webhook {topic}", daemon=True).start()
