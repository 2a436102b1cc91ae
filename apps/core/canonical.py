"""The canonical model: what every channel adapter produces and the Odoo side consumes.

Frozen dataclasses, so a translated order can be cached, compared and passed between layers
without anyone mutating it. Money is always `Decimal` + currency: never float. Channel amounts
that arrive as JSON numbers are converted through their shortest repr (`str(25.5)` is "25.5"),
which is exact for every value a channel can mean.

Amount conventions (they make the reconciliation one formula for every channel):
- `OrderLine.subtotal` is the line's gross amount before discounts (unit price x quantity as the
  channel reports it), `discounts` are the allocations of discounts to that line, `taxes` the tax
  charged on it after discounts.
- `ShippingLine` and `FeeLine` follow the same pattern.
- `Order.discounts` holds only order-level discounts that the channel did not allocate to lines.
- When `taxes_included` is true the line and shipping amounts already contain their taxes, so
  taxes are not added again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import PermanentError

CENT = Decimal("0.01")


def to_decimal(value: Any, *, field_name: str = "amount") -> Decimal:
    """A Decimal from a channel value: str, int, Decimal, or a JSON float (via its repr)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise PermanentError(f"{field_name}: boolean is not an amount", field=field_name)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest string that round-trips; it is what the sender wrote in the JSON.
        return Decimal(repr(value))
    if isinstance(value, str) and value.strip():
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            pass
    raise PermanentError(f"{field_name}: {value!r} is not an amount", field=field_name)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money.amount must be Decimal, not {type(self.amount).__name__}")
        if not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")
        if not self.amount.is_finite():
            raise ValueError("Money.amount must be finite")

    @classmethod
    def of(cls, value: Any, currency: str, *, field_name: str = "amount") -> Money:
        return cls(to_decimal(value, field_name=field_name), currency.upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0"), currency.upper())

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float):
            raise TypeError("multiply Money by int or Decimal, never float")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def cents(self) -> Money:
        """Rounded to the cent, half up (how every channel we speak rounds displayed totals)."""
        return Money(self.amount.quantize(CENT, rounding=ROUND_HALF_UP), self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def money_sum(items: Iterable[Money], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


@dataclass(frozen=True)
class Address:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    region_code: str = ""
    postal_code: str = ""
    country_code: str = ""  # ISO 3166-1 alpha-2, upper case
    phone: str = ""
    email: str = ""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class Customer:
    external_id: str = ""  # "" for guests
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    company: str = ""
    vat: str = ""
    is_guest: bool = False
    tax_exempt: bool = False
    created_at: dt.datetime | None = None

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class TaxLine:
    title: str
    amount: Money
    rate: Decimal | None = None  # a fraction (0.08), not a percentage; None when not reported


@dataclass(frozen=True)
class DiscountAllocation:
    amount: Money
    code: str = ""  # the coupon code, when the discount came from one
    title: str = ""


@dataclass(frozen=True)
class OrderLine:
    external_line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Money  # before discounts; may carry more than 2 decimals
    subtotal: Money  # gross before discounts, as the channel reports it
    discounts: tuple[DiscountAllocation, ...] = ()
    taxes: tuple[TaxLine, ...] = ()
    product_external_id: str = ""
    variant_external_id: str = ""
    properties: tuple[tuple[str, str], ...] = ()

    @property
    def discount_total(self) -> Money:
        return money_sum((d.amount for d in self.discounts), self.subtotal.currency)

    @property
    def tax_total(self) -> Money:
        return money_sum((t.amount for t in self.taxes), self.subtotal.currency)

    @property
    def net(self) -> Money:
        return self.subtotal - self.discount_total


@dataclass(frozen=True)
class ShippingLine:
    title: str
    price: Money  # before discounts
    code: str = ""
    carrier: str = ""
    external_id: str = ""
    discounts: tuple[DiscountAllocation, ...] = ()
    taxes: tuple[TaxLine, ...] = ()

    @property
    def discount_total(self) -> Money:
        return money_sum((d.amount for d in self.discounts), self.price.currency)

    @property
    def tax_total(self) -> Money:
        return money_sum((t.amount for t in self.taxes), self.price.currency)


@dataclass(frozen=True)
class FeeLine:
    """A charge that is neither goods nor shipping (WooCommerce fees, BigCommerce handling)."""

    title: str
    amount: Money
    taxes: tuple[TaxLine, ...] = ()
    external_id: str = ""

    @property
    def tax_total(self) -> Money:
        return money_sum((t.amount for t in self.taxes), self.amount.currency)


@dataclass(frozen=True)
class OrderDiscount:
    """An order-level discount the channel did not allocate to lines."""

    amount: Money
    code: str = ""
    title: str = ""


@dataclass(frozen=True)
class Totals:
    """The totals as the channel reported them (the reconciliation compares `total`)."""

    subtotal: Money
    discounts: Money
    shipping: Money
    tax: Money
    total: Money


@dataclass(frozen=True)
class RefundLine:
    external_line_id: str
    quantity: int
    sku: str = ""
    amount: Money | None = None
    restock: bool = False


@dataclass(frozen=True)
class Refund:
    external_id: str
    order_external_id: str
    amount: Money  # positive: the money given back
    created_at: dt.datetime | None = None
    reason: str = ""
    lines: tuple[RefundLine, ...] = ()
    shipping: Money | None = None


@dataclass(frozen=True)
class ReturnLine:
    external_line_id: str
    sku: str
    quantity: int
    reason: str = ""


@dataclass(frozen=True)
class Return:
    """Goods the customer sends back (a refund may or may not follow)."""

    external_id: str
    order_external_id: str
    lines: tuple[ReturnLine, ...]
    created_at: dt.datetime | None = None
    reason: str = ""


class FinancialStatus:
    """The normalised vocabulary (Shopify's, which the others map onto)."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    ALL = (PENDING, AUTHORIZED, PARTIALLY_PAID, PAID, PARTIALLY_REFUNDED, REFUNDED, VOIDED)


@dataclass(frozen=True)
class Order:
    channel: str  # channel code
    external_id: str
    number: str
    created_at: dt.datetime  # aware, UTC
    currency: str  # the currency the customer was charged in (Shopify: presentment currency)
    lines: tuple[OrderLine, ...]
    totals: Totals
    financial_status: str
    customer: Customer | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    shipping_lines: tuple[ShippingLine, ...] = ()
    fee_lines: tuple[FeeLine, ...] = ()
    discounts: tuple[OrderDiscount, ...] = ()
    discount_codes: tuple[str, ...] = ()
    taxes_included: bool = False
    updated_at: dt.datetime | None = None
    cancelled_at: dt.datetime | None = None
    source_status: str = ""  # the channel's own status string, for display and audits
    note: str = ""
    attributes: tuple[tuple[str, str], ...] = ()
    po_number: str = ""
    tags: tuple[str, ...] = ()
    refunds: tuple[Refund, ...] = ()
    shop_currency: str = ""  # the store's currency when it differs from `currency`
    shop_total: Money | None = None

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("Order.created_at must be timezone-aware")

    def computed_total(self) -> Money:
        """lines - discounts + shipping + fees + tax (tax only when not included in prices)."""
        cur = self.currency
        goods = money_sum((ln.net for ln in self.lines), cur)
        shipping = money_sum((s.price - s.discount_total for s in self.shipping_lines), cur)
        fees = money_sum((f.amount for f in self.fee_lines), cur)
        order_disc = money_sum((d.amount for d in self.discounts), cur)
        total = goods + shipping + fees - order_disc
        if not self.taxes_included:
            total = total + self.tax_total()
        return total

    def tax_total(self) -> Money:
        cur = self.currency
        return (
            money_sum((ln.tax_total for ln in self.lines), cur)
            + money_sum((s.tax_total for s in self.shipping_lines), cur)
            + money_sum((f.tax_total for f in self.fee_lines), cur)
        )

    def discount_total(self) -> Money:
        cur = self.currency
        return (
            money_sum((ln.discount_total for ln in self.lines), cur)
            + money_sum((s.discount_total for s in self.shipping_lines), cur)
            + money_sum((d.amount for d in self.discounts), cur)
        )


def order_reconcile(*, order: Order) -> None:
    """Raise PermanentError unless lines - discounts + shipping + tax = total, to the cent.

    A translation that does not add up means we misread the payload (or the channel sent an
    inconsistent one); pushing it to Odoo would book the wrong amount, so it goes to the inbox
    with the difference spelled out.
    """
    computed = order.computed_total().cents()
    reported = order.totals.total.cents()
    if computed.amount == reported.amount:
        return
    diff = (reported - computed).amount
    cur = order.currency
    goods = money_sum((ln.subtotal for ln in order.lines), cur).cents().amount
    shipping = money_sum((s.price for s in order.shipping_lines), cur).cents().amount
    fees = money_sum((f.amount for f in order.fee_lines), cur).cents().amount
    discounts = order.discount_total().cents().amount
    tax = order.tax_total().cents().amount
    raise PermanentError(
        f"order {order.number or order.external_id} totals do not reconcile: lines {goods} "
        f"- discounts {discounts} + shipping {shipping} + fees {fees} + tax {tax}"
        f"{' (included)' if order.taxes_included else ''} = {computed.amount} {cur}, "
        f"but the channel says {reported.amount} {cur} (difference {diff} {cur})",
        channel=order.channel,
        external_id=order.external_id,
        order_number=order.number,
        currency=cur,
        reported_total=str(reported.amount),
        computed_total=str(computed.amount),
        difference=str(diff),
        lines=str(goods),
        discounts=str(discounts),
        shipping=str(shipping),
        fees=str(fees),
        tax=str(tax),
        taxes_included=order.taxes_included,
    )


@dataclass(frozen=True)
class StockLevel:
    sku: str
    quantity: int
    location: str = ""  # the channel's location id, or "" for a single-location channel
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    quantity: int
    external_line_id: str = ""


@dataclass(frozen=True)
class Shipment:
    order_external_id: str
    lines: tuple[ShipmentLine, ...]
    carrier: str = ""
    tracking_number: str = ""
    tracking_url: str = ""
    shipped_at: dt.datetime | None = None
    external_id: str = ""  # the channel's fulfilment/shipment id once created
    reference: str = ""  # our deterministic reference (e.g. the Odoo picking name)
