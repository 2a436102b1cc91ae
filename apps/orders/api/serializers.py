"""Output shapes of the order API (input is the B2B canonical JSON, see translators/b2b.py)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ..models import ChannelOrder, OrderLine, OrderTransition


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
