from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_SKUS = 500


# A positive quantity with at most 4 decimals and 10 integer digits, as a pattern (no lookahead).
QUANTITY_PATTERN = (
    r"^(0*[1-9][0-9]{0,9}(\.[0-9]{1,4})?"
    r"|0*\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": QUANTITY_PATTERN, "example": "1"}
)
def _raw_blank(field: Any, dictionary: Any) -> Any:
    """An empty query parameter (``qty=``, ``date=``) is a value to validate, not "absent"
    (DRF reads blank HTML form fields as absent): it is refused like any malformed value."""
    if hasattr(dictionary, "getlist") and dictionary.get(field.field_name, None) == "":
        return ""
    return super(type(field), field).get_value(dictionary)


class QueryDateField(serializers.DateField):
    def get_value(self, dictionary: Any) -> Any:
        return _raw_blank(self, dictionary)


class QuantityField(serializers.DecimalField):
    """A quantity as a positive decimal string (the schema says so, so partners and fuzzers
    know that zero, a negative or a 5th decimal is refused). An empty ``qty=`` is refused too,
    not read as "absent" the way DRF reads an empty HTML form field."""

    def get_value(self, dictionary: Any) -> Any:
        return _raw_blank(self, dictionary)


@extend_schema_field(
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\u0000]+$"}
)
class SkuField(serializers.CharField):
    """A SKU: 1 to 255 characters, no NUL (which PostgreSQL cannot store)."""


class PriceQuerySerializer(serializers.Serializer[Any]):
    sku = serializers.ListField(
        child=SkuField(max_length=255, min_length=1),
        allow_empty=False,
        max_length=MAX_SKUS,
        help_text=f"The channel's SKUs, repeated (`sku=A&sku=B`), 1 to {MAX_SKUS}",
    )
    qty = QuantityField(
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        required=False,
        default=Decimal(1),
        help_text="Quantity per SKU (quantity breaks), default 1",
    )
    customer = serializers.CharField(
        max_length=255,
        required=False,
        default="",
        allow_blank=True,
        help_text="B2B channels: the customer account's id (its binding); its company's "
        "pricelist applies. Empty: the channel's pricelist",
    )
    date = QueryDateField(
        required=False,
        default=None,
        allow_null=True,
        help_text="Price on this day (rules with a date range), default now",
    )


class PriceItemSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField()
    quantity = serializers.CharField(help_text="The quantity priced, a decimal string")
    unit_price = serializers.CharField(help_text="Decimal string, to the currency's rounding")
    currency = serializers.CharField(help_text="ISO code, e.g. USD")
    rule = serializers.CharField(
        help_text='The rule that applied, e.g. "pricelist 3 item 17: '
        '10% off category All / Saleable"; "list price"'
    )
    valid_until = serializers.DateTimeField(
        allow_null=True, help_text="When a dated rule starts or ends; null: until Odoo changes"
    )


class PriceListSerializer(serializers.Serializer[Any]):
    items = PriceItemSerializer(many=True)
    not_found = serializers.ListField(
        child=serializers.CharField(), help_text="SKUs not bound on this channel"
    )
