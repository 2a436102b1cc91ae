"""WooCommerce: ``products/batch`` and ``products/<parent>/variations/batch``, 100 per call.

The stock publisher's routing is reused as it is: an id with no known parent goes to
``products/batch``, a variation refused there is looked up once and re-sent to its parent's
``variations/batch``, and the parents are cached for the account. Only the body differs:
``regular_price`` for prices (a string in store decimals; ``price`` is read-only), and for
products ``name``, ``description``, ``sku``, ``weight`` (a string, the store's weight unit:
the hub sends kilograms), ``global_unique_id`` (the barcode field of WooCommerce 9.2+;
older stores ignore it) and, on variations, ``attributes: [{name, option}]``. A variable
product's own name, description and image go to its parent through ``products/batch``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.inventory.publishers import StockTarget
from apps.inventory.publishers.base import chunks
from apps.inventory.publishers.woocommerce import BATCH, SIMPLE, WooCommercePublisher

from . import CatalogPublisher, ImageTarget, Outcome, PriceTarget, VariantContent


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
        answer = self.send("POST", url, json=body).json()
        results = answer.get("update") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(part):
            from apps.core.errors import PermanentError

            raise PermanentError(
                f"{self.channel.code}: unexpected batch answer from {url}",
                channel=self.channel.code,
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
            answer = self.send("POST", f"{self.base}/products/batch", json=body).json()
            rows = answer.get("update") if isinstance(answer, dict) else None
            for p, row in zip(part, rows if isinstance(rows, list) else [], strict=False):
                error = row.get("error") if isinstance(row, dict) else None
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
