"""Helpers shared by the translators: dates, strings, money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from apps.core.canonical import Address, Money, to_decimal
from apps.core.errors import PermanentError


def text(value: Any) -> str:
    """A string for an optional field: None, False and missing become ""."""
    if value is None or value is False:
        return ""
    return str(value).strip()


def obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def iso_utc(value: Any, *, field_name: str, assume_utc: bool = False) -> dt.datetime:
    """An aware UTC datetime from ISO 8601. Zone-less values are refused unless `assume_utc`."""
    raw = text(value)
    if not raw:
        raise PermanentError(f"{field_name} is missing", field=field_name)
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise PermanentError(f"{field_name}: {raw!r} is not an ISO 8601 date", field=field_name)
    if parsed.tzinfo is None:
        if not assume_utc:
            raise PermanentError(f"{field_name}: {raw!r} has no time zone", field=field_name)
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def iso_utc_optional(
    value: Any, *, field_name: str, assume_utc: bool = False
) -> dt.datetime | None:
    return iso_utc(value, field_name=field_name, assume_utc=assume_utc) if text(value) else None


def rfc2822_utc(value: Any, *, field_name: str) -> dt.datetime:
    raw = text(value)
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        raise PermanentError(f"{field_name}: {raw!r} is not an RFC 2822 date", field=field_name)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def money(value: Any, currency: str, *, field_name: str, default: Any = None) -> Money:
    if value is None or value == "":
        if default is None:
            raise PermanentError(f"{field_name} is missing", field=field_name)
        value = default
    return Money.of(value, currency, field_name=field_name)


def quantity(value: Any, *, field_name: str) -> int:
    """A whole, non-negative quantity ("2", 2, "2.0000" are fine; 2.5 is refused)."""
    amount = to_decimal(value, field_name=field_name)
    if amount != amount.to_integral_value() or amount < 0:
        raise PermanentError(f"{field_name}: {value!r} is not a whole quantity", field=field_name)
    return int(amount)


def address(
    data: Any,
    *,
    line1: str = "address1",
    line2: str = "address2",
    postal: str = "zip",
    region: str = "province",
    region_code: str = "province_code",
    country: str = "country_code",
    first: str = "first_name",
    last: str = "last_name",
) -> Address | None:
    d = obj(data)
    if not d or not any(text(v) for v in d.values() if not isinstance(v, (dict, list))):
        return None
    return Address(
        first_name=text(d.get(first)),
        last_name=text(d.get(last)),
        company=text(d.get("company")),
        line1=text(d.get(line1)),
        line2=text(d.get(line2)),
        city=text(d.get("city")),
        region=text(d.get(region)),
        region_code=text(d.get(region_code)),
        postal_code=text(d.get(postal)),
        country_code=text(d.get(country)).upper(),
        phone=text(d.get("phone")),
        email=text(d.get("email")),
    )
