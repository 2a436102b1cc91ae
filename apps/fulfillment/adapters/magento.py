"""Adobe Commerce / Magento 2: ``POST /V1/order/{id}/ship`` with items and tracks.

- **Lines**: ``GET /V1/orders/{id}`` gives the order's items. Shipments name top-level items
  (a configurable product's parent line, which carries the child's SKU; its child line ships
  with it). A shipment line maps by its channel line id (``external_line_id``: the item id; a
  child item's id stands for its parent) or by SKU, spread over items by what is left to ship
  (ordered - shipped - refunded - canceled). No match -> PermanentError "line not found"; not
  enough left -> PermanentError "already shipped" (nothing sent).
- **Tracks**: one per tracking number, ``{track_number, title, carrier_code}``. Magento's
  tracking carriers are ``ups``, ``usps``, ``fedex`` and ``dhl``; any other carrier is
  ``custom`` with the carrier's name as title. Magento has no tracking link field: the link
  goes into the shipment comment.
- **Comment**: ``Shipment <Odoo picking>`` (+ the link), kept off the customer's e-mail
  (``appendComment: false``, ``is_visible_on_front: 0``); Magento's e-mail goes out with
  ``notify``. The comment marks the shipment as ours.
- **Never twice**: Magento has no idempotency key, so when an earlier try may have written
  (``retry``, ``previous_result`` or our attempt mark) the order's shipments are read first
  (``GET /V1/shipments`` filtered on ``order_id``; a shipment's comments from the list, else
  ``GET /V1/shipment/{id}/comments``, as whether the list carries them is UNCONFIRMED): one
  whose comment names our picking (or, naming none, carries one of our tracking numbers) and
  whose items fit what is left of ours is adopted, and only the rest is shipped. A first try
  does not read them.
- ``update_tracking``: for each shipment of the picking, ``GET /V1/shipment/{id}``, then
  ``DELETE /V1/shipment/track/{id}`` for numbers no longer ours and ``POST /V1/shipment/track``
  for new ones (read first, so a repeat changes nothing).
- A full shipment of an invoiced order moves it to ``complete`` (Magento does this itself).

Calls: create 2 (order + ship; +1 read on a retry, +1 per listed shipment without comments);
tracking update 1 per shipment + 1 per changed number.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from apps.core.errors import PermanentError
from apps.core.shapes import ID
from apps.inventory.publishers.magento import NUMBER, MagentoPublisher
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

ITEM = {"item_id": ID, "sku?": (str, None), "qty_ordered": NUMBER, "parent_item_id?": (ID, None)}
ORDER = {"entity_id": ID, "items": [ITEM]}
TRACK = {"entity_id": ID, "track_number": (str, None)}
SHIPMENT = {"entity_id": ID, "items?": [{"order_item_id": ID, "qty": NUMBER}], "tracks?": [TRACK]}

# Magento's tracking carriers (the admin's carrier list; anything else is "custom").
CARRIERS: dict[str, tuple[str, str]] = {
    "ups": ("ups", "United Parcel Service"),
    "unitedparcelservice": ("ups", "United Parcel Service"),
    "usps": ("usps", "United States Postal Service"),
    "unitedstatespostalservice": ("usps", "United States Postal Service"),
    "fedex": ("fedex", "Federal Express"),
    "federalexpress": ("fedex", "Federal Express"),
    "dhl": ("dhl", "DHL"),
    "dhlexpress": ("dhl", "DHL"),
}


def carrier_fields(carrier: str) -> dict[str, str]:
    """Magento's ``carrier_code`` and ``title`` for a carrier name."""
    name = carrier.strip()
    code, title = CARRIERS.get(name_key(name), ("custom", name or "Carrier"))
    return {"carrier_code": code, "title": title}


def marker(ship: ShipmentToSend) -> str:
    return f"Shipment {ship.odoo_picking_name}"


def _qty(value: Any) -> int:
    return int(Decimal(str(value or 0)))


def left_to_ship(item: dict[str, Any]) -> int:
    return _qty(item.get("qty_ordered")) - sum(
        _qty(item.get(k)) for k in ("qty_shipped", "qty_refunded", "qty_canceled")
    )


def top_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in order.get("items") or [] if not i.get("parent_item_id")]


class MagentoHttp(ChannelHttp):
    """Counts one adapter's calls (the publisher's Magento session counts into it)."""

    def __init__(self, publisher: MagentoPublisher) -> None:
        super().__init__(publisher)
        publisher.magento_session.counters.append(self)


