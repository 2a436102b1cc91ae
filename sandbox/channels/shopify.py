"""Shopify Admin API stand-in: GraphQL (``/admin/api/<version>/graphql.json``) plus the two
legacy REST inventory endpoints, ``orders.json`` (the REST Order resource, cursor-paged),
``webhooks.json`` (webhook subscriptions, in memory) and the Shopify Payments payouts and balance
transactions (``shopify_payments/...``, in ``shopify_payments.py``).

Fulfilment follows the fulfillment-order model: a seeded order gets one fulfillment order per
location its lines come from; ``fulfillmentCreate`` takes quantities from their line items,
``fulfillmentTrackingInfoUpdate`` replaces a fulfillment's tracking, ``fulfillmentEventCreate``
records a carrier status. Like the app-config subscription of a real app, ``webhook_url`` /
``webhook_secret`` (config) make the stand-in deliver ``fulfillments/create`` and
``fulfillments/update`` to that URL, signed, in a background thread, when they happen.

GraphQL answers go through ``graphql.Executor`` with the static ``SCHEMA`` below: the hub may
select any listed field, in any shape, with aliases and fragments; anything else is an
``undefinedField`` error exactly where Shopify would give one. Throttling follows Shopify's
calculated-cost leaky bucket: the requested cost must be available, is taken, and the difference
to the actual cost is refunded; every answer carries ``extensions.cost``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import graphql as gql
from . import sender, shopify_b2b, shopify_catalog
from .base import Request, Response, int_or_none, iso_utc
from .ratelimit import LeakyBucket
from .shopify_payments import ShopifyPayments
from .store import Item, Store

DEFAULT_TOKEN = "shpat_standin_access_token"
# shopify.dev rate limits (2025): standard plan restores 100 points/s; a single query may cost at
# most 1,000 points. Bucket size is not in CHANNELS.md; 2,000 matches what current stores report.
DEFAULT_BUCKET = 2000.0
DEFAULT_RESTORE = 100.0
MAX_QUERY_COST = 1000
MUTATION_COST = 10
REST_BUCKET = 40.0  # REST: 40-request bucket leaking 2/s on standard plans
REST_LEAK = 2.0
QUANTITY_LIMIT = 1_000_000_000
PRIMARY_LOCATION = 68_000_000_001
SECONDARY_LOCATION = 68_000_000_002  # exists, stocks nothing: ITEM_NOT_STOCKED_AT_LOCATION
LOCATIONS = {PRIMARY_LOCATION: "Main warehouse", SECONDARY_LOCATION: "Pop-up store"}
QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)
REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REST_THROTTLED = (
    "Exceeded 2 calls per second for api client. "
    "Reduce request rates to resume uninterrupted service."
)
VERSION_RE = re.compile(r"^/admin/api/(\d{4}-\d{2}|unstable)/(.+)$")
FULFILLMENT_EVENT_STATUSES = (
    "ATTEMPTED_DELIVERY",
    "CARRIER_PICKED_UP",
    "CONFIRMED",
    "DELAYED",
    "DELIVERED",
    "FAILURE",
    "IN_TRANSIT",
    "LABEL_PRINTED",
    "LABEL_PURCHASED",
    "OUT_FOR_DELIVERY",
    "READY_FOR_PICKUP",
)
UNFULFILLABLE = ("CLOSED", "CANCELLED", "INCOMPLETE", "ON_HOLD", "SCHEDULED")
# A few companies of Shopify's supported list, with a link template: for these (exact spelling,
# capitals included) Shopify builds the tracking URL itself; for any other company it keeps
# only the URL it was given. The templates are the stand-in's, not Shopify's.
CARRIER_LINKS = {
    "UPS": "https://www.ups.com/track?tracknum={n}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "DHL Express": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={n}",
    "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/details/{n}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{n}",
    "Australia Post": "https://auspost.com.au/mypost/track/#/details/{n}",
}
# Error texts of fulfilment user errors. Shopify's exact wording is UNCONFIRMED
# (LIFECYCLE.md §1.1, §7); these are plausible, stable strings the hub must not depend on.
ERR_QUANTITY = "Invalid fulfillment order line item quantity requested."
ERR_LOCATION = "All fulfillment orders must be assigned to the same location."
ERR_ORDER = "All fulfillment orders must belong to the same order."
ERR_TRACKING_MIXED = "Tracking info can have either number and url, or numbers and urls, not both."
ERR_URL_WITHOUT_NUMBER = "A tracking url requires a tracking number."
ERR_NO_FULFILLMENT = "Fulfillment does not exist."
SHOP_CURRENCY = "USD"
CENT = Decimal("0.01")
# Refund / return user errors: Shopify's wording is UNCONFIRMED, like the fulfilment ones.
ERR_REFUND_QUANTITY = "Quantity cannot refund more items than were purchased."
ERR_REFUND_AMOUNT = "Refund amount {amount} is greater than net payment received {left}."
ERR_REFUND_PARENT = "Parent transaction is not a successful sale or capture of this order."
ERR_IDEMPOTENT_REQUIRED = "The @idempotent directive is required for this mutation."
ERR_IDEMPOTENT_MISMATCH = "The idempotency key has already been used with different parameters."


def _dec(value: Any) -> Decimal:
    """Money as Decimal to the cent (the stand-in never keeps money in floats)."""
    try:
        return Decimal(str(value if value not in (None, "") else 0)).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise gql.GraphQLError(f"Invalid money value {value!r}") from exc


S = None  # scalar marker for readability in SCHEMA
SCHEMA: gql.Schema = {
    "QueryRoot": {
        "productVariants": "ProductVariantConnection",
        "products": "ProductConnection",
        "productVariant": "ProductVariant",
        "product": "Product",
        "inventoryItem": "InventoryItem",
        "inventoryItems": "InventoryItemConnection",
        "location": "Location",
        "locations": "LocationConnection",
        "order": "Order",
        "node": "Node",
        "nodes": "[Node]",
        "shop": "Shop",
    },
    "Mutation": {
        "inventorySetQuantities": "InventorySetQuantitiesPayload",
        "orderUpdate": "OrderUpdatePayload",
        "tagsAdd": "TagsAddPayload",
        "fulfillmentCreate": "FulfillmentCreatePayload",
        "fulfillmentTrackingInfoUpdate": "FulfillmentTrackingInfoUpdatePayload",
        "fulfillmentEventCreate": "FulfillmentEventCreatePayload",
        "refundCreate": "RefundCreatePayload",
        "returnRequest": "ReturnRequestPayload",
        "returnApproveRequest": "ReturnApproveRequestPayload",
        "returnDeclineRequest": "ReturnDeclineRequestPayload",
        "returnProcess": "ReturnProcessPayload",
        "returnClose": "ReturnClosePayload",
    },
    "Shop": {"id": S, "name": S, "myshopifyDomain": S, "currencyCode": S, "ianaTimezone": S},
    "PageInfo": {"hasNextPage": S, "hasPreviousPage": S, "startCursor": S, "endCursor": S},
    "Node": {"id": S},
    "ProductVariant": {
        "id": S,
        "legacyResourceId": S,
        "sku": S,
        "title": S,
        "displayName": S,
        "price": S,
        "barcode": S,
        "inventoryQuantity": S,
        "createdAt": S,
        "updatedAt": S,
        "product": "Product",
        "inventoryItem": "InventoryItem",
    },
    "Product": {
        "id": S,
        "legacyResourceId": S,
        "title": S,
        "handle": S,
        "status": S,
        "vendor": S,
        "totalInventory": S,
        "tracksInventory": S,
        "createdAt": S,
        "updatedAt": S,
        "variants": "ProductVariantConnection",
    },
    "InventoryItem": {
        "id": S,
        "legacyResourceId": S,
        "sku": S,
        "tracked": S,
        "createdAt": S,
        "updatedAt": S,
        "variant": "ProductVariant",
        "inventoryLevels": "InventoryLevelConnection",
        "inventoryLevel": "InventoryLevel",
    },
    "InventoryLevel": {
        "id": S,
        "createdAt": S,
        "updatedAt": S,
        "quantities": "[InventoryQuantity]",
        "location": "Location",
        "item": "InventoryItem",
    },
    "InventoryQuantity": {"id": S, "name": S, "quantity": S, "updatedAt": S},
    "Location": {"id": S, "legacyResourceId": S, "name": S, "isActive": S},
    "InventorySetQuantitiesPayload": {
        "inventoryAdjustmentGroup": "InventoryAdjustmentGroup",
        "userErrors": "[InventorySetQuantitiesUserError]",
    },
    "InventoryAdjustmentGroup": {
        "id": S,
        "createdAt": S,
        "reason": S,
        "referenceDocumentUri": S,
        "changes": "[InventoryChange]",
    },
    "InventoryChange": {
        "name": S,
        "delta": S,
        "quantityAfterChange": S,
        "ledgerDocumentUri": S,
        "item": "InventoryItem",
        "location": "Location",
    },
    "InventorySetQuantitiesUserError": {"field": S, "message": S, "code": S},
    "UserError": {"field": S, "message": S},
    "Attribute": {"key": S, "value": S},
    "Order": {
        "id": S,
        "legacyResourceId": S,
        "name": S,
        "note": S,
        "tags": S,
        "createdAt": S,
        "updatedAt": S,
        "displayFulfillmentStatus": S,
        "displayFinancialStatus": S,
        "customAttributes": "[Attribute]",
        "lineItems": "LineItemConnection",
        "fulfillmentOrders": "FulfillmentOrderConnection",
        "fulfillments": "[Fulfillment]",
        "currencyCode": S,
        "presentmentCurrencyCode": S,
        "totalReceivedSet": "MoneyBag",
        "totalRefundedSet": "MoneyBag",
        "transactions": "[OrderTransaction]",
        "refunds": "[Refund]",
        "returns": "ReturnConnection",
    },
    "MoneyV2": {"amount": S, "currencyCode": S},
    "MoneyBag": {"shopMoney": "MoneyV2", "presentmentMoney": "MoneyV2"},
    "OrderTransaction": {
        "id": S,
        "kind": S,
        "status": S,
        "gateway": S,
        "test": S,
        "createdAt": S,
        "processedAt": S,
        "amountSet": "MoneyBag",
        "parentTransaction": "OrderTransaction",
    },
    "Refund": {
        "id": S,
        "legacyResourceId": S,
        "createdAt": S,
        "updatedAt": S,
        "note": S,
        "totalRefundedSet": "MoneyBag",
        "refundLineItems": "RefundLineItemConnection",
        "transactions": "OrderTransactionConnection",
        "order": "Order",
        "return": "Return",
    },
    "RefundLineItem": {
        "id": S,
        "quantity": S,
        "restockType": S,
        "restocked": S,
        "lineItem": "LineItem",
        "priceSet": "MoneyBag",
        "subtotalSet": "MoneyBag",
        "totalTaxSet": "MoneyBag",
    },
    "Return": {
        "id": S,
        "name": S,
        "status": S,
        "totalQuantity": S,
        "order": "Order",
        "returnLineItems": "ReturnLineItemTypeConnection",
        "refunds": "RefundConnection",
        "decline": "ReturnDecline",
    },
    "ReturnDecline": {"reason": S, "note": S},
    "ReturnLineItemType": {
        "id": S,
        "quantity": S,
        "processedQuantity": S,
        "returnReason": S,
        "returnReasonNote": S,
        "customerNote": S,
    },
    "ReturnLineItem": {
        "id": S,
        "quantity": S,
        "processedQuantity": S,
        "returnReason": S,
        "returnReasonNote": S,
        "customerNote": S,
        "fulfillmentLineItem": "FulfillmentLineItem",
    },
    "LineItem": {
        "id": S,
        "sku": S,
        "name": S,
        "title": S,
        "quantity": S,
        "currentQuantity": S,
    },
    "FulfillmentOrder": {
        "id": S,
        "status": S,
        "createdAt": S,
        "updatedAt": S,
        "assignedLocation": "FulfillmentOrderAssignedLocation",
        "lineItems": "FulfillmentOrderLineItemConnection",
        "order": "Order",
    },
    "FulfillmentOrderAssignedLocation": {"name": S, "location": "Location"},
    "FulfillmentOrderLineItem": {
        "id": S,
        "remainingQuantity": S,
        "totalQuantity": S,
        "sku": S,
        "lineItem": "LineItem",
    },
    "Fulfillment": {
        "id": S,
        "legacyResourceId": S,
        "name": S,
        "status": S,
        "displayStatus": S,
        "createdAt": S,
        "updatedAt": S,
        "totalQuantity": S,
        "trackingInfo": "[FulfillmentTrackingInfo]",
        "fulfillmentLineItems": "FulfillmentLineItemConnection",
        "events": "FulfillmentEventConnection",
        "location": "Location",
        "order": "Order",
    },
    "FulfillmentTrackingInfo": {"company": S, "number": S, "url": S},
    "FulfillmentLineItem": {"id": S, "quantity": S, "lineItem": "LineItem"},
    "FulfillmentEvent": {
        "id": S,
        "status": S,
        "happenedAt": S,
        "createdAt": S,
        "message": S,
        "estimatedDeliveryAt": S,
    },
    "OrderUpdatePayload": {"order": "Order", "userErrors": "[UserError]"},
    "TagsAddPayload": {"node": "Node", "userErrors": "[UserError]"},
    "FulfillmentCreatePayload": {"fulfillment": "Fulfillment", "userErrors": "[UserError]"},
    "FulfillmentTrackingInfoUpdatePayload": {
        "fulfillment": "Fulfillment",
        "userErrors": "[UserError]",
    },
    "FulfillmentEventCreatePayload": {
        "fulfillmentEvent": "FulfillmentEvent",
        "userErrors": "[UserError]",
    },
    "RefundCreatePayload": {"refund": "Refund", "order": "Order", "userErrors": "[UserError]"},
    "ReturnUserError": {"field": S, "message": S, "code": S},
    "ReturnRequestPayload": {"return": "Return", "userErrors": "[ReturnUserError]"},
    "ReturnApproveRequestPayload": {"return": "Return", "userErrors": "[ReturnUserError]"},
    "ReturnDeclineRequestPayload": {"return": "Return", "userErrors": "[ReturnUserError]"},
    "ReturnProcessPayload": {"return": "Return", "userErrors": "[ReturnUserError]"},
    "ReturnClosePayload": {"return": "Return", "userErrors": "[ReturnUserError]"},
}
shopify_catalog.install(SCHEMA)  # productVariantsBulkUpdate, productUpdate, B2B price lists
INTERFACES = {
    "Node": {
        "ProductVariant",
        "Product",
        "InventoryItem",
        "InventoryLevel",
        "Location",
        "Order",
        "FulfillmentOrder",
        "Fulfillment",
        "FulfillmentEvent",
        "OrderTransaction",
        "Refund",
        "Return",
        "ReturnLineItem",
    },
    "ReturnLineItemType": {"ReturnLineItem"},
}
for _conn, _node_type in (
    ("ProductVariantConnection", "ProductVariant"),
    ("ProductConnection", "Product"),
    ("InventoryItemConnection", "InventoryItem"),
    ("InventoryLevelConnection", "InventoryLevel"),
    ("LocationConnection", "Location"),
    ("LineItemConnection", "LineItem"),
    ("FulfillmentOrderConnection", "FulfillmentOrder"),
    ("FulfillmentOrderLineItemConnection", "FulfillmentOrderLineItem"),
    ("FulfillmentLineItemConnection", "FulfillmentLineItem"),
    ("FulfillmentEventConnection", "FulfillmentEvent"),
    ("OrderTransactionConnection", "OrderTransaction"),
    ("RefundLineItemConnection", "RefundLineItem"),
    ("RefundConnection", "Refund"),
    ("ReturnConnection", "Return"),
    ("ReturnLineItemTypeConnection", "ReturnLineItemType"),
):
    SCHEMA[_conn] = {
        "nodes": f"[{_node_type}]",
        "edges": f"[{_conn[:-10]}Edge]",
        "pageInfo": "PageInfo",
    }
    SCHEMA[f"{_conn[:-10]}Edge"] = {"node": _node_type, "cursor": S}
shopify_b2b.extend(SCHEMA)  # companies, contacts, customers, payment terms


def iso_offset(ts: float) -> str:
    """REST dates: ISO 8601 with a numeric offset (``2025-01-14T10:04:07+00:00``)."""
    return dt.datetime.fromtimestamp(int(ts), dt.UTC).isoformat()


def gid(kind: str, num: int | str) -> str:
    return f"gid://shopify/{kind}/{num}"


def parse_gid(value: Any, kind: str | None = None) -> tuple[str, int]:
    """``gid://shopify/Kind/123`` -> (Kind, 123); raises GraphQLError like Shopify's coercion."""
    m = re.fullmatch(r"gid://shopify/([A-Za-z]+)/(\d+)(\?.*)?", str(value or ""))
    if m is None or (kind is not None and m.group(1) != kind):
        raise gql.GraphQLError(
            f"Invalid global id '{value}'",
            code="argumentLiteralsIncompatible",
            extra={"typeName": "CoercionError"},
        )
    return m.group(1), int(m.group(2))


