"""Input and output shapes of the shipments API (they are also its OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.sales_channels.api.fields import AwareDateTimeField, StrictCharField, unprocessable

from ..models import Shipment, ShipmentLine, ShipmentReport

# How far in the future a report may say it happened (clocks differ; a day off is a mistake).
FUTURE_SLACK = dt.timedelta(hours=1)


class ShipmentLineSerializer(serializers.ModelSerializer[ShipmentLine]):
    sku = serializers.CharField(
        help_text="The channel's SKU (Odoo's code for a product added in Odoo)"
    )
    external_line_id = serializers.CharField(
        help_text="The order line's id on the channel, if known"
    )

    class Meta:
        model = ShipmentLine
        fields = ["sku", "quantity", "external_line_id"]


class ShipmentSerializer(serializers.ModelSerializer[Shipment]):
    odoo_picking = serializers.CharField(
        source="odoo_picking_name", help_text="The Odoo delivery, e.g. WH/OUT/00023"
    )
    carrier = serializers.CharField(
        help_text="The carrier as the channel names it ('' if unmapped)"
    )
    odoo_carrier = serializers.CharField(help_text="The carrier as Odoo names it")
    tracking_numbers = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(
        choices=["dispatched", *ShipmentReport.Status.values],
        help_text="dispatched until a carrier reports; then the latest report's status",
    )
    backorder = serializers.SerializerMethodField(
        help_text="A later part of the order (an Odoo backorder)"
    )
    channel_sync = serializers.SerializerMethodField(
        help_text="Telling the channel: pending, running, done, failed, ignored; null when the "
        "channel is not told (partners read this API and the shipment.dispatched event)"
    )
    lines = ShipmentLineSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "odoo_picking",
            "status",
            "carrier",
            "odoo_carrier",
            "tracking_numbers",
            "tracking_url",
            "shipped_at",
            "delivered_at",
            "dropship",
            "backorder",
            "channel_sync",
            "lines",
        ]

    def get_backorder(self, obj: Shipment) -> bool:
        return obj.backorder_of is not None

    @extend_schema_field({"type": ["string", "null"]})
    def get_channel_sync(self, obj: Shipment) -> str | None:
        rows = getattr(obj, "create_syncs", None)
        if rows is None:
            rows = list(obj.syncs.filter(action="create"))
        if rows:
            return str(rows[0].state)
        # The sync row was purged after the retention period; the shipment remembers.
        return "done" if obj.channel_synced_at else None


class OrderShipmentsSerializer(serializers.Serializer[Any]):
    order = serializers.IntegerField(help_text="The hub's order id")
    number = serializers.CharField()
    state = serializers.CharField(help_text="The order's state: in_odoo, partially_shipped, ...")
    shipments = ShipmentSerializer(many=True)


class ShipmentEventSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=ShipmentReport.Status.values)
    happened_at = AwareDateTimeField(
        help_text="When the carrier saw it: RFC 3339 with an offset (e.g. 2026-12-05T10:00:00Z); "
        "more than an hour in the future is a 422"
    )
    message = StrictCharField(max_length=500, required=False, default="", allow_blank=True)
    location = StrictCharField(max_length=200, required=False, default="", allow_blank=True)

    def validate_happened_at(self, value: dt.datetime) -> dt.datetime:
        if value > timezone.now() + FUTURE_SLACK:
            raise unprocessable("is in the future")
        return value


class ShipmentReportSerializer(serializers.ModelSerializer[ShipmentReport]):
    recorded_at = serializers.DateTimeField(source="created_at")
    shipment_status = serializers.CharField(source="shipment.status")
    delivered_at = serializers.DateTimeField(source="shipment.delivered_at", allow_null=True)

    class Meta:
        model = ShipmentReport
        fields = [
            "id",
            "shipment",
            "status",
            "happened_at",
            "message",
            "location",
            "recorded_at",
            "shipment_status",
            "delivered_at",
        ]
