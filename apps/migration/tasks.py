"""Tasks. `migration.cutover` is how `manage.py channel cutover` (in apps.sales_channels, a layer
below) reaches the cutover: by the task's stable name, run in the command's own process.
`migration.diff` runs a dual-run diff on a worker (queue `batch`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task
from django.utils.dateparse import parse_datetime

from apps.core.taskbase import HubTask
from apps.sales_channels.models import Channel

from .cutover import DEFAULT_WINDOW, channel_cutover, channel_rollback
from .diff import diff_run


def _when(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a date and time: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


@shared_task(base=HubTask, name="migration.cutover")
def cutover(
    channel_code: str,
    at: str | None = None,
    rollback: bool = False,
    dry_run: bool = False,
    window_hours: float | None = None,
    actor: str = "channel cutover",
    reason: str = "",
) -> dict[str, Any]:
    channel = Channel.objects.get(code=channel_code)
    window = dt.timedelta(hours=window_hours) if window_hours else DEFAULT_WINDOW
    if rollback:
        return channel_rollback(
            channel=channel, dry_run=dry_run, window=window, actor=actor, reason=reason
        )
    when = _when(at)
    if when is None:
        raise ValueError("a cutover needs --at")
    return channel_cutover(
        channel=channel, at=when, dry_run=dry_run, window=window, actor=actor, reason=reason
    )


@shared_task(base=HubTask, name="migration.diff")
def diff(channel_code: str, since: str | None = None, until: str | None = None) -> dict[str, Any]:
    run = diff_run(
        channel=Channel.objects.get(code=channel_code), since=_when(since), until=_when(until)
    )
    return {"run": run.pk, "clean": run.is_clean, "rpcs": run.rpcs}
