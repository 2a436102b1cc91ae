"""Reads of the shipment flow (always scoped to one channel when a token asks)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.sales_channels.models import Channel

from .models import Shipment, ShipmentSync


def shipments_for_order(*, order_id: int) -> QuerySet[Shipment]:
    """An order's shipments with their lines and create syncs, oldest first."""
    return (
        Shipment.objects.filter(order_id=order_id)
        .prefetch_related(
            "lines",
            Prefetch(
                "syncs",
                queryset=ShipmentSync.objects.filter(action=ShipmentSync.Action.CREATE),
                to_attr="create_syncs",
            ),
        )
        .order_by("shipped_at", "id")
    )


def shipment_get(*, channel: Channel, shipment_id: int) -> Shipment | None:
    """The channel's shipment, or None (another channel's shipment is not found either)."""
    return (
        Shipment.objects.filter(pk=shipment_id, channel=channel)
        .select_related("order", "channel")
        .first()
    )
