"""What a payout provider hands the finance flow, whatever the provider.

A provider reads money facts from outside the channels' order APIs: the payouts a payment
processor sent to the merchant's bank, and the balance transactions each payout is made of
(LIFECYCLE.md §3). Two exist: Shopify Payments (through the shop's Admin API) and Stripe (the
gateway account behind a WooCommerce or BigCommerce store).

Rules every provider keeps:

- Amounts are ``Decimal`` exactly as the provider states them (``net`` is never recomputed:
  LIFECYCLE.md §3.1 step 6 shows rows where gross - fee != net). Stripe's integer minor units
  are scaled by the currency's exponent (JPY 0 decimals, KWD 3, most 2).
- Types are open enums (LIFECYCLE.md §6.5): the raw ``type`` is kept, an unknown one gets the
  category ``"other"`` and is never dropped.
- ``payouts_since`` returns paid payouts only, oldest first, one page; the cursor never moves
  past a payout that may still become paid (pending / scheduled / in transit), so it is seen
  again on a later call. Failed and cancelled payouts will never be paid and are passed over.
- ``transactions`` reads every page and yields the transfer row (the payout's own balance
  transaction) too, with category ``"transfer"``, so the caller drops it knowingly.
- Errors are the hub's classified ones: TransientError / RateLimited (retry later),
  ChannelAuthError (credentials), PermanentError (a wrong answer, naming what was missing).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from apps.core.errors import ConfigurationError, PermanentError

CATEGORIES = (
    "charge",
    "refund",
    "fee",
    "adjustment",
    "chargeback",
    "reserve",
    "transfer",
    "other",
)


@dataclass(frozen=True)
class ProviderPayout:
    external_id: str
    status: str
    date: dt.date
    currency: str  # upper case
    amount: Decimal  # net paid to the bank, exactly as the provider gives it
    summary: dict[str, Any]
    raw: dict[str, Any]


@dataclass(frozen=True)
class ProviderTransaction:
    external_id: str
    payout_id: str
    type: str  # the provider's raw type, kept even when unknown
    category: str  # one of CATEGORIES
    amount: Decimal
    fee: Decimal
    net: Decimal
    currency: str
    processed_at: dt.datetime | None
    source_order_id: str  # the channel's order id when known
    source_order_number: str  # the order number / name when known
    source_transaction_id: str  # the gateway transaction id the hub stored with the payment
    raw: dict[str, Any]


class PayoutSource(Protocol):
    def payouts_since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[list[ProviderPayout], str | None]: ...

    def transactions(self, payout: ProviderPayout) -> Iterator[ProviderTransaction]: ...


def payout_source(account: Any) -> PayoutSource:
    """The provider of a payout account (``.provider``: ``shopify_payments`` or ``stripe``)."""
    provider = str(getattr(account, "provider", "") or "")
    if provider == "shopify_payments":
        from .shopify_payments import ShopifyPaymentsSource

        channel = getattr(account, "channel", None)
        if channel is None:
            raise ConfigurationError("a Shopify Payments account needs its Shopify channel")
        return ShopifyPaymentsSource(channel)
    if provider == "stripe":
        from .stripe import StripeSource

        channel = getattr(account, "channel", None)
        return StripeSource(
            api_base_url=str(getattr(account, "api_base_url", "") or ""),
            secret_key=str(getattr(account, "secret_key", "") or ""),
            label=str(getattr(channel, "code", "") or getattr(account, "code", "") or "stripe"),
        )
    raise ConfigurationError(f"unknown payout provider {provider!r}", provider=provider)


# -- helpers shared by the providers ------------------------------------------------------------
def field(row: Mapping[str, Any], name: str, what: str, **context: Any) -> Any:
    """``row[name]``, or a PermanentError naming the missing field (a 200 of the wrong shape)."""
    if not isinstance(row, Mapping) or row.get(name) is None:
        raise PermanentError(f"{what}: the answer has no {name!r}", field=name, **context)
    return row[name]


def decimal(value: Any, name: str, what: str, **context: Any) -> Decimal:
    """A money string or number as Decimal, exactly (``"-3.54"`` stays -3.54)."""
    if isinstance(value, bool) or value is None or value == "":
        raise PermanentError(
            f"{what}: {name!r} is not an amount ({value!r})", field=name, **context
        )
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise PermanentError(
            f"{what}: {name!r} is not an amount ({value!r})", field=name, **context
        ) from exc
    if not result.is_finite():
        raise PermanentError(
            f"{what}: {name!r} is not an amount ({value!r})", field=name, **context
        )
    return result


def parse_datetime(value: Any) -> dt.datetime | None:
    """ISO 8601 (``Z``, an offset, or none = UTC) or a unix timestamp; None when absent or
    unreadable (a date is a fact worth keeping, not worth failing a payout for)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def text(value: Any) -> str:
    """An id or name as a string; "" for None."""
    return "" if value is None else str(value)
