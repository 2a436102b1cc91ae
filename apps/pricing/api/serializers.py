from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.sales_channels.api.fields import BlankIsAValue, Pattern

MAX_SKUS = 500


# A positive quantity with at most 4 decimals and 10 integer digits, as a pattern (no lookahead).
QUANTITY_PATTERN = (
    r"^(0*[1-9][0-9]{0,9}(\.[0-9]{1,4})?"
    r"|0*\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)


class QueryDateField(BlankIsAValue, serializers.DateField):
    """An empty ``date=`` is refused, not read as absent."""


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": QUANTITY_PATTERN, "example": "1"}
)
class QuantityField(BlankIsAValue, serializers.DecimalField):
    """A quantity as a positive decimal string (the schema says so, so partners and fuzzers
    know that zero, a negative or a 5th decimal is refused). An empty ``qty=`` is refused too,
    not read as "absent" the way DRF reads an empty HTML form field."""

    def to_internal_value(self, data: Any) -> Decimal:
        # DRF would also take " 1" and "1E2"; the pattern is the contract.
        Pattern(QUANTITY_PATTERN, "must be a positive decimal of at most 4 places")(data)
        return super().to_internal_value(data)  # type: ignore[no-any-return]


@extend_schema_field(
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\u0000]+$"}
)
class SkuField(serializers.CharField):
    """A SKU: 1 to 255 characters, no NUL (which PostgreSQL cannot store), kept as sent."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=False, **kwargs)


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
