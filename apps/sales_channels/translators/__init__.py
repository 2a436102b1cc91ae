"""One module per source: channel JSON → canonical data (apps.core.canonical)."""

from .b2b import order_from_b2b
from .bigcommerce import order_from_bigcommerce
from .magento import order_from_magento
from .shopify import order_from_shopify, refund_from_shopify
from .woocommerce import order_from_woocommerce

__all__ = [
    "order_from_b2b",
    "order_from_bigcommerce",
    "order_from_magento",
    "order_from_shopify",
    "order_from_woocommerce",
    "refund_from_shopify",
]
