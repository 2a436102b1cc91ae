"""BigCommerce: variant batches of 50, product batches of 10, price lists for B2B.

- Prices: ``PUT v3/catalog/variants`` with ``[{id, price}]``, at most 50 variants per call
  (413 above, LIFECYCLE §4.3). BigCommerce refuses a bad batch as a whole (422
  ``batch_errors``): the call's variants are reported failed with its text.
- Products: the same variant batches carry ``sku``, ``price``, ``weight``, ``upc`` (the
  barcode) and ``option_values`` labels; ``PUT v3/catalog/products`` (at most 10 per call)
  carries each product's ``name`` and ``description``. The variant -> product map is read once
  (``GET v3/catalog/variants?id:in=``, 250 per call) and cached for the account.
- Images: ``POST v3/catalog/products/<id>/images {image_url, is_thumbnail}``.
- Creation (products missing on the channel): ``POST v3/catalog/products`` with its
  ``variants`` (``sku``, ``price``, ``weight``, ``upc``, ``option_values``), one product per
  call, after looking the SKUs up (``GET v3/catalog/variants?sku:in=``, 50 per call):
  BigCommerce refuses a duplicate name or SKU (409), so a blind retry would only fail.
- B2B: a price list per account (``POST v3/pricelists``), assigned to the account's customer
  group (``POST v3/pricelists/assignments``), and its records upserted with ``PUT
  v3/pricelists/<id>/records``: at most 1,000 records per call and at most 2 such calls at
  once (the hub sends them one after the other). A record is ``{variant_id, currency, price,
  bulk_pricing_tiers}``; Odoo's quantity breaks become ``fixed`` tiers (a unit price from
  ``quantity_min``). Price-list changes fire no product webhooks on BigCommerce.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from apps.core.errors import ConfigurationError, PermanentError
from apps.core.shapes import ANY, ID
from apps.inventory.publishers.base import chunks
from apps.inventory.publishers.bigcommerce import BigCommercePublisher

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
)

VARIANT_BATCH = 50
PRODUCT_BATCH = 10
RECORD_BATCH = 1000
LOOKUP_PAGE = 250
# What the calls read of the answer (apps.core.shapes). A v3 write answers its ``data``: a 200
# without it (an error body, a proxy page) did not write.
V3_WRITE = {"data": ANY}
VARIANTS_SHAPE = {"data": [{"id": ID, "product_id": ID, "sku?": (str, None)}]}
CREATED_PRODUCT = {"data": {"id": ID, "variants?": ([{"id": ID, "sku?": (str, None)}], None)}}


def _num(value: Decimal) -> float:
    # BigCommerce takes JSON numbers; a two-decimal price survives the float exactly enough
    # for the wire (the hub's own arithmetic stays Decimal).
    return float(value)


class BigCommerceCatalog(BigCommercePublisher, CatalogPublisher):
    price_batch = VARIANT_BATCH

    def _json(self, method: str, path: str, body: Any, operation: str, spec: Any = V3_WRITE) -> Any:
        """The answer checked against ``spec``; {} for a write answered with 204."""
        resp = self.send(method, f"{self.base}/{path}", json=body, headers=self.headers)
        if resp.status_code == 204 and spec is V3_WRITE:
            return {}
        return self.answer(resp, spec, operation)

    def _variant_batches(
        self, rows: Sequence[Any], bodies: dict[str, dict[str, Any]]
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        good = [r for r in rows if r.external_id.isdigit()]
        outcomes.extend(
            Outcome(r.sku, False, f"not a BigCommerce variant id: {r.external_id!r}")
            for r in rows
            if not r.external_id.isdigit()
        )
        for part in chunks(good, VARIANT_BATCH):
            payload = [{"id": int(r.external_id), **bodies[r.external_id]} for r in part]
            try:
                self._json("PUT", "v3/catalog/variants", payload, "catalog.variants_update")
            except PermanentError as exc:
                outcomes.extend(
                    Outcome(r.sku, False, f"BigCommerce refused the batch: {exc.message}")
                    for r in part
                )
                continue
            outcomes.extend(Outcome(r.sku, True) for r in part)
        return outcomes

    def publish_prices(self, targets: Sequence[PriceTarget]) -> list[Outcome]:
        return self._variant_batches(
            targets, {t.external_id: {"price": _num(t.price)} for t in targets}
        )

    def products_of(self, variant_ids: Sequence[str]) -> dict[str, str]:
        """variant id -> product id, from the cache or ``GET v3/catalog/variants?id:in=``."""
        wanted = [i for i in dict.fromkeys(variant_ids) if i.isdigit()]
        found = {k: str(v) for k, v in self.cached("product", wanted).items()}
        for part in chunks([i for i in wanted if i not in found], LOOKUP_PAGE):
            resp = self.send(
                "GET",
                f"{self.base}/v3/catalog/variants",
                params={"id:in": ",".join(part), "limit": LOOKUP_PAGE},
                headers=self.headers,
            )
            rows = self.answer(resp, VARIANTS_SHAPE, "catalog.resolve_products")["data"]
            fresh = {str(row["id"]): str(row["product_id"]) for row in rows}
            self.remember("product", fresh)
            found.update(fresh)
        return found

    def publish_products(self, contents: Sequence[VariantContent]) -> list[Outcome]:
        bodies: dict[str, dict[str, Any]] = {}
        for c in contents:
            body: dict[str, Any] = {
                "sku": c.sku,
                "price": _num(c.price),
                "weight": float(c.weight),
                "upc": c.barcode,
            }
            if c.options:
                body["option_values"] = [
                    {"option_display_name": a, "label": v} for a, v in c.options
                ]
            bodies[c.external_id] = body
        outcomes = self._variant_batches(contents, bodies)
        # The stock publisher names inventory items by the channel's SKU, cached per variant.
        self.forget("sku", [c.external_id for c in contents])
        products = self.products_of([c.external_id for c in contents])
        firsts: dict[str, VariantContent] = {}
        for c in contents:
            if c.external_id in products:
                firsts.setdefault(products[c.external_id], c)
        failed: dict[str, str] = {}
        for part in chunks(sorted(firsts), PRODUCT_BATCH):
            payload = [
                {"id": int(p), "name": firsts[p].name, "description": firsts[p].description}
                for p in part
            ]
            try:
                self._json("PUT", "v3/catalog/products", payload, "catalog.product_update")
            except PermanentError as exc:
                failed.update({p: f"BigCommerce refused product {p}: {exc.message}" for p in part})
        if failed:
            bad = {
                c.sku: failed[products[c.external_id]]
                for c in contents
                if products.get(c.external_id) in failed
            }
            outcomes = [Outcome(o.sku, False, bad[o.sku]) if o.sku in bad else o for o in outcomes]
        return outcomes

    def publish_images(self, images: Sequence[ImageTarget]) -> list[Outcome]:
        products = self.products_of([i.external_id for i in images])
        outcomes = []
        for img in images:
            product = products.get(img.external_id)
            if not product:
                outcomes.append(
                    Outcome(img.sku, False, f"BigCommerce has no variant {img.external_id}")
                )
                continue
            try:
                self._json(
                    "POST",
                    f"v3/catalog/products/{product}/images",
                    {"image_url": img.url, "is_thumbnail": True, "description": img.sku},
                    "catalog.image_add",
                )
            except PermanentError as exc:
                outcomes.append(
                    Outcome(img.sku, False, f"BigCommerce refused the image: {exc.message}")
                )
                continue
            outcomes.append(Outcome(img.sku, True))
        return outcomes

    # -- B2B ------------------------------------------------------------------------------------
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
        if not result.pricelist_id:
            created = self._json(
                "POST",
                "v3/pricelists",
                {"name": name, "active": True},
                "catalog.b2b_price_list_create",
                {"data": {"id": ID}},
            )
            result.pricelist_id = str(created["data"]["id"])
            if not result.pricelist_id:
                raise PermanentError(
                    f"{self.channel.code}: BigCommerce created no price list",
                    channel=self.channel.code,
                )
        if not result.catalog_id:
            # The assignment: this list for the account's customer group (any channel).
            group = int(target) if target.isdigit() else target
            self._json(
                "POST",
                "v3/pricelists/assignments",
                [{"price_list_id": int(result.pricelist_id), "customer_group_id": group}],
                "catalog.b2b_assignment",
            )
            result.catalog_id = f"group:{target}"
        rows = [p for p in prices if p.external_id.isdigit()]
        result.outcomes.extend(
            Outcome(p.sku, False, f"not a BigCommerce variant id: {p.external_id!r}")
            for p in prices
            if not p.external_id.isdigit()
        )
        for part in chunks(rows, RECORD_BATCH):
            payload = []
            for p in part:
                record: dict[str, Any] = {
                    "variant_id": int(p.external_id),
                    "currency": currency.lower(),
                    "price": _num(p.price),
                }
                if p.breaks:
                    tiers = []
                    for n, (qty, price) in enumerate(p.breaks):
                        upper = p.breaks[n + 1][0] - 1 if n + 1 < len(p.breaks) else 0
                        tiers.append(
                            {
                                "quantity_min": int(qty),
                                "quantity_max": int(upper),
                                "type": "fixed",
                                "amount": _num(price),
                            }
                        )
                    record["bulk_pricing_tiers"] = tiers
                payload.append(record)
            try:
                self._json(
                    "PUT",
                    f"v3/pricelists/{result.pricelist_id}/records",
                    payload,
                    "catalog.b2b_price_records",
                )
            except PermanentError as exc:
                result.outcomes.extend(
                    Outcome(
                        p.sku, False, f"BigCommerce refused the price list records: {exc.message}"
                    )
                    for p in part
                )
                continue
            result.outcomes.extend(Outcome(p.sku, True) for p in part)
        return result

    # -- creation -------------------------------------------------------------------------------
    def find_skus(self, skus: Sequence[str]) -> dict[str, str]:
        """SKU -> variant id of the variants the store already has (their products cached)."""
        found: dict[str, str] = {}
        products: dict[str, str] = {}
        for part in chunks(sorted({s for s in skus if s and "," not in s}), VARIANT_BATCH):
            resp = self.send(
                "GET",
                f"{self.base}/v3/catalog/variants",
                params={"sku:in": ",".join(part), "limit": LOOKUP_PAGE},
                headers=self.headers,
            )
            for row in self.answer(resp, VARIANTS_SHAPE, "catalog.find_skus")["data"]:
                sku = str(row.get("sku") or "")
                if sku in part and sku not in found:
                    found[sku] = str(row["id"])
                    products[found[sku]] = str(row["product_id"])
        self.remember("product", products)
        return found

    @staticmethod
    def _create_body(p: NewProduct) -> dict[str, Any]:
        first = p.variants[0]
        body: dict[str, Any] = {
            "name": p.name,
            "type": "physical",
            "description": p.description,
            "weight": float(first.weight),
            "price": _num(first.price),
        }
        if len(p.variants) == 1 and not first.options:
            body.update(sku=first.sku, upc=first.barcode)
            return body
        body["variants"] = [
            {
                "sku": v.sku,
                "price": _num(v.price),
                "weight": float(v.weight),
                "upc": v.barcode,
                "option_values": [
                    {"option_display_name": a, "label": val}
                    for a, val in (v.options or (("Option", v.sku),))
                ],
            }
            for v in p.variants
        ]
        return body

    def create_products(self, products: Sequence[NewProduct]) -> list[Outcome]:
        found = self.find_skus([v.sku for p in products for v in p.variants])
        out: list[Outcome] = []
        for p in products:
            skus = [v.sku for v in p.variants]
            if any(s in found for s in skus):
                out.extend(found_outcomes(self.channel.code, p, found))
                continue
            try:
                answer = self._json(
                    "POST",
                    "v3/catalog/products?include=variants",
                    self._create_body(p),
                    "catalog.product_create",
                    CREATED_PRODUCT,
                )
            except PermanentError as exc:
                if isinstance(exc, ConfigurationError):
                    raise
                out.extend(
                    Outcome(s, False, f"BigCommerce refused {p.name}: {exc.message}") for s in skus
                )
                continue
            data = answer["data"]
            by_sku = {str(v.get("sku") or ""): str(v["id"]) for v in data.get("variants") or []}
            self.remember("product", {vid: str(data.get("id")) for vid in by_sku.values()})
            out.extend(
                Outcome(s, True, external_id=by_sku[s], created=True)
                if s in by_sku
                else Outcome(s, False, f"BigCommerce's new product has no variant {s}")
                for s in skus
            )
        return out
