"""Magento stand-in, write side: MSI source items, legacy stock items, shipments, credit memos,
order comments; and Adobe's I/O Events registration API for the subscription check.

Installed on the ``Magento`` platform by ``install`` (one line in ``server.StandIn``): the REST
routes plug in through ``Magento.extend`` (auth, store code and JSON errors already handled),
the Adobe routes (not on the store: ``/ims/token/v3``, ``/events/...``) wrap ``handle``, and the
config keys below join ``/__standin__/config``. State lives in the orders (``_shipments``,
``_creditmemos``, item quantities, ``status_histories``) and in ``store.extra``, so
``/__standin__/reset`` clears it; writes land in ``/__standin__/received``, batch sizes in
``stats()["batches"]`` (``source-items:<source>``).

REST (CHANNELS.md 4.5; what the facts leave open is marked UNCONFIRMED):

- ``POST inventory/source-items`` ``{"sourceItems": [{sku, source_code, quantity, status}]}``
  -> ``[]``; one invalid item refuses the whole call with 400 ``{"message": "Validation Failed",
  "errors": [{"message", "parameters"}]}`` (the error layout is UNCONFIRMED). A SKU's stock
  (``levels()``) is the sum over its sources. ``GET inventory/source-items`` (searchCriteria).
  With ``msi_enabled`` off both answer 404 "Request does not match any route." (module off).
- ``GET stockItems/{sku}``, ``PUT products/{sku}/stockItems/{itemId}`` ``{"stockItem": {qty,
  is_in_stock}}`` -> the item id (legacy single source; writes the default source).
- ``POST order/{id}/ship`` ``{items?: [{order_item_id, qty}], notify, appendComment, comment:
  {comment, is_visible_on_front}, tracks: [{track_number, title, carrier_code}]}`` -> the
  shipment id (a JSON number). No items ships everything left. Items are the order's top-level
  lines (a configurable parent ships its child). Over-shipping is a 400 (wording UNCONFIRMED).
  ``GET shipments`` (searchCriteria), ``GET shipment/{id}``, ``POST shipment/track``
  ``{"entity": {...}}``, ``DELETE shipment/track/{id}``.
- ``POST order/{id}/refund`` ``{items, notify, appendComment, comment, arguments:
  {shipping_amount, adjustment_positive, adjustment_negative, extension_attributes:
  {return_to_stock_items}}}`` -> the credit memo id. As Magento: without ``shipping_amount``
  the shipping not yet refunded is refunded too; tax and discount are prorated per quantity;
  more than paid-minus-refunded is 400 "The most money available to refund is %1."; items in
  ``return_to_stock_items`` go back to stock. The stand-in treats a line of a paid order as
  invoiced. ``GET creditmemos`` (searchCriteria), ``GET creditmemo/{id}``,
  ``GET creditmemo/{id}/comments``. Whether Magento's list carries ``comments`` is UNCONFIRMED:
  ``list_comments`` off leaves them out of ``GET shipments`` / ``GET creditmemos``.
- ``products_list_children`` off: ``GET products`` leaves configurable children out (as a
  store-scoped listing can), so only ``configurable-products/{sku}/children`` names them.
- ``POST orders/{id}/comments`` ``{"statusHistory": {comment, status?, is_customer_notified,
  is_visible_on_front, parent_id}}`` -> ``true``; a given status becomes the order's.

Credit memos are computed in ``magento_creditmemos.py``, Adobe's routes answered by
``adobe_io_api.py``. Adobe (UNCONFIRMED beyond the field names seen in Adobe's Registration
API samples):
``POST /ims/token/v3`` (client credentials) -> ``{access_token, token_type, expires_in}``;
``GET /events/{consumer org}/registrations`` (Bearer IMS token, ``x-api-key`` = the client id)
-> ``{"_embedded": {"registrations": [{registration_id, client_id, webhook_url, enabled,
webhook_status, delivery_type, events_of_interest: [{event_code}]}]}, "page": {...}}``;
switches ``io_registration_status`` (``verified``; ``none`` = no registration),
``io_registration_enabled``, ``io_registration_url`` (default: ``io_events_url``),
``io_events_of_interest``.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from . import adobe_io_api
from .base import Request, Response, int_or_none
from .magento import ERR_ENTITY, ERR_PRODUCT, ERR_ROUTE, Magento, dec, error, mdate, num
from .magento_orders import search

SHIP_ERR = "Shipment Document Validation Error(s):\n%1"
DEFAULT_EVENTS = [
    "com.adobe.commerce.plugin.sales.api.order_management.place",
    "com.adobe.commerce.observer.sales_order_save_commit_after",
]


class Ops:
    defaults: dict[str, Any] = {
        "msi_enabled": True,
        "msi_sources": ["default"],
        "list_comments": True,
        "products_list_children": True,
        "io_registration_status": "verified",
        "io_registration_enabled": True,
        "io_registration_url": "",
        "io_events_of_interest": DEFAULT_EVENTS,
    }

    def __init__(self, platform: Magento) -> None:
        self.platform = platform
        self.store = platform.store
        self.values: dict[str, Any] = json.loads(json.dumps(self.defaults))

    def config(self) -> dict[str, Any]:
        return dict(self.values)

    def configure(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key in ("msi_sources", "io_events_of_interest"):
                self.values[key] = [str(v) for v in value or []]
            elif key in (
                "msi_enabled",
                "list_comments",
                "products_list_children",
                "io_registration_enabled",
            ):
                self.values[key] = bool(value)
            else:
                self.values[key] = str(value or "")

    # -- helpers ----------------------------------------------------------------------------------
    def _next(self, name: str, start: int) -> int:
        counters = self.store.extra.setdefault("mg_ids", {})
        counters[name] = counters.get(name, start) + 1
        return int(counters[name])

    def _order(self, raw: str) -> dict[str, Any] | None:
        return self.store.orders.get(int_or_none(raw) or -1)

    def _source_items(self) -> dict[str, dict[str, dict[str, Any]]]:
        """sku -> source -> {quantity, status}; every simple SKU starts on ``default``."""
        found = self.store.extra.get("mg_source_items")
        if found is None:
            found = {
                sku: {"default": {"quantity": item.stock, "status": int(item.stock > 0)}}
                for sku, item in self.store.items.items()
            }
            self.store.extra["mg_source_items"] = found
        for sku, item in self.store.items.items():  # SKUs added since
            found.setdefault(sku, {"default": {"quantity": item.stock, "status": 1}})
        return found

    def _set_source(self, sku: str, source: str, quantity: Any, status: int) -> None:
        per_source = self._source_items().setdefault(sku, {})
        per_source[source] = {"quantity": num(dec(quantity)), "status": status}
        total = sum(dec(v["quantity"]) for v in per_source.values())
        self.store.set_stock(self.store.items[sku], int(total))

    # -- REST (through Magento.extend) -------------------------------------------------------------
    def handle_rest(
        self, platform: Magento, req: Request, route: str, body: Any
    ) -> Response | None:
        parts = route.split("/")
        method = req.method
        if parts[0] == "inventory" and route.startswith("inventory/source-items"):
            if not self.values["msi_enabled"]:
                return error(404, ERR_ROUTE, op="msi_off")
            if route == "inventory/source-items" and method == "POST":
                return self.source_items_save(body)
            if route == "inventory/source-items" and method == "GET":
                rows = [
                    {"sku": sku, "source_code": src, **v}
                    for sku, per in sorted(self._source_items().items())
                    for src, v in sorted(per.items())
                ]
                return Response(200, search(rows, req), op="source_items_search")
        if len(parts) == 2 and parts[0] == "stockItems" and method == "GET":
            return self.stock_item_get(unquote(parts[1]))
        if len(parts) == 4 and parts[:3:2] == ["products", "stockItems"] and method == "PUT":
            return self.stock_item_save(unquote(parts[1]), body)
        if len(parts) == 3 and parts[0] == "order" and method == "POST":
            order = self._order(parts[1])
            if order is None:
                return error(404, ERR_ENTITY, op="order_missing")
            if parts[2] == "ship":
                return self.ship(order, body or {})
            if parts[2] == "refund":
                return self.refund(order, body or {})
        if len(parts) == 3 and parts[0] == "orders" and parts[2] == "comments":
            order = self._order(parts[1])
            if order is None:
                return error(404, ERR_ENTITY, op="order_missing")
            if method == "POST":
                return self.comment_add(order, body or {})
        if method == "GET" and route in ("shipments", "creditmemos"):
            key = "_shipments" if route == "shipments" else "_creditmemos"
            rows = [self._listed(d) for o in self.store.orders.values() for d in o[key]]
            rows.sort(key=lambda d: d["entity_id"])
            return Response(200, search(rows, req), op=f"{route}_search")
        if len(parts) >= 2 and parts[0] in ("shipment", "creditmemo"):
            return self._document_route(parts, method, body)
        return None

    def _listed(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        if not self.values["list_comments"]:
            out.pop("comments", None)
        return out

    def _document_route(self, parts: list[str], method: str, body: Any) -> Response | None:
        key = "_shipments" if parts[0] == "shipment" else "_creditmemos"
        if parts[0] == "shipment" and parts[1] == "track":
            if method == "POST" and len(parts) == 2:
                return self.track_add((body or {}).get("entity") or {})
            if method == "DELETE" and len(parts) == 3:
                return self.track_delete(int_or_none(parts[2]) or -1)
            return None
        wanted = int_or_none(parts[1])
        doc = next(
            (d for o in self.store.orders.values() for d in o[key] if d["entity_id"] == wanted),
            None,
        )
        if method != "GET":
            return None
        if doc is None:
            return error(404, ERR_ENTITY, op=f"{parts[0]}_missing")
        if len(parts) == 2:
            return Response(200, doc, op=f"{parts[0]}_get")
        if len(parts) == 3 and parts[2] == "comments":
            rows = list(doc.get("comments") or [])
            return Response(200, {"items": rows, "total_count": len(rows)}, op="comments_list")
        return None

    # -- stock ------------------------------------------------------------------------------------
    def source_items_save(self, body: Any) -> Response:
        items = (body or {}).get("sourceItems") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            return error(
                400,
                '"%fieldName" is required. Enter and try again.',
                {"fieldName": "sourceItems"},
                op="source_items_invalid",
            )
        problems = []
        for n, row in enumerate(items):
            sku, source = str(row.get("sku") or ""), str(row.get("source_code") or "")
            if sku not in self.store.items:
                problems.append(
                    {"message": 'Product with SKU "%1" does not exist.', "parameters": [sku]}
                )
            if source not in self.values["msi_sources"]:
                problems.append(
                    {"message": 'Source with code "%1" does not exist.', "parameters": [source]}
                )
            try:
                if dec(row.get("quantity")) < 0:
                    raise ValueError
            except (ArithmeticError, ValueError):
                problems.append(
                    {
                        "message": '"%field" can not be negative.',
                        "parameters": {"field": f"sourceItems[{n}].quantity"},
                    }
                )
        if problems:
            resp = Response(400, {"message": "Validation Failed", "errors": problems})
            resp.op = "source_items_invalid"
            return resp
        by_source: dict[str, int] = {}
        for row in items:
            source = str(row["source_code"])
            by_source[source] = by_source.get(source, 0) + 1
            self._set_source(
                str(row["sku"]), source, row.get("quantity"), int(row.get("status") or 0)
            )
        for source, size in by_source.items():
            self.store.batch(f"source-items:{source}", size)
        return Response(200, [], op="source_items_save")

    def stock_item_get(self, sku: str) -> Response:
        item = self.store.items.get(sku)
        if item is None:
            return error(404, ERR_PRODUCT, op="stock_item_missing")
        return Response(
            200,
            {
                "item_id": item.variant_id,
                "product_id": item.variant_id,
                "stock_id": 1,
                "qty": item.stock,
                "is_in_stock": item.stock > 0,
                "manage_stock": item.manage_stock,
            },
            op="stock_item_get",
        )

    def stock_item_save(self, sku: str, body: Any) -> Response:
        item = self.store.items.get(sku)
        if item is None:
            return error(404, ERR_PRODUCT, op="stock_item_missing")
        given = (body or {}).get("stockItem") if isinstance(body, dict) else None
        if not isinstance(given, dict) or given.get("qty") is None:
            return error(
                400,
                '"%fieldName" is required. Enter and try again.',
                {"fieldName": "stockItem"},
                op="stock_item_invalid",
            )
        self._set_source(sku, "default", given["qty"], int(bool(given.get("is_in_stock"))))
        return Response(200, item.variant_id, op="stock_item_save")

    # -- shipments --------------------------------------------------------------------------------
    @staticmethod
    def _top(order: dict[str, Any]) -> list[dict[str, Any]]:
        return [ln for ln in order["items"] if not ln.get("parent_item_id")]

    @staticmethod
    def _children(order: dict[str, Any], item_id: int) -> list[dict[str, Any]]:
        return [ln for ln in order["items"] if ln.get("parent_item_id") == item_id]

    @staticmethod
    def _left(line: dict[str, Any]) -> Decimal:
        return dec(line["qty_ordered"]) - sum(
            dec(line.get(k)) for k in ("qty_shipped", "qty_refunded", "qty_canceled")
        )

    def _comment(
        self, parent_id: int, given: Any, notify: bool, entity: str
    ) -> list[dict[str, Any]]:
        text = str((given or {}).get("comment") or "") if isinstance(given, dict) else ""
        if not text:
            return []
        return [
            {
                "entity_id": self._next("comment", 0),
                "parent_id": parent_id,
                "comment": text,
                "is_customer_notified": int(notify),
                "is_visible_on_front": int(bool((given or {}).get("is_visible_on_front"))),
                "created_at": mdate(time.time()),
                "entity_name": entity,
            }
        ]

    def ship(self, order: dict[str, Any], body: dict[str, Any]) -> Response:
        if order["state"] in ("canceled", "closed", "holded"):
            return error(
                400,
                SHIP_ERR,
                ["The order does not allow a shipment to be created."],
                op="ship_refused",
            )
        top = {ln["item_id"]: ln for ln in self._top(order)}
        wanted: dict[int, Decimal] = {}
        given = body.get("items") or []
        if not given:
            wanted = {i: self._left(ln) for i, ln in top.items() if self._left(ln) > 0}
        for row in given:
            iid = int_or_none(row.get("order_item_id"))
            if iid not in top:
                return error(
                    400,
                    SHIP_ERR,
                    [f"The order item {row.get('order_item_id')} can't be shipped."],
                    op="ship_refused",
                )
            wanted[iid] = wanted.get(iid, Decimal(0)) + dec(row.get("qty"))
        if not wanted or any(q <= 0 for q in wanted.values()):
            return error(
                400, SHIP_ERR, ["You can't create a shipment without products."], op="ship_refused"
            )
        for iid, qty in wanted.items():
            if qty > self._left(top[iid]):
                return error(
                    400,
                    SHIP_ERR,
                    ["The quantity to ship must not be greater than the unshipped quantity."],
                    op="ship_refused",
                )
        tracks_in = body.get("tracks") or []
        for t in tracks_in:
            if not str(t.get("track_number") or "") or not str(t.get("carrier_code") or ""):
                return error(
                    400,
                    SHIP_ERR,
                    ["Please enter a tracking number and a carrier."],
                    op="ship_refused",
                )
        sid = self._next("shipment", 0)
        now = mdate(time.time())
        items = []
        for iid, qty in wanted.items():
            line = top[iid]
            for ln in [line, *self._children(order, iid)]:
                ln["qty_shipped"] = num(dec(ln.get("qty_shipped")) + qty)
            items.append(
                {
                    "entity_id": self._next("shipment_item", 0),
                    "parent_id": sid,
                    "order_item_id": iid,
                    "qty": num(qty),
                    "sku": line["sku"],
                    "name": line["name"],
                    "price": line["price"],
                    "product_id": line["product_id"],
                }
            )
        notify = bool(body.get("notify"))
        shipment = {
            "entity_id": sid,
            "increment_id": f"{sid:09d}",
            "order_id": order["entity_id"],
            "store_id": 1,
            "total_qty": num(sum(wanted.values(), Decimal(0))),
            "created_at": now,
            "updated_at": now,
            "email_sent": int(notify),
            "items": items,
            "tracks": [self._track(order["entity_id"], sid, t) for t in tracks_in],
            "comments": self._comment(sid, body.get("comment"), notify, "shipment"),
            "packages": [],
        }
        order["_shipments"].append(shipment)
        done = all(self._left(ln) <= 0 for ln in self._top(order))
        state = "complete" if done and dec(order.get("total_invoiced")) > 0 else order["state"]
        self.platform.touch_order(order, state=state, status=state)
        return Response(200, sid, op="ship")

    def _track(self, order_id: int, parent_id: int, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "entity_id": self._next("track", 0),
            "order_id": order_id,
            "parent_id": parent_id,
            "track_number": str(t.get("track_number") or ""),
            "title": str(t.get("title") or ""),
            "carrier_code": str(t.get("carrier_code") or ""),
            "created_at": mdate(time.time()),
        }

    def track_add(self, entity: dict[str, Any]) -> Response:
        parent = int_or_none(entity.get("parent_id"))
        shipment = next(
            (
                s
                for o in self.store.orders.values()
                for s in o["_shipments"]
                if s["entity_id"] == parent
            ),
            None,
        )
        if shipment is None:
            return error(404, ERR_ENTITY, op="shipment_missing")
        if not entity.get("track_number") or not entity.get("carrier_code"):
            return error(
                400, SHIP_ERR, ["Please enter a tracking number and a carrier."], op="track_refused"
            )
        track = self._track(shipment["order_id"], shipment["entity_id"], entity)
        shipment["tracks"].append(track)
        return Response(200, track, op="track_add")

    def track_delete(self, track_id: int) -> Response:
        for order in self.store.orders.values():
            for shipment in order["_shipments"]:
                kept = [t for t in shipment["tracks"] if t["entity_id"] != track_id]
                if len(kept) != len(shipment["tracks"]):
                    shipment["tracks"] = kept
                    return Response(200, True, op="track_delete")
        return error(404, ERR_ENTITY, op="track_missing")

    def refund(self, order: dict[str, Any], body: dict[str, Any]) -> Response:
        from .magento_creditmemos import refund

        return refund(self, order, body)

    # -- comments ---------------------------------------------------------------------------------
    def comment_add(self, order: dict[str, Any], body: dict[str, Any]) -> Response:
        history = body.get("statusHistory")
        if not isinstance(history, dict) or not str(history.get("comment") or ""):
            return error(
                400,
                '"%fieldName" is required. Enter and try again.',
                {"fieldName": "statusHistory"},
                op="comment_invalid",
            )
        status = str(history.get("status") or "") or None
        order["status_histories"].append(
            {
                "entity_id": self._next("comment", 0),
                "parent_id": order["entity_id"],
                "comment": str(history["comment"]),
                "status": status or order["status"],
                "is_customer_notified": int(bool(history.get("is_customer_notified"))),
                "is_visible_on_front": int(bool(history.get("is_visible_on_front"))),
                "created_at": mdate(time.time()),
                "entity_name": "order",
            }
        )
        self.platform.touch_order(order, **({"status": status} if status else {}))
        return Response(200, True, op="comment_add")


def install(platform: Magento) -> Ops:
    """Plug the write side and the Adobe routes into a Magento stand-in."""
    ops = Ops(platform)
    platform.extend(ops.handle_rest)
    base_handle, base_config, base_configure = platform.handle, platform.config, platform.configure

    def handle(req: Request) -> Response:
        resp = adobe_io_api.handle(ops, req) or base_handle(req)
        listing = req.method == "GET" and req.path.endswith("/V1/products")
        if listing and resp.status == 200 and not ops.values["products_list_children"]:
            # A store-scoped listing that leaves configurable children out: only the
            # configurable-products/{sku}/children route names them.
            with ops.store.lock:
                rows = [p for p in platform.products() if p.get("visibility") != 1]
                resp.body = search(rows, req)
        return resp

    def config() -> dict[str, Any]:
        return {**base_config(), **ops.config()}

    def configure(values: dict[str, Any]) -> dict[str, Any]:
        ops.configure({k: v for k, v in values.items() if k in Ops.defaults})
        base_configure({k: v for k, v in values.items() if k not in Ops.defaults})
        return config()

    platform.ops = ops  # type: ignore[attr-defined]
    platform.handle = handle  # type: ignore[method-assign]
    platform.config = config  # type: ignore[method-assign]
    platform.configure = configure  # type: ignore[method-assign]
    return ops
