from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.core.canonical import (
    DiscountAllocation,
    Money,
    Order,
    OrderLine,
    Totals,
    order_reconcile,
    to_decimal,
)
from apps.core.errors import PermanentError


def usd(v: str) -> Money:
    return Money(Decimal(v), "USD")


def test_money_is_decimal_never_float() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        usd("1.00") * 1.5  # type: ignore[operator]
    assert to_decimal(25.1) == Decimal("25.1")  # a JSON number is read through its repr
    assert to_decimal("25.0000") == Decimal("25.0000")
    with pytest.raises(PermanentError):
        to_decimal("abc")


def test_money_arithmetic_checks_currency_and_rounds_half_up() -> None:
    assert usd("1.10") + usd("2.20") == usd("3.30")
    assert (usd("0.125")).cents() == usd("0.13")
    with pytest.raises(ValueError):
        usd("1") + Money(Decimal("1"), "EUR")
    with pytest.raises(ValueError):
        Money(Decimal("1"), "usd")


def _order(total: str) -> Order:
    line = OrderLine(
        external_line_id="1",
        sku="A",
        name="A",
        quantity=2,
        unit_price=usd("10.00"),
        subtotal=usd("20.00"),
        discounts=(DiscountAllocation(usd("2.00")),),
    )
    return Order(
        channel="c",
        external_id="1",
        number="1",
        created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        currency="USD",
        lines=(line,),
        totals=Totals(usd("20"), usd("2"), usd("0"), usd("0"), usd(total)),
        financial_status="paid",
    )


def test_reconcile_passes_and_fails_with_context() -> None:
    order_reconcile(order=_order("18.00"))
    with pytest.raises(PermanentError) as info:
        order_reconcile(order=_order("18.50"))
    assert info.value.context["difference"] == "0.50"
    assert "difference 0.50 USD" in info.value.message


def test_canonical_objects_are_frozen_and_aware() -> None:
    order = _order("18.00")
    with pytest.raises(AttributeError):
        order.number = "2"  # type: ignore[misc]
    with pytest.raises(ValueError):
        Order(
            channel="c",
            external_id="1",
            number="1",
            created_at=dt.datetime(2025, 1, 1),
            currency="USD",
            lines=(),
            totals=order.totals,
            financial_status="paid",
        )
