"""Telling a channel about a shipment: one adapter per channel kind.

The contract every adapter keeps (apps.fulfillment.sync calls it from a claimed ShipmentSync):

- `fulfil(ship) -> ChannelResult`: make the channel's fulfillment / shipment for exactly the
  shipment's lines and quantities, with carrier, tracking numbers and URL. **Read before
  write**: none of the platforms has an idempotency key here, so after a lost answer the
  adapter first looks for what an earlier attempt may have made (Shopify: the order's
  fulfillments by tracking number and the fulfillment orders' remaining quantities;
  WooCommerce: the order's shipment trackings or notes; BigCommerce: the order's shipments)
  and returns that instead of making a second one.
- `update_tracking(ship, previous) -> ChannelResult`: the tracking numbers / URL changed.
- `report_event(ship, report) -> ChannelResult`: a carrier status (only Shopify has a place for
  it: fulfillmentEventCreate; the others return `ChannelResult(skipped=...)`).

Errors are classified like every edge: `TransientError` / `RateLimited` (retried by the work
row), `PermanentError` (inbox at once, with channel, order number, picking and tracking number:
unknown carrier, line not found, already fulfilled by someone else, other 4xx).
Calls go through the channel's shared rate budget (the inventory publishers' HttpPublisher).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from apps.sales_channels.models import Channel


@dataclass(frozen=True)
class ShipLine:
    sku: str
    quantity: int
    external_line_id: str = ""


@dataclass(frozen=True)
class ShipmentToSend:
    """What an adapter needs, free of ORM objects."""

    channel_code: str
    order_external_id: str
    order_number: str
    odoo_picking_name: str
    lines: tuple[ShipLine, ...]
    carrier: str  # the channel's carrier name (mapped), "" when unknown
    tracking_numbers: tuple[str, ...]
    tracking_url: str
    shipped_at: str  # ISO 8601
    notify_customer: bool
    final: bool  # every line of the order is now shipped (WooCommerce: `completed`)
    previous_result: dict[str, Any] = field(default_factory=dict)  # an earlier sync's result
    # An earlier try of this sync may have reached the channel (the work row was tried before:
    # a failed attempt, a crash, a requeue from the inbox). The adapter then reads before it
    # writes. Adapters also keep their own mark in the shared cache, so False is safe too.
    retry: bool = False


@dataclass(frozen=True)
class ChannelResult:
    """The channel's record of the shipment (e.g. {"fulfillment_id": "gid://..."}), whether an
    earlier attempt had already made it (found, not created), or why nothing was sent."""

    ref: dict[str, Any] = field(default_factory=dict)
    found_existing: bool = False
    skipped: str = ""
    calls: int = 0  # channel API calls made (the benchmark's calls per shipment)


class FulfilmentAdapter(abc.ABC):
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @abc.abstractmethod
    def fulfil(self, ship: ShipmentToSend) -> ChannelResult: ...

    @abc.abstractmethod
    def update_tracking(self, ship: ShipmentToSend) -> ChannelResult: ...

    def report_event(
        self, ship: ShipmentToSend, *, status: str, happened_at: str, message: str = ""
    ) -> ChannelResult:
        return ChannelResult(skipped=f"{self.channel.kind} has no carrier events")


def adapter_for(channel: Channel) -> FulfilmentAdapter | None:
    """The channel kind's adapter; None for channels the hub does not tell (B2B API: partners
    read GET /api/v1/orders/{id}/shipments/ and the shipment.dispatched event)."""
    kind = channel.kind
    if kind == Channel.Kind.SHOPIFY:
        from .shopify import ShopifyFulfilment

        return ShopifyFulfilment(channel)
    if kind == Channel.Kind.WOOCOMMERCE:
        from .woocommerce import WooCommerceFulfilment

        return WooCommerceFulfilment(channel)
    if kind == Channel.Kind.BIGCOMMERCE:
        from .bigcommerce import BigCommerceFulfilment

        return BigCommerceFulfilment(channel)
    if kind == Channel.Kind.MAGENTO:
        from .magento import MagentoFulfilment

        return MagentoFulfilment(channel)
    return None
