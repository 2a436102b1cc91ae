"""Adobe Commerce / Magento 2: MSI source items in batches per source, legacy stock items where
MSI is off.

- **Transport**: the channel's Magento client (``apps.sales_channels.magento``: bearer token or
  OAuth 1.0a signing, Magento's ``{"message", "parameters"}`` errors classified) over a session
  that takes every call from the account's rate budget and counts it. Magento has no rate limit
  on its admin REST API by default (hosting may add one), so the budget is a configured rate,
  ``HUB_MAGENTO_API_RATE`` (default ``10/s``); a 429 is waited out (``Retry-After``) and the call
  repeated without spending an attempt. The fulfilment and refund adapters send through the
  same publisher, so one budget covers every outbound call of a store.
- **MSI** (``magento_sources`` set): ``POST /V1/inventory/source-items`` with ``sourceItems:
  [{sku, source_code, quantity, status}]`` (status 1 in stock, 0 out of stock), one call per
  source per ``HUB_MAGENTO_STOCK_BATCH`` items (100; set it to 20 when the store enables
  Magento's input limits). Only changed SKUs arrive here (the publication core's change
  detection). A refused batch (4xx: one unknown SKU refuses the whole call) is sent again one
  item at a time, so only the bad SKUs go to the inbox.
- **Which source**: ``magento_sources`` maps Odoo warehouses to MSI source codes. When it names
  one source, the channel's ATP goes there. When it names several, each key must be an Odoo
  warehouse id of the channel (warehouse codes cannot be resolved without an Odoo read the hub
  does not make yet): the ATP is split over the sources in proportion to each warehouse's free
  quantity in Odoo (largest remainder, so the sources add up to ATP exactly; no free stock
  anywhere puts it all on the first warehouse's source). A stock move between two warehouses
  that leaves the ATP unchanged is not sent until the SKU changes again.
- **No compare-and-set**: MSI source items carry no version and accept no expected value, so the
  write is absolute; drift made on the store is found by reconciliation (``read_levels``).
- **Legacy** (``magento_sources`` empty = MSI off): ``PUT /V1/products/{sku}/stockItems/{itemId}``
  ``{"stockItem": {"qty", "is_in_stock"}}``, one call per SKU; the item id is read once with
  ``GET /V1/stockItems/{sku}`` and cached.
- A binding's SKU (``external_code``) is the Magento SKU; its external id is the product id.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from apps.core import shapes
from apps.core.errors import ConfigurationError, PermanentError, RateLimited
from apps.mappings.models import Binding
from apps.sales_channels.magento import FilterGroup, magento_client
from apps.sales_channels.models import Channel

from . import PublishOutcome, StockTarget
from .base import MAX_CONSECUTIVE_429, HttpPublisher, chunks, count_call
from .budget import RateBudget, configured_budget

logger = logging.getLogger(__name__)

PAGE = 300  # Magento's input limits, when on, cap a page at 300
NUMBER: Any = (int, float, str, Decimal)  # the client decodes fractions as Decimal
SOURCE_ITEM = {"sku": str, "source_code": str, "quantity": NUMBER}
STOCK_ITEM = {"item_id": shapes.ID, "qty?": (NUMBER, None)}
COMMENTS = {"items": [{"comment": (str, None)}]}


def sku_path(sku: str) -> str:
    """A SKU as one path segment (Magento SKUs may hold spaces, slashes, ...)."""
    return quote(sku, safe="")


def split(total: int, weights: Sequence[tuple[str, Decimal]]) -> dict[str, int]:
    """``total`` over the keys in proportion to their weights, adding up exactly; the largest
    remainders get the units left over, an earlier key first on a tie; no positive weight at
    all puts everything on the first key."""
    keys = [k for k, _ in weights]
    positive = [(k, max(Decimal(0), w)) for k, w in weights]
    whole = sum((w for _, w in positive), Decimal(0))
    if total <= 0 or whole <= 0:
        return {k: (total if i == 0 else 0) for i, k in enumerate(dict.fromkeys(keys))}
    shares = {k: Decimal(0) for k in keys}
    for k, w in positive:
        shares[k] += Decimal(total) * w / whole
    out = {k: int(v) for k, v in shares.items()}
    left = total - sum(out.values())
    by_remainder = sorted(shares, key=lambda k: (-(shares[k] - out[k]), keys.index(k)))
    for k in by_remainder[:left]:
        out[k] += 1
    return out


class MagentoSession(requests.Session):
    """Every call of the Magento client: rate budget first, then counted (publisher and the
    adapters' counters) and fed to ``hub_inventory_channel_calls_total``."""

    def __init__(self) -> None:
        super().__init__()
        self.publisher: MagentoPublisher | None = None
        self.counters: list[Any] = []

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any) -> Any:  # type: ignore[override]
        pub = self.publisher
        if pub is not None:
            pub.budget.take(1.0)
        for counter in self.counters:
            counter.calls += 1
        try:
            resp = super().request(method, url, *args, **kw)
        except (requests.ConnectionError, requests.Timeout):
            if pub is not None:
                count_call(pub.channel, "error")
            raise
        if pub is not None:
            status = resp.status_code
            count_call(
                pub.channel,
                "rate_limited" if status == 429 else ("ok" if status < 400 else "error"),
            )
        return resp