def _cursor(key: int) -> str:
    return base64.b64encode(json.dumps({"last_id": key}).encode()).decode()


def _uncursor(cursor: Any) -> int:
    try:
        return int(json.loads(base64.b64decode(str(cursor)))["last_id"])
    except (ValueError, KeyError, TypeError):
        raise gql.GraphQLError(f"Invalid cursor for current pagination sort. ({cursor})")


def _search_terms(query: str) -> list[list[tuple[str, str]]]:
    """Shopify search syntax, the subset used for lookups: ``sku:A OR sku:'B C'`` ->
    [[("sku","A")],[("sku","B C")]]. Terms in one OR-group are ANDed; bare words are text."""
    groups: list[list[tuple[str, str]]] = [[]]
    for m in re.finditer(
        r"(\w+):(?:'([^']*)'|\"([^\"]*)\"|(\S+))|'([^']*)'|\"([^\"]*)\"|(\S+)", query
    ):
        if m.group(1):
            value = next(v for v in (m.group(2), m.group(3), m.group(4)) if v is not None)
            groups[-1].append((m.group(1).lower(), value))
            continue
        word = next(v for v in (m.group(5), m.group(6), m.group(7)) if v is not None)
        if word == "OR":
            groups.append([])
        elif word != "AND":
            groups[-1].append(("", word))
    return [g for g in groups if g]


def connection(
    rows: list[Any],
    key: Callable[[Any], int],
    node: Callable[[Any], dict[str, Any]],
    matches: Callable[[Any, str, str], bool] | None = None,
) -> gql.Resolver:
    def resolve(args: dict[str, Any]) -> dict[str, Any]:
        selected = sorted(rows, key=key, reverse=bool(args.get("reverse")))
        if args.get("query") and matches is not None:
            groups = _search_terms(str(args["query"]))
            selected = [
                r for r in selected if any(all(matches(r, f, v) for f, v in g) for g in groups)
            ]
        keys = [key(r) for r in selected]
        start, end = 0, len(selected)
        if args.get("after") is not None:
            after = _uncursor(args["after"])
            start = next((i + 1 for i, k in enumerate(keys) if k == after), len(keys))
        if args.get("before") is not None:
            before = _uncursor(args["before"])
            end = next((i for i, k in enumerate(keys) if k == before), end)
        window = selected[start:end]
        first, last = args.get("first"), args.get("last")
        has_next = has_prev = False
        if first is not None:
            has_next = len(window) > first or end < len(selected)
            window = window[:first]
            has_prev = start > 0
        elif last is not None:
            has_prev = len(window) > last or start > 0
            window = window[-last:] if last else []
            has_next = end < len(selected)
        nodes = [node(r) for r in window]
        cursors = [_cursor(key(r)) for r in window]
        return {
            "nodes": nodes,
            "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": has_prev,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }

    return resolve


