from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.sales_channels.api.fields import StrictCharField, StrictIntegerField

from ..models import ChannelReturn


class ReturnLineInSerializer(serializers.Serializer[Any]):
    sku = StrictCharField(max_length=255, help_text="A SKU of the order's shipped lines")
    quantity = StrictIntegerField(min_value=1, max_value=100000)
    reason = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


class ReturnRequestSerializer(serializers.Serializer[Any]):
    order_id = StrictIntegerField(min_value=1, max_value=2**63 - 1, help_text="The hub's order id")
    lines = serializers.ListField(child=ReturnLineInSerializer(), min_length=1, max_length=1000)


class ReturnLineOutSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    quantity_received = serializers.IntegerField()
    reason = serializers.CharField()


class CreditNoteSerializer(serializers.Serializer[Any]):
    odoo_name = serializers.CharField()
    posted = serializers.BooleanField()


class ReturnSerializer(serializers.ModelSerializer[ChannelReturn]):
    order_id = serializers.IntegerField()
    lines = ReturnLineOutSerializer(many=True, read_only=True)
    odoo_return_picking = serializers.SerializerMethodField()
    credit_note = serializers.SerializerMethodField()

    class Meta:
        model = ChannelReturn
        fields = [
            "id",
            "order_id",
            "state",
            "source",
            "reason",
            "lines",
            "odoo_return_picking",
            "credit_note",
            "received_at",
            "created_at",
        ]

    def get_odoo_return_picking(self, obj: ChannelReturn) -> str | None:
        return obj.odoo_return_picking_name or None

    def get_credit_note(self, obj: ChannelReturn) -> dict[str, Any] | None:
        if not obj.odoo_credit_note_id:
            return None
        return {
            "odoo_name": obj.odoo_credit_note_name,
            "posted": obj.state == ChannelReturn.State.CREDITED,
        }
