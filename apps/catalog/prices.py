"""Prices per bound variant: the price engine (apps.pricing) or Odoo's list price.

A channel's prices come from its Odoo pricelist (``channel_pricelist``: the channel's
``pricelist_id``, set with ``manage.py channel set CODE --pricelist ID``); without one, from the
list price (``lst_price``: the template's ``list_price`` plus the variant's ``price_extra``).
The engine evaluates Odoo's pricelist rules from the items it caches; the hub never guesses a
price: when a pricelist is set and the engine cannot be used, publication stops with a
PermanentError (an inbox issue) instead of publishing the list price in its place.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from apps.core.errors import PermanentError
from apps.sales_channels.models import Channel

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Price:
    amount: Decimal
    currency: str
    rule: str = ""


def default_currency() -> str:
    return str(getattr(settings, "HUB_CATALOG_CURRENCY", "") or "USD").upper()


def _engine() -> Any:
    try:
        from apps.pricing import services
    except ImportError:
        return None
    return services


def channel_pricelist_id(channel: Channel) -> int | None:
    engine = _engine()
    if engine is not None and hasattr(engine, "channel_pricelist"):
        found = engine.channel_pricelist(channel)
        return int(found) if found else None
    return int(channel.pricelist_id) if channel.pricelist_id else None


def compute_prices(
    *,
    gateway: Any,
    product_ids: list[int],
    pricelist_id: int | None,
    quantity: Decimal = Decimal(1),
    partner_id: int | None = None,
) -> dict[int, Price]:
    """product id -> unit price, to the cent. Products the engine cannot price are absent."""
    if not product_ids:
        return {}
    if pricelist_id:
        engine = _engine()
        if engine is None or not hasattr(engine, "prices_for"):
            raise PermanentError(
                f"pricelist {pricelist_id} is set but the price engine (apps.pricing) is not "
                "installed: prices are not published rather than published wrong"
            )
        kwargs: dict[str, Any] = {
            "pricelist_id": pricelist_id,
            "product_ids": list(product_ids),
            "quantity": quantity,
            "partner_id": partner_id,
        }
        if "gateway" in inspect.signature(engine.prices_for).parameters:
            kwargs["gateway"] = gateway
        quotes = engine.prices_for(**kwargs)
        out: dict[int, Price] = {}
        for pid, quote in quotes.items():
            amount = getattr(quote, "unit_price", None)
            if amount is None:
                continue
            out[int(pid)] = Price(
                Decimal(str(amount)).quantize(CENT),
                str(getattr(quote, "currency", "") or default_currency()),
                str(getattr(quote, "rule", "") or ""),
            )
        return out
    variants = gateway.catalog_variants(product_ids=product_ids)
    return {
        pid: Price(v.list_price, default_currency(), "list_price") for pid, v in variants.items()
    }
