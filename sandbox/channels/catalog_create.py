"""Product creation on the stand-ins: what the hub sends for Odoo products missing on a channel.

- Shopify ``productSet(synchronous: true, input: {title, descriptionHtml, productOptions
  [{name, values [{name}]}], variants [{optionValues [{optionName, name}], price, barcode,
  inventoryItem {sku, measurement {weight {value, unit}}}}]})`` (2024-04+): one product with
  its variants in one call. Every variant must name a value of every option (``INVALID_VARIANT``
  otherwise); a product without options is ``Title``/``Default Title``. Shopify does not keep
  SKUs unique: a second call with the same SKUs makes a second product (so does the stand-in).
- WooCommerce ``POST products`` ``{name, type: simple|variable, sku, regular_price,
  description, weight, global_unique_id, attributes [{name, options, variation}]}``; the
  variations follow through ``products/<id>/variations/batch {create}``. SKUs are unique across
  products and variations (``product_invalid_sku``), a variable parent's included.
- BigCommerce ``POST v3/catalog/products`` ``{name, type, weight, price, description, sku, upc,
  variants [{sku, price, weight, upc, option_values [{option_display_name, label}]}]}``: name,
  type, weight and price are required (422); a duplicate name or SKU is 409.

The stand-ins take a ``after: true, drop: true`` fault like any write: the product is made and
the answer lost, so a client that retries blindly makes a second one (Shopify) or is refused.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .base import Response

if TYPE_CHECKING:
    from .store import Item, Product, Store

MAX_VARIANTS = 2048


def _price(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return str(amount.quantize(Decimal("0.01"))) if amount.is_finite() and amount >= 0 else None


def make_product(
    store: Store, name: str, description: str, variants: list[dict[str, Any]], *, simple: bool
) -> tuple[Product, list[Item]]:
    """A new product with these variants (``sku price barcode weight options``). A SKU the
    store already holds is kept under a second key (only Shopify lets that happen)."""
    from .store import Item, Product

    with store.lock:
        pid = store._alloc_product()
        product = Product(pid, name, "" if simple else f"created-{pid}", description=description)
        store.products[pid] = product
        items = []
        for v in variants:
            vid = pid if simple and store.kind == "woocommerce" else store._alloc_variant()
            inv = 0
            if store.ids.inventory_item:
                inv = store._next_inventory_item
                store._next_inventory_item += 1
            sku = str(v.get("sku") or "")
            item = Item(
                sku=sku,
                stock=0,
                name=name,
                group=product.group,
                price=str(v.get("price") or "0.00"),
                product_id=pid,
                variant_id=vid,
                inventory_item_id=inv,
                barcode=str(v.get("barcode") or ""),
                weight=str(v.get("weight") or ""),
                description=description,
                options=[list(o) for o in v.get("options") or []],
            )
            key = sku if sku not in store.items else f"{sku}#{vid}"
            store.items[key] = item
            product.skus.append(key)
            store.stats.items_written += 1
            items.append(item)
        return product, items


# -- Shopify ----------------------------------------------------------------------------------
def _err(field: list[Any], message: str, code: str) -> dict[str, Any]:
    return {"field": [str(f) for f in field], "message": message, "code": code}


def shopify_product_set(shop: Any, args: dict[str, Any]) -> dict[str, Any]:
    st: Store = shop.store
    data = args.get("input") or {}
    if args.get("identifier") or data.get("id"):
        return {"product": None, "userErrors": [_err(["input", "id"], "Not supported", "")]}
    title = str(data.get("title") or "").strip()
    options = data.get("productOptions") or []
    variants = data.get("variants") or []
    st.batch("productSet", len(variants))
    errors: list[dict[str, Any]] = []
    if not title:
        errors.append(_err(["input", "title"], "Title can't be blank", "BLANK"))
    if not variants or len(variants) > MAX_VARIANTS:
        errors.append(_err(["input", "variants"], "Variants are invalid", "INVALID_VARIANT"))
    names = {
        str(o.get("name") or ""): {str(v.get("name")) for v in o.get("values") or []}
        for o in options
        if isinstance(o, dict)
    }
    rows: list[dict[str, Any]] = []
    for n, v in enumerate(variants):
        v = v or {}
        chosen = {str(o.get("optionName")): str(o.get("name")) for o in v.get("optionValues") or []}
        if set(chosen) != set(names) or any(chosen[k] not in names[k] for k in chosen):
            errors.append(
                _err(
                    ["input", "variants", n, "optionValues"],
                    "Option values are invalid",
                    "INVALID_VARIANT",
                )
            )
            continue
        price = _price(v.get("price", "0"))
        if price is None:
            errors.append(_err(["input", "variants", n, "price"], "Price is invalid", "INVALID"))
            continue
        inv = v.get("inventoryItem") or {}
        weight = ((inv.get("measurement") or {}).get("weight") or {}).get("value")
        default = list(chosen.items()) == [("Title", "Default Title")]
        rows.append(
            {
                "sku": inv.get("sku") or v.get("sku") or "",
                "price": price,
                "barcode": v.get("barcode") or "",
                "weight": "" if weight is None else str(weight),
                "options": [] if default else [[k, val] for k, val in chosen.items()],
            }
        )
    if errors:
        return {"product": None, "userErrors": errors}
    simple = len(rows) == 1 and not rows[0]["options"]
    product, _ = make_product(
        st, title, str(data.get("descriptionHtml") or ""), rows, simple=simple
    )
    return {"product": shop._product(product.id), "userErrors": []}


SHOPIFY_SCHEMA: dict[str, dict[str, Any]] = {
    "ProductSetPayload": {"product": "Product", "userErrors": "[ProductSetUserError]"},
    "ProductSetUserError": {"field": None, "message": None, "code": None},
}


# -- WooCommerce ------------------------------------------------------------------------------
def _wc_error(status: int, code: str, message: str) -> Response:
    return Response(status, {"code": code, "message": message, "data": {"status": status}})


def woo_parent_sku(store: Store, product_id: int) -> str:
    return str(store.extra.get("parent_skus", {}).get(product_id, ""))


def woo_sku_taken(store: Store, sku: str) -> bool:
    return sku in store.items or sku in store.extra.get("parent_skus", {}).values()


def woo_create_product(woo: Any, body: dict[str, Any]) -> Response:
    """``POST products``: a simple product, or a variable one (its variations come later)."""
    st: Store = woo.store
    name = str(body.get("name") or "").strip()
    kind = str(body.get("type") or "simple")
    sku = str(body.get("sku") or "").strip()
    st.batch("POST products", 1)
    with st.lock:
        if not name:
            return _wc_error(400, "woocommerce_rest_product_invalid_name", "Invalid name.")
        if sku and woo_sku_taken(st, sku):
            return _wc_error(400, "product_invalid_sku", "Invalid or duplicated SKU.")
        if kind == "variable":
            product, _ = make_product(
                st, name, str(body.get("description") or ""), [], simple=False
            )
            if sku:
                st.extra.setdefault("parent_skus", {})[product.id] = sku
            return Response(201, woo._product_json(product.id))
        if kind != "simple" or not sku:
            return _wc_error(400, "rest_invalid_param", "Invalid parameter(s): type or sku")
        product, _ = make_product(
            st, name, str(body.get("description") or ""), [woo_row(body)], simple=True
        )
        return Response(201, woo._product_json(product.id))


def woo_row(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku": str(body.get("sku") or ""),
        "price": _price(body.get("regular_price") or "0") or "0.00",
        "barcode": body.get("global_unique_id") or "",
        "weight": body.get("weight") or "",
        "options": [
            [str(a.get("name") or ""), str(a.get("option") or "")]
            for a in body.get("attributes") or []
            if isinstance(a, dict) and "option" in a
        ],
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


def bc_create_product(bc: Any, body: Any) -> Response:
    st: Store = bc.store
    body = body if isinstance(body, dict) else {}
    st.batch("POST v3/catalog/products", 1)
    missing = [k for k in ("name", "type", "weight", "price") if body.get(k) in (None, "")]
    if missing:
        return _problem(
            422,
            "JSON data is missing or invalid",
            {k: f"The field '{k}' is invalid." for k in missing},
        )
    variants = body.get("variants") or []
    rows = []
    for v in variants or [body]:
        price = _price(v.get("price", body.get("price")))
        if price is None:
            return _problem(422, "JSON data is missing or invalid", {"price": "invalid"})
        rows.append(
            {
                "sku": str(v.get("sku") or ""),
                "price": price,
                "barcode": v.get("upc") or "",
                "weight": str(v.get("weight", body.get("weight")) or ""),
                "options": [
                    [str(o.get("option_display_name") or ""), str(o.get("label") or "")]
                    for o in v.get("option_values") or []
                    if isinstance(o, dict)
                ],
            }
        )
    name = str(body["name"])
    with st.lock:
        if any(p.name.lower() == name.lower() for p in st.products.values()):
            return _problem(409, "The product name is a duplicate", {"name": name})
        taken = [r["sku"] for r in rows if r["sku"] and r["sku"] in st.items]
        if taken:
            return _problem(409, "The SKU is a duplicate", {"sku": taken[0]})
        product, _ = make_product(
            st, name, str(body.get("description") or ""), rows, simple=not variants
        )
        data = bc._product_json(product.id, True)
    return Response(200, {"data": data, "meta": {}})
