from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

MAX_SKUS = 500


class PriceQuerySerializer(serializers.Serializer[Any]):
    sku = serializers.ListField(
        child=serializers.CharField(max_length=255),
        allow_empty=False,
        max_length=MAX_SKUS,
        help_text=f"The channel's SKUs, repeated (`sku=A&sku=B`), 1 to {MAX_SKUS}",
    )
    qty = serializers.DecimalField(
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
    date = serializers.DateField(
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
