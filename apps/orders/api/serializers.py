"""Input and output shapes of the order API (they are also its OpenAPI schema).

The input is the B2B order JSON that translators/b2b.py reads; its serializer says exactly what
the hub accepts, so a request that matches the document is never a 400.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.canonical import FinancialStatus
from apps.sales_channels.api.fields import (
    NON_BLANK,
    AwareDateTimeField,
    MoneyField,
    Pattern,
    QueryChoiceField,
    QueryDateTimeField,
    QueryIntegerField,
    RateField,
    StrictCharField,
    StrictIntegerField,
)

from ..models import ChannelOrder, OrderLine, OrderState, OrderTransition
from ..validation import ISO_4217

MAX_LIMIT = 500
MAX_LINES = 1000
MAX_QUANTITY = 2_147_483_647  # what the line's column holds


class OrderLineSerializer(serializers.ModelSerializer[OrderLine]):
    class Meta:
        model = OrderLine
        fields = ["external_line_id", "sku", "name", "quantity", "unit_price", "discount", "tax"]


class TransitionSerializer(serializers.ModelSerializer[OrderTransition]):
    from_state = serializers.CharField()
    to_state = serializers.CharField()

    class Meta:
        model = OrderTransition
        fields = ["from_state", "to_state", "at", "actor", "reason"]


class ChannelOrderSerializer(serializers.ModelSerializer[ChannelOrder]):
    channel = serializers.CharField(source="channel.code")
    hold = serializers.SerializerMethodField()
    odoo = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True)
    history = TransitionSerializer(many=True, source="transitions")

    class Meta:
        model = ChannelOrder
        fields = [
            "id",
            "channel",
            "external_id",
            "number",
            "po_number",
            "state",
            "hold",
            "odoo",
            "financial_status",
            "currency",
            "total",
            "lines",
            "history",
            "last_error",
            "received_at",
            "updated_at",
        ]

    def get_hold(self, obj: ChannelOrder) -> dict[str, str] | None:
        if obj.state != "held":
            return None
        return {"reason": obj.hold_reason, "detail": obj.hold_detail}

    def get_odoo(self, obj: ChannelOrder) -> dict[str, Any]:
        return {"reference": obj.odoo_ref, "id": obj.odoo_id, "name": obj.odoo_name or None}


# --- input: the B2B order (translators/b2b.py reads it; this says what it may be) -------------


def _text(max_length: int, **kwargs: Any) -> StrictCharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    return StrictCharField(max_length=max_length, **kwargs)


def _non_blank(max_length: int, **kwargs: Any) -> StrictCharField:
    return StrictCharField(
        max_length=max_length, validators=[Pattern(NON_BLANK, "must not be blank")], **kwargs
    )


@extend_schema_field(
    {
        "type": "object",
        "propertyNames": {"maxLength": 255, "pattern": "^[^\\u0000]*$"},
        "additionalProperties": {"type": "string", "maxLength": 1000},
    }
)
class AttributesField(serializers.DictField):
    """Free key/value strings; the keys are stored too, so they are checked like values."""

    def to_internal_value(self, data: Any) -> dict[str, str]:
        value = super().to_internal_value(data)
        for key in value:
            if len(key) > 255 or "\x00" in key:
                raise serializers.ValidationError(
                    f"key {key[:40]!r}: at most 255 characters, no NUL"
                )
        return dict(value)


class CustomerInSerializer(serializers.Serializer[Any]):
    external_id = _text(255, help_text="The customer's account id on the portal")
    email = _text(254)
    first_name = _text(255)
    last_name = _text(255)
    phone = _text(255)
    company = _text(255)
    vat = _text(255)


class AddressInSerializer(serializers.Serializer[Any]):
    first_name = _text(255)
    last_name = _text(255)
    company = _text(255)
    line1 = _text(255)
    line2 = _text(255)
    city = _text(255)
    region = _text(255)
    region_code = _text(255)
    postal_code = _text(255)
    country_code = _text(2, help_text="ISO 3166-1 alpha-2, e.g. US")
    phone = _text(255)
    email = _text(254)


class OrderLineInSerializer(serializers.Serializer[Any]):
    line_id = _text(255, help_text="The line's id on the portal (default: its position)")
    sku = _non_blank(255, help_text="The portal's SKU (a product binding maps it to Odoo)")
    name = _text(500)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = MoneyField(help_text="Price of one unit before discounts, a decimal string")
    discount = MoneyField(required=False, help_text="Discount on the whole line")
    tax = MoneyField(required=False, help_text="Tax charged on the line after discounts")
    tax_rate = RateField(required=False, help_text="The tax rate as a fraction, e.g. 0.08")


class ShippingInSerializer(serializers.Serializer[Any]):
    title = _text(255, help_text='Default "Shipping"')
    price = MoneyField(required=False)
    tax = MoneyField(required=False)
    tax_rate = RateField(required=False)


class TotalsInSerializer(serializers.Serializer[Any]):
    total = MoneyField(
        help_text="Must equal lines - discounts + shipping + taxes, to the cent (else 422)"
    )


class OrderCreateSerializer(serializers.Serializer[Any]):
    """A B2B order. Sent again with the same `external_id`, it updates the order (200)."""

    external_id = _non_blank(255, help_text="The order's id on the portal; unique per channel")
    number = _text(255, help_text="The order number people see (default: external_id)")
    po_number = _text(255, help_text="The customer's purchase order number")
    created_at = AwareDateTimeField(help_text="RFC 3339 with an offset, e.g. 2026-01-14T15:04:05Z")
    currency = serializers.ChoiceField(choices=sorted(ISO_4217), help_text="ISO 4217")
    financial_status = serializers.ChoiceField(
        choices=list(FinancialStatus.ALL), required=False, help_text="Default authorized"
    )
    customer = CustomerInSerializer(required=False)
    billing_address = AddressInSerializer(required=False)
    shipping_address = AddressInSerializer(required=False)
    lines = serializers.ListField(child=OrderLineInSerializer(), min_length=1, max_length=MAX_LINES)
    shipping = ShippingInSerializer(required=False)
    totals = TotalsInSerializer()
    note = _text(10_000)
    attributes = AttributesField(
        child=StrictCharField(max_length=1000, allow_blank=True),
        required=False,
        help_text="Free key/value pairs, e.g. a cost center (keys up to 255 characters)",
    )


class OrderListQuerySerializer(serializers.Serializer[Any]):
    status = QueryChoiceField(
        choices=OrderState.choices, required=False, help_text="Only orders in this state"
    )
    state = QueryChoiceField(
        choices=OrderState.choices, required=False, help_text="Deprecated: the same as status"
    )
    updated_since = QueryDateTimeField(
        required=False, help_text="Only orders changed since then (RFC 3339 with an offset)"
    )
    limit = QueryIntegerField(
        min_value=1, max_value=MAX_LIMIT, default=100, help_text="Newest first, at most this many"
    )


class OrderPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField(help_text="How many orders this page holds")
    results = ChannelOrderSerializer(many=True)
