"""Serializer fields whose OpenAPI schema is exactly what they accept.

DRF's fields are lenient where the document is strict: CharField takes 42 for "42" and trims
"  " to a blank it then refuses, IntegerField takes "4" and 4.0, BooleanField takes "yes",
DateTimeField refuses a valid RFC 3339 time whose UTC conversion leaves Python's range.
A fuzzer sending schema-valid data then gets a 400, and schema-invalid data a 2xx. These fields
accept what their schema says and nothing else.

A value that matches the document but a business rule refuses raises `unprocessable(...)`:
the view answers 422 instead of 400 (apps.sales_channels.api.base.invalid_response).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

UNPROCESSABLE = "unprocessable"

# What Python's str.strip() removes, spelled out: `\s` differs between Python (which counts
# \x1c-\x1f as space) and the ECMA-262 / Rust engines that validate the document's patterns.
PY_SPACE = (
    r"\t\n\u000b\f\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
# At least one character that is not white space (values are trimmed), and no NUL.
NON_BLANK = rf"^[^\u0000]*[^\u0000{PY_SPACE}][^\u0000]*$"


def unprocessable(message: str) -> serializers.ValidationError:
    """A refusal of a schema-valid value (answered 422, not 400)."""
    return serializers.ValidationError(message, code=UNPROCESSABLE)


class Pattern(RegexValidator):
    """The whole value matches `pattern`, which the schema shows (drf-spectacular reads a
    RegexValidator's pattern). JSON Schema reads a pattern as ECMA-262, where `$` is the end;
    Python's `re.search` would let "12\\n" pass `^[0-9]+$`, so this uses `re.fullmatch`."""

    def __init__(self, pattern: str, message: str) -> None:
        super().__init__(pattern, message, code="invalid")
        self.compiled = re.compile(pattern)

    def __call__(self, value: Any) -> None:
        if not isinstance(value, str) or not self.compiled.fullmatch(value):
            raise serializers.ValidationError(self.message, code="invalid")


class StrictCharField(serializers.CharField):
    """A JSON string, not a number DRF would turn into one; kept as sent (no trimming)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, not 0, 1 or "yes"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not "4" nor 4.5. JSON Schema counts 4.0 as an integer, and so does this."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class BlankIsAValue:
    """For a query parameter: `?limit=` is a value to validate (and refuse), not "absent",
    which is how DRF reads an empty HTML form field."""

    def get_value(self, dictionary: Any) -> Any:
        name = getattr(self, "field_name", "")
        if hasattr(dictionary, "getlist") and dictionary.get(name, None) == "":
            return ""
        return super().get_value(dictionary)  # type: ignore[misc]


class QueryIntegerField(BlankIsAValue, serializers.IntegerField):
    pass


class QueryChoiceField(BlankIsAValue, serializers.ChoiceField):
    pass


class AwareDateTimeField(serializers.DateTimeField):
    """An RFC 3339 date-time (with its offset), in UTC.

    One that the document accepts but Python cannot place in UTC (0001-01-01T00:00:00+05:00
    is in year 0) is refused as unprocessable, not as malformed."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            raise serializers.ValidationError("needs a time zone (e.g. Z or +01:00)")
        try:
            return value.astimezone(dt.UTC)
        except OverflowError:
            raise unprocessable("is out of the range the hub can store") from None


def decimal_pattern(integer_digits: int, decimal_places: int, *, signed: bool = False) -> str:
    """A decimal string: up to `integer_digits` digits, then up to `decimal_places` more."""
    frac = f"(\\.[0-9]{{1,{decimal_places}}})?" if decimal_places else ""
    return f"^{'-?' if signed else ''}[0-9]{{1,{integer_digits}}}{frac}$"


class QueryDateTimeField(BlankIsAValue, AwareDateTimeField):
    pass


class DecimalStringField(serializers.Field):  # type: ignore[type-arg]
    """An amount as a decimal string ("25.00"), within what the database column holds.

    `integer_digits` and `decimal_places` bound it; the schema's pattern says the same."""

    def __init__(
        self, *, integer_digits: int, decimal_places: int, signed: bool = False, **kwargs: Any
    ) -> None:
        pattern = decimal_pattern(integer_digits, decimal_places, signed=signed)
        self.check = Pattern(pattern, f"must be a decimal string matching {pattern}")
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Decimal:
        self.check(data)
        try:
            return Decimal(data)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise serializers.ValidationError("not a decimal") from None

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field({"type": "string", "pattern": decimal_pattern(10, 6), "example": "25.00"})
class MoneyField(DecimalStringField):
    """An amount in the order's currency: up to 10 digits and 6 decimals ("25.00", "1.250")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(integer_digits=10, decimal_places=6, **kwargs)


@extend_schema_field({"type": "string", "pattern": decimal_pattern(1, 6), "example": "0.08"})
class RateField(DecimalStringField):
    """A tax rate as a fraction ("0.08")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(integer_digits=1, decimal_places=6, **kwargs)