class MagentoFulfilment(FulfilmentAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = MagentoPublisher(channel, session=session)
        self.http = MagentoHttp(self.pub)

    def _order(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = self.pub.api(
            "GET", f"orders/{order_id}", operation="fulfillment.order", spec=ORDER
        )
        return order

    # -- mapping --------------------------------------------------------------------------------
    def _allocate(
        self, ship: ShipmentToSend, order: dict[str, Any], *, ignore_shipped: bool = False
    ) -> dict[int, int]:
        """item id -> quantity for the shipment's lines, within what is left to ship (or within
        the ordered quantity with ``ignore_shipped``)."""
        items = top_items(order)
        parents = {str(i["item_id"]): str(i.get("parent_item_id") or "") for i in order["items"]}
        left = {
            int(i["item_id"]): _qty(i["qty_ordered"]) if ignore_shipped else left_to_ship(i)
            for i in items
        }
        return allocate_lines(
            ship,
            [{**i, "id": i["item_id"]} for i in items],
            left,
            channel=self.channel.code,
            platform="Magento",
            label="order item",
            line_item=lambda value: parents.get(value) or value,
        )

    # -- never twice ----------------------------------------------------------------------------
    def _take_existing(
        self, ship: ShipmentToSend, order_id: str, need: dict[int, int]
    ) -> list[dict[str, Any]]:
        """Shipments an earlier try made for this picking; their items come off ``need``."""
        numbers = {n for n in ship.tracking_numbers if n}
        taken = []
        for rows in self.pub.pages(
            "shipments",
            [("order_id", order_id, "eq")],
            operation="fulfillment.shipments_read",
            item=SHIPMENT,
        ):
            for shipment in rows:
                said = self.pub.comments("shipment", shipment, "fulfillment.shipment_comments")
                lines = [ln for c in said for ln in c.splitlines()]
                pickings = {ln.strip() for ln in lines if ln.startswith("Shipment ")}
                theirs = {str(t.get("track_number") or "") for t in shipment.get("tracks") or []}
                # A shipment naming another picking is never ours; one naming none (made by
                # someone else) is ours when it carries one of our numbers and fits.
                ours = marker(ship) in pickings if pickings else bool(numbers & theirs)
                items = {
                    int(i["order_item_id"]): _qty(i.get("qty")) for i in shipment.get("items") or []
                }
                if ours and take_if_fits(need, items):
                    taken.append(shipment)
        return taken

    def _check_left(
        self, ship: ShipmentToSend, order: dict[str, Any], need: dict[int, int]
    ) -> None:
        for item in top_items(order):
            iid = int(item["item_id"])
            if need.get(iid, 0) > left_to_ship(item):
                raise PermanentError(
                    f"{self.channel.code}: order {ship.order_number}: order item {iid} "
                    f"({item.get('sku')}) has {left_to_ship(item)} left to ship on Magento, "
                    f"picking {ship.odoo_picking_name} ships {need[iid]} (already shipped on "
                    "the channel?)",
                    channel=self.channel.code,
                    reason="already_fulfilled",
                )

    # -- interface ------------------------------------------------------------------------------
    def _tracks(self, ship: ShipmentToSend) -> list[dict[str, str]]:
        fields = carrier_fields(ship.carrier)
        return [{"track_number": n, **fields} for n in ship.tracking_numbers if n]

    def fulfil(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "fulfil") as calls:
            require_lines(ship, channel=self.channel.code)
            order_id = ship.order_external_id.strip()
            order = self._order(order_id)
            found: list[dict[str, Any]] = []
            if may_have_written(ship, "fulfil"):
                # What the lines occupy regardless of what is shipped already, less what an
                # earlier try of ours shipped, must still be left to ship.
                need = self._allocate(ship, order, ignore_shipped=True)
                found = self._take_existing(ship, order_id, need)
                self._check_left(ship, order, need)
                wanted = {k: q for k, q in need.items() if q > 0}
            else:
                wanted = self._allocate(ship, order)
            tracks = self._tracks(ship)
            for shipment in found:
                self._sync_tracks(ship, order_id, shipment, tracks)
            created: list[int] = []
            if wanted:
                comment = "\n".join(
                    [
                        marker(ship),
                        *([f"Tracking: {ship.tracking_url}"] if ship.tracking_url else []),
                    ]
                )
                body = {
                    "items": [{"order_item_id": k, "qty": q} for k, q in sorted(wanted.items())],
                    "notify": bool(ship.notify_customer),
                    "appendComment": False,
                    "comment": {"comment": comment, "is_visible_on_front": 0},
                    "tracks": tracks,
                }
                mark_attempt(ship, "fulfil")
                answer = self.pub.api(
                    "POST",
                    f"order/{order_id}/ship",
                    operation="fulfillment.ship",
                    json=body,
                    spec=ID,
                )
                created.append(int(answer))
            found_ids = [int(s["entity_id"]) for s in found]
            ref = {
                "order_id": order_id,
                "shipment_ids": found_ids + created,
                "found_ids": found_ids,
                "track_numbers": [t["track_number"] for t in tracks],
                **carrier_fields(ship.carrier),
            }
            return ChannelResult(ref=ref, found_existing=bool(found) and not created, calls=calls())

    def _sync_tracks(
        self,
        ship: ShipmentToSend,
        order_id: str,
        shipment: dict[str, Any],
        tracks: list[dict[str, str]],
    ) -> None:
        """Make the shipment's tracks ours: numbers no longer ours go, new ones come."""
        have = {
            str(t.get("track_number") or ""): t
            for t in shipment.get("tracks") or []
            if isinstance(t, dict)
        }
        mine = {t["track_number"] for t in tracks}
        for number, track in have.items():
            if number not in mine:
                self.pub.api(
                    "DELETE",
                    f"shipment/track/{track['entity_id']}",
                    operation="fulfillment.track_delete",
                )
        for track in tracks:
            if track["track_number"] not in have:
                entity = {
                    "order_id": int(order_id),
                    "parent_id": int(shipment["entity_id"]),
                    **track,
                }
                self.pub.api(
                    "POST",
                    "shipment/track",
                    operation="fulfillment.track_add",
                    json={"entity": entity},
                )

    def update_tracking(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "update_tracking") as calls:
            order_id = ship.order_external_id.strip()
            ids = recorded_ids(ship, channel=self.channel.code, platform="Magento")
            tracks = self._tracks(ship)
            for sid in ids:
                shipment = self.pub.api(
                    "GET", f"shipment/{sid}", operation="fulfillment.shipment", spec=SHIPMENT
                )
                self._sync_tracks(ship, order_id, shipment, tracks)
            ref = {
                **ship.previous_result,
                "shipment_ids": ids,
                "track_numbers": [t["track_number"] for t in tracks],
                **carrier_fields(ship.carrier),
            }
            return ChannelResult(ref=ref, calls=calls())
