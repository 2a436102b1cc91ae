"""What the migration commands share: parsing dates and finding the channel."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime

from apps.sales_channels.models import Channel


def when(value: str | None, flag: str) -> dt.datetime | None:
    """ISO date or date-time; naive values are UTC."""
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{flag}: not a date or date-time: {value!r}")
        parsed = dt.datetime.combine(day, dt.time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def channel_of(code: str) -> Channel:
    channel = Channel.objects.filter(code=code).first()
    if channel is None:
        raise CommandError(f"no channel {code!r}")
    return channel
