"""WooCommerce: Shipment Tracking items where the store has the extension, else a private note;
``completed`` once the order is fully shipped.

- **Which mechanism** is detected once per channel account and cached for a day: a store
  without the Shipment Tracking extension answers any ``/wp-json/wc-shipment-tracking/v3/``
  route with ``404 rest_no_route`` (WordPress matches routes before anything else, so such a
  call writes nothing). The detection rides on the first real call (a read on a retry, else the
  first POST), so it costs a call only on a store without the extension, once a day.
- **Extension**: one tracking item per tracking number, ``{tracking_provider}`` when the carrier
  is one of the extension's predefined providers (the extension then builds the link), else
  ``{custom_tracking_provider, custom_tracking_link}`` with the picking's URL, plus
  ``tracking_number`` and ``date_shipped``. The extension has no lines: a partial shipment is
  one more item on the order.
- **Without it**: a private order note (``customer_note: false``) with carrier, numbers, link
  and the Odoo picking name.
- **Never twice**: no idempotency anywhere, so when an earlier try may have written (``retry``,
  ``previous_result`` or our attempt mark) the order's tracking items (same number -> found) or
  notes (same text -> found) are read first; a first try writes without reading.
- **Completed**: when ``final``, ``PUT orders/<id> {"status": "completed"}``, nothing else:
  never ``meta_data`` (LIFECYCLE.md §1.2: a PUT of meta_data deletes the keys it leaves out).
  WooCommerce then sends its "Completed order" e-mail.
- ``update_tracking``: the new numbers are added as items (or a "tracking updated" note), and
  the items of this shipment whose numbers are gone are deleted.

Calls: create 1 per tracking number (+1 when ``final``; +1 read on a retry; +1 on the first
shipment of a store without the extension); tracking update 1 per added or removed number.
"""

from __future__ import annotations

import html
import re
from typing import Any

import requests
from django.core.cache import cache

from apps.core.errors import PermanentError
from apps.core.shapes import ID
from apps.inventory.publishers.woocommerce import WooCommercePublisher
from apps.sales_channels.models import Channel

from . import ChannelResult, FulfilmentAdapter, ShipmentToSend
from ._http import (
    ChannelHttp,
    attempt_mark,
    mark_attempt,
    may_have_written,
    name_key,
    operation,
)

EXTENSION_TTL_SECONDS = 24 * 3600

# Predefined providers of the Shipment Tracking extension (the display name is the API key).
# An excerpt; the spellings are UNCONFIRMED (LIFECYCLE.md §1.2, §7): a carrier not found here is
# sent as a custom provider with our link, which works whatever the extension's list says.
WOO_PROVIDERS: tuple[str, ...] = (
    "Australia Post",
    "Fastway Couriers",
    "bpost",
    "Correios",
    "Canada Post",
    "Purolator",
    "DHL",
    "DPD.co.uk",
    "ParcelForce",
    "Royal Mail",
    "TNT Express (consignment)",
    "Fedex",
    "OnTrac",
    "UPS",
    "USPS",
    "DHL US",
)
_PROVIDER_BY_KEY = {name_key(p): p for p in WOO_PROVIDERS}
_PROVIDER_BY_KEY.update({"tnt": "TNT Express (consignment)", "dpduk": "DPD.co.uk"})


def woo_provider(carrier: str) -> str:
    """The extension's predefined provider for a carrier name, or "" (custom provider)."""
    return _PROVIDER_BY_KEY.get(name_key(carrier), "") if carrier.strip() else ""


def note_text(ship: ShipmentToSend, *, updated: bool = False) -> str:
    """The private note: carrier, numbers, link, picking. Stable, so a repeat is recognised."""
    head = "Tracking updated" if updated else "Shipped"
    parts = [f"{head} ({ship.odoo_picking_name})"]
    if ship.carrier:
        parts.append(f"via {ship.carrier}")
    numbers = [n for n in ship.tracking_numbers if n]
    text = " ".join(parts)
    if numbers:
        text += f": tracking {', '.join(numbers)}"
    if ship.tracking_url:
        text += f" {ship.tracking_url}"
    return text


def _plain(text: Any) -> str:
    """A note as WordPress may return it (escaped, wrapped in tags) -> comparable text."""
    value = re.sub(r"<[^>]+>", " ", html.unescape(str(text or "")))
    return re.sub(r"\s+", " ", value).strip()


