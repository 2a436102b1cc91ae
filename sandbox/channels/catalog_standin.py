"""Catalog writes on the WooCommerce and BigCommerce stand-ins, and the catalog snapshot.

WooCommerce (``products/batch``, ``variations/batch``, ``PUT products/<id>``): besides stock and
``regular_price`` (woocommerce.py), an update keeps ``name``, ``description``, ``sku`` (the
entry is renamed), ``weight``, ``global_unique_id`` (the barcode, WooCommerce 9.2+),
variation ``attributes [{name, option}]`` and product ``images [{src}]``.

BigCommerce (LIFECYCLE §4.3):

- ``PUT v3/catalog/variants`` ``[{id, price, sku, weight, upc, option_values}]``: more than 50
  → 413 "The maximum items allowed in the array is 50"; an unknown id or a negative price →
  422 with ``batch_errors`` and nothing applied.
- ``PUT v3/catalog/products`` ``[{id, name, description}]``: more than 10 → 413.
- ``POST v3/catalog/products`` (a new product with its variants): catalog_create.py.
- ``GET v3/catalog/variants?id:in=`` (with ``product_id`` in each row).
- ``POST v3/catalog/products/<id>/images`` ``{image_url, is_thumbnail}``.
- Price lists: ``POST v3/pricelists``, ``POST v3/pricelists/assignments`` (≤ 25),
  ``PUT v3/pricelists/<id>/records`` (upsert, ≤ 1,000 records → else 413; more than 2 such
  calls at once → 429), ``GET v3/pricelists/<id>/records``.

``GET /__standin__/catalog`` returns products (name, description, images, variants with price,
barcode, weight, options) and the B2B price lists of any kind.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import catalog_create
from .base import Request, Response, int_or_none

if TYPE_CHECKING:
    from .bigcommerce import BigCommerce
    from .store import Item, Store

MAX_VARIANTS = 50
MAX_PRODUCTS = 10
MAX_RECORDS = 1000
MAX_RECORD_CALLS = 2
MAX_ASSIGNMENTS = 25

_inflight = threading.Lock()
_record_calls: dict[int, int] = {}


# -- WooCommerce ------------------------------------------------------------------------------
def woo_item(store: Store, item: Item, data: dict[str, Any]) -> None:
    if "name" in data and not item.group:
        item.name = str(data["name"] or item.name)
    if "description" in data:
        item.description = str(data["description"] or "")
    if "weight" in data:
        item.weight = str(data["weight"] or "")
    if "global_unique_id" in data:
        item.barcode = str(data["global_unique_id"] or "")
    if isinstance(data.get("attributes"), list) and item.group:
        item.options = [
            [str(a.get("name") or ""), str(a.get("option") or "")]
            for a in data["attributes"]
            if isinstance(a, dict)
        ]
    if data.get("sku"):
        store.rename_sku(item, str(data["sku"]))


def woo_product(store: Store, product_id: int, data: dict[str, Any]) -> None:
    product = store.products.get(product_id)
    if product is None:
        return
    if data.get("name"):
        product.name = str(data["name"])
    if "description" in data:
        product.description = str(data["description"] or "")
    images = data.get("images")
    if isinstance(images, list) and images:
        product.images = [str(i.get("src") or "") for i in images if isinstance(i, dict)]
        store.batch("images", len(images))


# -- snapshot ---------------------------------------------------------------------------------
def catalog_snapshot(store: Store) -> dict[str, Any]:
    products = []
    for product in store.products.values():
        products.append(
            {
                "id": product.id,
                "name": product.name,
                "description": product.description,
                "images": list(product.images),
                "variants": [
                    {
                        "sku": i.sku,
                        "variant_id": i.variant_id,
                        "price": i.price,
                        "barcode": i.barcode,
                        "weight": i.weight,
                        "options": [list(o) for o in i.options],
                        "name": i.name,
                        "description": i.description,
                    }
                    for i in store.product_items(product.id)
                ],
            }
        )
    return {
        "products": products,
        "b2b": store.extra.get("b2b", {}),
        "price_lists": store.extra.get("bc_price_lists", {}),
    }


# -- BigCommerce ------------------------------------------------------------------------------
def _problem(status: int, title: str, errors: dict[str, Any] | None = None) -> Response:
    return Response(
        status,
        {
            "status": status,
            "title": title,
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": errors or {},
        },
    )


def _op(resp: Response, op: str) -> Response:
    resp.op = op
    return resp


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def bc_v3(bc: BigCommerce, req: Request, parts: list[str], body: Any) -> Response | None:
    """The catalog-write and price-list routes, or None for routes of bigcommerce.py."""
    m = req.method
    st = bc.store
    if parts == ["catalog", "variants"] and m == "PUT":
        return _op(_variants_put(bc, body), "PUT v3/catalog/variants")
    if parts == ["catalog", "variants"] and m == "GET" and req.arg("id:in"):
        ids = {int(x) for x in (req.arg("id:in") or "").split(",") if x.strip().isdigit()}
        with st.lock:
            rows = [
                bc._variant_json(i)
                for i in sorted(st.items.values(), key=lambda x: x.variant_id)
                if i.variant_id in ids
            ]
        return bc._page(req, rows, "GET v3/catalog/variants")
    if parts == ["catalog", "products"] and m == "POST":
        return _op(catalog_create.bc_create_product(bc, body), "POST v3/catalog/products")
    if parts == ["catalog", "products"] and m == "PUT":
        return _op(_products_put(bc, body), "PUT v3/catalog/products")
    if (
        len(parts) == 4
        and parts[:2] == ["catalog", "products"]
        and parts[3] == "images"
        and m == "POST"
    ):
        return _op(
            _image_post(bc, int_or_none(parts[2]) or 0, body),
            "POST v3/catalog/products/{id}/images",
        )
    if parts and parts[0] == "pricelists":
        return _pricelists(bc, req, parts, body)
    return None


def _variants_put(bc: BigCommerce, body: Any) -> Response:
    st = bc.store
    rows = body if isinstance(body, list) else []
    st.batch("PUT v3/catalog/variants", len(rows))
    if len(rows) > MAX_VARIANTS:
        return _problem(413, f"The maximum items allowed in the array is {MAX_VARIANTS}")
    with st.lock:
        by_id = {i.variant_id: i for i in st.items.values()}
        errors = []
        for n, row in enumerate(rows):
            item = by_id.get(int_or_none((row or {}).get("id")) or 0)
            if item is None:
                errors.append(
                    {"index": n, "id": (row or {}).get("id"), "message": "Variant not found"}
                )
            elif "price" in row and row["price"] is not None and _money(row["price"]) is None:
                errors.append({"index": n, "id": row["id"], "message": "price must be >= 0"})
        if errors:
            resp = _problem(422, "JSON data is missing or invalid")
            resp.body["batch_errors"] = errors
            return resp
        out = []
        for row in rows:
            item = by_id[int(row["id"])]
            if row.get("price") is not None:
                item.price = str(_money(row["price"]).quantize(Decimal("0.01")))  # type: ignore[union-attr]
            if "weight" in row:
                item.weight = str(row["weight"])
            if "upc" in row:
                item.barcode = str(row["upc"] or "")
            if isinstance(row.get("option_values"), list):
                item.options = [
                    [str(o.get("option_display_name") or ""), str(o.get("label") or "")]
                    for o in row["option_values"]
                    if isinstance(o, dict)
                ]
            if row.get("sku"):
                st.rename_sku(item, str(row["sku"]))
            item.updated_at = time.time()
            st.stats.items_written += 1
            out.append(bc._variant_json(item))
    return Response(200, {"data": out, "meta": {}})


def _products_put(bc: BigCommerce, body: Any) -> Response:
    st = bc.store
    rows = body if isinstance(body, list) else []
    st.batch("PUT v3/catalog/products", len(rows))
    if len(rows) > MAX_PRODUCTS:
        return _problem(413, f"The maximum items allowed in the array is {MAX_PRODUCTS}")
    with st.lock:
        missing = [r for r in rows if int_or_none((r or {}).get("id")) not in st.products]
        if missing:
            return _problem(422, "Product not found", {"id": str(missing[0].get("id"))})
        for row in rows:
            product = st.products[int(row["id"])]
            if row.get("name"):
                product.name = str(row["name"])
            if "description" in row:
                product.description = str(row["description"] or "")
        data = [bc._product_json(int(r["id"]), False) for r in rows]
    return Response(200, {"data": data, "meta": {}})


def _image_post(bc: BigCommerce, product_id: int, body: Any) -> Response:
    st = bc.store
    with st.lock:
        product = st.products.get(product_id)
        if product is None:
            return _problem(404, "The requested product was not found.")
        url = str((body or {}).get("image_url") or "")
        if not url:
            return _problem(422, "image_url or image_file is required")
        product.images.append(url)
        st.batch("images", 1)
        return Response(
            200,
            {
                "data": {"id": len(product.images), "product_id": product_id, "image_url": url},
                "meta": {},
            },
        )


def _lists(bc: BigCommerce) -> dict[str, Any]:
    return bc.store.extra.setdefault("bc_price_lists", {})


def _pricelists(bc: BigCommerce, req: Request, parts: list[str], body: Any) -> Response:
    st = bc.store
    m = req.method
    lists = _lists(bc)
    if parts == ["pricelists"] and m == "POST":
        if not isinstance(body, dict) or not body.get("name"):
            return _op(_problem(422, "name is required"), "POST v3/pricelists")
        with st.lock:
            lid = len(lists) + 1
            lists[str(lid)] = {
                "id": lid,
                "name": str(body["name"]),
                "active": bool(body.get("active", True)),
                "records": {},
                "assignments": [],
            }
            data = {k: v for k, v in lists[str(lid)].items() if k not in ("records", "assignments")}
        return _op(Response(200, {"data": data, "meta": {}}), "POST v3/pricelists")
    if parts == ["pricelists", "assignments"] and m == "POST":
        rows = body if isinstance(body, list) else []
        if len(rows) > MAX_ASSIGNMENTS:
            return _op(_problem(413, "Too many assignments"), "POST v3/pricelists/assignments")
        with st.lock:
            for row in rows:
                pl = lists.get(str((row or {}).get("price_list_id")))
                if pl is None:
                    return _op(
                        _problem(422, "Price list not found"), "POST v3/pricelists/assignments"
                    )
                pl["assignments"].append(
                    {
                        "customer_group_id": row.get("customer_group_id"),
                        "channel_id": row.get("channel_id"),
                    }
                )
        return _op(Response(200, {"data": rows, "meta": {}}), "POST v3/pricelists/assignments")
    if len(parts) == 3 and parts[0] == "pricelists" and parts[2] == "records":
        lid = int_or_none(parts[1]) or 0
        if m == "GET":
            with st.lock:
                pl = lists.get(str(lid))
                rows = list((pl or {}).get("records", {}).values())
            return bc._page(req, rows, "GET v3/pricelists/{id}/records")
        if m == "PUT":
            return _op(_records_put(bc, lid, body), "PUT v3/pricelists/{id}/records")
    return _op(_problem(404, "Not Found"), f"{m} v3/pricelists")


def _records_put(bc: BigCommerce, lid: int, body: Any) -> Response:
    st = bc.store
    rows = body if isinstance(body, list) else []
    st.batch("PUT v3/pricelists/{id}/records", len(rows))
    if len(rows) > MAX_RECORDS:
        return _problem(413, f"The maximum items allowed in the array is {MAX_RECORDS}")
    with _inflight:
        if _record_calls.get(id(bc), 0) >= MAX_RECORD_CALLS:
            resp = _problem(429, "Too many concurrent bulk upserts")
            resp.headers["X-Retry-After"] = "1"
            return resp
        _record_calls[id(bc)] = _record_calls.get(id(bc), 0) + 1
    try:
        with st.lock:
            pl = _lists(bc).get(str(lid))
            if pl is None:
                return _problem(404, "Price list not found")
            by_id = {i.variant_id: i for i in st.items.values()}
            errors = {}
            for n, row in enumerate(rows):
                if int_or_none((row or {}).get("variant_id")) not in by_id:
                    errors[f"{n}.variant_id"] = "variant not found"
                elif _money(row.get("price")) is None:
                    errors[f"{n}.price"] = "price is required"
            if errors:
                return _problem(422, "Input is invalid", errors)
            for row in rows:
                record = {
                    "variant_id": int(row["variant_id"]),
                    "sku": by_id[int(row["variant_id"])].sku,
                    "currency": str(row.get("currency") or "usd"),
                    "price": float(row["price"]),
                    "bulk_pricing_tiers": list(row.get("bulk_pricing_tiers") or []),
                }
                pl["records"][str(row["variant_id"])] = record
                st.stats.items_written += 1
        return Response(200, {"data": [], "meta": {}})
    finally:
        with _inflight:
            _record_calls[id(bc)] -= 1
