"""Reads of the order flow."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from apps.sales_channels.models import Channel

from .models import ChannelOrder, OrderTransition


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
