"""WooCommerce: REST v3 ``products/batch`` and ``products/<parent>/variations/batch``.

- A binding's external id is a simple product's id or a variation's id (WordPress gives both from
  one id sequence, so the id alone does not say which). Variations can only be written through
  their parent's variations endpoint, so each id's parent is resolved once and cached in the
  shared cache ("0" = a simple product).
- Resolution is optimistic, so that a catalog of simple products costs no lookup at all: an id
  with no known parent goes to ``products/batch``; WooCommerce refuses a variation there item
  by item (``woocommerce_rest_invalid_product_id``), and only those ids are then looked up, by
  reading the variable products (their ``variations`` list names the children), and sent
  through their parent.
- At most 100 objects per batch request (WooCommerce's ``woocommerce_rest_batch_items_limit``).
- Core WooCommerce has no rate limit and no rate headers; hosts and WAFs add their own. The
  budget is a configured rate (``HUB_WOOCOMMERCE_API_RATE``, default ``10/s``) spent one call at
  a time (no burst, which a sliding-window limiter in front of the site would punish), and a 429
  with ``Retry-After`` is waited out.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import requests

from apps.core import shapes
from apps.core.shapes import ID

from . import PublishOutcome, StockTarget
from .base import HttpPublisher, chunks
from .budget import RateBudget, configured_budget

logger = logging.getLogger(__name__)

BATCH = 100
PAGE = 100
SIMPLE = "0"
_MAX_PAGES = 10_000
VARIATION_ON_PRODUCTS = {"woocommerce_rest_invalid_product_id"}
# What the calls read of a product or variation, and of a batch answer's rows (apps.core.shapes).
PRODUCT_SHAPE = {
    "id": ID,
    "type?": (str, None),
    "variations?": ([ID], None),
    "stock_quantity?": (int, None),
}
BATCH_ROW = {"id?": (ID, None), "stock_quantity?": (int, None), "error?": (dict, None)}


class WooCommercePublisher(HttpPublisher):
    batch_size = BATCH

    def __init__(self, channel: Any, *, session: requests.Session | None = None) -> None:
        super().__init__(channel, session=session)
        self.session.auth = (channel.consumer_key, channel.consumer_secret)
        self.base = channel.api_base_url.rstrip("/") + "/wp-json/wc/v3"

    def make_budget(self) -> RateBudget:
        return configured_budget(self.channel, "woocommerce", "HUB_WOOCOMMERCE_API_RATE")

    def batch_results(
        self, resp: requests.Response, key: str, part: Sequence[Any], operation: str = ""
    ) -> list[dict[str, Any]]:
        """The rows of a ``…/batch`` answer under ``key``: one object per item sent, in order."""
        what = operation or f"{key} batch"
        rows: list[dict[str, Any]] = self.answer(resp, {key: [BATCH_ROW]}, what)[key]
        if len(rows) != len(part):
            raise shapes.bad_answer(
                rows,
                f"{key}: {len(rows)} rows for {len(part)} items sent",
                partner=self.channel.code,
                operation=what,
                endpoint=resp.url.split("?", 1)[0],
                channel=self.channel.code,
            )
        return rows

    # -- resolution -----------------------------------------------------------------------------
    def parents(self, external_ids: Sequence[str], *, lookup: bool = True) -> dict[str, str]:
        """id -> parent id ("0" for a simple product), from the cache, else from the catalog."""
        wanted = list(dict.fromkeys(external_ids))
        found = {k: str(v) for k, v in self.cached("parent", wanted).items()}
        missing = {i for i in wanted if i not in found}
        if missing and lookup:
            fresh = self._sweep_variable_products(missing)
            self.remember("parent", fresh)
            found.update({k: v for k, v in fresh.items() if k in missing})
        return found

    def _sweep_variable_products(self, missing: set[str]) -> dict[str, str]:
        """Read variable products page by page until every missing variation has a parent."""
        fresh: dict[str, str] = {}
        left = set(missing)
        for page in range(1, _MAX_PAGES + 1):
            resp = self.send(
                "GET",
                f"{self.base}/products",
                params={"type": "variable", "per_page": PAGE, "page": page},
            )
            rows = self.answer(resp, [PRODUCT_SHAPE], "inventory.resolve_parents")
            for product in rows:
                pid = str(product.get("id"))
                if product.get("type") == "variable":
                    for vid in product.get("variations") or []:
                        fresh[str(vid)] = pid
                        left.discard(str(vid))
                else:
                    fresh[pid] = SIMPLE
                    left.discard(pid)
            total_pages = int(resp.headers.get("X-WP-TotalPages", "1") or 1)
            if not left or page >= total_pages or not rows:
                break
        return fresh

    # -- interface ------------------------------------------------------------------------------
    def publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        with shapes.about(**shapes.skus_context([t.sku for t in targets])):
            return self._publish(targets)

    def _publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        outcomes: list[PublishOutcome] = [
            PublishOutcome(t.sku, False, error=f"not a WooCommerce id: {t.external_id!r}")
            for t in targets
            if not t.external_id.isdigit()
        ]
        targets = [t for t in targets if t.external_id.isdigit()]
        if not targets:
            return outcomes
        known = self.parents([t.external_id for t in targets], lookup=False)
        simple = [t for t in targets if known.get(t.external_id, SIMPLE) == SIMPLE]
        moved: list[StockTarget] = []
        for part in chunks(simple, BATCH):
            done, refused = self._batch(f"{self.base}/products/batch", part)
            outcomes.extend(done)
            moved.extend(refused)
            self.remember("parent", {t.external_id: SIMPLE for t in part if t not in refused})
        by_parent: dict[str, list[StockTarget]] = defaultdict(list)
        for t in targets:
            parent = known.get(t.external_id)
            if parent and parent != SIMPLE:
                by_parent[parent].append(t)
        if moved:
            # Variations sent to the products endpoint: find their parents, then send them there.
            self.forget("parent", [t.external_id for t in moved])
            parents = self.parents([t.external_id for t in moved])
            for t in moved:
                parent = parents.get(t.external_id)
                if parent and parent != SIMPLE:
                    by_parent[parent].append(t)
                else:
                    outcomes.append(
                        PublishOutcome(
                            t.sku, False, error=f"WooCommerce has no product {t.external_id}"
                        )
                    )
        for parent, group in by_parent.items():
            for part in chunks(group, BATCH):
                done, refused = self._batch(f"{self.base}/products/{parent}/variations/batch", part)
                outcomes.extend(done)
                if refused:
                    self.forget("parent", [t.external_id for t in refused])
                outcomes.extend(
                    PublishOutcome(
                        t.sku,
                        False,
                        error=f"WooCommerce refused variation {t.external_id} of {parent}",
                    )
                    for t in refused
                )
        return outcomes

    def _batch(
        self, url: str, part: list[StockTarget]
    ) -> tuple[list[PublishOutcome], list[StockTarget]]:
        """One batch call: (outcomes, targets refused as a variation on the products endpoint)."""
        body = {
            "update": [
                {"id": int(t.external_id), "manage_stock": True, "stock_quantity": t.quantity}
                for t in part
            ]
        }
        results = self.batch_results(
            self.send("POST", url, json=body), "update", part, "inventory.publish"
        )
        outcomes: list[PublishOutcome] = []
        refused: list[StockTarget] = []
        for t, row in zip(part, results, strict=True):
            error = row.get("error") if isinstance(row, dict) else {"message": "no result"}
            if not error:
                qty = row.get("stock_quantity")
                outcomes.append(
                    PublishOutcome(
                        t.sku, True, published=int(qty) if qty is not None else t.quantity
                    )
                )
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

    def read_levels(self, external_ids: Sequence[str]) -> dict[str, int]:
        wanted = [i for i in dict.fromkeys(external_ids) if i.isdigit()]
        known = self.parents(wanted, lookup=False)
        out: dict[str, int] = {}
        unknown = [i for i in wanted if i not in known]
        simple = [i for i in wanted if known.get(i) == SIMPLE] + unknown
        seen: set[str] = set()
        for part in chunks(simple, PAGE):
            resp = self.send(
                "GET",
                f"{self.base}/products",
                params={"include": ",".join(part), "per_page": PAGE},
            )
            for product in self.answer(resp, [PRODUCT_SHAPE], "inventory.read_levels"):
                pid = str(product.get("id"))
                seen.add(pid)
                if product.get("type") != "variable" and product.get("stock_quantity") is not None:
                    out[pid] = int(product["stock_quantity"])
        self.remember("parent", {i: SIMPLE for i in unknown if i in seen})
        # Ids the products endpoint did not return are variations (or gone).
        variations = [i for i in wanted if known.get(i, SIMPLE) != SIMPLE]
        variations += [i for i in unknown if i not in seen]
        parents = self.parents(variations)
        by_parent: dict[str, set[str]] = defaultdict(set)
        for vid in variations:
            if parents.get(vid, SIMPLE) != SIMPLE:
                by_parent[parents[vid]].add(vid)
        for parent, vids in by_parent.items():
            for part in chunks(sorted(vids), PAGE):
                out.update(self._variation_levels(parent, set(part)))
        return out

    def _variation_levels(self, parent: str, vids: set[str]) -> dict[str, int]:
        """Levels of some variations of one parent; pages on if the site ignores ``include``."""
        out: dict[str, int] = {}
        for page in range(1, _MAX_PAGES + 1):
            resp = self.send(
                "GET",
                f"{self.base}/products/{parent}/variations",
                params={"include": ",".join(sorted(vids)), "per_page": PAGE, "page": page},
            )
            rows = self.answer(resp, [PRODUCT_SHAPE], "inventory.read_levels")
            for variation in rows:
                vid = str(variation.get("id"))
                if vid in vids and variation.get("stock_quantity") is not None:
                    out[vid] = int(variation["stock_quantity"])
            total_pages = int(resp.headers.get("X-WP-TotalPages", "1") or 1)
            if len(out) >= len(vids) or page >= total_pages or not rows:
                break
        return out
