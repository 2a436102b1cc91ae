"""Shopify: GraphQL Admin API ``inventorySetQuantities``, compare-and-set, cost-based budget.

- A binding's external id is the variant's legacy id. Variant -> inventory item ids are resolved
  with batched ``nodes`` queries and cached in the shared cache; the location is the channel's
  ValueMap (kind ``location``) whose Odoo value is one of the channel's warehouses, else the
  shop's first active location.
- Writes go out 250 quantities per mutation (Shopify's input-array limit). Before API 2026-01 the
  compare is ``compareQuantity`` (with ``ignoreCompareQuantity`` for values we never published);
  from 2026-01 ``changeFromQuantity`` (null skips the check) and an ``@idempotent`` key.
- A mutation is all or nothing: when some quantities are refused, those are reported (a stale
  compare reads the channel's current value and reports ``stale``) and the rest is sent again.
- Budget: the bucket of calculated query cost, fed by ``extensions.cost.throttleStatus``;
  THROTTLED waits for the points it lacks at the restore rate, then repeats the call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import requests
from django.conf import settings

from apps.core import shapes
from apps.core.errors import PermanentError
from apps.core.shapes import ANY, ID
from apps.mappings.models import ValueMap

from . import PublishOutcome, StockTarget
from .base import HttpPublisher, chunks
from .budget import RateBudget

logger = logging.getLogger(__name__)

BATCH = 250  # GraphQL input arrays hold at most 250 items
NODES_PAGE = 100  # ids per lookup query: keeps a query's cost far below the 1,000-point cap
MUTATION_COST = 10
DEFAULT_BUCKET = 1000.0  # until Shopify's first answer tells us the real bucket
DEFAULT_RESTORE = 50.0
STALE_CODES = {"COMPARE_QUANTITY_STALE", "CHANGE_FROM_QUANTITY_STALE"}

SET_MUTATION = """
mutation HubSetStock($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input)%s {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}
"""

RESOLVE_QUERY = """
query HubVariantItems($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant { legacyResourceId inventoryItem { id } }
  }
}
"""

LEVELS_QUERY = """
query HubLevels($ids: [ID!]!, $location: ID!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      legacyResourceId
      inventoryItem {
        id
        inventoryLevel(locationId: $location) { quantities(names: ["available"]) { quantity } }
      }
    }
  }
}
"""

LOCATIONS_QUERY = """
query HubLocations { locations(first: 20) { nodes { id legacyResourceId isActive } } }
"""


# What each call reads of the answer's ``data`` (apps.core.shapes). A node of ``nodes(ids:)``
# is null for an unknown id and an empty object for an id of another type.
LOCATIONS_SHAPE = {"locations": {"nodes": [{"id": str, "isActive?": (bool, None)}]}}
RESOLVE_SHAPE = {
    "nodes": [({"legacyResourceId?": ID, "inventoryItem?": ({"id": str}, None)}, None)]
}
LEVELS_SHAPE = {
    "nodes": [
        (
            {
                "legacyResourceId?": ID,
                "inventoryItem?": (
                    {
                        "inventoryLevel?": (
                            {"quantities?": ([{"quantity": int}], None)},
                            None,
                        )
                    },
                    None,
                ),
            },
            None,
        )
    ]
}
COST_SHAPE = {
    "extensions": {
        "cost": {
            "requestedQueryCost?": (float, None),
            "throttleStatus?": (
                {"currentlyAvailable": float, "maximumAvailable": float, "restoreRate": float},
                None,
            ),
        }
    }
}
USER_ERRORS = [{"field?": ([ANY], None), "code?": ANY, "message?": ANY}]


def mutation_shape(root: str, **payload: Any) -> dict[str, Any]:
    """A mutation's answer: ``root`` holds the ``userErrors`` list and, optionally, ``payload``
    fields (each absent or null when the mutation was refused)."""
    fields = {f"{k}?": (v, None) for k, v in payload.items()}
    return {root: {"userErrors": USER_ERRORS, **fields}}


SET_SHAPE = mutation_shape("inventorySetQuantities")


def _gid(kind: str, value: str) -> str:
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


class ShopifyPublisher(HttpPublisher):
    batch_size = BATCH

    def __init__(self, channel: Any, *, session: requests.Session | None = None) -> None:
        super().__init__(channel, session=session)
        self.version = str(getattr(settings, "HUB_SHOPIFY_API_VERSION", "2025-01"))
        self.url = f"{channel.api_base_url.rstrip('/')}/admin/api/{self.version}/graphql.json"
        self.headers = {
            "X-Shopify-Access-Token": channel.access_token,
            "Content-Type": "application/json",
        }
        self._location: str | None = None

    @property
    def new_compare(self) -> bool:
        return self.version == "unstable" or self.version >= "2026-01"

    def make_budget(self) -> RateBudget:
        return RateBudget(
            account=f"shopify:{self.channel.api_base_url.rstrip('/')}",
            size=DEFAULT_BUCKET,
            rate=DEFAULT_RESTORE,
            channel_code=self.channel.code,
        )

    # -- transport ------------------------------------------------------------------------------
    def _cost(self, body: Any) -> dict[str, Any]:
        """``extensions.cost`` when it has the shape Shopify documents, else {} (a broken cost
        report only costs us its rate signal; the answer itself is checked by ``graphql``)."""
        if shapes.problem(body, COST_SHAPE) is not None:
            return {}
        cost: dict[str, Any] = body["extensions"]["cost"]
        return cost

    def observe(self, resp: requests.Response) -> None:
        try:
            body = resp.json()
        except ValueError:
            return
        status = self._cost(body).get("throttleStatus") or {}
        if status:
            self.budget.observe(
                available=status.get("currentlyAvailable"),
                size=status.get("maximumAvailable"),
                rate=status.get("restoreRate"),
            )

    def throttle_wait(self, resp: requests.Response) -> float | None:
        if resp.status_code == 429:
            return super().throttle_wait(resp)
        try:
            body = resp.json()
        except ValueError:
            return None
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not any(
            isinstance(e, dict)
            and isinstance(e.get("extensions"), dict)
            and e["extensions"].get("code") == "THROTTLED"
            for e in errors
        ):
            return None
        cost = self._cost(body)
        status = cost.get("throttleStatus") or {}
        missing = float(cost.get("requestedQueryCost") or MUTATION_COST) - float(
            status.get("currentlyAvailable") or 0
        )
        rate = float(status.get("restoreRate") or DEFAULT_RESTORE)
        return max(0.1, missing / rate)

    def graphql(
        self, query: str, variables: dict[str, Any], *, cost: float, shape: Any, operation: str
    ) -> dict[str, Any]:
        """The answer's ``data``, checked against ``shape`` (apps.core.shapes.graphql_data)."""
        resp = self.send(
            "POST",
            self.url,
            cost=cost,
            json={"query": query, "variables": variables},
            headers=self.headers,
        )
        code = self.channel.code
        return shapes.graphql_data(resp, shape, partner=code, operation=operation, channel=code)

    # -- resolution -----------------------------------------------------------------------------
    def location(self) -> str:
        if self._location:
            return self._location
        warehouses = {
            str(w) for w in self.channel.warehouses.values_list("odoo_warehouse_id", flat=True)
        }
        mapped = [
            v.channel_value
            for v in ValueMap.objects.filter(channel=self.channel, kind=ValueMap.Kind.LOCATION)
            if v.odoo_value in warehouses
        ]
        if mapped:
            self._location = _gid("Location", sorted(mapped)[0])
            return self._location
        cached = self.cached("location", ["primary"]).get("primary")
        if cached:
            self._location = str(cached)
            return self._location
        nodes = self.graphql(
            LOCATIONS_QUERY, {}, cost=30, shape=LOCATIONS_SHAPE, operation="inventory.locations"
        )["locations"]["nodes"]
        active = [n for n in nodes if n.get("isActive")]
        if not active:
            raise PermanentError(f"{self.channel.code}: the shop has no active location")
        self._location = str(active[0]["id"])
        self.remember("location", {"primary": self._location})
        return self._location

    def inventory_items(self, external_ids: Sequence[str]) -> dict[str, str]:
        """variant legacy id -> InventoryItem gid, from the cache or batched node queries."""
        wanted = list(dict.fromkeys(external_ids))
        found: dict[str, str] = {k: str(v) for k, v in self.cached("item", wanted).items()}
        missing = [i for i in wanted if i not in found]
        for part in chunks(missing, NODES_PAGE):
            data = self.graphql(
                RESOLVE_QUERY,
                {"ids": [_gid("ProductVariant", i) for i in part]},
                cost=2 * len(part) + 2,
                shape=RESOLVE_SHAPE,
                operation="inventory.resolve_items",
            )
            fresh = {
                str(n["legacyResourceId"]): str(n["inventoryItem"]["id"])
                for n in data["nodes"]
                if n and n.get("inventoryItem") and n.get("legacyResourceId") is not None
            }
            self.remember("item", fresh)
            found.update(fresh)
        return found

    # -- interface ------------------------------------------------------------------------------
    def read_levels(self, external_ids: Sequence[str]) -> dict[str, int]:
        location = self.location()
        out: dict[str, int] = {}
        for part in chunks(list(dict.fromkeys(external_ids)), NODES_PAGE):
            data = self.graphql(
                LEVELS_QUERY,
                {"ids": [_gid("ProductVariant", i) for i in part], "location": location},
                cost=4 * len(part) + 2,
                shape=LEVELS_SHAPE,
                operation="inventory.read_levels",
            )
            for node in data["nodes"]:
                if (
                    not node
                    or not node.get("inventoryItem")
                    or node.get("legacyResourceId") is None
                ):
                    continue
                level = node["inventoryItem"].get("inventoryLevel")
                quantities = (level or {}).get("quantities") or []
                if quantities:
                    out[str(node["legacyResourceId"])] = int(quantities[0]["quantity"])
        return out

    def publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        if not targets:
            return []
        with shapes.about(**shapes.skus_context([t.sku for t in targets])):
            return self._publish(targets)

    def _publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        location = self.location()
        items = self.inventory_items([t.external_id for t in targets])
        outcomes: list[PublishOutcome] = []
        sendable: list[StockTarget] = []
        for t in targets:
            if t.external_id in items:
                sendable.append(t)
            else:
                outcomes.append(
                    PublishOutcome(
                        t.sku, False, error=f"Shopify has no variant {t.external_id} for {t.sku}"
                    )
                )
        if self.new_compare:
            groups = [sendable]
        else:
            # Before 2026-01 the compare can only be switched off for a whole call.
            groups = [
                [t for t in sendable if t.expected is not None],
                [t for t in sendable if t.expected is None],
            ]
        for group in groups:
            for part in chunks(group, BATCH):
                outcomes.extend(self._set(part, items, location))
        return outcomes

    def _quantity(self, t: StockTarget, item: str, location: str) -> dict[str, Any]:
        q: dict[str, Any] = {
            "inventoryItemId": item,
            "locationId": location,
            "quantity": t.quantity,
        }
        if self.new_compare:
            q["changeFromQuantity"] = t.expected
        elif t.expected is not None:
            q["compareQuantity"] = t.expected
        return q

    def _set(
        self, part: list[StockTarget], items: dict[str, str], location: str
    ) -> list[PublishOutcome]:
        """One mutation per round; refused quantities drop out and the rest is sent again."""
        outcomes: list[PublishOutcome] = []
        stale: list[StockTarget] = []
        pending = part
        while pending:
            payload: dict[str, Any] = {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"gid://integration-hub/StockSync/{self.channel.code}",
                "quantities": [self._quantity(t, items[t.external_id], location) for t in pending],
            }
            if not self.new_compare and any(t.expected is None for t in pending):
                payload["ignoreCompareQuantity"] = True
            directive = f' @idempotent(key: "{uuid.uuid4()}")' if self.new_compare else ""
            data = self.graphql(
                SET_MUTATION % directive,
                {"input": payload},
                cost=MUTATION_COST,
                shape=SET_SHAPE,
                operation="inventory.set_quantities",
            )
            errors = data["inventorySetQuantities"]["userErrors"]
            if not errors:
                outcomes.extend(PublishOutcome(t.sku, True, published=t.quantity) for t in pending)
                break
            refused: dict[int, dict[str, Any]] = {}
            for err in errors:
                field = err.get("field") or []
                if (
                    len(field) >= 3
                    and field[:2] == ["input", "quantities"]
                    and str(field[2]).isdigit()
                ):
                    refused[int(field[2])] = err
                else:
                    raise PermanentError(
                        f"{self.channel.code}: inventorySetQuantities refused: "
                        f"{err.get('message')}",
                        channel=self.channel.code,
                        code=err.get("code"),
                    )
            remaining = []
            for n, t in enumerate(pending):
                err = refused.get(n)
                if err is None:
                    remaining.append(t)
                elif err.get("code") in STALE_CODES:
                    stale.append(t)
                else:
                    if err.get("code") == "INVALID_INVENTORY_ITEM":
                        self.forget("item", [t.external_id])
                    outcomes.append(
                        PublishOutcome(
                            t.sku,
                            False,
                            error=f"Shopify refused {t.sku}: {err.get('code')} "
                            f"{err.get('message')}",
                        )
                    )
            if len(remaining) == len(pending):
                # Errors that name no quantity we sent: retrying the same call cannot help.
                raise PermanentError(
                    f"{self.channel.code}: inventorySetQuantities refused: {errors}"[:500],
                    channel=self.channel.code,
                )
            pending = remaining
        if stale:
            current = self.read_levels([t.external_id for t in stale])
            outcomes.extend(
                PublishOutcome(
                    t.sku,
                    False,
                    published=current.get(t.external_id),
                    stale=True,
                    error=(
                        f"compare-and-set refused for {t.sku}: we expected {t.expected}, "
                        f"Shopify holds {current.get(t.external_id)}"
                    ),
                )
                for t in stale
            )
        return outcomes
