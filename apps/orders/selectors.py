"""Reads of the order flow."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet, Sum

from apps.sales_channels.models import Channel

from .models import ChannelOrder, OrderLine, OrderState, OrderTransition

# Accepted by the hub but not yet created (so not yet reserved) in Odoo.
PENDING_STATES = (OrderState.RECEIVED, OrderState.HELD, OrderState.READY, OrderState.PUSHING)


def order_list(
    *,
    channel: Channel,
    state: str | None = None,
    updated_since: dt.datetime | None = None,
) -> QuerySet[ChannelOrder]:
    """The channel's orders (never another channel's), newest first."""
    qs = ChannelOrder.objects.filter(channel=channel)
    if state:
        qs = qs.filter(state=state)
    if updated_since is not None:
        qs = qs.filter(updated_at__gte=updated_since)
    return qs.prefetch_related(
        "lines", Prefetch("transitions", queryset=OrderTransition.objects.order_by("id"))
    ).order_by("-updated_at", "-id")


def order_get(*, channel: Channel, order_id: int) -> ChannelOrder | None:
    return order_list(channel=channel).filter(pk=order_id).first()


def order_get_by_external_id(*, channel: Channel, external_id: str) -> ChannelOrder | None:
    return order_list(channel=channel).filter(external_id=external_id).first()


def pending_quantities_by_sku(*, channel: Channel, skus: list[str] | None = None) -> dict[str, int]:
    """SKU -> units on the channel's orders that the hub accepted but Odoo has not reserved yet.

    Inventory subtracts these from ATP: between acceptance and the push, Odoo's free_qty does
    not know about them.
    """
    qs = OrderLine.objects.filter(order__channel=channel, order__state__in=PENDING_STATES)
    if skus is not None:
        qs = qs.filter(sku__in=skus)
    rows = qs.values("sku").annotate(qty=Sum("quantity")).values_list("sku", "qty")
    return {sku: int(qty or 0) for sku, qty in rows}
