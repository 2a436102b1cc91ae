"""BigCommerce (v2): ``POST /v2/orders/{id}/shipments`` with order products and quantities.

- **Lines**: ``GET /v2/orders/{id}/products`` (pages of 250; an empty page is 204) gives each
  order product's id, SKU, quantity, ``quantity_shipped`` and ``order_address_id``. A shipment
  line maps by its channel line id (``external_line_id`` is the order product id) or by SKU,
  spread over order products by what is left to ship. No match -> PermanentError "line not
  found"; not enough left -> PermanentError "already shipped" (nothing sent). The products
  carry the address, so ``GET …/shipping_addresses`` is read only when a product does not name
  one.
- **One shipment per address** (BigCommerce: a shipment names one ``order_address_id``), with
  ``items``, ``tracking_number`` (the first; BigCommerce holds one number of at most 50
  characters, further numbers go into ``comments``) and the carrier: ``shipping_provider`` when
  it is one of BigCommerce's values (``ups``, ``fedex``, ``usps``, ``auspost``, ``canadapost``,
  ``royalmail``, ``endicia``, …), else ``tracking_carrier`` (an AfterShip slug: a mapped value
  that already looks like one, or a known name), else our ``tracking_link``.
- **Never twice**: no idempotency key, so when an earlier try may have written (``retry``,
  ``previous_result`` or our attempt mark) ``GET …/shipments`` comes first (204 = none): a
  shipment with one of our tracking numbers (or, without tracking, our picking name in its
  comments) whose items fit what is left of ours is ours. A first try does not read it.
- ``update_tracking``: ``PUT …/shipments/{id}`` with the tracking fields (no items) for each
  shipment of the picking (ids from ``previous_result``).
- Whether BigCommerce moves the order to Shipped / Partially Shipped by itself is UNCONFIRMED
  (LIFECYCLE.md §1.3): with ``HUB_BIGCOMMERCE_SET_SHIPPED_STATUS`` (default off) the final
  shipment also sends ``PUT /v2/orders/{id} {"status_id": 2}``.

Calls: create 2 (products + one POST per address; +1 read on a retry; +1 when an address must
be looked up; +1 when the setting above is on and the shipment is final); update 1 per shipment.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import requests
from django.conf import settings

from apps.core.errors import PermanentError
from apps.inventory.publishers.bigcommerce import BigCommercePublisher
from apps.sales_channels.models import Channel

from . import ChannelResult, FulfilmentAdapter, ShipmentToSend
from ._http import (
    ChannelHttp,
    allocate_lines,
    mark_attempt,
    may_have_written,
    name_key,
    operation,
    recorded_ids,
    require_lines,
    take_if_fits,
)

PAGE = 250
MAX_PAGES = 1000
TRACKING_NUMBER_MAX = 50
TRACKING_LINK_MAX = 500

# BigCommerce's shipping_provider values ("may be updated at any time", LIFECYCLE.md §1.3),
# with the names carriers go by. carrier_<id> (third-party providers) passes through as given.
BC_PROVIDERS: dict[str, str] = {
    "ups": "ups",
    "upsready": "upsready",
    "upsonline": "upsonline",
    "fedex": "fedex",
    "usps": "usps",
    "unitedstatespostalservice": "usps",
    "endicia": "endicia",
    "auspost": "auspost",
    "australiapost": "auspost",
    "canadapost": "canadapost",
    "royalmail": "royalmail",
    "shipperhq": "shipperhq",
}
# AfterShip slugs for tracking_carrier, for carrier names that are not providers above. Slugs
# are UNCONFIRMED beyond AfterShip's own list; a mapped value that already looks like a slug
# ("dhl-germany") is passed as it is.
AFTERSHIP_SLUGS: dict[str, str] = {
    "dhl": "dhl",
    "dhlexpress": "dhl",
    "dpd": "dpd",
    "dpduk": "dpd-uk",
    "gls": "gls",
    "tnt": "tnt",
    "postnl": "postnl",
    "bpost": "bpost",
    "ontrac": "ontrac",
    "purolator": "purolator",
    "parcelforce": "parcel-force",
    "evri": "hermes",
    "lapostecolissimo": "la-poste-colissimo",
    "colissimo": "la-poste-colissimo",
}
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$|^[a-z0-9]+$")


def carrier_fields(carrier: str, url: str) -> dict[str, str]:
    """shipping_provider, else tracking_carrier, else a custom tracking_link."""
    name = carrier.strip()
    key = name_key(name)
    if name and (re.fullmatch(r"carrier_\d+", name) or key in BC_PROVIDERS):
        return {"shipping_provider": name if name.startswith("carrier_") else BC_PROVIDERS[key]}
    if key in AFTERSHIP_SLUGS:
        return {"tracking_carrier": AFTERSHIP_SLUGS[key]}
    if name and _SLUG.match(name):
        return {"tracking_carrier": name}
    return {"tracking_link": url[:TRACKING_LINK_MAX]} if url else {}


# What each call reads of the answer (apps.core.shapes). v2 ids and quantities are numbers.
_QTY = (int, None)
PRODUCTS_SHAPE = [
    {"id": int, "quantity?": _QTY, "quantity_shipped?": _QTY, "order_address_id?": _QTY}
]
SHIPMENT_SHAPE = {
    "id": int,
    "items?": ([{"order_product_id": int, "quantity?": _QTY}], None),
}
ADDRESSES_SHAPE = [{"id": int}]


def _marker(ship: ShipmentToSend) -> str:
    return f"Shipment {ship.odoo_picking_name}"


class BigCommerceFulfilment(FulfilmentAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = BigCommercePublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)

    def _order_url(self, order_id: str) -> str:
        return f"{self.pub.base}/v2/orders/{order_id}"

    def _get(self, url: str, spec: Any, operation: str, **params: Any) -> Any:
        """The answer checked against ``spec``; None for 204 or an empty body (v2's "none")."""
        resp = self.http.request(
            "GET", url, headers=self.pub.headers, params=params or None, allow=(204,)
        )
        if resp.status_code == 204:
            return None
        return self.http.answer(resp, spec, operation, empty=None)

    def _products(self, order_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            chunk = self._get(
                f"{self._order_url(order_id)}/products",
                PRODUCTS_SHAPE,
                "fulfillment.read_order",
                page=page,
                limit=PAGE,
            )
            if not chunk:
                break
            rows.extend(chunk)
            if len(chunk) < PAGE:
                break
        return rows

    def _tracking(self, ship: ShipmentToSend) -> dict[str, Any]:
        numbers = [n for n in ship.tracking_numbers if n]
        fields: dict[str, Any] = {
            "tracking_number": numbers[0][:TRACKING_NUMBER_MAX] if numbers else ""
        }
        fields.update(carrier_fields(ship.carrier, ship.tracking_url))
        # The picking's name marks the shipment as ours: a retry recognises it by that even
        # when there is no tracking number, or Odoo's number changed between two tries.
        comments = [_marker(ship)]
        if len(numbers) > 1:
            comments.append("Tracking numbers: " + ", ".join(numbers))
        if comments:
            fields["comments"] = "; ".join(comments)
        return fields

    # -- never twice ----------------------------------------------------------------------------
    def _take_existing(
        self, ship: ShipmentToSend, order_id: str, left: dict[int, int]
    ) -> list[dict[str, Any]]:
        """Shipments an earlier try made for this picking; their items come off ``left``."""
        rows = self._get(
            f"{self._order_url(order_id)}/shipments",
            [SHIPMENT_SHAPE],
            "fulfillment.read_shipments",
            limit=PAGE,
        )
        numbers = {n[:TRACKING_NUMBER_MAX] for n in ship.tracking_numbers if n}
        taken = []
        marker = _marker(ship)
        for shipment in rows or []:
            theirs = str(shipment.get("tracking_number") or "")
            parts = re.split(r";\s*", str(shipment.get("comments") or ""))
            pickings = {c for c in parts if c.startswith("Shipment ")}
            # A shipment naming another picking is never ours; one naming none (made by someone
            # else) is ours when it carries our tracking number and fits.
            ours = marker in pickings if pickings else bool(numbers and theirs in numbers)
            items = {
                int(i["order_product_id"]): int(i.get("quantity") or 0)
                for i in shipment.get("items") or []
            }
            if ours and take_if_fits(left, items):
                taken.append(shipment)
        return taken

    # -- mapping --------------------------------------------------------------------------------
    def _allocate(
        self, ship: ShipmentToSend, products: list[dict[str, Any]], *, ignore_shipped: bool = False
    ) -> dict[int, int]:
        """order product id -> quantity for the shipment's lines, within what is left to ship
        (or within the ordered quantity with ``ignore_shipped``)."""
        left = {
            int(p["id"]): int(p.get("quantity") or 0)
            - (0 if ignore_shipped else int(p.get("quantity_shipped") or 0))
            for p in products
        }
        return allocate_lines(
            ship,
            products,
            left,
            channel=self.channel.code,
            platform="BigCommerce",
            label="order product",
        )

    # -- interface ------------------------------------------------------------------------------
    def fulfil(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "fulfil") as calls:
            require_lines(ship, channel=self.channel.code)
            order_id = ship.order_external_id.strip()
            check = may_have_written(ship, "fulfil")
            products = self._products(order_id)
            if not products:
                raise PermanentError(
                    f"{self.channel.code}: BigCommerce order {order_id} has no products",
                    channel=self.channel.code,
                )
            found: list[dict[str, Any]] = []
            if check:
                # What the lines occupy regardless of what is shipped already, less what an
                # earlier try of ours shipped, must still be left to ship.
                need = self._allocate(ship, products, ignore_shipped=True)
                found = self._take_existing(ship, order_id, need)
                self._check_left(ship, products, need)
                wanted = {pid: q for pid, q in need.items() if q > 0}
            else:
                wanted = self._allocate(ship, products)
            by_address: dict[int, list[dict[str, int]]] = defaultdict(list)
            addresses = {int(p["id"]): int(p.get("order_address_id") or 0) for p in products}
            default_address: int | None = None
            for pid, qty in sorted(wanted.items()):
                address = addresses.get(pid) or 0
                if not address:
                    if default_address is None:
                        default_address = self._first_address(order_id)
                    address = default_address
                by_address[address].append({"order_product_id": pid, "quantity": qty})
            tracking = self._tracking(ship)
            for shipment in found:
                if str(shipment.get("tracking_number") or "") != tracking["tracking_number"]:
                    # Ours, from before Odoo's tracking changed: bring it up to date.
                    self._put_tracking(order_id, int(shipment["id"]), tracking)
            created = []
            if by_address:
                mark_attempt(ship, "fulfil")
            for address, items in sorted(by_address.items()):
                resp = self.http.request(
                    "POST",
                    f"{self._order_url(order_id)}/shipments",
                    headers=self.pub.headers,
                    json={"order_address_id": address, "items": items, **tracking},
                )
                created.append(self.http.answer(resp, SHIPMENT_SHAPE, "fulfillment.create"))
            if ship.final and getattr(settings, "HUB_BIGCOMMERCE_SET_SHIPPED_STATUS", False):
                self.http.request(
                    "PUT",
                    self._order_url(order_id),
                    headers=self.pub.headers,
                    json={"status_id": 2},
                )
            every = [*found, *created]
            ref = {
                "order_id": order_id,
                "shipment_ids": [int(s["id"]) for s in every if s.get("id") is not None],
                "found_ids": [int(s["id"]) for s in found if s.get("id") is not None],
                "tracking_links": [
                    str(s.get("generated_tracking_link") or s.get("tracking_link") or "")
                    for s in every
                ],
                **{k: v for k, v in tracking.items() if k != "comments"},
            }
            return ChannelResult(ref=ref, found_existing=bool(found) and not created, calls=calls())

    def _check_left(
        self, ship: ShipmentToSend, products: list[dict[str, Any]], need: dict[int, int]
    ) -> None:
        for p in products:
            pid = int(p["id"])
            left = int(p.get("quantity") or 0) - int(p.get("quantity_shipped") or 0)
            if need.get(pid, 0) > left:
                raise PermanentError(
                    f"{self.channel.code}: order {ship.order_number}: order product {pid} "
                    f"({p.get('sku')}) has {left} left to ship on BigCommerce, picking "
                    f"{ship.odoo_picking_name} ships {need[pid]} (already shipped on the "
                    "channel?)",
                    channel=self.channel.code,
                    reason="already_fulfilled",
                )

    def _first_address(self, order_id: str) -> int:
        rows = self._get(
            f"{self._order_url(order_id)}/shipping_addresses",
            ADDRESSES_SHAPE,
            "fulfillment.read_addresses",
        )
        if not rows:
            raise PermanentError(
                f"{self.channel.code}: BigCommerce order {order_id} has no shipping address",
                channel=self.channel.code,
            )
        return int(rows[0]["id"])

    def _put_tracking(self, order_id: str, sid: int, tracking: dict[str, Any]) -> dict[str, Any]:
        # Clear the link fields we do not use, so an old provider does not linger.
        body = {"shipping_provider": "", "tracking_carrier": "", "tracking_link": "", **tracking}
        resp = self.http.request(
            "PUT",
            f"{self._order_url(order_id)}/shipments/{sid}",
            headers=self.pub.headers,
            json=body,
        )
        answer: dict[str, Any] = self.http.answer(
            resp, SHIPMENT_SHAPE, "fulfillment.update_tracking"
        )
        return answer

    def update_tracking(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "update_tracking") as calls:
            order_id = ship.order_external_id.strip()
            ids = recorded_ids(ship, channel=self.channel.code, platform="BigCommerce")
            tracking = self._tracking(ship)
            links = []
            for sid in ids:
                answer = self._put_tracking(order_id, sid, tracking)
                links.append(
                    str(answer.get("generated_tracking_link") or answer.get("tracking_link") or "")
                )
            ref = {
                **ship.previous_result,
                "shipment_ids": ids,
                "tracking_links": links,
                **{k: v for k, v in tracking.items() if k != "comments"},
            }
            return ChannelResult(ref=ref, calls=calls())
