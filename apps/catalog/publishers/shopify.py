"""Shopify: ``productVariantsBulkUpdate`` per product, ``productUpdate``, B2B price lists.

- A binding's external id is the variant's legacy id. ``productVariantsBulkUpdate`` takes the
  variants of ONE product per call, so each variant's product is resolved once with batched
  ``nodes`` queries (100 ids per query) and kept in the shared cache: a price change costs
  exactly one mutation per product touched (and one more per 250 variants of a product, the
  GraphQL input-array limit). ``allowPartialUpdates: true`` saves the valid variants when one
  is refused; its ``userErrors`` name the refused ones by index.
- Product fields: ``productUpdate(product: {id, title, descriptionHtml})`` (the 2024-10+
  argument), then the variants' ``price``, ``barcode``, ``inventoryItem {sku, measurement
  {weight}}`` and ``optionValues`` in the same bulk update. Images: ``productUpdate(media:
  [{originalSource, mediaContentType: IMAGE}])`` (Shopify fetches the URL).
- B2B (LIFECYCLE §4.1): ``catalogCreate`` for the company location, ``priceListCreate`` on it,
  then ``priceListFixedPricesAdd`` (an upsert) for plain prices and
  ``quantityPricingByVariantUpdate`` for variants with quantity price breaks. The per-call
  limits of both, the ``catalogCreate`` input and the break field names are UNCONFIRMED
  (LIFECYCLE §7): the publisher keeps to 250 items per input array, and every refusal comes back
  as a per-variant failure or a PermanentError with Shopify's text, never as a guess.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from apps.core.errors import ConfigurationError, PermanentError
from apps.core.shapes import ID
from apps.inventory.publishers.base import chunks
from apps.inventory.publishers.shopify import (
    MUTATION_COST,
    ShopifyPublisher,
    _gid,
    mutation_shape,
)

from . import (
    B2BPrice,
    B2BResult,
    CatalogPublisher,
    ImageTarget,
    NewProduct,
    Outcome,
    PriceTarget,
    VariantContent,
    found_outcomes,
    product_options,
)

BATCH = 250  # GraphQL input arrays hold at most 250 items
NODES_PAGE = 100

PRODUCTS_QUERY = """
query HubVariantProducts($ids: [ID!]!) {
  nodes(ids: $ids) { ... on ProductVariant { legacyResourceId product { id } } }
}
"""

BULK_UPDATE = """
mutation HubVariantsUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants,
                            allowPartialUpdates: true) {
    productVariants { id }
    userErrors { field message code }
  }
}
"""

PRODUCT_UPDATE = """
mutation HubProductUpdate($product: ProductUpdateInput!, $media: [CreateMediaInput!]) {
  productUpdate(product: $product, media: $media) {
    product { id }
    userErrors { field message }
  }
}
"""

SKU_QUERY = """
query HubVariantsBySku($query: String!) {
  productVariants(first: 100, query: $query) { nodes { legacyResourceId sku product { id } } }
}
"""
SKU_PAGE = 50  # SKUs per lookup query (each may match more than one variant)

PRODUCT_SET = """
mutation HubProductSet($input: ProductSetInput!) {
  productSet(synchronous: true, input: $input) {
    product { id variants(first: 250) { nodes { legacyResourceId sku } } }
    userErrors { field message code }
  }
}
"""
DEFAULT_OPTION = ("Title", "Default Title")  # a product without options (Shopify's own)

CATALOG_CREATE = """
mutation HubCatalogCreate($input: CatalogCreateInput!) {
  catalogCreate(input: $input) { catalog { id } userErrors { field message code } }
}
"""

PRICE_LIST_CREATE = """
mutation HubPriceListCreate($input: PriceListCreateInput!) {
  priceListCreate(input: $input) { priceList { id } userErrors { field message code } }
}
"""

FIXED_PRICES_ADD = """
mutation HubFixedPrices($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) {
    prices { variant { id } }
    userErrors { field message code }
  }
}
"""

QUANTITY_PRICING = """
mutation HubQuantityPricing($priceListId: ID!, $input: QuantityPricingByVariantUpdateInput!) {
  quantityPricingByVariantUpdate(priceListId: $priceListId, input: $input) {
    productVariants { id }
    userErrors { field message code }
  }
}
"""


def _messages(errors: Sequence[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('code') or ''} {e.get('message')}".strip() for e in errors)


# What each call reads of the answer's ``data`` (apps.core.shapes).
PRODUCTS_SHAPE = {"nodes": [({"legacyResourceId?": ID, "product?": ({"id": str}, None)}, None)]}
SKU_SHAPE = {
    "productVariants": {
        "nodes": [{"legacyResourceId": ID, "sku?": (str, None), "product?": ({"id?": str}, None)}]
    }
}
NEW_PRODUCT = {
    "id": str,
    "variants?": ({"nodes": [{"legacyResourceId": ID, "sku?": (str, None)}]}, None),
}


def _index(err: dict[str, Any], array: str) -> int | None:
    """The input index a user error names (``field: ["variants", "3", "price"]``)."""
    field = [str(f) for f in err.get("field") or []]
    if array in field:
        pos = field.index(array)
        if pos + 1 < len(field) and field[pos + 1].isdigit():
            return int(field[pos + 1])
    return None


class ShopifyCatalog(ShopifyPublisher, CatalogPublisher):
    price_batch = BATCH

    # -- resolution -----------------------------------------------------------------------------
    def products_of(self, external_ids: Sequence[str]) -> dict[str, str]:
        """variant legacy id -> Product gid, from the cache or batched node queries."""
        wanted = list(dict.fromkeys(external_ids))
        found = {k: str(v) for k, v in self.cached("product", wanted).items()}
        missing = [i for i in wanted if i not in found]
        for part in chunks(missing, NODES_PAGE):
            data = self.graphql(
                PRODUCTS_QUERY,
                {"ids": [_gid("ProductVariant", i) for i in part]},
                cost=3 * len(part) + 2,
                shape=PRODUCTS_SHAPE,
                operation="catalog.resolve_products",
            )
            fresh = {
                str(n["legacyResourceId"]): str(n["product"]["id"])
                for n in data["nodes"]
                if n and n.get("product") and n.get("legacyResourceId") is not None
            }
            self.remember("product", fresh)
            found.update(fresh)
        return found

    def _by_product(self, rows: Sequence[Any]) -> tuple[dict[str, list[Any]], list[Outcome]]:
        products = self.products_of([r.external_id for r in rows])
        groups: dict[str, list[Any]] = defaultdict(list)
        missing: list[Outcome] = []
        for r in rows:
            product = products.get(r.external_id)
            if product:
                groups[product].append(r)
            else:
                missing.append(
                    Outcome(r.sku, False, f"Shopify has no variant {r.external_id} for {r.sku}")
                )
        return groups, missing

    def min_price_calls(self, targets: Sequence[PriceTarget]) -> int:
        groups, _ = self._by_product(targets)
        return sum(-(-len(g) // BATCH) for g in groups.values())

    # -- writes ---------------------------------------------------------------------------------
    def _bulk_update(
        self, product: str, rows: Sequence[Any], payload: Sequence[dict[str, Any]]
    ) -> list[Outcome]:
        data = self.graphql(
            BULK_UPDATE,
            {"productId": product, "variants": list(payload)},
            cost=MUTATION_COST,
            shape=mutation_shape("productVariantsBulkUpdate"),
            operation="catalog.variants_update",
        )
        errors = data["productVariantsBulkUpdate"]["userErrors"]
        refused: dict[int, list[dict[str, Any]]] = defaultdict(list)
        general: list[dict[str, Any]] = []
        for err in errors:
            n = _index(err, "variants")
            if n is None or n >= len(rows):
                general.append(err)
            else:
                refused[n].append(err)
        out = []
        for n, r in enumerate(rows):
            errs = refused.get(n) or general
            if errs:
                if any(e.get("code") == "PRODUCT_VARIANT_DOES_NOT_EXIST" for e in errs):
                    self.forget("product", [r.external_id])
                out.append(Outcome(r.sku, False, f"Shopify refused {r.sku}: {_messages(errs)}"))
            else:
                out.append(Outcome(r.sku, True))
        return out

    def publish_prices(self, targets: Sequence[PriceTarget]) -> list[Outcome]:
        if not targets:
            return []
        groups, outcomes = self._by_product(targets)
        for product, group in groups.items():
            for part in chunks(group, BATCH):
                payload = [
                    {"id": _gid("ProductVariant", t.external_id), "price": str(t.price)}
                    for t in part
                ]
                outcomes.extend(self._bulk_update(product, part, payload))
        return outcomes

    @staticmethod
    def _variant_input(c: VariantContent) -> dict[str, Any]:
        item: dict[str, Any] = {
            "sku": c.sku,
            "measurement": {"weight": {"unit": "KILOGRAMS", "value": float(c.weight)}},
        }
        variant: dict[str, Any] = {
            "id": _gid("ProductVariant", c.external_id),
            "price": str(c.price),
            "barcode": c.barcode or None,
            "inventoryItem": item,
        }
        if c.options:
            variant["optionValues"] = [{"optionName": a, "name": v} for a, v in c.options]
        return variant

    def _product_update(
        self, product: str, fields: dict[str, Any], media: list[dict[str, Any]] | None = None
    ) -> str:
        """One productUpdate; the error text ("" when accepted)."""
        data = self.graphql(
            PRODUCT_UPDATE,
            {"product": {"id": product, **fields}, "media": media},
            cost=MUTATION_COST,
            shape=mutation_shape("productUpdate"),
            operation="catalog.product_update",
        )
        errors = data["productUpdate"]["userErrors"]
        return _messages(errors)

    def publish_products(self, contents: Sequence[VariantContent]) -> list[Outcome]:
        if not contents:
            return []
        groups, outcomes = self._by_product(contents)
        for product, group in groups.items():
            first = group[0]
            description = html.escape(first.description).replace("\n", "<br>")
            problem = self._product_update(
                product, {"title": first.name, "descriptionHtml": description}
            )
            if problem:
                outcomes.extend(
                    Outcome(c.sku, False, f"Shopify refused product {first.name}: {problem}")
                    for c in group
                )
                continue
            for part in chunks(group, BATCH):
                outcomes.extend(
                    self._bulk_update(product, part, [self._variant_input(c) for c in part])
                )
        return outcomes

    def publish_images(self, images: Sequence[ImageTarget]) -> list[Outcome]:
        groups, outcomes = self._by_product(images)
        for product, group in groups.items():
            img = group[0]
            media = [{"originalSource": img.url, "mediaContentType": "IMAGE", "alt": img.sku}]
            problem = self._product_update(product, {}, media)
            outcomes.append(
                Outcome(
                    img.sku, not problem, f"Shopify refused the image: {problem}" if problem else ""
                )
            )
        return outcomes

    # -- B2B ------------------------------------------------------------------------------------
    def _created(self, data: dict[str, Any], root: str, key: str) -> str:
        result = data.get(root) or {}
        errors = result.get("userErrors") or []
        node = result.get(key) or {}
        if errors or not node.get("id"):
            raise PermanentError(
                f"{self.channel.code}: {root} refused: {_messages(errors) or 'no id'}",
                channel=self.channel.code,
            )
        return str(node["id"])

    def publish_b2b(
        self,
        *,
        name: str,
        target: str,
        currency: str,
        catalog_id: str,
        pricelist_id: str,
        prices: Sequence[B2BPrice],
    ) -> B2BResult:
        result = B2BResult(catalog_id=catalog_id, pricelist_id=pricelist_id)
        location = _gid("CompanyLocation", target)
        if not result.catalog_id:
            data = self.graphql(
                CATALOG_CREATE,
                {
                    "input": {
                        "title": name,
                        "status": "ACTIVE",
                        "context": {"companyLocationIds": [location]},
                    }
                },
                cost=MUTATION_COST,
                shape=mutation_shape("catalogCreate", catalog=dict),
                operation="catalog.b2b_catalog_create",
            )
            result.catalog_id = self._created(data, "catalogCreate", "catalog")
        if not result.pricelist_id:
            data = self.graphql(
                PRICE_LIST_CREATE,
                {
                    "input": {
                        "name": name,
                        "currency": currency,
                        # The parent adjustment applies to variants without a fixed price.
                        "parent": {"adjustment": {"type": "PERCENTAGE_DECREASE", "value": 0}},
                        "catalogId": result.catalog_id,
                    }
                },
                cost=MUTATION_COST,
                shape=mutation_shape("priceListCreate", priceList=dict),
                operation="catalog.b2b_price_list_create",
            )
            result.pricelist_id = self._created(data, "priceListCreate", "priceList")

        def money(amount: Any) -> dict[str, str]:
            return {"amount": str(amount), "currencyCode": currency}

        plain = [p for p in prices if not p.breaks]
        tiered = [p for p in prices if p.breaks]
        for part in chunks(plain, BATCH):
            data = self.graphql(
                FIXED_PRICES_ADD,
                {
                    "priceListId": result.pricelist_id,
                    "prices": [
                        {
                            "variantId": _gid("ProductVariant", p.external_id),
                            "price": money(p.price),
                        }
                        for p in part
                    ],
                },
                cost=MUTATION_COST,
                shape=mutation_shape("priceListFixedPricesAdd"),
                operation="catalog.b2b_fixed_prices",
            )
            errors = data["priceListFixedPricesAdd"]["userErrors"]
            result.outcomes.extend(self._per_item(part, errors, "prices"))
        # Each variant's fixed price and breaks go in one call; keep every array within 250.
        most = max((len(p.breaks) for p in tiered), default=1)
        for part in chunks(tiered, max(1, BATCH // most)):
            payload = {
                "pricesToAdd": [
                    {"variantId": _gid("ProductVariant", p.external_id), "price": money(p.price)}
                    for p in part
                ],
                "pricesToDeleteByVariantId": [],
                "quantityRulesToAdd": [],
                "quantityRulesToDeleteByVariantId": [],
                "quantityPriceBreaksToAdd": [
                    {
                        "variantId": _gid("ProductVariant", p.external_id),
                        "minimumQuantity": int(q),
                        "price": money(price),
                    }
                    for p in part
                    for q, price in p.breaks
                ],
                "quantityPriceBreaksToDelete": [],
            }
            data = self.graphql(
                QUANTITY_PRICING,
                {"priceListId": result.pricelist_id, "input": payload},
                cost=MUTATION_COST,
                shape=mutation_shape("quantityPricingByVariantUpdate"),
                operation="catalog.b2b_quantity_pricing",
            )
            errors = data["quantityPricingByVariantUpdate"]["userErrors"]
            result.outcomes.extend(self._per_item(part, errors, "pricesToAdd"))
        return result

    @staticmethod
    def _per_item(
        part: Sequence[B2BPrice], errors: Sequence[dict[str, Any]], array: str
    ) -> list[Outcome]:
        refused: dict[int, list[dict[str, Any]]] = defaultdict(list)
        general = []
        for err in errors:
            n = _index(err, array)
            if n is None or n >= len(part):
                general.append(err)
            else:
                refused[n].append(err)
        return [
            Outcome(p.sku, False, f"Shopify refused the B2B price of {p.sku}: {_messages(errs)}")
            if (errs := refused.get(n) or general)
            else Outcome(p.sku, True)
            for n, p in enumerate(part)
        ]

    # -- creation -------------------------------------------------------------------------------
    def find_skus(self, skus: Sequence[str]) -> dict[str, str]:
        """SKU -> variant legacy id of the variants the shop already has (50 SKUs per
        ``productVariants(query: "sku:A OR sku:B ...")``); their products are cached too."""
        found: dict[str, str] = {}
        products: dict[str, str] = {}
        wanted = sorted({s for s in skus if s and '"' not in s})
        for part in chunks(wanted, SKU_PAGE):
            query = " OR ".join(f'sku:"{s}"' for s in part)
            data = self.graphql(
                SKU_QUERY,
                {"query": query},
                cost=2 * 100 + 2,
                shape=SKU_SHAPE,
                operation="catalog.find_skus",
            )
            for node in data["productVariants"]["nodes"]:
                sku = str(node.get("sku") or "")
                if sku in part and sku not in found:
                    found[sku] = str(node["legacyResourceId"])
                    products[found[sku]] = str((node.get("product") or {}).get("id") or "")
        self.remember("product", {k: v for k, v in products.items() if v})
        return found

    @staticmethod
    def _set_input(product: NewProduct) -> dict[str, Any]:
        options = product_options(product)
        plain = not options
        if plain and len(product.variants) > 1:
            options = [("Title", [v.sku for v in product.variants])]
        elif plain:
            options = [(DEFAULT_OPTION[0], [DEFAULT_OPTION[1]])]
        variants = []
        for v in product.variants:
            chosen = v.options or ((("Title", v.sku),) if len(product.variants) > 1 else ())
            variants.append(
                {
                    "optionValues": [
                        {"optionName": a, "name": val} for a, val in (chosen or (DEFAULT_OPTION,))
                    ],
                    "price": str(v.price),
                    "barcode": v.barcode or None,
                    "inventoryItem": {
                        "sku": v.sku,
                        "measurement": {"weight": {"unit": "KILOGRAMS", "value": float(v.weight)}},
                    },
                }
            )
        return {
            "title": product.name,
            "descriptionHtml": html.escape(product.description).replace("\n", "<br>"),
            "productOptions": [
                {"name": name, "values": [{"name": val} for val in values]}
                for name, values in options
            ],
            "variants": variants,
        }

    def create_products(self, products: Sequence[NewProduct]) -> list[Outcome]:
        """``productSet(synchronous: true)``: one product with all its variants per call, after
        looking the SKUs up (Shopify keeps no SKU unique: a blind retry makes a second one)."""
        found = self.find_skus([v.sku for p in products for v in p.variants])
        out: list[Outcome] = []
        for p in products:
            skus = [v.sku for v in p.variants]
            if any(s in found for s in skus):
                out.extend(found_outcomes(self.channel.code, p, found))
                continue
            if len(skus) > BATCH:
                out.extend(
                    Outcome(s, False, f"{p.name}: more than {BATCH} variants in one product")
                    for s in skus
                )
                continue
            try:
                data = self.graphql(
                    PRODUCT_SET,
                    {"input": self._set_input(p)},
                    cost=MUTATION_COST,
                    shape=mutation_shape("productSet", product=NEW_PRODUCT),
                    operation="catalog.product_create",
                )
            except PermanentError as exc:
                if isinstance(exc, ConfigurationError):
                    raise
                out.extend(Outcome(s, False, f"Shopify refused {p.name}: {exc}") for s in skus)
                continue
            result = data["productSet"]
            errors = result["userErrors"]
            made = result.get("product") or {}
            if errors or not made:
                text = _messages(errors) or "no product in the answer"
                out.extend(Outcome(s, False, f"Shopify refused {p.name}: {text}") for s in skus)
                continue
            by_sku = {
                str(n.get("sku") or ""): str(n["legacyResourceId"])
                for n in (made.get("variants") or {}).get("nodes") or []
            }
            self.remember("product", {vid: str(made["id"]) for vid in by_sku.values()})
            out.extend(
                Outcome(s, True, external_id=by_sku[s], created=True)
                if s in by_sku
                else Outcome(s, False, f"Shopify's new product {made['id']} has no variant {s}")
                for s in skus
            )
        return out