class WooCommerceFulfilment(FulfilmentAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = WooCommercePublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)
        root = channel.api_base_url.rstrip("/")
        self.base = root + "/wp-json/wc/v3"
        self.tracking_base = root + "/wp-json/wc-shipment-tracking/v3"

    # -- extension detection --------------------------------------------------------------------
    @property
    def _extension_key(self) -> str:
        return f"fulfillment:woo:shipment-tracking:{self.pub.budget.key}"

    def extension(self) -> bool | None:
        """Whether the store has the Shipment Tracking extension; None = not known yet."""
        found = cache.get(self._extension_key)
        return None if found is None else bool(found)

    def _remember_extension(self, present: bool) -> None:
        cache.set(self._extension_key, 1 if present else 0, EXTENSION_TTL_SECONDS)

    @staticmethod
    def _no_route(resp: requests.Response) -> bool:
        if resp.status_code != 404:
            return False
        try:
            body = resp.json()
        except ValueError:
            return False
        return isinstance(body, dict) and body.get("code") == "rest_no_route"

    def _trackings_url(self, order_id: str) -> str:
        return f"{self.tracking_base}/orders/{order_id}/shipment-trackings"

    # -- the two mechanisms ---------------------------------------------------------------------
    def _tracking_body(self, ship: ShipmentToSend, number: str) -> dict[str, Any]:
        body: dict[str, Any] = {"tracking_number": number}
        if ship.shipped_at:
            body["date_shipped"] = ship.shipped_at[:10]
        provider = woo_provider(ship.carrier)
        if provider:
            body["tracking_provider"] = provider
        else:
            body["custom_tracking_provider"] = ship.carrier.strip() or "Carrier"
            if ship.tracking_url:
                body["custom_tracking_link"] = ship.tracking_url
        return body

    def _add_trackings(
        self, ship: ShipmentToSend, order_id: str, numbers: list[str], *, check: bool, op: str
    ) -> tuple[dict[str, str], list[str]] | None:
        """{number: tracking_id} for ``numbers`` (found or added) and the numbers found; None
        when the store has no Shipment Tracking extension (nothing was written then)."""
        url = self._trackings_url(order_id)
        items: dict[str, str] = {}
        if check:
            resp = self.http.request("GET", url, allow=(404,))
            if self._no_route(resp):
                self._remember_extension(False)
                return None
            if resp.status_code == 404:
                self._refused(ship, resp)
            self._remember_extension(True)
            for item in self.http.answer(resp, [dict], "fulfillment.read_trackings"):
                if item.get("tracking_number"):
                    items.setdefault(str(item["tracking_number"]), str(item.get("tracking_id")))
        found = [n for n in numbers if n in items]
        if len(found) < len(numbers):
            mark_attempt(ship, op)
        for number in numbers:
            if number in items:
                continue
            resp = self.http.request(
                "POST", url, json=self._tracking_body(ship, number), allow=(404,)
            )
            if self._no_route(resp):
                self._remember_extension(False)
                return None
            if resp.status_code == 404:
                self._refused(ship, resp)
            self._remember_extension(True)
            made = self.http.answer(resp, {"tracking_id": ID}, "fulfillment.add_tracking")
            items[number] = str(made["tracking_id"])
        return {n: items[n] for n in numbers}, found

    def _add_note(
        self, ship: ShipmentToSend, order_id: str, text: str, *, check: bool, op: str
    ) -> tuple[str, bool]:
        """(note id, found): the private note, unless the same text is already there."""
        url = f"{self.base}/orders/{order_id}/notes"
        if check:
            resp = self.http.request("GET", url)
            wanted = _plain(text)
            for note in self.http.answer(resp, [dict], "fulfillment.read_notes"):
                if _plain(note.get("note")) == wanted:
                    return str(note.get("id")), True
        mark_attempt(ship, op)
        resp = self.http.request("POST", url, json={"note": text, "customer_note": False})
        return str(self.http.answer(resp, {"id": ID}, "fulfillment.add_note")["id"]), False

    def _refused(self, ship: ShipmentToSend, resp: requests.Response) -> None:
        raise PermanentError(
            f"{self.channel.code}: WooCommerce refused {resp.request.method} for order "
            f"{ship.order_number} ({resp.status_code}): {resp.text[:300]}",
            channel=self.channel.code,
        )

    # -- interface ------------------------------------------------------------------------------
    def fulfil(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "fulfil") as calls:
            order_id = ship.order_external_id.strip()
            numbers = list(dict.fromkeys(n for n in ship.tracking_numbers if n))
            check = may_have_written(ship, "fulfil")
            ref: dict[str, Any] = {"order_id": order_id}
            found = False
            done = None
            if numbers and self.extension() is not False:
                done = self._add_trackings(ship, order_id, numbers, check=check, op="fulfil")
            if done is not None:
                items, already = done
                found = len(already) == len(numbers)
                ref.update(mechanism="shipment_tracking", tracking_items=items)
            else:
                note_id, found = self._add_note(
                    ship, order_id, note_text(ship), check=check, op="fulfil"
                )
                ref.update(mechanism="note", note_id=note_id)
            if ship.final:
                # Status only: a meta_data key in this PUT would delete the order's other keys.
                self.http.request(
                    "PUT", f"{self.base}/orders/{order_id}", json={"status": "completed"}
                )
                ref["completed"] = True
            return ChannelResult(ref=ref, found_existing=found, calls=calls())

    def update_tracking(self, ship: ShipmentToSend) -> ChannelResult:
        with operation(self.http, ship, "update_tracking") as calls:
            order_id = ship.order_external_id.strip()
            numbers = list(dict.fromkeys(n for n in ship.tracking_numbers if n))
            op = "tracking:" + ",".join(sorted(numbers))
            # previous_result is the create's result here: only our own retry means "read".
            check = ship.retry or attempt_mark(ship, op) is not None
            previous = ship.previous_result or {}
            old: dict[str, str] = {
                str(k): str(v) for k, v in (previous.get("tracking_items") or {}).items()
            }
            ref: dict[str, Any] = {"order_id": order_id}
            done = None
            if numbers and self.extension() is not False:
                missing = [n for n in numbers if n not in old]
                done = self._add_trackings(ship, order_id, missing, check=check, op=op)
            if done is not None:
                added, _ = done
                items = {n: old.get(n) or added.get(n, "") for n in numbers}
                for number, tracking_id in old.items():
                    if number not in items and tracking_id:
                        self.http.request(
                            "DELETE", f"{self._trackings_url(order_id)}/{tracking_id}", allow=(404,)
                        )
                ref.update(mechanism="shipment_tracking", tracking_items=items)
            else:
                note_id, _ = self._add_note(
                    ship, order_id, note_text(ship, updated=True), check=check, op=op
                )
                ref.update(mechanism="note", note_id=note_id)
            return ChannelResult(ref=ref, calls=calls())