class MagentoPublisher(HttpPublisher):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        magento_session = session if isinstance(session, MagentoSession) else MagentoSession()
        super().__init__(channel, session=magento_session)
        magento_session.publisher = self
        magento_session.counters.append(self)
        self.magento_session = magento_session
        self.client = magento_client(channel, session=magento_session)
        self.batch_size = max(1, int(getattr(settings, "HUB_MAGENTO_STOCK_BATCH", 100) or 100))

    def make_budget(self) -> RateBudget:
        return configured_budget(self.channel, "magento", "HUB_MAGENTO_API_RATE")

    # -- transport (shared with the fulfilment and refund adapters) -----------------------------
    def api(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        spec: Any = shapes.ANY,
        params: dict[str, Any] | None = None,
        json: Any = None,
        store: str | None = None,
    ) -> Any:
        """One call; a 429 is waited out and repeated; the answer checked against ``spec``."""
        throttled = 0
        while True:
            try:
                body = self.client.request(method, path, params=params, json=json, store=store)
            except RateLimited as exc:
                throttled += 1
                wait = exc.retry_after if exc.retry_after is not None else 1.0
                if throttled >= MAX_CONSECUTIVE_429:
                    raise
                self.budget.wait_out(wait)  # raises RateLimited when the wait is too long
                continue
            return shapes.expect(
                body,
                spec,
                partner=self.channel.code,
                operation=operation,
                endpoint=f"{method} {path.split('?')[0]}",
            )

    def pages(
        self,
        path: str,
        filters: Sequence[FilterGroup],
        *,
        operation: str,
        item: Any = dict,
        page_size: int = PAGE,
        sort: Sequence[tuple[str, str]] = (),
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a ``searchCriteria`` search, each checked as a list of ``item``."""
        for rows in self.client.search_pages(path, filters, page_size, sort=sort):
            yield shapes.expect(
                rows, [item], partner=self.channel.code, operation=operation, endpoint=path
            )

    def comments(self, entity: str, doc: dict[str, Any], operation: str) -> list[str]:
        """The comments of a shipment or credit memo: from the listed document, else (whether
        Magento's lists carry them is UNCONFIRMED) ``GET /V1/{entity}/{id}/comments``."""
        rows = doc.get("comments")
        if not isinstance(rows, list):
            path = f"{entity}/{doc['entity_id']}/comments"
            rows = self.api("GET", path, operation=operation, spec=COMMENTS)["items"]
        return [str(c.get("comment") or "") for c in rows if isinstance(c, dict)]

    # -- sources --------------------------------------------------------------------------------
    def plan(self) -> list[tuple[int | None, str]]:
        """(Odoo warehouse id, MSI source code) in the channel's warehouse order; one entry with
        no warehouse when a single source takes the whole ATP; empty = MSI off (legacy)."""
        mapping = {
            str(k).strip(): str(v).strip()
            for k, v in (self.channel.magento_sources or {}).items()
            if str(k).strip() and str(v).strip()
        }
        sources = list(dict.fromkeys(mapping.values()))
        if len(sources) <= 1:
            return [(None, sources[0])] if sources else []
        warehouses = list(self.channel.warehouses.values_list("odoo_warehouse_id", flat=True))
        plan: list[tuple[int | None, str]] = [
            (int(wh), mapping[str(wh)]) for wh in warehouses if str(wh) in mapping
        ]
        if not plan:
            raise ConfigurationError(
                f"{self.channel.code}: magento_sources names several MSI sources "
                f"({', '.join(sources)}) but none of its keys is one of the channel's Odoo "
                f"warehouse ids ({', '.join(map(str, warehouses)) or 'none'}): with several "
                "sources, key each source by Odoo warehouse id",
                channel=self.channel.code,
                field="magento_sources",
            )
        return plan

    def sources(self) -> list[str]:
        return list(dict.fromkeys(source for _, source in self.plan()))

    def _allocations(
        self, targets: Sequence[StockTarget], plan: list[tuple[int | None, str]]
    ) -> dict[str, list[tuple[StockTarget, int]]]:
        """source -> [(target, quantity at that source)]."""
        per_source: dict[str, list[tuple[StockTarget, int]]] = defaultdict(list)
        if len(plan) == 1 and plan[0][0] is None:
            per_source[plan[0][1]] = [(t, max(0, t.quantity)) for t in targets]
            return per_source
        from apps.inventory.atp import bound_skus
        from apps.odoo.gateway import get_gateway

        bound = bound_skus(self.channel, [t.sku for t in targets])
        warehouses = [wh for wh, _ in plan if wh is not None]
        levels = get_gateway().stock_levels(
            product_ids=sorted({b.odoo_product_id for b in bound.values()}),
            warehouse_ids=warehouses,
        )
        for t in targets:
            pid = bound[t.sku].odoo_product_id if t.sku in bound else None
            weights: dict[str, Decimal] = {}
            for wh, source in plan:
                level = levels.get(int(wh or 0), {}).get(pid) if pid is not None else None
                free = Decimal(str(level.free_qty)) if level is not None else Decimal(0)
                weights[source] = weights.get(source, Decimal(0)) + max(Decimal(0), free)
            for source, qty in split(max(0, t.quantity), list(weights.items())).items():
                per_source[source].append((t, qty))
        return per_source

    # -- publication ----------------------------------------------------------------------------
    def publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        if not targets:
            return []
        plan = self.plan()
        if not plan:
            return self._publish_legacy(targets)
        refused: dict[str, str] = {}
        for source, items in self._allocations(targets, plan).items():
            for part in chunks(items, self.batch_size):
                refused.update(self._send_source_items(source, part))
        return [
            PublishOutcome(t.sku, False, error=refused[t.sku])
            if t.sku in refused
            else PublishOutcome(t.sku, True, published=max(0, t.quantity))
            for t in targets
        ]

    def _send_source_items(
        self, source: str, part: list[tuple[StockTarget, int]]
    ) -> dict[str, str]:
        """SKU -> why Magento refused it; a refused batch is split into single items."""
        body = {
            "sourceItems": [
                {
                    "sku": t.sku,
                    "source_code": source,
                    "quantity": qty,
                    "status": 1 if qty > 0 else 0,
                }
                for t, qty in part
            ]
        }
        skus = [t.sku for t, _ in part]
        with shapes.about(flow="inventory.publish", **shapes.skus_context(skus)):
            try:
                self.api(
                    "POST",
                    "inventory/source-items",
                    operation="inventory.source_items.save",
                    json=body,
                )
                return {}
            except ConfigurationError:
                raise  # credentials or settings: nothing item by item would pass
            except PermanentError as exc:
                if getattr(exc, "status", None) == 404:  # "Request does not match any route."
                    raise ConfigurationError(
                        f"{self.channel.code}: the store has no MSI source-items route (MSI "
                        "modules disabled?): empty magento_sources to publish legacy stock items",
                        channel=self.channel.code,
                        field="magento_sources",
                    ) from exc
                if len(part) == 1:
                    return {skus[0]: f"MSI source {source}: {exc.message}"[:500]}
        logger.info(
            "%s: MSI refused a batch of %d, sending it one by one", self.channel.code, len(part)
        )
        refused: dict[str, str] = {}
        for one in part:
            refused.update(self._send_source_items(source, [one]))
        return refused

    def _item_id(self, sku: str) -> str:
        known = self.cached("stock_item", [sku])
        if sku in known:
            return str(known[sku])
        row = self.api(
            "GET", f"stockItems/{sku_path(sku)}", operation="inventory.stock_item", spec=STOCK_ITEM
        )
        self.remember("stock_item", {sku: str(row["item_id"])})
        return str(row["item_id"])

    def _publish_legacy(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        outcomes: list[PublishOutcome] = []
        for t in targets:
            qty = max(0, t.quantity)
            with shapes.about(flow="inventory.publish", sku=t.sku):
                try:
                    item_id = self._item_id(t.sku)
                    self.api(
                        "PUT",
                        f"products/{sku_path(t.sku)}/stockItems/{item_id}",
                        operation="inventory.stock_item.save",
                        json={"stockItem": {"qty": qty, "is_in_stock": qty > 0}},
                    )
                except ConfigurationError:
                    raise
                except PermanentError as exc:
                    self.forget("stock_item", [t.sku])
                    outcomes.append(PublishOutcome(t.sku, False, error=exc.message[:500]))
                    continue
            outcomes.append(PublishOutcome(t.sku, True, published=qty))
        return outcomes

    # -- reconciliation -------------------------------------------------------------------------
    def read_levels(self, external_ids: Sequence[str]) -> dict[str, int]:
        """Per external id (product id): the quantity on our sources (their sum), or the legacy
        stock item's quantity."""
        ids = list(dict.fromkeys(external_ids))
        skus = {
            ext: code or ext
            for ext, code in Binding.objects.filter(
                channel=self.channel, kind=Binding.Kind.PRODUCT, external_id__in=ids
            ).values_list("external_id", "external_code")
        }
        by_sku = {sku: ext for ext, sku in skus.items()}
        sources = self.sources()
        levels: dict[str, int] = {}
        if not sources:
            for ext, sku in skus.items():
                row = self.api(
                    "GET",
                    f"stockItems/{sku_path(sku)}",
                    operation="inventory.stock_item",
                    spec=STOCK_ITEM,
                )
                levels[ext] = int(Decimal(str(row.get("qty") or 0)))
            return levels
        for part in chunks(sorted(by_sku), PAGE):
            filters: list[FilterGroup] = [
                ("sku", ",".join(part), "in"),
                ("source_code", ",".join(sources), "in"),
            ]
            for rows in self.pages(
                "inventory/source-items",
                filters,
                operation="inventory.source_items.read",
                item=SOURCE_ITEM,
            ):
                for row in rows:
                    owner = by_sku.get(str(row["sku"]))
                    if owner is not None:
                        levels[owner] = levels.get(owner, 0) + int(Decimal(str(row["quantity"])))
        return levels
