"""Stock publishers: one per channel kind, behind one interface.

The core (apps.inventory.services.publish_channel) computes what to publish; a publisher only
talks to the channel: it chunks by the channel's batch limit, takes from the channel account's
rate budget before every call, waits out 429/THROTTLED without spending an attempt, and reports
per SKU what the channel now holds.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apps.core.errors import PermanentError

if TYPE_CHECKING:
    from apps.sales_channels.models import Channel


@dataclass(frozen=True)
class StockTarget:
    sku: str
    # Product Binding external_id (Shopify variant legacy id, WooCommerce product or variation
    # id, BigCommerce variant id).
    external_id: str
    quantity: int  # value to publish, >= 0
    # Last value we published; used for compare-and-set where the channel supports it
    # (Shopify); None = unknown.
    expected: int | None = None


@dataclass(frozen=True)
class PublishOutcome:
    sku: str
    ok: bool
    published: int | None = None  # value now on the channel when ok
    error: str = ""  # reason when not ok, for the inbox
    stale: bool = False  # compare-and-set refused: the channel held another value


class Publisher(abc.ABC):
    batch_size: int
    calls: int  # channel API calls made by this instance

    @abc.abstractmethod
    def publish(self, targets: Sequence[StockTarget]) -> list[PublishOutcome]:
        """Chunk by batch_size, take from the rate budget before every call, wait out 429 or
        THROTTLED (Retry-After or the restore time) and retry without spending an attempt.

        Raises TransientError / RateLimited / ChannelAuthError when the whole call cannot be
        done now.
        """

    @abc.abstractmethod
    def read_levels(self, external_ids: Sequence[str]) -> dict[str, int]:
        """The channel's current available quantity per external id (reconciliation)."""


# The channel kinds whose stock the hub pushes. Other kinds (B2B portals) read it through the
# inventory API instead: their rows are refreshed by those reads and never rung for a publish.
PUBLISHING_KINDS = frozenset({"shopify", "woocommerce", "bigcommerce", "magento"})


def publisher_for(channel: Channel) -> Publisher:
    """The publisher for the channel's kind; PermanentError for kinds without inventory."""
    kind = channel.kind
    if kind == "shopify":
        from apps.inventory.publishers.shopify import ShopifyPublisher

        return ShopifyPublisher(channel)
    if kind == "woocommerce":
        from apps.inventory.publishers.woocommerce import WooCommercePublisher

        return WooCommercePublisher(channel)
    if kind == "bigcommerce":
        from apps.inventory.publishers.bigcommerce import BigCommercePublisher

        return BigCommercePublisher(channel)
    if kind == "magento":
        from apps.inventory.publishers.magento import MagentoPublisher

        return MagentoPublisher(channel)
    raise PermanentError(
        f"channel {channel.code}: kind {kind!r} has no inventory publication",
        channel=channel.code,
    )
