"""Thin tasks: B2B account publication (per channel, and the hourly run over every channel
that has accounts). Unrouted in HUB_TASK_ROUTES, so they run on the ``default`` queue."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask
from apps.sales_channels.models import Channel

from .b2b import accounts_publish
from .models import B2BAccount


@shared_task(base=HubTask, name="customers.b2b_publish")
def b2b_publish(channel_code: str, force: bool = False) -> str:
    channel = Channel.objects.get(code=channel_code)
    report = accounts_publish(channel, force=force)
    return (
        f"{channel_code}: {report.published} published, {report.unchanged} unchanged, "
        f"{report.failed} failed, {report.calls} calls"
    )


@periodic_job(
    name="customers.b2b_publish_all",
    every_seconds=float(getattr(settings, "HUB_B2B_PUBLISH_SECONDS", 3600)),
    description="Publish the B2B accounts whose Odoo company changed, on every channel",
    time_limit=600,
)
def b2b_publish_all() -> str:
    codes = sorted(
        set(
            B2BAccount.objects.exclude(channel__state=Channel.State.PAUSED).values_list(
                "channel__code", flat=True
            )
        )
    )
    return "; ".join(b2b_publish(code) for code in codes) or "no B2B accounts"
