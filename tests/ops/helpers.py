"""Seeding orders and rollups for the operations tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.orders.models import ChannelOrder, OrderLine, OrderTransition
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create


def channel(code: str = "shop", kind: str = "shopify") -> Channel:
    found = Channel.objects.filter(code=code).first()
    return found or channel_create(code=code, kind=kind)[0]


def order(
    ch: Channel,
    n: int,
    *,
    received: dt.datetime,
    pushed_after: float | None = None,
    state: str = "in_odoo",
    total: str = "100.00",
    customer: str = "",
    lines: list[tuple[str, int]] | None = None,
    **fields: Any,
) -> ChannelOrder:
    row = ChannelOrder.objects.create(
        channel=ch,
        external_id=str(n),
        number=f"#{n}",
        state=state,
        currency="EUR",
        total=Decimal(total),
        customer_email=customer,
        source_version=received,
        channel_created_at=received,
        odoo_ref=f"{ch.code}:{n}",
        **fields,
    )
    pushed = received + dt.timedelta(seconds=pushed_after) if pushed_after is not None else None
    ChannelOrder.objects.filter(pk=row.pk).update(received_at=received, pushed_at=pushed)
    for i, (sku, qty) in enumerate(lines or []):
        OrderLine.objects.create(
            order=row, position=i, sku=sku, name=sku, quantity=qty, unit_price=Decimal("10")
        )
    row.refresh_from_db()
    return row


def transition(row: ChannelOrder, to: str, at: dt.datetime, frm: str = "received") -> None:
    t = OrderTransition.objects.create(order=row, from_state=frm, to_state=to, actor="test")
    OrderTransition.objects.filter(pk=t.pk).update(at=at)


def top_of_hour(hours_ago: int = 0) -> dt.datetime:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    return now - dt.timedelta(hours=hours_ago)
