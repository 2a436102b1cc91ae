"""BigCommerce: v3 absolute inventory adjustments, up to 2,000 items per call.

- A binding's external id is the variant id. An absolute adjustment names each item by exactly
  one of ``sku``, ``variant_id`` or ``product_id``, and refuses (422, nothing applied) a
  ``variant_id`` whose product tracks stock at product level. The hub therefore names items by
  the channel's own SKU for that variant, read once with ``GET v3/inventory/items?variant_id:in=``
  (which also carries the levels ``read_levels`` needs) and cached in the shared cache.
- Location: the channel's ValueMap (kind ``location``) whose Odoo value is one of the channel's
  warehouses, else BigCommerce's default location ``1``.
- Budget: the store's quota window, fed by ``X-Rate-Limit-Requests-Left`` and
  ``X-Rate-Limit-Time-Reset-Ms`` on every answer; a 429 waits ``X-Rate-Limit-Time-Reset-Ms``
  (or ``X-Retry-After``) and repeats the call.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import requests

from apps.core import shapes
from apps.core.shapes import ID
from apps.mappings.models import ValueMap

from . import PublishOutcome, StockTarget
from .base import HttpPublisher, chunks
from .budget import RateBudget

logger = logging.getLogger(__name__)

BATCH = 2000
PAGE = 250
DEFAULT_QUOTA = 150.0
DEFAULT_WINDOW_SECONDS = 30.0
DEFAULT_LOCATION = 1
# What the calls read of the answer (apps.core.shapes).
ITEMS_SHAPE = {
    "data": [
        {
            "identity?": ({"variant_id?": (ID, None), "sku?": (str, None)}, None),
            "locations?": (
                [{"location_id?": (int, None), "available_to_sell?": (int, None)}],
                None,
            ),
        }
    ]
}
ADJUSTED_SHAPE = {"transaction_id": ID}


class BigCommercePublisher(HttpPublisher):
    batch_size = BATCH

    def __init__(self, channel: Any, *, session: requests.Session | None = None) -> None:
        super().__init__(channel, session=session)
        self.base = channel.api_base_url.rstrip("/")
        self.headers = {
            "X-Auth-Token": channel.access_token,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def make_budget(self) -> RateBudget:
        return RateBudget(
            account=f"bigcommerce:{self.channel.api_base_url.rstrip('/')}",
            size=DEFAULT_QUOTA,
            rate=DEFAULT_QUOTA / DEFAULT_WINDOW_SECONDS,
            channel_code=self.channel.code,
        )

    def observe(self, resp: requests.Response) -> None:
        left = resp.headers.get("X-Rate-Limit-Requests-Left")
        reset_ms = resp.headers.get("X-Rate-Limit-Time-Reset-Ms")
        if left is None or reset_ms is None or not left.isdigit() or not reset_ms.isdigit():
            return
        quota = resp.headers.get("X-Rate-Limit-Requests-Quota") or ""
        # A fixed window: what is left now is all there is until the window resets, when the
        # whole quota is back. So no trickle (rate 0), and a refill at the reset.
        self.budget.observe(
            available=int(left),
            size=float(quota) if quota.isdigit() else None,
            rate=0.0,
            reset_in=int(reset_ms) / 1000.0,
        )

    def location(self) -> int:
        warehouses = {
            str(w) for w in self.channel.warehouses.values_list("odoo_warehouse_id", flat=True)
        }
        mapped = sorted(
            int(v.channel_value)
            for v in ValueMap.objects.filter(channel=self.channel, kind=ValueMap.Kind.LOCATION)
            if v.odoo_value in warehouses and v.channel_value.isdigit()
        )
        return mapped[0] if mapped else DEFAULT_LOCATION

    def _items(self, variant_ids: Sequence[str]) -> tuple[dict[str, str], dict[str, int]]:
        """(variant id -> SKU, variant id -> available at our location), one call per 250."""
        location = self.location()
        skus: dict[str, str] = {}
        levels: dict[str, int] = {}
        for part in chunks(list(dict.fromkeys(variant_ids)), PAGE):
            resp = self.send(
                "GET",
                f"{self.base}/v3/inventory/items",
                params={"variant_id:in": ",".join(part), "limit": PAGE},
                headers=self.headers,
            )
            for row in self.answer(resp, ITEMS_SHAPE, "inventory.read_items")["data"]:
                ident = row.get("identity") or {}
                vid = str(ident.get("variant_id"))
                skus[vid] = str(ident.get("sku") or "")
                for loc in row.get("locations") or []:
                    if int(loc.get("location_id") or 0) == location:
                        levels[vid] = int(loc.get("available_to_sell") or 0)
        self.remember("sku", {k: v for k, v in skus.items() if v})
        return skus, levels

    def read_levels(self, external_ids: Sequence[str]) -> dict[str, int]:
        return self._items(external_ids)[1]

    def publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        if not targets:
            return []
        with shapes.about(**shapes.skus_context([t.sku for t in targets])):
            return self._publish(targets)

    def _publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        skus = {k: str(v) for k, v in self.cached("sku", [t.external_id for t in targets]).items()}
        missing = [t.external_id for t in targets if t.external_id not in skus]
        if missing:
            skus.update(self._items(missing)[0])
        location = self.location()
        outcomes: list[PublishOutcome] = []
        sendable = []
        for t in targets:
            if skus.get(t.external_id):
                sendable.append(t)
            else:
                outcomes.append(
                    PublishOutcome(
                        t.sku, False, error=f"BigCommerce has no variant {t.external_id}"
                    )
                )
        for part in chunks(sendable, BATCH):
            resp = self.send(
                "PUT",
                f"{self.base}/v3/inventory/adjustments/absolute",
                json={
                    "reason": "Integration Hub stock sync",
                    "items": [
                        {
                            "location_id": location,
                            "sku": skus[t.external_id],
                            "quantity": max(0, t.quantity),
                        }
                        for t in part
                    ],
                },
                headers=self.headers,
            )
            # A 200 whose body is not the adjustment's receipt (an error body, a proxy page)
            # did not set the stock: never record it as published.
            self.answer(resp, ADJUSTED_SHAPE, "inventory.publish")
            outcomes.extend(PublishOutcome(t.sku, True, published=t.quantity) for t in part)
        return outcomes
