"""The shipment flow's own errors, for the inbox (the channel adapters raise the core ones)."""

from __future__ import annotations

from typing import Any

from apps.core.errors import PermanentError


class ShipmentSyncFailed(PermanentError):
    """A channel did not take a shipment (or its tracking, or a carrier event): the inbox item,
    named with the channel, order number, Odoo picking and tracking number. Keeps the category
    of the error that caused it, so the inbox suggests the right fix."""

    def __init__(self, message: str, *, category: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.category = category


class FulfilledOutsideOdoo(PermanentError):
    """The channel shows a fulfillment the hub did not make (a merchant marked the order shipped
    on the channel): Odoo does not know the goods left. Never fixed by the hub on its own."""

    category = "data_conflict"