class Shopify:
    kind = "shopify"

    def __init__(self, store: Store, access_token: str = DEFAULT_TOKEN) -> None:
        self.store = store
        self.access_token = access_token
        self.bucket = LeakyBucket(DEFAULT_BUCKET, DEFAULT_RESTORE)
        self.rest_bucket = LeakyBucket(REST_BUCKET, REST_LEAK)
        self.max_query_cost = MAX_QUERY_COST
        # App-config webhook subscription (shopify.app.toml): one URL for every topic it fires.
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_delay_ms = 0.0
        self._request_host = "standin.myshopify.com"  # set per GraphQL call, under the lock
        self.payments = ShopifyPayments(store)  # Shopify Payments payouts (REST)

    # -- control --------------------------------------------------------------------------------
    def credentials(self) -> dict[str, str]:
        return {"access_token": self.access_token}

    def config(self) -> dict[str, Any]:
        return {
            "bucket_size": self.bucket.size,
            "restore_rate": self.bucket.rate,
            "max_query_cost": self.max_query_cost,
            "rest_bucket_size": self.rest_bucket.size,
            "rest_leak_rate": self.rest_bucket.rate,
            "webhook_url": self.webhook_url,
            "webhook_secret": self.webhook_secret,
            "webhook_delay_ms": self.webhook_delay_ms,
        }

    def configure(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.config())
        if unknown:
            raise ValueError(f"unknown shopify config keys: {sorted(unknown)}")
        self.bucket.configure(values.get("bucket_size"), values.get("restore_rate"))
        self.rest_bucket.configure(values.get("rest_bucket_size"), values.get("rest_leak_rate"))
        if "max_query_cost" in values:
            self.max_query_cost = int(values["max_query_cost"])
        if "webhook_url" in values:
            self.webhook_url = str(values["webhook_url"] or "")
        if "webhook_secret" in values:
            self.webhook_secret = str(values["webhook_secret"] or "")
        if "webhook_delay_ms" in values:
            self.webhook_delay_ms = max(0.0, float(values["webhook_delay_ms"] or 0))
        self.bucket.reset()
        self.rest_bucket.reset()
        return self.config()

    def reset_limits(self) -> None:
        self.bucket.reset()
        self.rest_bucket.reset()

    def seed_order(self, data: dict[str, Any]) -> dict[str, Any]:
        st = self.store
        with st.lock:
            oid = int(data.get("id") or st.new_order_id())
            lines: list[dict[str, Any]] = []
            for n, line in enumerate(data.get("line_items") or [], start=1):
                location = int(line.get("location_id") or PRIMARY_LOCATION)
                if location not in LOCATIONS:
                    raise ValueError(
                        f"unknown location_id {location}; use one of {list(LOCATIONS)}"
                    )
                lines.append(
                    {
                        "id": oid * 100 + n,
                        "sku": str(line.get("sku") or ""),
                        "quantity": int(line.get("quantity") or 1),
                        "title": str(line.get("title") or line.get("sku") or "Item"),
                        "location_id": location,
                        # Money (presentment currency): unit price and tax per unit.
                        "price": _dec(line.get("price") or self._price_of(line.get("sku"))),
                        "unit_tax": _dec(line.get("unit_tax") or 0),
                    }
                )
            # One fulfillment order per location the lines are assigned to, in line order.
            locations = list(dict.fromkeys(ln["location_id"] for ln in lines)) or [PRIMARY_LOCATION]
            now = float(data.get("updated_at_ts") or time.time())
            order = {
                "id": oid,
                "name": str(data.get("name") or f"#{1000 + len(st.orders) + 1}"),
                "note": data.get("note"),
                "tags": list(data.get("tags") or []),
                "custom_attributes": list(data.get("custom_attributes") or []),
                "financial_status": str(data.get("financial_status") or "PAID"),
                "line_items": lines,
                "fulfillment_orders": [
                    {
                        "id": oid * 10 + k,
                        "status": "OPEN",
                        "location_id": loc,
                        "line_items": [
                            {
                                "id": ln["id"] * 10 + 1,
                                "line_item_id": ln["id"],
                                "remaining": ln["quantity"],
                                "total": ln["quantity"],
                            }
                            for ln in lines
                            if ln["location_id"] == loc
                        ],
                    }
                    for k, loc in enumerate(locations, start=1)
                ],
                "fulfillments": [],
                "currency": str(data.get("currency") or "USD"),
                "shipping": _dec(data.get("shipping") or 0),
                "transactions": [],
                "refunds": [],
                "returns": [],
                "created_at": now,
                "updated_at": now,
                # The REST order as given (prices, totals, addresses the stand-in does not
                # model): orders.json answers it with the stand-in's ids and times on top.
                "_source": copy.deepcopy(data),
            }
            total = order["shipping"] + sum(
                (ln["price"] + ln["unit_tax"]) * ln["quantity"] for ln in lines
            )
            # One successful SALE for the order's total (``transactions`` may replace it:
            # ``[{kind, gateway, amount, status}]``, e.g. an AUTHORIZATION and a CAPTURE).
            seeded_tx = data.get("transactions") or [
                {"kind": "SALE", "gateway": str(data.get("gateway") or "bogus"), "amount": total}
            ]
            for tx in seeded_tx:
                order["transactions"].append(
                    self._new_transaction(
                        str(tx.get("kind") or "SALE").upper(),
                        str(tx.get("gateway") or "bogus"),
                        _dec(tx.get("amount") if tx.get("amount") is not None else total),
                        str(tx.get("status") or "SUCCESS").upper(),
                        None,
                        now,
                    )
                )
            st.orders[oid] = order
            return {"id": oid, "admin_graphql_api_id": gid("Order", oid), "name": order["name"]}

    # -- HTTP -----------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        m = VERSION_RE.match(req.path)
        if m is None:
            return Response(404, {"errors": "Not Found"}, op="not_found")
        version, rest = m.group(1), m.group(2)
        if req.headers.get("X-Shopify-Access-Token") != self.access_token:
            return Response(
                401,
                {"errors": INVALID_TOKEN},
                op="unauthorized",
            )
        if rest == "graphql.json":
            if req.method != "POST":
                return Response(405, {"errors": "Method Not Allowed"}, op="graphql")
            return self._graphql(req, version)
        return self._rest(req, rest)

    # -- REST (legacy) --------------------------------------------------------------------------
    def _rest(self, req: Request, rest: str) -> Response:
        decision = self.rest_bucket.take(1)
        limit = f"{self.rest_bucket.used()}/{int(self.rest_bucket.size)}"
        if not decision.allowed:
            self.store.throttled()
            return Response(
                429,
                {"errors": REST_THROTTLED},
                {
                    "Retry-After": f"{max(1.0, decision.retry_after):.1f}",
                    "X-Shopify-Shop-Api-Call-Limit": limit,
                },
                op=f"REST {req.method} {rest}",
            )
        resp = self._rest_route(req, rest)
        resp.headers["X-Shopify-Shop-Api-Call-Limit"] = limit
        resp.op = resp.op or f"REST {req.method} {rest}"
        return resp

    def _level_json(self, item: Item) -> dict[str, Any]:
        return {
            "inventory_item_id": item.inventory_item_id,
            "location_id": PRIMARY_LOCATION,
            "available": item.stock,
            "updated_at": iso_utc(item.updated_at),
            "admin_graphql_api_id": gid(
                "InventoryLevel", f"{PRIMARY_LOCATION}?inventory_item_id={item.inventory_item_id}"
            ),
        }

    def _rest_route(self, req: Request, rest: str) -> Response:
        st = self.store
        if rest == "inventory_levels.json" and req.method == "GET":
            ids = {
                int(x)
                for x in (req.arg("inventory_item_ids") or "").split(",")
                if x.strip().isdigit()
            }
            locs = {
                int(x) for x in (req.arg("location_ids") or "").split(",") if x.strip().isdigit()
            }
            if not ids and not locs:
                return Response(
                    422, {"errors": {"base": ["inventory_item_ids or location_ids is required"]}}
                )
            with st.lock:
                rows = [
                    self._level_json(i)
                    for i in st.items.values()
                    if (not ids or i.inventory_item_id in ids)
                    and (not locs or PRIMARY_LOCATION in locs)
                ]
            return Response(200, {"inventory_levels": rows})
        if rest == "inventory_levels/set.json" and req.method == "POST":
            try:
                body = req.json() or {}
            except ValueError:
                return Response(400, {"errors": {"base": ["Invalid JSON"]}}, write=True)
            with st.lock:
                item = st.by_inventory_item(int(body.get("inventory_item_id") or 0))
                if item is None:
                    return Response(
                        422, {"errors": {"inventory_item_id": ["is invalid"]}}, write=True
                    )
                if int(body.get("location_id") or 0) != PRIMARY_LOCATION:
                    return Response(
                        422,
                        {
                            "errors": [
                                "Inventory item does not have inventory tracking enabled "
                                "at this location"
                            ]
                        },
                        write=True,
                    )
                available = body.get("available")
                if not isinstance(available, int) or isinstance(available, bool):
                    return Response(
                        422, {"errors": {"available": ["must be an integer"]}}, write=True
                    )
                st.set_stock(item, available)
                st.batch("REST inventory_levels/set", 1)
                return Response(200, {"inventory_level": self._level_json(item)}, write=True)
        if rest == "orders.json" and req.method == "GET":
            return self._rest_orders(req)
        if rest == "webhooks.json" or rest.startswith("webhooks/"):
            return self._rest_webhooks(req, rest)
        if rest.startswith("shopify_payments/"):
            found = self.payments.route(req, rest)
            if found is not None:
                return found
        return Response(404, {"errors": "Not Found"})

    # -- REST orders and webhook subscriptions ------------------------------------------------
    def _rest_order_json(self, order: dict[str, Any]) -> dict[str, Any]:
        """The REST Order resource (what ``orders/*`` webhooks carry)."""
        source = order.get("_source") or {}
        out = {k: v for k, v in source.items() if k != "updated_at_ts"}
        out.update(
            {
                "id": order["id"],
                "admin_graphql_api_id": gid("Order", order["id"]),
                "name": order["name"],
                "note": order["note"],
                "tags": ", ".join(sorted(order["tags"])),
                "financial_status": str(order["financial_status"]).lower(),
                "created_at": iso_offset(order["created_at"]),
                "updated_at": iso_offset(order["updated_at"]),
            }
        )
        if not source.get("line_items"):
            out["line_items"] = [
                {"id": ln["id"], "sku": ln["sku"], "quantity": ln["quantity"], "title": ln["title"]}
                for ln in order["line_items"]
            ]
        if order["fulfillments"]:
            status = self._display_status(order)
            out["fulfillment_status"] = {
                "FULFILLED": "fulfilled",
                "PARTIALLY_FULFILLED": "partial",
            }.get(status)
            out["fulfillments"] = [self._rest_fulfillment(order, f) for f in order["fulfillments"]]
        return out

    def _rest_orders(self, req: Request) -> Response:
        """``GET orders.json``: ``updated_at_min`` (inclusive), ``status``, ``order``, ``limit``
        (max 250) and cursor paging through the ``Link`` header (``page_info``), which, as on
        Shopify, may not be combined with the filters it already carries."""
        limit = int_or_none(req.arg("limit", "50"))
        if limit is None or not 1 <= limit <= 250:
            return Response(400, {"errors": {"limit": ["must be between 1 and 250"]}})
        page_info = req.arg("page_info")
        filters = {k: req.arg(k) for k in ("updated_at_min", "status", "order") if req.arg(k)}
        after: list[Any] | None = None
        if page_info:
            if filters:
                return Response(
                    400, {"errors": "page_info cannot be combined with other filter parameters"}
                )
            try:
                cursor = json.loads(base64.urlsafe_b64decode(page_info.encode()))
                filters, after = dict(cursor["filters"]), list(cursor["after"])
            except (ValueError, KeyError, TypeError):
                return Response(400, {"errors": {"page_info": ["Invalid value."]}})
        since: float | None = None
        if filters.get("updated_at_min"):
            try:
                since = dt.datetime.fromisoformat(
                    str(filters["updated_at_min"]).replace("Z", "+00:00")
                ).timestamp()
            except ValueError:
                return Response(400, {"errors": {"updated_at_min": ["is invalid"]}})
        status = filters.get("status", "open")
        by_updated = str(filters.get("order", "")).startswith("updated_at")

        def key(o: dict[str, Any]) -> list[Any]:
            return [int(o["updated_at"]), o["id"]] if by_updated else [o["id"]]

        with self.store.lock:
            rows = sorted(
                (
                    o
                    for o in self.store.orders.values()
                    if (since is None or int(o["updated_at"]) >= since)
                    and (
                        status == "any" or (status == "open") != bool(o["_source"].get("closed_at"))
                    )
                ),
                key=key,
            )
            if after is not None:
                rows = [o for o in rows if key(o) > after]
            chunk = rows[:limit]
            body = {"orders": [self._rest_order_json(o) for o in chunk]}
        headers: dict[str, str] = {}
        if len(rows) > limit:
            token = base64.urlsafe_b64encode(
                json.dumps({"filters": filters, "after": key(chunk[-1])}).encode()
            ).decode()
            headers["Link"] = (
                f'<http://{req.host}{req.path}?limit={limit}&page_info={token}>; rel="next"'
            )
        return Response(200, body, headers, op="REST GET orders.json")

    def _rest_webhooks(self, req: Request, rest: str) -> Response:
        """``webhooks.json`` (GET list, POST create) and ``webhooks/<id>.json`` (GET, DELETE).

        Shopify has no disabled state: a subscription that keeps failing is deleted.
        """
        hooks: dict[int, dict[str, Any]] = self.store.extra.setdefault("webhooks", {})
        m = re.fullmatch(r"webhooks/(\d+)\.json", rest)
        with self.store.lock:
            if rest == "webhooks.json" and req.method == "GET":
                topic = req.arg("topic")
                rows = [h for h in hooks.values() if not topic or h["topic"] == topic]
                return Response(200, {"webhooks": copy.deepcopy(rows)})
            if rest == "webhooks.json" and req.method == "POST":
                try:
                    data = (req.json() or {}).get("webhook") or {}
                except (ValueError, AttributeError):
                    return Response(400, {"errors": {"webhook": ["Required parameter missing"]}})
                topic, address = str(data.get("topic") or ""), str(data.get("address") or "")
                errors: dict[str, list[str]] = {}
                if not topic:
                    errors["topic"] = ["can't be blank"]
                if not address:
                    errors["address"] = ["can't be blank"]
                elif not address.startswith("https://"):
                    # Shopify delivers over HTTPS only.
                    errors["address"] = [f"protocol {address.split('//')[0]}// is not supported"]
                elif any(h["topic"] == topic and h["address"] == address for h in hooks.values()):
                    errors["address"] = ["for this topic has already been taken"]
                if errors:
                    return Response(422, {"errors": errors}, write=True)
                now = iso_offset(time.time())
                hid = 1_047_000_000 + len(hooks) + 1
                while hid in hooks:
                    hid += 1
                hooks[hid] = {
                    "id": hid,
                    "address": address,
                    "topic": topic,
                    "created_at": now,
                    "updated_at": now,
                    "format": str(data.get("format") or "json"),
                    "fields": list(data.get("fields") or []),
                    "metafield_namespaces": [],
                    "api_version": VERSION_RE.match(req.path).group(1),  # type: ignore[union-attr]
                    "private_metafield_namespaces": [],
                }
                return Response(201, {"webhook": copy.deepcopy(hooks[hid])}, write=True)
            if m is not None and int(m.group(1)) in hooks:
                hid = int(m.group(1))
                if req.method == "GET":
                    return Response(200, {"webhook": copy.deepcopy(hooks[hid])})
                if req.method == "DELETE":
                    del hooks[hid]
                    return Response(200, {}, write=True)
        return Response(404, {"errors": "Not Found"})

    # -- GraphQL --------------------------------------------------------------------------------
    def _cost_ext(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": self.bucket.size,
                    "currentlyAvailable": int(self.bucket.available()),
                    "restoreRate": self.bucket.rate,
                },
            }
        }

    def _graphql(self, req: Request, version: str) -> Response:
        try:
            payload = req.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return Response(
                400, {"errors": {"query": "Required parameter missing or invalid"}}, op="graphql"
            )
        try:
            doc = gql.parse(payload["query"])
            op = self._pick_operation(doc, payload.get("operationName"))
        except gql.GraphQLError as err:
            return Response(200, {"errors": [err.to_dict()]}, op="graphql:invalid")
        root_fields = [s for s in op.selections if isinstance(s, gql.Field)]
        label = op.name or ",".join(f.name for f in root_fields) or "anonymous"
        op_key = f"{op.kind}:{label}"
        is_write = op.kind == "mutation"
        try:
            variables = gql.coerce_variables(op, payload.get("variables") or {})
            gql.check_input_arrays(variables, ["variables"])
            ex = gql.Executor(SCHEMA, INTERFACES, doc, variables, label)
            root_type = "Mutation" if is_write else "QueryRoot"
            for f in root_fields:
                for name, value in f.args.items():
                    gql.check_input_arrays(gql.resolve_value(value, variables), [f.key, name])
            ex.validate(op.selections, root_type, [f"{op.kind} {op.name}" if op.name else op.kind])
        except gql.GraphQLError as err:
            return Response(200, {"errors": [err.to_dict()]}, op=op_key, write=is_write)
        if is_write:
            requested = MUTATION_COST * len(ex.fields(op.selections, "Mutation"))
        else:
            requested = ex.requested_cost(op.selections, "QueryRoot")
        if requested > self.max_query_cost:
            too_costly = gql.GraphQLError(
                f"Query cost is {requested}, which exceeds the single query max cost limit "
                f"({self.max_query_cost}).",
                code="MAX_COST_EXCEEDED",
                extra={"cost": requested, "maxCost": self.max_query_cost},
            )
            return Response(200, {"errors": [too_costly.to_dict()]}, op=op_key, write=is_write)
        decision = self.bucket.take(requested)
        if not decision.allowed:
            self.store.throttled()
            body = {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": self._cost_ext(requested, None),
            }
            return Response(200, body, op=op_key, write=is_write)
        try:
            with self.store.lock:
                self._request_host = req.host
                data: dict[str, Any] = {}
                for f, _ in ex.fields(op.selections, root_type):
                    if f.name == "__typename":
                        data[f.key] = root_type
                        continue
                    args = {k: gql.resolve_value(v, variables) for k, v in f.args.items()}
                    value = self._root(f, args, version, ex)
                    data[f.key] = ex.project(
                        value, f.selections or [], str(SCHEMA[root_type][f.name]).strip("[]")
                    )
        except gql.GraphQLError as err:
            self.bucket.refund(requested)
            return Response(
                200, {"errors": [err.to_dict()], "data": None}, op=op_key, write=is_write
            )
        # Mutations cost what they were priced at; queries pay for what they really returned.
        actual = requested if is_write else ex.actual_cost(op.selections, "QueryRoot", data)
        self.bucket.refund(requested - actual)
        return Response(
            200,
            {"data": data, "extensions": self._cost_ext(requested, actual)},
            op=op_key,
            write=is_write,
        )

    @staticmethod
    def _pick_operation(doc: gql.Document, name: Any) -> gql.Operation:
        if not doc.operations:
            raise gql.GraphQLError("No operations in query document")
        if name:
            for op in doc.operations:
                if op.name == name:
                    return op
            raise gql.GraphQLError(f'No operation named "{name}"')
        if len(doc.operations) > 1:
            raise gql.GraphQLError("An operation name is required")
        return doc.operations[0]

    # -- object builders (the store lock is held while these run) ------------------------------
    def _variant(self, item: Item) -> dict[str, Any]:
        st = self.store
        product = st.products[item.product_id]
        title = item.name if product.has_variants else "Default Title"
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", item.variant_id),
            "legacyResourceId": str(item.variant_id),
            "sku": item.sku,
            "title": title,
            "displayName": f"{product.name} - {title}",
            "price": item.price,
            "barcode": item.barcode or None,
            "inventoryQuantity": item.stock,
            "createdAt": iso_utc(st.extra.setdefault("created", time.time())),
            "updatedAt": iso_utc(item.updated_at),
            "product": lambda a: self._product(item.product_id),
            "inventoryItem": lambda a: self._inventory_item(item),
        }

    def _product(self, product_id: int) -> dict[str, Any] | None:
        st = self.store
        product = st.products.get(product_id)
        if product is None:
            return None
        items = st.product_items(product_id)
        return {
            "__typename": "Product",
            "id": gid("Product", product.id),
            "legacyResourceId": str(product.id),
            "title": product.name,
            "handle": re.sub(r"[^a-z0-9]+", "-", product.name.lower()).strip("-"),
            "status": "ACTIVE",
            "vendor": "Stand-in",
            "totalInventory": sum(i.stock for i in items),
            "tracksInventory": True,
            "createdAt": iso_utc(st.extra.setdefault("created", time.time())),
            "updatedAt": iso_utc(max((i.updated_at for i in items), default=time.time())),
            "variants": connection(items, lambda i: i.variant_id, self._variant, self._match_item),
        }

    def _location(self, loc_id: int) -> dict[str, Any] | None:
        if loc_id not in LOCATIONS:
            return None
        return {
            "__typename": "Location",
            "id": gid("Location", loc_id),
            "legacyResourceId": str(loc_id),
            "name": LOCATIONS[loc_id],
            "isActive": True,
        }

    def _quantities(self, item: Item) -> dict[str, int]:
        # Nothing is committed or reserved in the stand-in, so on_hand == available.
        q = dict.fromkeys(QUANTITY_NAMES, 0)
        q["available"] = item.stock
        q["on_hand"] = item.stock
        return q

    def _level(self, item: Item, loc_id: int) -> dict[str, Any] | None:
        if loc_id != PRIMARY_LOCATION:
            return None

        def quantities(args: dict[str, Any]) -> list[dict[str, Any]]:
            names = args.get("names")
            if not isinstance(names, list) or not names:
                raise gql.GraphQLError(
                    "Field 'quantities' is missing required arguments: names",
                    code="missingRequiredArguments",
                )
            q = self._quantities(item)
            bad = [n for n in names if n not in q]
            if bad:
                raise gql.GraphQLError(f"Invalid quantity name(s): {', '.join(map(str, bad))}")
            return [
                {
                    "id": gid(
                        "InventoryQuantity",
                        f"{loc_id}?inventory_item_id={item.inventory_item_id}&name={n}",
                    ),
                    "name": n,
                    "quantity": q[n],
                    "updatedAt": iso_utc(item.updated_at),
                }
                for n in names
            ]

        return {
            "__typename": "InventoryLevel",
            "id": gid("InventoryLevel", f"{loc_id}?inventory_item_id={item.inventory_item_id}"),
            "createdAt": iso_utc(self.store.extra.setdefault("created", time.time())),
            "updatedAt": iso_utc(item.updated_at),
            "quantities": quantities,
            "location": lambda a: self._location(loc_id),
            "item": lambda a: self._inventory_item(item),
        }

    def _inventory_item(self, item: Item) -> dict[str, Any]:
        def level(args: dict[str, Any]) -> dict[str, Any] | None:
            _, loc = parse_gid(args.get("locationId"), "Location")
            return self._level(item, loc)

        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", item.inventory_item_id),
            "legacyResourceId": str(item.inventory_item_id),
            "sku": item.sku,
            "tracked": item.manage_stock,
            "createdAt": iso_utc(self.store.extra.setdefault("created", time.time())),
            "updatedAt": iso_utc(item.updated_at),
            "variant": lambda a: self._variant(item),
            "inventoryLevels": connection(
                [PRIMARY_LOCATION], lambda loc: loc, lambda loc: self._level(item, loc) or {}
            ),
            "inventoryLevel": level,
        }

    @staticmethod
    def _line(ln: dict[str, Any]) -> dict[str, Any]:
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", ln["id"]),
            "sku": ln["sku"],
            "name": ln["title"],
            "title": ln["title"],
            "quantity": ln["quantity"],
            "currentQuantity": ln["quantity"],
        }

    def _fulfillment_order(self, order: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        lines = {ln["id"]: ln for ln in order["line_items"]}

        def fo_line(fl: dict[str, Any]) -> dict[str, Any]:
            return {
                "__typename": "FulfillmentOrderLineItem",
                "id": gid("FulfillmentOrderLineItem", fl["id"]),
                "remainingQuantity": fl["remaining"],
                "totalQuantity": fl["total"],
                "sku": lines[fl["line_item_id"]]["sku"],
                "lineItem": lambda a: self._line(lines[fl["line_item_id"]]),
            }

        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", f["id"]),
            "status": f["status"],
            "createdAt": iso_utc(order["created_at"]),
            "updatedAt": iso_utc(order["updated_at"]),
            "assignedLocation": {
                "__typename": "FulfillmentOrderAssignedLocation",
                "name": LOCATIONS[f["location_id"]],
                "location": lambda a: self._location(f["location_id"]),
            },
            "lineItems": connection(f["line_items"], lambda x: x["id"], fo_line),
            "order": lambda a: self._order(order),
        }

    @staticmethod
    def _display_status(order: dict[str, Any]) -> str:
        rows = [fl for f in order["fulfillment_orders"] for fl in f["line_items"]]
        remaining = sum(fl["remaining"] for fl in rows)
        total = sum(fl["total"] for fl in rows)
        if remaining == 0 and total:
            return "FULFILLED"
        return "PARTIALLY_FULFILLED" if remaining < total else "UNFULFILLED"

    def _order(self, order: dict[str, Any]) -> dict[str, Any]:
        def fulfillments(args: dict[str, Any]) -> list[dict[str, Any]]:
            rows = order["fulfillments"]
            first = args.get("first")
            if isinstance(first, int):
                rows = rows[:first]
            return [self._fulfillment(order, f) for f in rows]

        return {
            "__typename": "Order",
            "id": gid("Order", order["id"]),
            "legacyResourceId": str(order["id"]),
            "name": order["name"],
            "note": order["note"],
            "tags": sorted(order["tags"]),
            "createdAt": iso_utc(order["created_at"]),
            "updatedAt": iso_utc(order["updated_at"]),
            "displayFulfillmentStatus": self._display_status(order),
            "displayFinancialStatus": order["financial_status"],
            "customAttributes": [
                {"key": a.get("key"), "value": a.get("value")} for a in order["custom_attributes"]
            ],
            "lineItems": connection(order["line_items"], lambda x: x["id"], self._line),
            "fulfillmentOrders": connection(
                order["fulfillment_orders"],
                lambda x: x["id"],
                lambda f: self._fulfillment_order(order, f),
            ),
            "fulfillments": fulfillments,
            "currencyCode": SHOP_CURRENCY,
            "presentmentCurrencyCode": order.get("currency", SHOP_CURRENCY),
            "totalReceivedSet": self._money(order, self._received(order)),
            "totalRefundedSet": self._money(order, self._refunded(order)),
            "transactions": lambda a: [
                self._transaction(order, t) for t in order.get("transactions", [])
            ][: a.get("first") or None],
            "refunds": lambda a: [self._refund(order, r) for r in order.get("refunds", [])][
                : a.get("first") or None
            ],
            "returns": connection(
                order.get("returns", []), lambda r: r["id"], lambda r: self._return(order, r)
            ),
        }

    def _fulfillment(self, order: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        lines = {ln["id"]: ln for ln in order["line_items"]}

        def tracking(args: dict[str, Any]) -> list[dict[str, Any]]:
            rows = [dict(t) for t in f["tracking"]]
            first = args.get("first")
            return rows[:first] if isinstance(first, int) else rows

        def line(x: dict[str, Any]) -> dict[str, Any]:
            return {
                "__typename": "FulfillmentLineItem",
                "id": gid("FulfillmentLineItem", x["id"]),
                "quantity": x["quantity"],
                "lineItem": lambda a: self._line(lines[x["line_item_id"]]),
            }

        def event(e: dict[str, Any]) -> dict[str, Any]:
            return {
                "__typename": "FulfillmentEvent",
                "id": gid("FulfillmentEvent", e["id"]),
                "status": e["status"],
                "happenedAt": e["happened_at"],
                "createdAt": iso_utc(e["created_at"]),
                "message": e["message"],
                "estimatedDeliveryAt": e["estimated_delivery_at"],
            }

        return {
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", f["id"]),
            "legacyResourceId": str(f["id"]),
            "name": f["name"],
            "status": f["status"],
            "displayStatus": f["display_status"],
            "createdAt": iso_utc(f["created_at"]),
            "updatedAt": iso_utc(f["updated_at"]),
            "totalQuantity": sum(x["quantity"] for x in f["lines"]),
            "trackingInfo": tracking,
            "fulfillmentLineItems": connection(f["lines"], lambda x: x["id"], line),
            "events": connection(f["events"], lambda e: e["id"], event),
            "location": lambda a: self._location(f["location_id"]),
            "order": lambda a: self._order(order),
        }

    def _find_fulfillment_order(
        self, fo_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]] | tuple[None, None]:
        for o in self.store.orders.values():
            for f in o["fulfillment_orders"]:
                if f["id"] == fo_id:
                    return o, f
        return None, None

    def _find_fulfillment(
        self, fid: int
    ) -> tuple[dict[str, Any], dict[str, Any]] | tuple[None, None]:
        for o in self.store.orders.values():
            for f in o["fulfillments"]:
                if f["id"] == fid:
                    return o, f
        return None, None

    @staticmethod
    def _match_item(item: Item, fieldname: str, value: str) -> bool:
        v = value.lower().strip("*")
        if fieldname == "sku":
            return (
                item.sku.lower() == v if not value.endswith("*") else item.sku.lower().startswith(v)
            )
        if fieldname == "id":
            return str(item.variant_id) == v
        if fieldname == "product_id":
            return str(item.product_id) == v
        if fieldname == "inventory_item_id":
            return str(item.inventory_item_id) == v
        if fieldname in ("", "title"):
            return v in item.sku.lower() or v in item.name.lower()
        return True  # Shopify ignores search fields it does not know for this resource

    def _node(self, value: Any) -> dict[str, Any] | None:
        kind, num = parse_gid(value)
        st = self.store
        if kind == "ProductVariant":
            item = st.by_variant(num)
            return self._variant(item) if item else None
        if kind == "Product":
            return self._product(num)
        if kind == "InventoryItem":
            item = st.by_inventory_item(num)
            return self._inventory_item(item) if item else None
        if kind == "Location":
            return self._location(num)
        if kind == "Order":
            order = st.orders.get(num)
            return self._order(order) if order else None
        if kind == "FulfillmentOrder":
            o, fo = self._find_fulfillment_order(num)
            return self._fulfillment_order(o, fo) if o and fo else None
        if kind == "Fulfillment":
            o, ff = self._find_fulfillment(num)
            return self._fulfillment(o, ff) if o and ff else None
        if kind in ("Refund", "Return", "OrderTransaction"):
            found = self._find_in_orders(kind, num)
            if found is None:
                return None
            o, rec = found
            if kind == "Refund":
                return self._refund(o, rec)
            if kind == "Return":
                return self._return(o, rec)
            return self._transaction(o, rec)
        return None

    # -- root fields ----------------------------------------------------------------------------
    def _root(self, f: gql.Field, args: dict[str, Any], version: str, ex: gql.Executor) -> Any:
        st = self.store
        name = f.name
        if name == "productVariants":
            return connection(
                list(st.items.values()), lambda i: i.variant_id, self._variant, self._match_item
            )(args)
        if name == "products":

            def match_product(p: Any, fieldname: str, value: str) -> bool:
                items = st.product_items(p.id)
                if fieldname in ("", "title", "sku"):
                    return any(self._match_item(i, fieldname, value) for i in items) or (
                        fieldname != "sku" and value.lower() in p.name.lower()
                    )
                if fieldname == "id":
                    return str(p.id) == value
                return True

            return connection(
                list(st.products.values()),
                lambda p: p.id,
                lambda p: self._product(p.id) or {},
                match_product,
            )(args)
        if name == "inventoryItems":
            return connection(
                list(st.items.values()),
                lambda i: i.inventory_item_id,
                self._inventory_item,
                self._match_item,
            )(args)
        if name == "locations":
            return connection(
                list(LOCATIONS), lambda loc: loc, lambda loc: self._location(loc) or {}
            )(args)
        if name in ("productVariant", "product", "inventoryItem", "location", "order", "node"):
            expected = {
                "productVariant": "ProductVariant",
                "product": "Product",
                "inventoryItem": "InventoryItem",
                "location": "Location",
                "order": "Order",
                "node": None,
            }[name]
            if expected:
                parse_gid(args.get("id"), expected)
            return self._node(args.get("id"))
        if name == "nodes":
            return [self._node(i) for i in args.get("ids") or []]
        if name == "shop":
            return {
                "__typename": "Shop",
                "id": gid("Shop", 1),
                "name": "Stand-in shop",
                "myshopifyDomain": "standin.myshopify.com",
                "currencyCode": "USD",
                "ianaTimezone": "UTC",
            }
        if name == "inventorySetQuantities":
            return self._inventory_set(f, args.get("input") or {}, version)
        if name == "orderUpdate":
            return self._order_update(args.get("input") or {})
        if name == "tagsAdd":
            return self._tags_add(args.get("id"), args.get("tags"))
        if name == "fulfillmentCreate":
            return self._fulfillment_create(args.get("fulfillment") or {})
        if name == "fulfillmentTrackingInfoUpdate":
            return self._tracking_update(
                args.get("fulfillmentId"),
                args.get("trackingInfoInput") or {},
                bool(args.get("notifyCustomer")),
            )
        if name == "fulfillmentEventCreate":
            return self._event_create(args.get("fulfillmentEvent") or {})
        if name in ("refundCreate", "returnProcess"):
            return self._idempotent(f, args, version, ex)
        if name == "returnRequest":
            return self._return_request(args.get("input") or {})
        if name in ("returnApproveRequest", "returnDeclineRequest"):
            return self._return_decide(name, args.get("input") or {})
        if name == "returnClose":
            return self._return_close(args.get("id"))
        if name in shopify_b2b.ROOT_FIELDS:
            return shopify_b2b.Resolver(st).root(name, args)
        found = shopify_catalog.root(self, name, args)
        if found is not shopify_catalog.UNHANDLED:
            return found
        raise gql.GraphQLError(f"Field '{name}' is not supported by this stand-in")

    # -- mutations ------------------------------------------------------------------------------
    def _inventory_set(self, f: gql.Field, data: dict[str, Any], version: str) -> dict[str, Any]:
        st = self.store
        new_cas = version == "unstable" or version >= "2026-01"
        idem = next((args for name, args in f.directives if name == "idempotent"), None)
        key = str(idem.get("key")) if idem and idem.get("key") is not None else None
        if key is None and (version == "unstable" or version >= "2026-04"):
            raise gql.GraphQLError(
                "The @idempotent directive is required for this mutation.",
                code="BAD_REQUEST",
                path=[f.key],
            )
        replays: dict[str, Any] = st.extra.setdefault("idempotency", {})
        if key is not None and key in replays:
            return copy.deepcopy(replays[key])

        errors: list[dict[str, Any]] = []

        def err(path: list[Any], message: str, code: str) -> None:
            errors.append(
                {
                    "__typename": "InventorySetQuantitiesUserError",
                    "field": [str(p) for p in path],
                    "message": message,
                    "code": code,
                }
            )

        qname = data.get("name")
        if qname not in ("available", "on_hand"):
            err(
                ["input", "name"],
                "The quantity name must be either 'available' or 'on_hand'.",
                "INVALID_NAME",
            )
        if data.get("reason") not in REASONS:
            err(["input", "reason"], "The specified reason is invalid.", "INVALID_REASON")
        ignore_compare = bool(data.get("ignoreCompareQuantity"))
        planned: list[tuple[Item, int]] = []
        seen: set[tuple[int, int]] = set()
        for n, q in enumerate(data.get("quantities") or []):
            base = ["input", "quantities", n]
            if new_cas and ("compareQuantity" in q or "ignoreCompareQuantity" in data):
                raise gql.GraphQLError(
                    "Variable $input of type InventorySetQuantitiesInput! was provided invalid "
                    f"value for quantities.{n}.compareQuantity (Field is not defined on "
                    "InventoryQuantityInput)",
                    code="INVALID_VARIABLE",
                )
            try:
                _, inv_id = parse_gid(q.get("inventoryItemId"), "InventoryItem")
                _, loc_id = parse_gid(q.get("locationId"), "Location")
            except gql.GraphQLError as exc:
                err(base, exc.message, "INVALID_INVENTORY_ITEM")
                continue
            item = st.by_inventory_item(inv_id)
            quantity = q.get("quantity")
            if item is None:
                err(
                    [*base, "inventoryItemId"],
                    "The specified inventory item could not be found.",
                    "INVALID_INVENTORY_ITEM",
                )
                continue
            if loc_id not in LOCATIONS:
                err(
                    [*base, "locationId"],
                    "The specified location could not be found.",
                    "INVALID_LOCATION",
                )
                continue
            if loc_id != PRIMARY_LOCATION:
                err(
                    [*base, "locationId"],
                    "The specified inventory item is not stocked at the location.",
                    "ITEM_NOT_STOCKED_AT_LOCATION",
                )
                continue
            if (inv_id, loc_id) in seen:
                err(
                    base,
                    "The combination of inventoryItemId and locationId must be unique.",
                    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                )
                continue
            seen.add((inv_id, loc_id))
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                raise gql.GraphQLError(
                    "Variable $input of type InventorySetQuantitiesInput! was provided invalid "
                    f"value for quantities.{n}.quantity (Expected value to not be null)",
                    code="INVALID_VARIABLE",
                )
            if quantity > QUANTITY_LIMIT:
                err(
                    [*base, "quantity"],
                    f"The quantity can't be higher than {QUANTITY_LIMIT:,}.",
                    "INVALID_QUANTITY_TOO_HIGH",
                )
                continue
            if quantity < -QUANTITY_LIMIT:
                err(
                    [*base, "quantity"],
                    f"The quantity can't be lower than -{QUANTITY_LIMIT:,}.",
                    "INVALID_QUANTITY_TOO_LOW",
                )
                continue
            if qname == "on_hand" and quantity < 0:
                err(
                    [*base, "quantity"],
                    "The quantity can't be negative.",
                    "INVALID_QUANTITY_NEGATIVE",
                )
                continue
            current = self._quantities(item)[
                qname if qname in ("available", "on_hand") else "available"
            ]
            if new_cas:
                if "changeFromQuantity" not in q:
                    err(
                        [*base, "changeFromQuantity"],
                        "changeFromQuantity must be provided (null skips the check).",
                        "CHANGE_FROM_QUANTITY_REQUIRED",
                    )
                    continue
                expected = q.get("changeFromQuantity")
                if expected is not None and expected != current:
                    err(
                        [*base, "changeFromQuantity"],
                        "The changeFromQuantity argument no longer matches the persisted quantity.",
                        "CHANGE_FROM_QUANTITY_STALE",
                    )
                    continue
            elif not ignore_compare:
                if q.get("compareQuantity") is None:
                    err(
                        [*base, "compareQuantity"],
                        "The compareQuantity argument must be given to each quantity or "
                        "ignored using ignoreCompareQuantity.",
                        "COMPARE_QUANTITY_REQUIRED",
                    )
                    continue
                if q.get("compareQuantity") != current:
                    err(
                        [*base, "compareQuantity"],
                        "The compareQuantity argument no longer matches the persisted quantity.",
                        "COMPARE_QUANTITY_STALE",
                    )
                    continue
            planned.append((item, quantity))
        st.batch("inventorySetQuantities", len(data.get("quantities") or []))
        if errors:
            # All or nothing: one bad quantity and nothing of the call is applied.
            result: dict[str, Any] = {
                "__typename": "InventorySetQuantitiesPayload",
                "inventoryAdjustmentGroup": None,
                "userErrors": errors,
            }
        else:
            changes = []
            group_id = st.extra["adjust_seq"] = st.extra.get("adjust_seq", 1_900_000_000) + 1
            ledger = data.get("referenceDocumentUri")
            for item, quantity in planned:
                delta = quantity - item.stock
                st.set_stock(item, quantity)
                for change_name in ("available", "on_hand"):
                    changes.append(
                        {
                            "__typename": "InventoryChange",
                            "name": change_name,
                            "delta": delta,
                            "quantityAfterChange": quantity,
                            "ledgerDocumentUri": ledger if change_name == "on_hand" else None,
                            "item": self._inventory_item(item),
                            "location": self._location(PRIMARY_LOCATION),
                        }
                    )
            result = {
                "__typename": "InventorySetQuantitiesPayload",
                "inventoryAdjustmentGroup": {
                    "__typename": "InventoryAdjustmentGroup",
                    "id": gid("InventoryAdjustmentGroup", group_id),
                    "createdAt": iso_utc(time.time()),
                    "reason": data.get("reason"),
                    "referenceDocumentUri": ledger,
                    "changes": changes,
                },
                "userErrors": [],
            }
        if key is not None:
            replays[key] = copy.deepcopy(result)
        return result

    def _order_update(self, data: dict[str, Any]) -> dict[str, Any]:
        st = self.store
        try:
            _, oid = parse_gid(data.get("id"), "Order")
        except gql.GraphQLError:
            oid = 0
        order = st.orders.get(oid)
        if order is None:
            return {
                "__typename": "OrderUpdatePayload",
                "order": None,
                "userErrors": [{"field": ["id"], "message": "Order does not exist"}],
            }
        if "note" in data:
            order["note"] = data["note"]
        if "tags" in data:
            tags = data["tags"]
            order["tags"] = [
                t.strip()
                for t in (tags.split(",") if isinstance(tags, str) else tags or [])
                if t.strip()
            ]
        if "customAttributes" in data:
            order["custom_attributes"] = list(data["customAttributes"] or [])
        order["updated_at"] = time.time()
        return {"__typename": "OrderUpdatePayload", "order": self._order(order), "userErrors": []}

    def _tags_add(self, node_id: Any, tags: Any) -> dict[str, Any]:
        st = self.store
        kind, num = parse_gid(node_id)
        order = st.orders.get(num) if kind == "Order" else None
        if order is None:
            return {
                "__typename": "TagsAddPayload",
                "node": None,
                "userErrors": [{"field": ["id"], "message": "Resource not found"}],
            }
        new = [
            t.strip()
            for t in (tags.split(",") if isinstance(tags, str) else tags or [])
            if str(t).strip()
        ]
        for t in new:
            if t not in order["tags"]:
                order["tags"].append(t)
        order["updated_at"] = time.time()
        return {"__typename": "TagsAddPayload", "node": self._order(order), "userErrors": []}

    # -- fulfilment ------------------------------------------------------------------------------
    @staticmethod
    def _tracking_problem(t: dict[str, Any]) -> str | None:
        """``number``+``url`` or ``numbers``+``urls``, never mixed; a URL needs a number."""
        if not t:
            return None
        if (t.get("number") is not None and t.get("numbers") is not None) or (
            t.get("url") is not None and t.get("urls") is not None
        ):
            return ERR_TRACKING_MIXED
        if (t.get("url") and not t.get("number")) or (t.get("urls") and not t.get("numbers")):
            return ERR_URL_WITHOUT_NUMBER
        if (t.get("number") is not None and t.get("urls") is not None) or (
            t.get("numbers") is not None and t.get("url") is not None
        ):
            return ERR_TRACKING_MIXED
        return None

    @staticmethod
    def _tracking_rows(t: dict[str, Any]) -> list[dict[str, Any]]:
        """What ``trackingInfo`` then lists: one row per number, the URL built for a company
        of the supported list (exact spelling), else the URL given, else none."""
        company = t.get("company")
        if t.get("numbers") is not None:
            numbers = [str(n) for n in t.get("numbers") or []]
            urls = [str(u) for u in t.get("urls") or []]
        elif t.get("number"):
            numbers, urls = [str(t["number"])], [str(t["url"])] if t.get("url") else []
        else:
            numbers, urls = [], []
        rows = []
        for i, number in enumerate(numbers):
            url = urls[i] if i < len(urls) else None
            template = CARRIER_LINKS.get(str(company or ""))
            if url is None and template:
                url = template.format(n=number)
            rows.append({"company": company, "number": number, "url": url})
        if not rows and company:
            rows.append({"company": company, "number": None, "url": None})
        return rows

    def _fulfillment_create(self, data: dict[str, Any]) -> dict[str, Any]:
        st = self.store
        groups = data.get("lineItemsByFulfillmentOrder") or []

        def fail(message: str, field: list[str] | None = None) -> dict[str, Any]:
            return {
                "__typename": "FulfillmentCreatePayload",
                "fulfillment": None,
                "userErrors": [{"field": field or ["fulfillment"], "message": message}],
            }

        if not groups:
            return fail("Line items by fulfillment order must be present")
        tracking = data.get("trackingInfo") or {}
        problem = self._tracking_problem(tracking)
        if problem:
            return fail(problem, ["fulfillment", "trackingInfo"])
        plan: dict[int, tuple[dict[str, Any], int]] = {}  # FO line id -> (line, quantity)
        owner: dict[str, Any] | None = None
        location: int | None = None
        for n, g in enumerate(groups):
            where = ["fulfillment", "lineItemsByFulfillmentOrder", str(n)]
            try:
                _, fo_id = parse_gid(g.get("fulfillmentOrderId"), "FulfillmentOrder")
            except gql.GraphQLError as exc:
                return fail(exc.message, [*where, "fulfillmentOrderId"])
            order, fo = self._find_fulfillment_order(fo_id)
            if order is None or fo is None:
                return fail("Fulfillment order does not exist.", [*where, "fulfillmentOrderId"])
            if owner is not None and order is not owner:
                return fail(ERR_ORDER, where)
            if location is not None and fo["location_id"] != location:
                return fail(ERR_LOCATION, where)
            owner, location = order, fo["location_id"]
            if fo["status"] in UNFULFILLABLE:
                return fail(
                    f"Fulfillment order {fo_id} has an unfulfillable status= "
                    f"{fo['status'].lower()}.",
                    where,
                )
            wanted = g.get("fulfillmentOrderLineItems") or []
            if not wanted:
                for fl in fo["line_items"]:
                    if fl["remaining"] > 0:
                        plan[fl["id"]] = (fl, fl["remaining"])
                continue
            for w in wanted:
                try:
                    _, fl_id = parse_gid(w.get("id"), "FulfillmentOrderLineItem")
                except gql.GraphQLError as exc:
                    return fail(exc.message, where)
                fl = next((x for x in fo["line_items"] if x["id"] == fl_id), None)
                qty = int_or_none(w.get("quantity")) or 0
                already = plan[fl_id][1] if fl_id in plan else 0
                if fl is None or qty <= 0 or already + qty > fl["remaining"]:
                    return fail(ERR_QUANTITY, where)
                plan[fl_id] = (fl, already + qty)
        assert owner is not None and location is not None
        if not plan:
            return fail(ERR_QUANTITY)
        for fl, qty in plan.values():
            fl["remaining"] -= qty
        for fo in owner["fulfillment_orders"]:
            if all(fl["remaining"] == 0 for fl in fo["line_items"]):
                fo["status"] = "CLOSED"
            elif any(fl["remaining"] < fl["total"] for fl in fo["line_items"]):
                fo["status"] = "IN_PROGRESS"
        fid = st.extra["fulfillment_seq"] = st.extra.get("fulfillment_seq", 4_100_000_000) + 1
        now = time.time()
        line_seq = st.extra["fulfillment_line_seq"] = st.extra.get(
            "fulfillment_line_seq", 9_900_000_000
        )
        lines = []
        for fl, qty in plan.values():
            line_seq += 1
            lines.append({"id": line_seq, "line_item_id": fl["line_item_id"], "quantity": qty})
        st.extra["fulfillment_line_seq"] = line_seq
        record = {
            "id": fid,
            "name": f"{owner['name']}.{len(owner['fulfillments']) + 1}",
            "status": "SUCCESS",
            "display_status": "FULFILLED",
            "created_at": now,
            "updated_at": now,
            "tracking": self._tracking_rows(tracking),
            "notify_customer": bool(data.get("notifyCustomer")),
            "location_id": location,
            "lines": lines,
            "events": [],
            "id_key": str(uuid.uuid4()),
        }
        owner["fulfillments"].append(record)
        owner["updated_at"] = now
        self._fire("fulfillments/create", self._rest_fulfillment(owner, record))
        return {
            "__typename": "FulfillmentCreatePayload",
            "fulfillment": self._fulfillment(owner, record),
            "userErrors": [],
        }

    def _tracking_update(
        self, fulfillment_id: Any, tracking: dict[str, Any], notify: bool
    ) -> dict[str, Any]:
        """Replaces the tracking as a whole (Shopify's replace-vs-append is UNCONFIRMED)."""

        def fail(message: str, field: list[str]) -> dict[str, Any]:
            return {
                "__typename": "FulfillmentTrackingInfoUpdatePayload",
                "fulfillment": None,
                "userErrors": [{"field": field, "message": message}],
            }

        _, fid = parse_gid(fulfillment_id, "Fulfillment")
        order, record = self._find_fulfillment(fid)
        if order is None or record is None:
            return fail(ERR_NO_FULFILLMENT, ["fulfillmentId"])
        problem = self._tracking_problem(tracking)
        if problem:
            return fail(problem, ["trackingInfoInput"])
        record["tracking"] = self._tracking_rows(tracking)
        record["updated_at"] = order["updated_at"] = time.time()
        record["notify_customer"] = notify
        self._fire("fulfillments/update", self._rest_fulfillment(order, record))
        return {
            "__typename": "FulfillmentTrackingInfoUpdatePayload",
            "fulfillment": self._fulfillment(order, record),
            "userErrors": [],
        }

    def _event_create(self, data: dict[str, Any]) -> dict[str, Any]:
        status = str(data.get("status") or "")
        if status not in FULFILLMENT_EVENT_STATUSES:
            raise gql.GraphQLError(
                "Variable $fulfillmentEvent of type FulfillmentEventInput! was provided invalid "
                f'value for status (Expected "{status}" to be one of: '
                f"{', '.join(FULFILLMENT_EVENT_STATUSES)})",
                code="INVALID_VARIABLE",
            )
        _, fid = parse_gid(data.get("fulfillmentId"), "Fulfillment")
        order, record = self._find_fulfillment(fid)
        if order is None or record is None:
            return {
                "__typename": "FulfillmentEventCreatePayload",
                "fulfillmentEvent": None,
                "userErrors": [
                    {"field": ["fulfillmentEvent", "fulfillmentId"], "message": ERR_NO_FULFILLMENT}
                ],
            }
        st = self.store
        eid = st.extra["fulfillment_event_seq"] = st.extra.get("fulfillment_event_seq", 0) + 1
        now = time.time()
        event = {
            "id": 5_300_000_000 + eid,
            "status": status,
            "happened_at": data.get("happenedAt") or iso_utc(now),
            "created_at": now,
            "message": data.get("message"),
            "estimated_delivery_at": data.get("estimatedDeliveryAt"),
        }
        record["events"].append(event)
        record["display_status"] = status
        record["updated_at"] = now
        return {
            "__typename": "FulfillmentEventCreatePayload",
            "fulfillmentEvent": {
                "__typename": "FulfillmentEvent",
                "id": gid("FulfillmentEvent", event["id"]),
                "status": status,
                "happenedAt": event["happened_at"],
                "createdAt": iso_utc(now),
                "message": event["message"],
                "estimatedDeliveryAt": event["estimated_delivery_at"],
            },
            "userErrors": [],
        }

    # -- money, refunds and returns (the store lock is held) ------------------------------------
    def _price_of(self, sku: Any) -> Decimal:
        item = self.store.items.get(str(sku or ""))
        return _dec(item.price if item else 0)

    def _new_transaction(
        self,
        kind: str,
        gateway: str,
        amount: Decimal,
        status: str,
        parent: int | None,
        now: float,
    ) -> dict[str, Any]:
        st = self.store
        tid = st.extra["transaction_seq"] = st.extra.get("transaction_seq", 6_200_000_000) + 1
        return {
            "id": tid,
            "kind": kind,
            "gateway": gateway,
            "amount": amount,
            "status": status,
            "parent_id": parent,
            "created_at": now,
        }

    def _money(self, order: dict[str, Any], amount: Decimal) -> dict[str, Any]:
        cur = order.get("currency", SHOP_CURRENCY)
        return {
            "__typename": "MoneyBag",
            # One exchange rate of 1: the stand-in does not convert between currencies.
            "shopMoney": {"__typename": "MoneyV2", "amount": str(amount), "currencyCode": cur},
            "presentmentMoney": {
                "__typename": "MoneyV2",
                "amount": str(amount),
                "currencyCode": cur,
            },
        }

    @staticmethod
    def _received(order: dict[str, Any]) -> Decimal:
        return sum(
            (
                t["amount"]
                for t in order.get("transactions", [])
                if t["kind"] in ("SALE", "CAPTURE") and t["status"] == "SUCCESS"
            ),
            Decimal("0.00"),
        )

    @staticmethod
    def _refunded(order: dict[str, Any], parent: int | None = None) -> Decimal:
        return sum(
            (
                t["amount"]
                for t in order.get("transactions", [])
                if t["kind"] == "REFUND"
                and t["status"] == "SUCCESS"
                and (parent is None or t["parent_id"] == parent)
            ),
            Decimal("0.00"),
        )

    def _find_in_orders(self, kind: str, num: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        key = {"Refund": "refunds", "Return": "returns", "OrderTransaction": "transactions"}[kind]
        for o in self.store.orders.values():
            for rec in o.get(key, []):
                if rec["id"] == num:
                    return o, rec
        return None

    def _transaction(self, order: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
        parent = next((p for p in order["transactions"] if p["id"] == t["parent_id"]), None)
        return {
            "__typename": "OrderTransaction",
            "id": gid("OrderTransaction", t["id"]),
            "kind": t["kind"],
            "status": t["status"],
            "gateway": t["gateway"],
            "test": True,
            "createdAt": iso_utc(t["created_at"]),
            "processedAt": iso_utc(t["created_at"]),
            "amountSet": self._money(order, t["amount"]),
            "parentTransaction": (lambda a: self._transaction(order, parent)) if parent else None,
        }

    def _refund(self, order: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
        lines = {ln["id"]: ln for ln in order["line_items"]}

        def rli(x: dict[str, Any]) -> dict[str, Any]:
            ln = lines[x["line_item_id"]]
            return {
                "__typename": "RefundLineItem",
                "id": gid("RefundLineItem", x["id"]),
                "quantity": x["quantity"],
                "restockType": x["restock_type"],
                "restocked": x["restock_type"] in ("RETURN", "CANCEL"),
                "lineItem": lambda a: self._line(ln),
                "priceSet": self._money(order, ln["price"]),
                "subtotalSet": self._money(order, x["subtotal"]),
                "totalTaxSet": self._money(order, x["tax"]),
            }

        txs = [t for t in order["transactions"] if t["id"] in r["transaction_ids"]]
        ret = next((x for x in order["returns"] if x["id"] == r.get("return_id")), None)
        return {
            "__typename": "Refund",
            "id": gid("Refund", r["id"]),
            "legacyResourceId": str(r["id"]),
            "createdAt": iso_utc(r["created_at"]),
            "updatedAt": iso_utc(r["created_at"]),
            "note": r["note"],
            "totalRefundedSet": self._money(order, r["total"]),
            "refundLineItems": connection(r["lines"], lambda x: x["id"], rli),
            "transactions": connection(
                txs, lambda t: t["id"], lambda t: self._transaction(order, t)
            ),
            "order": lambda a: self._order(order),
            "return": (lambda a: self._return(order, ret)) if ret else None,
        }

    def _return(self, order: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
        def rli(x: dict[str, Any]) -> dict[str, Any]:
            _, fl = self._fulfillment_line(order, x["fulfillment_line_item_id"])
            lines = {ln["id"]: ln for ln in order["line_items"]}
            return {
                "__typename": "ReturnLineItem",
                "id": gid("ReturnLineItem", x["id"]),
                "quantity": x["quantity"],
                "processedQuantity": x["processed"],
                "returnReason": x["reason"],
                "returnReasonNote": x["reason_note"],
                "customerNote": x["customer_note"],
                "fulfillmentLineItem": {
                    "__typename": "FulfillmentLineItem",
                    "id": gid("FulfillmentLineItem", fl["id"]),
                    "quantity": fl["quantity"],
                    "lineItem": lambda a: self._line(lines[fl["line_item_id"]]),
                },
            }

        refunds = [x for x in order["refunds"] if x.get("return_id") == r["id"]]
        return {
            "__typename": "Return",
            "id": gid("Return", r["id"]),
            "name": r["name"],
            "status": r["status"],
            "totalQuantity": sum(x["quantity"] for x in r["lines"]),
            "order": lambda a: self._order(order),
            "returnLineItems": connection(r["lines"], lambda x: x["id"], rli),
            "refunds": connection(refunds, lambda x: x["id"], lambda x: self._refund(order, x)),
            "decline": (
                {"__typename": "ReturnDecline", **r["decline"]} if r.get("decline") else None
            ),
        }

    @staticmethod
    def _fulfillment_line(
        order: dict[str, Any], fl_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        for f in order["fulfillments"]:
            for fl in f["lines"]:
                if fl["id"] == fl_id:
                    return f, fl
        raise KeyError(fl_id)

    def _idempotent(
        self, f: gql.Field, args: dict[str, Any], version: str, ex: gql.Executor
    ) -> dict[str, Any]:
        """``refundCreate`` / ``returnProcess`` with ``@idempotent(key:)``: mandatory from
        2026-04 (a runtime error without it, the schema does not say so); the same key with the
        same input answers the original result without a second write; the same key with other
        input is an error. Shopify's error code for both is UNCONFIRMED."""
        idem = next((a for name, a in f.directives if name == "idempotent"), None)
        raw = idem.get("key") if idem else None
        key = gql.resolve_value(raw, ex.variables) if raw is not None else None
        if key is None and (version == "unstable" or version >= "2026-04"):
            raise gql.GraphQLError(ERR_IDEMPOTENT_REQUIRED, code="BAD_REQUEST", path=[f.key])
        replays: dict[str, Any] = self.store.extra.setdefault("idempotency", {})
        fingerprint = json.dumps({"field": f.name, "args": args}, sort_keys=True, default=str)
        if key is not None and str(key) in replays:
            seen = replays[str(key)]
            if seen["fingerprint"] != fingerprint:
                raise gql.GraphQLError(ERR_IDEMPOTENT_MISMATCH, code="BAD_REQUEST", path=[f.key])
            return self._replay(seen)
        if f.name == "refundCreate":
            result, ref = self._refund_create(args.get("input") or {})
        else:
            result, ref = self._return_process(args.get("input") or {})
        if key is not None:
            replays[str(key)] = {"fingerprint": fingerprint, "result": result, "ref": ref}
        return result

    def _replay(self, seen: dict[str, Any]) -> dict[str, Any]:
        """The first answer again, built from the current state of what it made."""
        result: dict[str, Any] = dict(seen["result"])
        ref = seen.get("ref")
        if ref is not None:
            kind, num = ref
            found = self._find_in_orders(kind, num)
            if found is not None:
                o, rec = found
                if kind == "Refund":
                    result["refund"] = self._refund(o, rec)
                    result["order"] = self._order(o)
                else:
                    result["return"] = self._return(o, rec)
        return result

    def _refund_create(self, data: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, int] | None]:
        def fail(message: str, field: list[str]) -> tuple[dict[str, Any], None]:
            return (
                {
                    "__typename": "RefundCreatePayload",
                    "refund": None,
                    "order": None,
                    "userErrors": [{"field": field, "message": message}],
                },
                None,
            )

        try:
            _, oid = parse_gid(data.get("orderId"), "Order")
        except gql.GraphQLError as exc:
            return fail(exc.message, ["orderId"])
        order = self.store.orders.get(oid)
        if order is None:
            return fail("Order does not exist.", ["orderId"])
        made = self._make_refund(order, data, fail)
        if isinstance(made, tuple):
            return made
        return (
            {
                "__typename": "RefundCreatePayload",
                "refund": self._refund(order, made),
                "order": self._order(order),
                "userErrors": [],
            },
            ("Refund", made["id"]),
        )

    def _make_refund(
        self,
        order: dict[str, Any],
        data: dict[str, Any],
        fail: Callable[[str, list[str]], tuple[dict[str, Any], None]],
        return_id: int | None = None,
    ) -> dict[str, Any] | tuple[dict[str, Any], None]:
        """Validate and record one refund (lines, restock, transactions); all or nothing."""
        lines = {ln["id"]: ln for ln in order["line_items"]}
        refunded_qty: dict[int, int] = {}
        for r in order["refunds"]:
            for x in r["lines"]:
                refunded_qty[x["line_item_id"]] = (
                    refunded_qty.get(x["line_item_id"], 0) + x["quantity"]
                )
        plan = []
        for n, w in enumerate(data.get("refundLineItems") or []):
            where = ["refundLineItems", str(n)]
            try:
                _, lid = parse_gid(w.get("lineItemId"), "LineItem")
            except gql.GraphQLError as exc:
                return fail(exc.message, [*where, "lineItemId"])
            ln = lines.get(lid)
            qty = int_or_none(w.get("quantity")) or 0
            restock = str(w.get("restockType") or "RETURN")
            if restock not in ("RETURN", "CANCEL", "NO_RESTOCK"):
                # LEGACY_RESTOCK "is not accepted when creating new refunds".
                return fail(f"Restock type {restock} is not supported.", [*where, "restockType"])
            already = refunded_qty.get(lid, 0) + sum(q for x, q, _ in plan if x["id"] == lid)
            if ln is None or qty <= 0 or already + qty > ln["quantity"]:
                return fail(ERR_REFUND_QUANTITY, [*where, "quantity"])
            plan.append((ln, qty, restock))
        tx_plan = []
        for n, t in enumerate(data.get("transactions") or []):
            where = ["transactions", str(n)]
            if str(t.get("kind") or "").upper() != "REFUND":
                return fail("Transaction kind must be refund.", [*where, "kind"])
            try:
                _, pid = parse_gid(t.get("parentId"), "OrderTransaction")
            except gql.GraphQLError as exc:
                return fail(exc.message, [*where, "parentId"])
            parent = next((p for p in order["transactions"] if p["id"] == pid), None)
            if (
                parent is None
                or parent["kind"] not in ("SALE", "CAPTURE")
                or parent["status"] != "SUCCESS"
            ):
                return fail(ERR_REFUND_PARENT, [*where, "parentId"])
            if t.get("gateway") and str(t["gateway"]) != parent["gateway"]:
                return fail("Gateway does not match the parent transaction.", [*where, "gateway"])
            amount = _dec(t.get("amount"))
            left = (
                parent["amount"]
                - self._refunded(order, pid)
                - sum((a for p, a in tx_plan if p["id"] == pid), Decimal("0.00"))
            )
            if amount <= 0 or (amount > left and not data.get("allowOverRefunding")):
                return fail(ERR_REFUND_AMOUNT.format(amount=amount, left=left), [*where, "amount"])
            tx_plan.append((parent, amount))
        if not plan and not tx_plan:
            return fail("A refund needs line items or transactions.", ["refundLineItems"])
        st = self.store
        now = time.time()
        rid = st.extra["refund_seq"] = st.extra.get("refund_seq", 8_300_000_000) + 1
        line_seq = st.extra.get("refund_line_seq", 8_400_000_000)
        rec_lines = []
        for ln, qty, restock in plan:
            line_seq += 1
            rec_lines.append(
                {
                    "id": line_seq,
                    "line_item_id": ln["id"],
                    "quantity": qty,
                    "restock_type": restock,
                    "subtotal": ln["price"] * qty,
                    "tax": ln["unit_tax"] * qty,
                }
            )
        st.extra["refund_line_seq"] = line_seq
        tx_ids = []
        for parent, amount in tx_plan:
            tx = self._new_transaction(
                "REFUND", parent["gateway"], amount, "SUCCESS", parent["id"], now
            )
            order["transactions"].append(tx)
            tx_ids.append(tx["id"])
        record = {
            "id": rid,
            "created_at": now,
            "note": data.get("note"),
            "notify": bool(data.get("notify")),
            "lines": rec_lines,
            "transaction_ids": tx_ids,
            "total": sum((a for _, a in tx_plan), Decimal("0.00")),
            "return_id": return_id,
        }
        order["refunds"].append(record)
        received, refunded = self._received(order), self._refunded(order)
        if refunded > 0:
            order["financial_status"] = "REFUNDED" if refunded >= received else "PARTIALLY_REFUNDED"
        order["updated_at"] = now
        self._fire("refunds/create", self._rest_refund(order, record))
        return record

    def _rest_refund(self, order: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
        """The REST Refund resource, as ``refunds/create`` carries it (CHANNELS.md §1)."""
        lines = {ln["id"]: ln for ln in order["line_items"]}
        cur = order.get("currency", SHOP_CURRENCY)
        txs = [t for t in order["transactions"] if t["id"] in r["transaction_ids"]]
        return {
            "id": r["id"],
            "admin_graphql_api_id": gid("Refund", r["id"]),
            "order_id": order["id"],
            "created_at": iso_offset(r["created_at"]),
            "processed_at": iso_offset(r["created_at"]),
            "note": r["note"],
            "restock": any(x["restock_type"] != "NO_RESTOCK" for x in r["lines"]),
            "user_id": None,
            "refund_line_items": [
                {
                    "id": x["id"],
                    "line_item_id": x["line_item_id"],
                    "location_id": lines[x["line_item_id"]]["location_id"]
                    if x["restock_type"] != "NO_RESTOCK"
                    else None,
                    "quantity": x["quantity"],
                    "restock_type": x["restock_type"].lower(),
                    # Numbers, as in Shopify's own fixtures (CHANNELS.md: a known quirk).
                    "subtotal": float(x["subtotal"]),
                    "total_tax": float(x["tax"]),
                    "subtotal_set": {
                        "shop_money": {"amount": str(x["subtotal"]), "currency_code": cur},
                        "presentment_money": {"amount": str(x["subtotal"]), "currency_code": cur},
                    },
                    "total_tax_set": {
                        "shop_money": {"amount": str(x["tax"]), "currency_code": cur},
                        "presentment_money": {"amount": str(x["tax"]), "currency_code": cur},
                    },
                    "line_item": {
                        "id": x["line_item_id"],
                        "admin_graphql_api_id": gid("LineItem", x["line_item_id"]),
                        "sku": lines[x["line_item_id"]]["sku"],
                        "quantity": lines[x["line_item_id"]]["quantity"],
                        "price": str(lines[x["line_item_id"]]["price"]),
                    },
                }
                for x in r["lines"]
            ],
            "transactions": [
                {
                    "id": t["id"],
                    "admin_graphql_api_id": gid("OrderTransaction", t["id"]),
                    "order_id": order["id"],
                    "kind": "refund",
                    "gateway": t["gateway"],
                    "status": "success",
                    "amount": str(t["amount"]),
                    "currency": cur,
                    "parent_id": t["parent_id"],
                    "created_at": iso_offset(t["created_at"]),
                }
                for t in txs
            ],
            "order_adjustments": [],
        }

    # returns: request -> approve / decline -> process -> close (LIFECYCLE.md §2.1), minimal
    def _return_fail(
        self, typename: str, message: str, field: list[str], code: str = "INVALID"
    ) -> dict[str, Any]:
        return {
            "__typename": typename,
            "return": None,
            "userErrors": [
                {"__typename": "ReturnUserError", "field": field, "message": message, "code": code}
            ],
        }

    def _return_request(self, data: dict[str, Any]) -> dict[str, Any]:
        typename = "ReturnRequestPayload"
        try:
            _, oid = parse_gid(data.get("orderId"), "Order")
        except gql.GraphQLError as exc:
            return self._return_fail(typename, exc.message, ["input", "orderId"])
        order = self.store.orders.get(oid)
        if order is None:
            return self._return_fail(
                typename, "Order does not exist.", ["input", "orderId"], "NOT_FOUND"
            )
        in_returns: dict[int, int] = {}
        for r in order["returns"]:
            if r["status"] in ("DECLINED", "CANCELED"):
                continue
            for x in r["lines"]:
                in_returns[x["fulfillment_line_item_id"]] = (
                    in_returns.get(x["fulfillment_line_item_id"], 0) + x["quantity"]
                )
        st = self.store
        seq = st.extra.get("return_line_seq", 8_600_000_000)
        lines = []
        for n, w in enumerate(data.get("returnLineItems") or []):
            where = ["input", "returnLineItems", str(n)]
            try:
                _, fl_id = parse_gid(w.get("fulfillmentLineItemId"), "FulfillmentLineItem")
                _, fl = self._fulfillment_line(order, fl_id)
            except (gql.GraphQLError, KeyError):
                return self._return_fail(
                    typename, "Fulfillment line item does not exist.", where, "NOT_FOUND"
                )
            qty = int_or_none(w.get("quantity")) or 0
            already = in_returns.get(fl_id, 0) + sum(
                x["quantity"] for x in lines if x["fulfillment_line_item_id"] == fl_id
            )
            if qty <= 0 or already + qty > fl["quantity"]:
                return self._return_fail(
                    typename, "Quantity is greater than the returnable quantity.", where
                )
            seq += 1
            lines.append(
                {
                    "id": seq,
                    "fulfillment_line_item_id": fl_id,
                    "line_item_id": fl["line_item_id"],
                    "quantity": qty,
                    "processed": 0,
                    "reason": str(w.get("returnReason") or "UNKNOWN"),
                    "reason_note": str(w.get("returnReasonNote") or ""),
                    "customer_note": str(w.get("customerNote") or ""),
                }
            )
        if not lines:
            return self._return_fail(typename, "Return line items must be present.", ["input"])
        st.extra["return_line_seq"] = seq
        rid = st.extra["return_seq"] = st.extra.get("return_seq", 8_500_000_000) + 1
        record = {
            "id": rid,
            "name": f"{order['name']}-R{len(order['returns']) + 1}",
            "status": "REQUESTED",
            "lines": lines,
            "decline": None,
        }
        order["returns"].append(record)
        order["updated_at"] = time.time()
        self._fire("returns/request", self._rest_return(order, record))
        return {"__typename": typename, "return": self._return(order, record), "userErrors": []}

    def _return_by_id(self, value: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            _, rid = parse_gid(value, "Return")
        except gql.GraphQLError:
            return None
        return self._find_in_orders("Return", rid)

    def _return_decide(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        typename = name[0].upper() + name[1:] + "Payload"
        found = self._return_by_id(data.get("id"))
        if found is None:
            return self._return_fail(
                typename, "Return does not exist.", ["input", "id"], "NOT_FOUND"
            )
        order, record = found
        if record["status"] != "REQUESTED":
            return self._return_fail(
                typename,
                f"Return is not in a requested state ({record['status'].lower()}).",
                ["input", "id"],
                "INVALID_STATE",
            )
        if name == "returnApproveRequest":
            record["status"] = "OPEN"
            topic = "returns/approve"
        else:
            record["status"] = "DECLINED"
            record["decline"] = {
                "reason": str(data.get("declineReason") or "OTHER"),
                "note": data.get("declineNote"),
            }
            topic = "returns/decline"
        order["updated_at"] = time.time()
        self._fire(topic, self._rest_return(order, record))
        return {"__typename": typename, "return": self._return(order, record), "userErrors": []}

    def _return_process(
        self, data: dict[str, Any]
    ) -> tuple[dict[str, Any], tuple[str, int] | None]:
        """Minimal ``returnProcess``: processes quantities of return lines and, with
        ``financialTransfer.issueRefund``, makes one refund (lines ``NO_RESTOCK``: dispositions
        are not modelled) with the given order transactions. All lines processed -> CLOSED."""
        typename = "ReturnProcessPayload"
        found = self._return_by_id(data.get("returnId"))
        if found is None:
            return (
                self._return_fail(
                    typename, "Return does not exist.", ["input", "returnId"], "NOT_FOUND"
                ),
                None,
            )
        order, record = found
        if record["status"] != "OPEN":
            return (
                self._return_fail(
                    typename, "Return must be open to be processed.", ["input"], "INVALID_STATE"
                ),
                None,
            )
        by_id = {x["id"]: x for x in record["lines"]}
        plan = []
        for n, w in enumerate(data.get("returnLineItems") or []):
            where = ["input", "returnLineItems", str(n)]
            try:
                _, xid = parse_gid(w.get("id"), "ReturnLineItem")
            except gql.GraphQLError as exc:
                return self._return_fail(typename, exc.message, where), None
            x = by_id.get(xid)
            qty = int_or_none(w.get("quantity")) or 0
            if x is None or qty <= 0 or x["processed"] + qty > x["quantity"]:
                return (
                    self._return_fail(typename, "Quantity is greater than unprocessed.", where),
                    None,
                )
            plan.append((x, qty))
        issue = ((data.get("financialTransfer") or {}).get("issueRefund")) or None
        if issue is not None:
            refund_input = {
                "refundLineItems": [
                    {
                        "lineItemId": gid("LineItem", x["line_item_id"]),
                        "quantity": qty,
                        "restockType": "NO_RESTOCK",
                    }
                    for x, qty in plan
                ],
                "transactions": [
                    {
                        "kind": "REFUND",
                        "parentId": t.get("parentId"),
                        "amount": (t.get("transactionAmount") or {}).get("amount"),
                    }
                    for t in issue.get("orderTransactions") or []
                ],
                "note": data.get("note"),
                "notify": data.get("notifyCustomer"),
                "allowOverRefunding": issue.get("allowOverRefunding"),
            }

            def fail(message: str, field: list[str]) -> tuple[dict[str, Any], None]:
                return self._return_fail(typename, message, ["input", *field]), None

            made = self._make_refund(order, refund_input, fail, return_id=record["id"])
            if isinstance(made, tuple):
                return made
        for x, qty in plan:
            x["processed"] += qty
        if all(x["processed"] >= x["quantity"] for x in record["lines"]):
            record["status"] = "CLOSED"
        order["updated_at"] = time.time()
        self._fire("returns/process", self._rest_return(order, record))
        return (
            {"__typename": typename, "return": self._return(order, record), "userErrors": []},
            ("Return", record["id"]),
        )

    def _return_close(self, value: Any) -> dict[str, Any]:
        typename = "ReturnClosePayload"
        found = self._return_by_id(value)
        if found is None:
            return self._return_fail(typename, "Return does not exist.", ["id"], "NOT_FOUND")
        order, record = found
        if record["status"] not in ("OPEN", "CLOSED"):
            return self._return_fail(
                typename, "Return must be open to be closed.", ["id"], "INVALID_STATE"
            )
        record["status"] = "CLOSED"
        order["updated_at"] = time.time()
        self._fire(
            "returns/close", {"id": record["id"], "order_id": order["id"], "status": "closed"}
        )
        return {"__typename": typename, "return": self._return(order, record), "userErrors": []}

    def _rest_return(self, order: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:
        """``returns/*`` payload (LIFECYCLE.md §2.1 sample; verify): no money, re-query."""
        payload: dict[str, Any] = {
            "id": r["id"],
            "admin_graphql_api_id": gid("Return", r["id"]),
            "status": r["status"].lower(),
            "name": r["name"],
            "order": {"id": order["id"], "admin_graphql_api_id": gid("Order", order["id"])},
            "total_return_line_items": len(r["lines"]),
            "return_line_items": [
                {
                    "id": x["id"],
                    "admin_graphql_api_id": gid("ReturnLineItem", x["id"]),
                    "fulfillment_line_item": {
                        "id": x["fulfillment_line_item_id"],
                        "line_item": {
                            "id": x["line_item_id"],
                            "admin_graphql_api_id": gid("LineItem", x["line_item_id"]),
                        },
                    },
                    "quantity": x["quantity"],
                    "return_reason": x["reason"].lower(),
                    "return_reason_note": x["reason_note"],
                    "customer_note": x["customer_note"],
                }
                for x in r["lines"]
            ],
            "return_shipping_fees": [],
            "exchange_line_items": [],
        }
        if r.get("decline"):
            payload["decline"] = dict(r["decline"])
        return payload

    # -- webhooks fired by the stand-in itself -------------------------------------------------
    def _rest_fulfillment(self, order: dict[str, Any], f: dict[str, Any]) -> dict[str, Any]:
        """The REST Fulfillment resource, as ``fulfillments/*`` webhooks carry it."""
        lines = {ln["id"]: ln for ln in order["line_items"]}
        numbers = [t["number"] for t in f["tracking"] if t.get("number")]
        urls = [t["url"] for t in f["tracking"] if t.get("url")]
        company = next((t["company"] for t in f["tracking"] if t.get("company")), None)
        last_event = f["events"][-1]["status"].lower() if f["events"] else None
        return {
            "id": f["id"],
            "admin_graphql_api_id": gid("Fulfillment", f["id"]),
            "order_id": order["id"],
            "name": f["name"],
            "status": str(f["status"]).lower(),
            "service": "manual",
            "created_at": iso_offset(f["created_at"]),
            "updated_at": iso_offset(f["updated_at"]),
            "location_id": f["location_id"],
            "tracking_company": company,
            "tracking_number": numbers[0] if numbers else None,
            "tracking_numbers": numbers,
            "tracking_url": urls[0] if urls else None,
            "tracking_urls": urls,
            "shipment_status": last_event,
            "origin_address": {},
            "receipt": {},
            "line_items": [
                {
                    "id": x["line_item_id"],
                    "admin_graphql_api_id": gid("LineItem", x["line_item_id"]),
                    "sku": lines[x["line_item_id"]]["sku"],
                    "title": lines[x["line_item_id"]]["title"],
                    "quantity": x["quantity"],
                    "fulfillment_status": "fulfilled",
                }
                for x in f["lines"]
            ],
        }

    def _fire(self, topic: str, payload: dict[str, Any]) -> None:
        """Deliver one webhook to the configured URL in the background, as Shopify does after
        the change (never inside the API call). Every delivery is kept in ``deliveries``."""
        if not self.webhook_url:
            return
        body, headers = sender.build_delivery(
            "shopify", topic, payload, self.webhook_secret, shop_domain=self._request_host
        )
        entry: dict[str, Any] = {
            "topic": topic,
            "url": self.webhook_url,
            "headers": headers,
            "payload": payload,
            "status": None,
            "queued_at": time.time(),
        }
        self.store.extra.setdefault("deliveries", []).append(entry)
        url, delay, lock = self.webhook_url, self.webhook_delay_ms / 1000.0, self.store.lock

        def deliver() -> None:
            if delay:
                time.sleep(delay)
            result = sender.post(url, body, headers, timeout=10.0)
            with lock:
                entry.update(result, sent_at=time.time())

        threading.Thread(target=deliver, name=f"webhook {topic}", daemon=True).start()
