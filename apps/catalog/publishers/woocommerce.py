"""WooCommerce: ``products/batch`` and ``products/<parent>/variations/batch``, 100 per call.

The stock publisher's routing is reused as it is: an id with no known parent goes to
``products/batch``, a variation refused there is looked up once and re-sent to its parent's
``variations/batch``, and the parents are cached for the account. Only the body differs:
``regular_price`` for prices (a string in store decimals; ``price`` is read-only), and for
products ``name``, ``description``, ``sku``, ``weight`` (a string, the store's weight unit:
the hub sends kilograms), ``global_unique_id`` (the barcode field of WooCommerce 9.2+;
older stores ignore it) and, on variations, ``attributes: [{name, option}]``. A variable
product's own name, description and image go to its parent through ``products/batch``.

Creation (products missing on the channel): simple products through ``products/batch
{create}`` (100 per call); a variable product through ``POST products`` (``type: variable``,
its ``attributes`` with ``variation: true``, the SKU ``odoo-template-<template id>``), then its
variations through ``products/<id>/variations/batch {create}``. SKUs are looked up first
(``GET products?sku=A,B``, the parents' SKUs among them; a found parent's variations are listed),
so a retry after a lost answer completes what the first attempt made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.core.errors import ConfigurationError, PermanentError
from apps.core.shapes import ID
from apps.inventory.publishers import StockTarget
from apps.inventory.publishers.base import chunks
from apps.inventory.publishers.woocommerce import BATCH, SIMPLE, WooCommercePublisher

from . import (
    CatalogPublisher,
    ImageTarget,
    NewProduct,
    Outcome,
    PriceTarget,
    VariantContent,
    product_options,
)

# A variable product created by the hub carries this SKU (its variations carry Odoo's): the
# parent is found again by it when the answer of its creation was lost.
PARENT_SKU = "odoo-template-{}"
SKU_PAGE = 50
SKU_ROW = {"id": ID, "sku?": (str, None)}  # what a lookup by SKU reads (apps.core.shapes)


def _weight(value: Any) -> str:
    text = format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)
    return text if text not in ("0", "") else ""


class WooCommerceCatalog(WooCommercePublisher, CatalogPublisher):
    price_batch = BATCH

    def __init__(self, channel: Any, **kw: Any) -> None:
        super().__init__(channel, **kw)
        self._bodies: dict[str, dict[str, Any]] = {}

    # The stock publisher's per-item body, replaced by the catalog fields of this run.
    def _batch(self, url: str, part: list[StockTarget]) -> tuple[list[Any], list[StockTarget]]:
        body = {"update": [{"id": int(t.external_id), **self._bodies[t.external_id]} for t in part]}
        results = self.batch_results(
            self.send("POST", url, json=body), "update", part, "catalog.publish"
        )
        from apps.inventory.publishers import PublishOutcome
        from apps.inventory.publishers.woocommerce import VARIATION_ON_PRODUCTS

        outcomes: list[Any] = []
        refused: list[StockTarget] = []
        for t, row in zip(part, results, strict=True):
            error = row.get("error") if isinstance(row, dict) else {"message": "no result"}
            if not error:
                outcomes.append(PublishOutcome(t.sku, True))
            elif url.endswith("/products/batch") and error.get("code") in VARIATION_ON_PRODUCTS:
                refused.append(t)
            else:
                outcomes.append(
                    PublishOutcome(
                        t.sku,
                        False,
                        error=f"WooCommerce refused {t.sku}: {error.get('code')} "
                        f"{error.get('message')}",
                    )
                )
        return outcomes, refused

    def _send_bodies(self, rows: Sequence[Any], bodies: dict[str, dict[str, Any]]) -> list[Outcome]:
        self._bodies = bodies
        try:
            done = self.publish([StockTarget(r.sku, r.external_id, 0) for r in rows])
        finally:
            self._bodies = {}
        return [Outcome(o.sku, o.ok, o.error) for o in done]

    def min_price_calls(self, targets: Sequence[PriceTarget]) -> int:
        parents = self.parents([t.external_id for t in targets], lookup=False)
        groups: dict[str, int] = {}
        for t in targets:
            key = parents.get(t.external_id, SIMPLE)
            groups[key] = groups.get(key, 0) + 1
        return sum(-(-n // BATCH) for n in groups.values())

    def publish_prices(self, targets: Sequence[PriceTarget]) -> list[Outcome]:
        return self._send_bodies(
            targets, {t.external_id: {"regular_price": str(t.price)} for t in targets}
        )

    def publish_products(self, contents: Sequence[VariantContent]) -> list[Outcome]:
        bodies: dict[str, dict[str, Any]] = {}
        for c in contents:
            body: dict[str, Any] = {
                "sku": c.sku,
                "regular_price": str(c.price),
                "weight": _weight(c.weight),
                "global_unique_id": c.barcode,
                "description": c.description,
            }
            if c.options:
                body["attributes"] = [{"name": a, "option": v} for a, v in c.options]
            else:
                body["name"] = c.name
            bodies[c.external_id] = body
        outcomes = self._send_bodies(contents, bodies)
        # Variable products: the product's own name and description live on the parent.
        parents = self.parents([c.external_id for c in contents], lookup=False)
        by_parent: dict[str, VariantContent] = {}
        for c in contents:
            parent = parents.get(c.external_id, SIMPLE)
            if parent != SIMPLE and c.options:
                by_parent.setdefault(parent, c)
        failed = self._parents_update(
            {p: {"name": c.name, "description": c.description} for p, c in by_parent.items()}
        )
        if failed:
            bad = {c.sku: failed[p] for p, c in by_parent.items() if p in failed}
            outcomes = [Outcome(o.sku, False, bad[o.sku]) if o.sku in bad else o for o in outcomes]
        return outcomes

    def _parents_update(self, bodies: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Update parent products through ``products/batch``; parent id -> error text."""
        failed: dict[str, str] = {}
        for part in chunks(sorted(bodies), BATCH):
            body = {"update": [{"id": int(p), **bodies[p]} for p in part]}
            rows = self.batch_results(
                self.send("POST", f"{self.base}/products/batch", json=body),
                "update",
                part,
                "catalog.parents_update",
            )
            for p, row in zip(part, rows, strict=True):
                error = row.get("error")
                if error:
                    failed[p] = f"WooCommerce refused product {p}: {error.get('message')}"
        return failed

    def publish_images(self, images: Sequence[ImageTarget]) -> list[Outcome]:
        parents = self.parents([i.external_id for i in images])
        bodies: dict[str, dict[str, Any]] = {}
        owner: dict[str, ImageTarget] = {}
        for img in images:
            parent = parents.get(img.external_id, SIMPLE)
            product = img.external_id if parent == SIMPLE else parent
            bodies[product] = {"images": [{"src": img.url, "alt": img.sku}]}
            owner[product] = img
        failed = self._parents_update(bodies)
        return [Outcome(img.sku, p not in failed, failed.get(p, "")) for p, img in owner.items()]

    # -- creation -------------------------------------------------------------------------------
    def _products_by_sku(self, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in chunks(sorted({s for s in skus if s and "," not in s}), SKU_PAGE):
            rows = self.answer(
                self.send(
                    "GET", f"{self.base}/products", params={"sku": ",".join(part), "per_page": 100}
                ),
                [SKU_ROW],
                "catalog.find_skus",
            )
            for row in rows:
                if row.get("sku") in part:
                    found[str(row["sku"])] = row
        return found

    def _variations(self, parent: str) -> dict[str, str]:
        """SKU -> variation id of a variable product's variations."""
        out: dict[str, str] = {}
        for page in range(1, 100):
            rows = self.answer(
                self.send(
                    "GET",
                    f"{self.base}/products/{parent}/variations",
                    params={"per_page": 100, "page": page},
                ),
                [SKU_ROW],
                "catalog.find_variations",
            )
            out.update({str(r.get("sku")): str(r["id"]) for r in rows if r.get("sku")})
            if len(rows) < 100:
                break
        return out

    @staticmethod
    def _body(c: VariantContent) -> dict[str, Any]:
        body: dict[str, Any] = {
            "sku": c.sku,
            "regular_price": str(c.price),
            "weight": _weight(c.weight),
            "global_unique_id": c.barcode,
        }
        if c.options:
            body["attributes"] = [{"name": a, "option": v} for a, v in c.options]
        return body

    def _create_batch(self, url: str, rows: Sequence[VariantContent], extra: Any) -> list[Outcome]:
        out: list[Outcome] = []
        for part in chunks(list(rows), BATCH):
            body = {"create": [{**self._body(c), **extra(c)} for c in part]}
            results = self.batch_results(
                self.send("POST", url, json=body), "create", part, "catalog.product_create"
            )
            for n, c in enumerate(part):
                row = results[n] if n < len(results) and isinstance(results[n], dict) else {}
                error = row.get("error") if row else {"message": "no result"}
                if error or not row.get("id"):
                    text = f"{(error or {}).get('code', '')} {(error or {}).get('message', '')}"
                    out.append(Outcome(c.sku, False, f"WooCommerce refused {c.sku}: {text}"))
                else:
                    out.append(Outcome(c.sku, True, external_id=str(row["id"]), created=True))
        return out

    def create_products(self, products: Sequence[NewProduct]) -> list[Outcome]:
        simple = [p for p in products if len(p.variants) == 1 and not p.variants[0].options]
        variable = [p for p in products if p not in simple]
        found = self._products_by_sku(
            [p.variants[0].sku for p in simple]
            + [PARENT_SKU.format(p.template_id) for p in variable]
        )
        out: list[Outcome] = []
        todo: list[NewProduct] = []
        for p in simple:
            row = found.get(p.variants[0].sku)
            if row is not None:
                out.append(Outcome(p.variants[0].sku, True, external_id=str(row["id"])))
                self.remember("parent", {str(row["id"]): SIMPLE})
            else:
                todo.append(p)
        by_sku = {p.variants[0].sku: p for p in todo}
        made = self._create_batch(
            f"{self.base}/products/batch",
            [p.variants[0] for p in todo],
            lambda c: {
                "name": by_sku[c.sku].name,
                "type": "simple",
                "description": by_sku[c.sku].description,
            },
        )
        self.remember("parent", {o.external_id: SIMPLE for o in made if o.ok})
        out.extend(made)
        for p in variable:
            try:
                out.extend(self._create_variable(p, found.get(PARENT_SKU.format(p.template_id))))
            except PermanentError as exc:
                if isinstance(exc, ConfigurationError):
                    raise
                out.extend(
                    Outcome(v.sku, False, f"WooCommerce refused {p.name}: {exc}")
                    for v in p.variants
                )
        return out

    def _create_variable(self, p: NewProduct, parent: dict[str, Any] | None) -> list[Outcome]:
        if parent is None:
            resp = self.send(
                "POST",
                f"{self.base}/products",
                json={
                    "name": p.name,
                    "type": "variable",
                    "sku": PARENT_SKU.format(p.template_id),
                    "description": p.description,
                    "attributes": [
                        {"name": name, "options": values, "variation": True, "visible": True}
                        for name, values in product_options(p)
                    ],
                },
            )
            parent = self.answer(resp, {"id": ID}, "catalog.product_create")
            existing: dict[str, str] = {}
        else:
            existing = self._variations(str(parent["id"]))
        pid = str(parent["id"])
        found = {v.sku: existing[v.sku] for v in p.variants if v.sku in existing}
        out = [Outcome(sku, True, external_id=vid) for sku, vid in found.items()]
        missing = [v for v in p.variants if v.sku not in found]
        made = self._create_batch(
            f"{self.base}/products/{pid}/variations/batch", missing, lambda c: {}
        )
        self.remember("parent", {o.external_id: pid for o in [*out, *made] if o.ok})
        return out + made
