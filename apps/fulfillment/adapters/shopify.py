"""Shopify: fulfillment orders -> ``fulfillmentCreate`` with exactly the shipped quantities.

- **Read** (one query, always: the fulfillment-order line item ids are needed anyway): the
  order's fulfillment orders (status, assigned location, line items with ``remainingQuantity``
  and their order line's id and SKU) and its fulfillments with their tracking numbers. Orders
  with more than 5 fulfillment orders or 30 lines per fulfillment order are paged by follow-up
  queries (the first page keeps the query's requested cost near 330 points).
- **Never twice**: Shopify has no idempotency key on ``fulfillmentCreate``. A fulfillment that
  carries one of our tracking numbers is a candidate; so is, on a retry, a fulfillment without
  tracking that did not exist before our earlier attempt (the attempt mark keeps the ids seen
  then). Candidates' lines are read (one extra query, only when there are candidates) and a
  candidate whose lines fit what this shipment still needs is taken as ours (found, not made).
- **Map** each shipment line to fulfillment-order line items: by the order line id
  (``external_line_id``) when known, else by SKU, spread over open fulfillment orders by
  remaining quantity. No match at all -> PermanentError "line not found"; not enough left ->
  PermanentError "already fulfilled" (nothing is sent).
- **Write** one ``fulfillmentCreate`` per location (Shopify: the fulfillment orders of one call
  must share a location), with only the allocated items and quantities, ``notifyCustomer`` from
  the shipment and ``trackingInfo``: ``company`` normalised to Shopify's spelling (below),
  ``number`` or ``numbers`` (never both). A company from the list lets Shopify build the link, so
  no URL is sent; an unknown company is sent as given together with the URL(s).
- ``update_tracking``: ``fulfillmentTrackingInfoUpdate`` on each fulfillment of the shipment
  (ids from ``previous_result``), always with the full tracking list (Shopify's replace-vs-append
  is UNCONFIRMED). ``report_event``: ``fulfillmentEventCreate`` with the mapped status.
- Errors: ``userErrors`` -> PermanentError with their text; GraphQL errors -> PermanentError,
  except INTERNAL_SERVER_ERROR (TransientError); THROTTLED and 429 are waited out through the
  shared budget, or RateLimited when the wait is too long; 5xx / connection errors ->
  TransientError.

Calls: create 2 (read + write; +1 per further location, +1 when candidates must be checked);
tracking update 1 per fulfillment; carrier event 1 per fulfillment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import requests

from apps.core import shapes
from apps.core.errors import PermanentError
from apps.inventory.publishers.shopify import ShopifyPublisher, mutation_shape
from apps.sales_channels.models import Channel

from . import ChannelResult, FulfilmentAdapter, ShipmentToSend
from ._http import (
    ChannelHttp,
    attempt_mark,
    first_error,
    mark_attempt,
    name_key,
    operation,
    require_lines,
)
from .shopify_carriers import SHOPIFY_CARRIERS
from .shopify_queries import (
    CANDIDATE_LINES_QUERY,
    CANDIDATE_LINES_SHAPE,
    CREATE_MUTATION,
    EVENT_MUTATION,
    MORE_FO_QUERY,
    MORE_FO_SHAPE,
    MORE_LINES_COST,
    MORE_LINES_QUERY,
    MORE_LINES_SHAPE,
    MUTATION_COST,
    READ_COST,
    READ_QUERY,
    READ_SHAPE,
    TRACKING_MUTATION,
)

_CARRIER_BY_KEY = {name_key(c): c for c in SHOPIFY_CARRIERS}

EVENT_STATUS = {
    "in_transit": "IN_TRANSIT",
    "out_for_delivery": "OUT_FOR_DELIVERY",
    "delivered": "DELIVERED",
    "failure": "FAILURE",
}
FULFILLABLE = ("OPEN", "IN_PROGRESS")


def shopify_company(carrier: str) -> tuple[str, bool]:
    """(company to send, whether Shopify knows it). "ups" -> ("UPS", True); an unknown name is
    sent as given and Shopify builds no link for it, so the caller sends the URL."""
    name = carrier.strip()
    if not name:
        return "", False
    known = _CARRIER_BY_KEY.get(name_key(name))
    return (known, True) if known else (name, False)


def tracking_input(ship: ShipmentToSend) -> dict[str, Any]:
    """FulfillmentTrackingInput: number+url or numbers+urls, never mixed."""
    company, known = shopify_company(ship.carrier)
    numbers = [n for n in ship.tracking_numbers if n]
    url = ship.tracking_url.strip()
    out: dict[str, Any] = {}
    if company:
        out["company"] = company
    send_url = bool(url) and not known
    if len(numbers) == 1:
        out["number"] = numbers[0]
        if send_url:
            out["url"] = url
    elif numbers:
        out["numbers"] = numbers
        if send_url:
            # One link for the picking: it stands for each of its parcels.
            out["urls"] = [url] * len(numbers)
    return out


def order_gid(external_id: str) -> str:
    value = external_id.strip()
    return value if value.startswith("gid://") else f"gid://shopify/Order/{value}"


def _tail(gid: str) -> str:
    return gid.rsplit("/", 1)[-1].split("?")[0]


@dataclass
class _FoLine:
    fo_id: str
    fo_status: str
    location: str
    id: str
    remaining: int
    line_item: str  # the order line's gid
    sku: str


@dataclass
class _Need:
    """What one shipment line still needs: matched by order line id or by SKU."""

    sku: str
    line_id: str  # order line id (numeric or gid), "" = match by SKU
    quantity: int

    def matches(self, line_item: str, sku: str) -> bool:
        if self.line_id:
            return line_item == self.line_id or _tail(line_item) == _tail(self.line_id)
        return sku == self.sku


class ShopifyFulfilment(FulfilmentAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = ShopifyPublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)

    # -- transport ------------------------------------------------------------------------------
    def graphql(
        self, query: str, variables: dict[str, Any], *, cost: float, shape: Any, operation: str
    ) -> dict[str, Any]:
        return self.http.graphql(
            self.pub.url,
            self.pub.headers,
            query,
            variables,
            cost=cost,
            shape=shape,
            operation=operation,
        )

    def _mutate(
        self, query: str, variables: dict[str, Any], key: str, *, operation: str, **payload: Any
    ) -> dict[str, Any]:
        """The mutation's payload; its ``userErrors`` raised. ``payload``: fields that a
        mutation without user errors must answer (``fulfillment={"id": str}``)."""
        data = self.graphql(
            query,
            variables,
            cost=MUTATION_COST,
            shape=mutation_shape(key, **payload),
            operation=operation,
        )
        payload_ = data[key]
        errors = payload_["userErrors"]
        if errors:
            raise PermanentError(
                f"{self.channel.code}: Shopify refused {key}: {first_error(errors)}"[:500],
                channel=self.channel.code,
                user_errors=errors,
            )
        code = self.channel.code
        shapes.expect(
            payload_, payload, partner=code, operation=operation, path=f"data.{key}", channel=code
        )
        result: dict[str, Any] = payload_
        return result

    # -- reading --------------------------------------------------------------------------------
    def _read(self, order_id: str) -> tuple[list[_FoLine], list[dict[str, Any]], str]:
        """Every fulfillment-order line (all pages) and the order's fulfillments."""
        data = self.graphql(
            READ_QUERY,
            {"id": order_id},
            cost=READ_COST,
            shape=READ_SHAPE,
            operation="fulfillment.read_order",
        )
        order = data.get("order")
        if not order:
            raise PermanentError(
                f"{self.channel.code}: Shopify has no order {order_id}", channel=self.channel.code
            )
        lines: list[_FoLine] = []
        conn = order.get("fulfillmentOrders") or {}
        while True:
            for fo in conn.get("nodes") or []:
                lines.extend(self._fo_lines(fo))
            page = conn.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            more = self.graphql(
                MORE_FO_QUERY,
                {"id": order_id, "after": page.get("endCursor")},
                cost=READ_COST,
                shape=MORE_FO_SHAPE,
                operation="fulfillment.read_order",
            )
            conn = (more.get("order") or {}).get("fulfillmentOrders") or {}
        return lines, list(order.get("fulfillments") or []), str(order.get("name") or "")

    def _fo_lines(self, fo: dict[str, Any]) -> list[_FoLine]:
        location = str(((fo.get("assignedLocation") or {}).get("location") or {}).get("id") or "")
        out: list[_FoLine] = []
        conn = fo.get("lineItems") or {}
        while True:
            for n in conn.get("nodes") or []:
                li = n.get("lineItem") or {}
                out.append(
                    _FoLine(
                        fo_id=str(fo["id"]),
                        fo_status=str(fo.get("status") or ""),
                        location=location,
                        id=str(n["id"]),
                        remaining=int(n.get("remainingQuantity") or 0),
                        line_item=str(li.get("id") or ""),
                        sku=str(li.get("sku") or ""),
                    )
                )
            page = conn.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return out
            more = self.graphql(
                MORE_LINES_QUERY,
                {"id": fo["id"], "after": page.get("endCursor")},
                cost=MORE_LINES_COST,
                shape=MORE_LINES_SHAPE,
                operation="fulfillment.read_order",
            )
            conn = (more.get("node") or {}).get("lineItems") or {}

    def _candidate_lines(self, ids: list[str]) -> dict[str, list[tuple[str, str, int]]]:
        """Fulfillment id -> [(order line gid, sku, quantity)]."""
        data = self.graphql(
            CANDIDATE_LINES_QUERY,
            {"ids": ids},
            cost=3 + len(ids) * 203,
            shape=CANDIDATE_LINES_SHAPE,
            operation="fulfillment.read_fulfillments",
        )
        out: dict[str, list[tuple[str, str, int]]] = {}
        for node in data.get("nodes") or []:
            if not node or not node.get("id"):
                continue
            out[str(node["id"])] = [
                (
                    str((n.get("lineItem") or {}).get("id") or ""),
                    str((n.get("lineItem") or {}).get("sku") or ""),
                    int(n.get("quantity") or 0),
                )
                for n in (node.get("fulfillmentLineItems") or {}).get("nodes") or []
            ]
        return out

    # -- never twice ----------------------------------------------------------------------------
    def _take_existing(
        self,
        ship: ShipmentToSend,
        needs: list[_Need],
        fulfillments: list[dict[str, Any]],
        known_before: set[str] | None,
    ) -> list[dict[str, Any]]:
        """Fulfillments an earlier attempt (or someone) already made for these lines; their
        quantities are taken off ``needs``. Candidates: any fulfillment with one of our tracking
        numbers, and, after an attempt of ours (``known_before``: the ids that existed before
        it), any fulfillment made since, whatever its tracking (the number may have changed in
        Odoo between the two tries, or there is none)."""
        numbers = {n for n in ship.tracking_numbers if n}
        candidates: list[dict[str, Any]] = []
        for f in fulfillments:
            theirs = {str(t.get("number")) for t in f.get("trackingInfo") or [] if t.get("number")}
            if (numbers and theirs & numbers) or (
                known_before is not None and str(f.get("id")) not in known_before
            ):
                candidates.append(f)
        if not candidates:
            return []
        lines = self._candidate_lines([str(f["id"]) for f in candidates])
        taken: list[dict[str, Any]] = []
        for f in candidates:
            rows = lines.get(str(f["id"])) or []
            if rows and self._fits(needs, rows):
                for line_item, sku, qty in rows:
                    left = qty
                    for need in needs:
                        if left and need.quantity and need.matches(line_item, sku):
                            used = min(left, need.quantity)
                            need.quantity -= used
                            left -= used
                taken.append(f)
        return taken

    @staticmethod
    def _fits(needs: list[_Need], rows: list[tuple[str, str, int]]) -> bool:
        left = [n.quantity for n in needs]
        for line_item, sku, qty in rows:
            for i, need in enumerate(needs):
                if qty and left[i] and need.matches(line_item, sku):
                    used = min(qty, left[i])
                    left[i] -= used
                    qty -= used
            if qty:
                return False
        return True

    # -- allocation -----------------------------------------------------------------------------
    def _allocate(
        self, ship: ShipmentToSend, needs: list[_Need], lines: list[_FoLine]
    ) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """location -> fulfillment order -> [{id, quantity}]; PermanentError when a line is
        unknown to the channel or has not enough left."""
        used: dict[str, int] = defaultdict(int)
        plan: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for need in needs:
            if need.quantity <= 0:
                continue
            matching = [fl for fl in lines if need.matches(fl.line_item, fl.sku)]
            what = f"line {need.line_id}" if need.line_id else f"SKU {need.sku}"
            if not matching:
                raise PermanentError(
                    f"{self.channel.code}: order {ship.order_number} has no {what} on Shopify "
                    f"(picking {ship.odoo_picking_name})",
                    channel=self.channel.code,
                    reason="line_not_found",
                )
            left = need.quantity
            for fl in matching:
                if fl.fo_status not in FULFILLABLE:
                    continue
                take = min(left, fl.remaining - used[fl.id])
                if take <= 0:
                    continue
                used[fl.id] += take
                left -= take
                plan[fl.location][fl.fo_id].append({"id": fl.id, "quantity": take})
                if not left:
                    break
            if left:
                raise PermanentError(
                    f"{self.channel.code}: order {ship.order_number}: {what} has "
                    f"{need.quantity - left} left to fulfil on Shopify, picking "
                    f"{ship.odoo_picking_name} ships {need.quantity} (already fulfilled on the "
                    "channel?)",
                    channel=self.channel.code,
                    reason="already_fulfilled",
                )
        return plan

    @staticmethod
    def _merge(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        merged: dict[str, int] = defaultdict(int)
        for it in items:
            merged[it["id"]] += int(it["quantity"])
        return [{"id": k, "quantity": v} for k, v in merged.items()]

    # -- interface ------------------------------------------------------------------------------
    def fulfil(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "fulfil") as calls:
            require_lines(ship, channel=self.channel.code)
            order_id = order_gid(ship.order_external_id)
            needs = [
                _Need(ln.sku, ln.external_line_id, int(ln.quantity))
                for ln in ship.lines
                if ln.quantity > 0
            ]
            lines, fulfillments, _ = self._read(order_id)
            # Our mark is set just before every write and names the fulfillments that existed
            # then; without it no write of ours can have happened (only tracking numbers count).
            mark = attempt_mark(ship, "fulfil")
            before = set(mark.get("before") or []) if mark is not None else None
            found = self._take_existing(ship, needs, fulfillments, before)
            created: list[dict[str, Any]] = []
            plan = self._allocate(ship, needs, lines) if any(n.quantity for n in needs) else {}
            if plan:
                mark_attempt(ship, "fulfil", {"before": [str(f.get("id")) for f in fulfillments]})
            tracking = tracking_input(ship)
            numbers = {n for n in ship.tracking_numbers if n}
            for f in found:
                theirs = {
                    str(t.get("number")) for t in f.get("trackingInfo") or [] if t.get("number")
                }
                if numbers and not theirs & numbers and tracking:
                    # Ours (made since our attempt), from before Odoo's tracking changed.
                    self._mutate(
                        TRACKING_MUTATION,
                        {"id": f["id"], "tracking": tracking, "notify": False},
                        "fulfillmentTrackingInfoUpdate",
                        operation="fulfillment.update_tracking",
                    )
            for location in sorted(plan):
                by_fo = plan[location]
                fulfillment: dict[str, Any] = {
                    "lineItemsByFulfillmentOrder": [
                        {"fulfillmentOrderId": fo, "fulfillmentOrderLineItems": self._merge(items)}
                        for fo, items in by_fo.items()
                    ],
                    "notifyCustomer": bool(ship.notify_customer),
                }
                if tracking:
                    fulfillment["trackingInfo"] = tracking
                payload = self._mutate(
                    CREATE_MUTATION,
                    {"fulfillment": fulfillment},
                    "fulfillmentCreate",
                    operation="fulfillment.create",
                    fulfillment={"id": str},
                )
                made = payload.get("fulfillment") or {}
                created.append({**made, "location": location})
            every = [*found, *created]
            ref = {
                "order_id": order_id,
                "fulfillment_ids": [str(f.get("id")) for f in every],
                "fulfillment_names": [str(f.get("name") or "") for f in every],
                "found_ids": [str(f.get("id")) for f in found],
                "locations": sorted(plan),
                "company": tracking.get("company", ""),
                "tracking_numbers": list(ship.tracking_numbers),
            }
            return ChannelResult(ref=ref, found_existing=bool(found) and not created, calls=calls())

    def _fulfillment_ids(self, ship: ShipmentToSend) -> list[str]:
        ids = [str(i) for i in ship.previous_result.get("fulfillment_ids") or [] if i]
        if not ids:
            raise PermanentError(
                f"{self.channel.code}: no Shopify fulfillment is recorded for picking "
                f"{ship.odoo_picking_name} (previous_result has no fulfillment_ids)",
                channel=self.channel.code,
            )
        return ids

    def update_tracking(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "update_tracking") as calls:
            ids = self._fulfillment_ids(ship)
            tracking = tracking_input(ship)
            for fid in ids:
                self._mutate(
                    TRACKING_MUTATION,
                    {"id": fid, "tracking": tracking, "notify": bool(ship.notify_customer)},
                    "fulfillmentTrackingInfoUpdate",
                    operation="fulfillment.update_tracking",
                )
            ref = {
                **ship.previous_result,
                "fulfillment_ids": ids,
                "company": tracking.get("company", ""),
                "tracking_numbers": list(ship.tracking_numbers),
            }
            return ChannelResult(ref=ref, calls=calls())

    def report_event(
        self, ship: ShipmentToSend, *, status: str, happened_at: str, message: str = ""
    ) -> ChannelResult:
        mapped = EVENT_STATUS.get(status)
        if mapped is None:
            return ChannelResult(skipped=f"Shopify has no fulfillment event for {status!r}")
        with operation(self.http, ship, "report_event") as calls:
            ids = self._fulfillment_ids(ship)
            events = []
            for fid in ids:
                event: dict[str, Any] = {"fulfillmentId": fid, "status": mapped}
                if happened_at:
                    event["happenedAt"] = happened_at
                if message:
                    event["message"] = message[:255]
                payload = self._mutate(
                    EVENT_MUTATION,
                    {"event": event},
                    "fulfillmentEventCreate",
                    operation="fulfillment.report_event",
                )
                events.append(str((payload.get("fulfillmentEvent") or {}).get("id") or ""))
            return ChannelResult(
                ref={"fulfillment_ids": ids, "event_ids": events, "status": mapped},
                calls=calls(),
            )
