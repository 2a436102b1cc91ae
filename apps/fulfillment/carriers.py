"""Carrier and tracking values: Odoo's words turned into the channel's.

- The carrier: Odoo names a `delivery.carrier` ("Standard delivery", id 1); the channel wants its
  own name for it (Shopify builds the tracking link only for a name from its supported list,
  written exactly, e.g. "UPS", "DHL Express"). The value map of kind `tracking_company` says
  which: channel_value = the channel's name, odoo_value = the delivery.carrier id or name. The id
  wins over the name; a carrier without a map leaves the channel's name empty (the adapter then
  sends the URL, or refuses, as its platform requires).
- Tracking numbers: Odoo keeps them in one text field, `carrier_tracking_ref`; several parcels
  are joined by the carrier connectors with "+" (and by people with commas or spaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apps.mappings.models import ValueMap
from apps.sales_channels.models import Channel

_SPLIT = re.compile(r"[+,;\s]+")


def tracking_numbers(ref: str | None) -> list[str]:
    """The numbers in a `carrier_tracking_ref`, in order, without repeats."""
    out: list[str] = []
    for part in _SPLIT.split(ref or ""):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def channel_carrier(channel: Channel, *, odoo_carrier_id: int | None, odoo_carrier: str) -> str:
    """The channel's name for Odoo's carrier, "" when nothing maps it."""
    wanted: list[str] = []
    if odoo_carrier_id:
        wanted.append(str(odoo_carrier_id))
    if odoo_carrier:
        wanted.append(odoo_carrier.strip())
    if not wanted:
        return ""
    rows = list(
        ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.TRACKING_COMPANY).values_list(
            "odoo_value", "channel_value"
        )
    )
    return _pick(rows, wanted)


def _pick(rows: Iterable[tuple[str, str]], wanted: list[str]) -> str:
    by_value: dict[str, str] = {}
    for odoo_value, channel_value in rows:
        # The first map of a value wins (rows come ordered by channel value): stable choices.
        by_value.setdefault(odoo_value.strip().casefold(), channel_value)
    for value in wanted:
        hit = by_value.get(value.casefold())
        if hit:
            return hit
    return ""
