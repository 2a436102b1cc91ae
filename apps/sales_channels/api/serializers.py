from __future__ import annotations

from rest_framework import serializers

from ..models import Channel


class ChannelSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """What a channel may see about itself: no credentials, no secrets."""

    warehouses = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = (
            "code",
            "name",
            "kind",
            "state",
            "orders_enabled",
            "inventory_enabled",
            "fulfillment_enabled",
            "prices_enabled",
            "warehouses",
        )

    def get_warehouses(self, obj: Channel) -> list[int]:
        return [w.odoo_warehouse_id for w in obj.warehouses.all()]
