"""Channel refunds: reading them (intake, and the never-twice check) and making them.

The contract every adapter keeps:

- `refunds_read(order_external_id) -> list[RefundData]`: every refund the channel holds for the
  order, normalised (Decimal amounts to the cent, lines with SKU / channel line id, restock
  type). Intake records each one once; the outbound path reads them before any money call.
- `refund(req: RefundToSend) -> RefundResult`: make the refund on the channel, **never twice**:
  it first reads the order's refunds and returns the one carrying `req.idempotency_key` (or, on
  platforms that cannot carry a key, the one matching amount and lines made after the request
  was approved) instead of paying again. Shopify: `refundCreate` (or `returnProcess`) with
  `@idempotent(key: ...)`; WooCommerce: `POST /orders/<id>/refunds` with the key in `meta_data`
  and `api_refund` / `api_restock` from the channel settings (both default to true on the
  platform: always send them explicitly); BigCommerce: a refund quote, then the refund for
  exactly a quoted amount, one at a time per order (a per-order lock).
- `returns_read(order_external_id)` (Shopify only): the order's returns with their lines.

Errors as every edge: TransientError / RateLimited (retried: the retry reads first),
PermanentError (inbox at once, with channel, order number, refund or return id, amounts).
Calls spend the channel's shared rate budget (apps.fulfillment.adapters._http.ChannelHttp).
"""

from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.sales_channels.models import Channel


@dataclass(frozen=True)
class RefundLineData:
    sku: str
    quantity: int
    amount: Decimal  # tax excluded
    tax: Decimal = Decimal("0.00")
    restock: str = "no_restock"  # return | cancel | no_restock
    external_line_id: str = ""


@dataclass(frozen=True)
class RefundData:
    external_id: str
    currency: str
    amount: Decimal  # what the customer got back, tax included
    refunded_at: dt.datetime
    lines: tuple[RefundLineData, ...] = ()
    shipping_amount: Decimal = Decimal("0.00")
    tax_amount: Decimal = Decimal("0.00")
    reason: str = ""
    hub_key: str = ""  # the hub's idempotency key when the hub made it
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReturnData:
    external_id: str
    name: str
    status: str  # requested | open | declined | canceled | closed
    lines: tuple[RefundLineData, ...] = ()
    reason: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RefundToSend:
    channel_code: str
    order_external_id: str
    order_number: str
    currency: str
    amount: Decimal
    lines: tuple[RefundLineData, ...]
    idempotency_key: str
    reason: str
    notify_customer: bool
    not_before: dt.datetime  # made after this (the approval): how a keyless match is bounded


@dataclass(frozen=True)
class RefundResult:
    refund: RefundData
    found_existing: bool = False
    calls: int = 0


class RefundAdapter(abc.ABC):
    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    @abc.abstractmethod
    def refunds_read(self, order_external_id: str) -> list[RefundData]: ...

    @abc.abstractmethod
    def refund(self, req: RefundToSend) -> RefundResult: ...

    def returns_read(self, order_external_id: str) -> list[ReturnData]:
        return []


def refund_adapter_for(channel: Channel) -> RefundAdapter | None:
    kind = channel.kind
    if kind == Channel.Kind.SHOPIFY:
        from .shopify import ShopifyRefunds

        return ShopifyRefunds(channel)
    if kind == Channel.Kind.WOOCOMMERCE:
        from .woocommerce import WooCommerceRefunds

        return WooCommerceRefunds(channel)
    if kind == Channel.Kind.BIGCOMMERCE:
        from .bigcommerce import BigCommerceRefunds

        return BigCommerceRefunds(channel)
    if kind == Channel.Kind.MAGENTO:
        from .magento import MagentoRefunds

        return MagentoRefunds(channel)
    return None
