"""Money facts read from outside the hub: payouts and their balance transactions (Shopify
Payments, Stripe) and the captured payments of an order (each channel). See ``base`` for the
shapes and rules every provider keeps."""

from .base import (
    CATEGORIES,
    PayoutSource,
    ProviderPayout,
    ProviderTransaction,
    payout_source,
)
from .captures import CapturedPayment, captured_payments

__all__ = [
    "CATEGORIES",
    "CapturedPayment",
    "PayoutSource",
    "ProviderPayout",
    "ProviderTransaction",
    "captured_payments",
    "payout_source",
]
