"""Catalog and price publishers: one per channel kind, behind one interface.

They are the stock publishers' siblings (apps.inventory.publishers) and reuse them: the same
per-account rate budget (one budget per shop, shared by stock, shipments and catalog), the same
waiting out of 429/THROTTLED without spending an attempt, and the same resolved-id maps in the
shared cache. The core (apps.catalog.services) decides what changed; a publisher only chunks by
the platform's limits and reports per variant what the channel accepted.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from apps.core.errors import PermanentError

if TYPE_CHECKING:
    from apps.sales_channels.models import Channel


@dataclass(frozen=True)
class PriceTarget:
    sku: str
    external_id: str  # the product binding's external id (variant / variation / product id)
    price: Decimal


@dataclass(frozen=True)
class VariantContent:
    """What a channel shows of one bound variant."""

    sku: str
    external_id: str
    odoo_product_id: int
    template_id: int
    name: str  # the product (template) name
    description: str
    barcode: str
    weight: Decimal  # kg
    price: Decimal
    options: tuple[tuple[str, str], ...] = ()  # (attribute, value), e.g. (("Size", "M"),)
    active: bool = True


@dataclass(frozen=True)
class ImageTarget:
    """A product image to set: the channel fetches it from ``url``."""

    template_id: int
    external_id: str  # any bound variant of the template; the publisher finds its product
    sku: str
    url: str
    checksum: str


@dataclass(frozen=True)
class NewProduct:
    """A product to create on the channel: its variants (one for a simple product)."""

    template_id: int
    name: str
    description: str
    variants: tuple[VariantContent, ...]


@dataclass(frozen=True)
class Outcome:
    sku: str
    ok: bool
    error: str = ""
    external_id: str = ""  # for created (or found) variants: the channel's id
    created: bool = False  # made by this call (not found on the channel)


def product_options(product: NewProduct) -> list[tuple[str, list[str]]]:
    """The product's options in the order of its variants: [("Size", ["S", "M"]), ...]."""
    out: dict[str, list[str]] = {}
    for v in product.variants:
        for name, value in v.options:
            values = out.setdefault(name, [])
            if value not in values:
                values.append(value)
    return list(out.items())


def found_outcomes(code: str, product: NewProduct, found: dict[str, str]) -> list[Outcome]:
    """A product some of whose SKUs the channel already has: those are bound as they are; the
    others are refused (adding variants to an existing product is not done)."""
    return [
        Outcome(v.sku, True, external_id=found[v.sku])
        if v.sku in found
        else Outcome(
            v.sku,
            False,
            f"{code} has {product.name} without the variant {v.sku}: add it there, then bind it",
        )
        for v in product.variants
    ]


@dataclass(frozen=True)
class B2BPrice:
    external_id: str  # variant id
    sku: str
    price: Decimal
    breaks: tuple[tuple[Decimal, Decimal], ...] = ()  # (minimum quantity, unit price)


@dataclass
class B2BResult:
    outcomes: list[Outcome] = field(default_factory=list)
    catalog_id: str = ""
    pricelist_id: str = ""


class CatalogPublisher(abc.ABC):
    calls: int  # channel API calls made by this instance
    price_batch: int  # variants per price call (the platform's limit)

    @abc.abstractmethod
    def publish_prices(self, targets: Sequence[PriceTarget]) -> list[Outcome]:
        """Set each variant's base price, in the fewest calls the platform allows."""

    @abc.abstractmethod
    def publish_products(self, contents: Sequence[VariantContent]) -> list[Outcome]:
        """Set name, description, SKU, barcode, weight, price and option values."""

    @abc.abstractmethod
    def publish_images(self, images: Sequence[ImageTarget]) -> list[Outcome]:
        """Set each product's main image from its URL."""

    def create_products(self, products: Sequence[NewProduct]) -> list[Outcome]:
        """Create each product with its variants, unless the channel already has its SKUs: they
        are looked up by SKU first, so a retry after a lost answer finds what the first attempt
        made instead of making it twice. One Outcome per variant, with the channel's id of the
        variant when it was found or created (``created`` tells which)."""
        raise PermanentError(
            f"creating products is not supported on {type(self).__name__}",
        )

    def min_price_calls(self, targets: Sequence[PriceTarget]) -> int:
        """The fewest calls the platform allows for these price changes (benchmarks)."""
        return -(-len(targets) // self.price_batch) if targets else 0

    def publish_b2b(
        self,
        *,
        name: str,
        target: str,
        currency: str,
        catalog_id: str,
        pricelist_id: str,
        prices: Sequence[B2BPrice],
    ) -> B2BResult:
        raise PermanentError(f"{type(self).__name__} has no B2B price lists")


def catalog_publisher_for(channel: Channel) -> CatalogPublisher:
    """The publisher for the channel's kind; PermanentError for kinds without a catalog API."""
    kind = channel.kind
    if kind == "shopify":
        from .shopify import ShopifyCatalog

        return ShopifyCatalog(channel)
    if kind == "woocommerce":
        from .woocommerce import WooCommerceCatalog

        return WooCommerceCatalog(channel)
    if kind == "bigcommerce":
        from .bigcommerce import BigCommerceCatalog

        return BigCommerceCatalog(channel)
    raise PermanentError(
        f"channel {channel.code}: kind {kind!r} has no catalog publication",
        channel=channel.code,
    )
