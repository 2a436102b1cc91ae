"""Shopify stand-in: the catalog and B2B price-list mutations (LIFECYCLE §4.1).

- ``productVariantsBulkUpdate(productId, variants, allowPartialUpdates)``: the variants of ONE
  product per call (another product's variant → ``PRODUCT_VARIANT_DOES_NOT_EXIST`` at
  ``["variants", n, "id"]``); ``price`` a decimal string ≥ 0 (else ``INVALID_INPUT``);
  ``barcode``, ``inventoryItem {sku, measurement {weight {value}}}``, ``optionValues [{optionName,
  name}]``. Without ``allowPartialUpdates`` one refused variant refuses the call; with it the
  valid ones are saved. At most 2,048 variants per product. 250 items per input array and the
  mutation cost (10) come from the GraphQL layer in shopify.py.
- ``productUpdate(product: {id, title, descriptionHtml}, media: [{originalSource,
  mediaContentType}])``: media are appended as image URLs (never fetched).
- ``productSet(synchronous, input: {title, descriptionHtml, productOptions, variants})``: a
  new product with its variants (catalog_create.py).
- ``catalogCreate(input: {title, status, context: {companyLocationIds}})``,
  ``priceListCreate(input: {name, currency, parent, catalogId})``,
  ``priceListFixedPricesAdd(priceListId, prices: [{variantId, price {amount, currencyCode}}])``
  (upsert; a wrong currency → ``PRICES_TO_ADD_CURRENCY_MISMATCH``, an unknown variant →
  ``VARIANT_NOT_FOUND``; any user error applies nothing) and
  ``quantityPricingByVariantUpdate(priceListId, input: {pricesToAdd, quantityPriceBreaksToAdd
  [{variantId, minimumQuantity, price}], ...})`` (replaces the breaks of the variants named).

UNCONFIRMED on a live store (LIFECYCLE §7) and imitated here: the per-call limits of the two
price-list mutations, ``catalogCreate``'s input shape, the break field names, whether the
price-list mutations are all or nothing, and the error codes' spelling.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from . import catalog_create
from . import graphql as gql

if TYPE_CHECKING:
    from .shopify import Shopify
    from .store import Item

UNHANDLED = object()
MAX_VARIANTS_PER_PRODUCT = 2048
S = None

SCHEMA_ADDITIONS: dict[str, dict[str, Any]] = {
    "ProductVariantsBulkUpdatePayload": {
        "product": "Product",
        "productVariants": "[ProductVariant]",
        "userErrors": "[ProductVariantsBulkUpdateUserError]",
    },
    "ProductVariantsBulkUpdateUserError": {"field": S, "message": S, "code": S},
    "ProductUpdatePayload": {"product": "Product", "userErrors": "[UserError]"},
    "CatalogCreatePayload": {"catalog": "Catalog", "userErrors": "[CatalogUserError]"},
    "Catalog": {"id": S, "title": S, "status": S, "priceList": "PriceList"},
    "CatalogUserError": {"field": S, "message": S, "code": S},
    "PriceListCreatePayload": {"priceList": "PriceList", "userErrors": "[PriceListUserError]"},
    "PriceList": {"id": S, "name": S, "currency": S},
    "PriceListUserError": {"field": S, "message": S, "code": S},
    "PriceListFixedPricesAddPayload": {
        "prices": "[PriceListPrice]",
        "userErrors": "[PriceListPriceUserError]",
    },
    "PriceListPrice": {"variant": "ProductVariant", "price": "MoneyV2"},
    "MoneyV2": {"amount": S, "currencyCode": S},
    "PriceListPriceUserError": {"field": S, "message": S, "code": S},
    "QuantityPricingByVariantUpdatePayload": {
        "productVariants": "[ProductVariant]",
        "userErrors": "[QuantityPricingByVariantUserError]",
    },
    "QuantityPricingByVariantUserError": {"field": S, "message": S, "code": S},
}
MUTATIONS = {
    "productVariantsBulkUpdate": "ProductVariantsBulkUpdatePayload",
    "productUpdate": "ProductUpdatePayload",
    "catalogCreate": "CatalogCreatePayload",
    "priceListCreate": "PriceListCreatePayload",
    "priceListFixedPricesAdd": "PriceListFixedPricesAddPayload",
    "quantityPricingByVariantUpdate": "QuantityPricingByVariantUpdatePayload",
    "productSet": "ProductSetPayload",
}


def install(schema: gql.Schema) -> None:
    schema.update(SCHEMA_ADDITIONS)
    schema.update(catalog_create.SHOPIFY_SCHEMA)
    schema["Mutation"].update(MUTATIONS)
    schema["ProductVariant"].setdefault("compareAtPrice", S)


def _num_id(value: Any, kind: str) -> int | None:
    text = str(value or "")
    prefix = f"gid://shopify/{kind}/"
    if text.startswith(prefix):
        text = text[len(prefix) :]
    return int(text) if text.isdigit() else None


def _price(value: Any) -> Decimal | None:
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return price if price.is_finite() and price >= 0 else None


def _err(field: list[Any], message: str, code: str) -> dict[str, Any]:
    return {"field": [str(f) for f in field], "message": message, "code": code}


def root(shop: Shopify, name: str, args: dict[str, Any]) -> Any:
    """The value of a catalog mutation, or UNHANDLED for any other root field."""
    if name == "productVariantsBulkUpdate":
        return _variants_update(shop, args)
    if name == "productSet":
        return catalog_create.shopify_product_set(shop, args)
    if name == "productUpdate":
        return _product_update(shop, args.get("product") or args.get("input") or {}, args)
    if name == "catalogCreate":
        return _catalog_create(shop, args.get("input") or {})
    if name == "priceListCreate":
        return _price_list_create(shop, args.get("input") or {})
    if name == "priceListFixedPricesAdd":
        return _fixed_prices(shop, args.get("priceListId"), args.get("prices") or [], [])
    if name == "quantityPricingByVariantUpdate":
        data = args.get("input") or {}
        return _fixed_prices(
            shop,
            args.get("priceListId"),
            data.get("pricesToAdd") or [],
            data.get("quantityPriceBreaksToAdd") or [],
        )
    return UNHANDLED


def _variants_update(shop: Shopify, args: dict[str, Any]) -> dict[str, Any]:
    st = shop.store
    pid = _num_id(args.get("productId"), "Product")
    product = st.products.get(pid or 0)
    variants = args.get("variants") or []
    if product is None:
        return {
            "product": None,
            "productVariants": [],
            "userErrors": [_err(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")],
        }
    st.batch("productVariantsBulkUpdate", len(variants))
    if len(variants) > MAX_VARIANTS_PER_PRODUCT:
        return {
            "product": None,
            "productVariants": [],
            "userErrors": [
                _err(["variants"], "Too many variants for the product", "TOO_MANY_VARIANTS")
            ],
        }
    by_id = {i.variant_id: i for i in st.product_items(product.id)}
    errors: list[dict[str, Any]] = []
    valid: list[tuple[Item, dict[str, Any]]] = []
    for n, v in enumerate(variants):
        vid = _num_id((v or {}).get("id"), "ProductVariant")
        item = by_id.get(vid or 0)
        if item is None:
            errors.append(
                _err(
                    ["variants", n, "id"],
                    "Product variant does not exist",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST",
                )
            )
            continue
        if "price" in v and _price(v["price"]) is None:
            errors.append(_err(["variants", n, "price"], "Price is invalid", "INVALID_INPUT"))
            continue
        valid.append((item, v))
    if errors and not args.get("allowPartialUpdates"):
        return {"product": shop._product(product.id), "productVariants": [], "userErrors": errors}
    for item, v in valid:
        if "price" in v:
            item.price = str(_price(v["price"]))
        if "compareAtPrice" in v:
            pass  # not kept
        if "barcode" in v:
            item.barcode = str(v.get("barcode") or "")
        inv = v.get("inventoryItem") or {}
        if inv.get("sku"):
            st.rename_sku(item, inv["sku"])
        weight = ((inv.get("measurement") or {}).get("weight") or {}).get("value")
        if weight is not None:
            item.weight = str(weight)
        if v.get("optionValues"):
            item.options = [
                [str(o.get("optionName") or ""), str(o.get("name") or "")]
                for o in v["optionValues"]
            ]
        item.updated_at = shop_time()
        st.stats.items_written += 1
    return {
        "product": shop._product(product.id),
        "productVariants": [shop._variant(i) for i, _ in valid],
        "userErrors": errors,
    }


def shop_time() -> float:
    import time

    return time.time()


def _product_update(shop: Shopify, data: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    st = shop.store
    product = st.products.get(_num_id(data.get("id"), "Product") or 0)
    if product is None:
        return {"product": None, "userErrors": [_err(["id"], "Product does not exist", "")]}
    if "title" in data:
        if not str(data["title"] or "").strip():
            return {"product": None, "userErrors": [_err(["title"], "Title can't be blank", "")]}
        product.name = str(data["title"])
    if "descriptionHtml" in data:
        product.description = str(data["descriptionHtml"] or "")
    media = args.get("media") or []
    for m in media:
        if (m or {}).get("mediaContentType") == "IMAGE" and m.get("originalSource"):
            product.images.append(str(m["originalSource"]))
    if media:
        st.batch("productUpdate:media", len(media))
    return {"product": shop._product(product.id), "userErrors": []}


def _lists(shop: Shopify) -> dict[str, Any]:
    return shop.store.extra.setdefault(
        "b2b", {"catalogs": {}, "price_lists": {}, "next": 1_000_000_001}
    )


def _catalog_create(shop: Shopify, data: dict[str, Any]) -> dict[str, Any]:
    b2b = _lists(shop)
    locations = ((data.get("context") or {}).get("companyLocationIds")) or []
    if not data.get("title") or not locations:
        return {
            "catalog": None,
            "userErrors": [_err(["input", "context"], "Context is invalid", "INVALID")],
        }
    cid = b2b["next"]
    b2b["next"] += 1
    b2b["catalogs"][str(cid)] = {
        "id": f"gid://shopify/CompanyLocationCatalog/{cid}",
        "title": str(data["title"]),
        "status": str(data.get("status") or "ACTIVE"),
        "locations": [str(x) for x in locations],
        "price_list": None,
    }
    c = b2b["catalogs"][str(cid)]
    return {"catalog": {**c, "priceList": None}, "userErrors": []}


def _price_list_create(shop: Shopify, data: dict[str, Any]) -> dict[str, Any]:
    b2b = _lists(shop)
    catalog = None
    cid = _num_id(data.get("catalogId"), "CompanyLocationCatalog")
    if cid is not None:
        catalog = b2b["catalogs"].get(str(cid))
    if not data.get("name") or not data.get("currency"):
        return {
            "priceList": None,
            "userErrors": [_err(["input"], "Name and currency are required", "BLANK")],
        }
    if data.get("catalogId") and catalog is None:
        return {
            "priceList": None,
            "userErrors": [
                _err(["input", "catalogId"], "Catalog not found", "CATALOG_DOES_NOT_EXIST")
            ],
        }
    lid = b2b["next"]
    b2b["next"] += 1
    pl = {
        "id": f"gid://shopify/PriceList/{lid}",
        "name": str(data["name"]),
        "currency": str(data["currency"]),
        "catalog": catalog["id"] if catalog else None,
        "prices": {},
        "breaks": {},
    }
    b2b["price_lists"][str(lid)] = pl
    if catalog is not None:
        catalog["price_list"] = pl["id"]
    return {"priceList": {k: pl[k] for k in ("id", "name", "currency")}, "userErrors": []}


def _fixed_prices(
    shop: Shopify, list_id: Any, prices: list[Any], breaks: list[Any]
) -> dict[str, Any]:
    st = shop.store
    b2b = _lists(shop)
    pl = b2b["price_lists"].get(str(_num_id(list_id, "PriceList")))
    op = "priceListFixedPricesAdd" if not breaks else "quantityPricingByVariantUpdate"
    st.batch(op, len(prices) + len(breaks))
    if pl is None:
        return {
            "prices": [],
            "productVariants": [],
            "userErrors": [_err(["priceListId"], "Price list not found", "PRICE_LIST_NOT_FOUND")],
        }
    variants = {i.variant_id: i for i in st.items.values()}
    array = "prices" if op == "priceListFixedPricesAdd" else "pricesToAdd"
    errors = []
    good: list[tuple[Item, Decimal, Any]] = []
    for n, p in enumerate(prices):
        item = variants.get(_num_id((p or {}).get("variantId"), "ProductVariant") or 0)
        money = (p or {}).get("price") or {}
        amount = _price(money.get("amount"))
        if item is None:
            errors.append(_err([array, n, "variantId"], "Variant not found", "VARIANT_NOT_FOUND"))
        elif money.get("currencyCode") != pl["currency"]:
            errors.append(
                _err(
                    [array, n, "price", "currencyCode"],
                    "Currency must match the price list's",
                    "PRICES_TO_ADD_CURRENCY_MISMATCH",
                )
            )
        elif amount is None:
            errors.append(_err([array, n, "price", "amount"], "Price is invalid", "INVALID"))
        else:
            good.append((item, amount, p))
    new_breaks: dict[int, list[list[str]]] = {}
    for n, b in enumerate(breaks):
        item = variants.get(_num_id((b or {}).get("variantId"), "ProductVariant") or 0)
        amount = _price(((b or {}).get("price") or {}).get("amount"))
        minimum = (b or {}).get("minimumQuantity")
        if item is None or amount is None or not isinstance(minimum, int) or minimum < 2:
            errors.append(
                _err(["quantityPriceBreaksToAdd", n], "Price break is invalid", "INVALID")
            )
            continue
        new_breaks.setdefault(item.variant_id, []).append([str(minimum), str(amount)])
    if errors:  # nothing of the call is applied
        return {"prices": [], "productVariants": [], "userErrors": errors}
    for item, amount, _ in good:
        pl["prices"][str(item.variant_id)] = str(amount)
        st.stats.items_written += 1
    for vid, rows in new_breaks.items():
        pl["breaks"][str(vid)] = sorted(rows, key=lambda r: int(r[0]))
    return {
        "prices": [
            {
                "variant": shop._variant(item),
                "price": {"amount": str(amount), "currencyCode": pl["currency"]},
            }
            for item, amount, _ in good
        ],
        "productVariants": [shop._variant(item) for item, _, _ in good],
        "userErrors": [],
    }
