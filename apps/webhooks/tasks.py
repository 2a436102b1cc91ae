"""Thin tasks for the webhook backstop. Names are stable (beat rows, inbox replays); the
`channels.` prefix routes them to the channel_io queue (they call channel APIs)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask
from apps.sales_channels.polling import channels_due_for_poll

from . import backstop


@shared_task(base=HubTask, name="channels.orders_poll")
def orders_poll(channel_code: str) -> str:
    return backstop.channel_orders_poll(channel_code=channel_code).summary()


@shared_task(base=HubTask, name=backstop.WEBHOOKS_CHECK_TASK)
def webhooks_check(channel_code: str, repair: bool = False) -> dict[str, Any]:
    return backstop.channel_webhooks_check(channel_code=channel_code, repair=repair).as_dict()


@periodic_job(
    name="channels.orders_poll_fanout",
    every_seconds=60,
    description="Ring the order poll of every channel whose poll interval has passed",
)
def orders_poll_fanout() -> int:
    # One fan-out for every channel (each has its own interval): per-channel cadence is not a
    # beat row per channel. A channel polled late by a tick is polled on the next one.
    due = channels_due_for_poll()
    for code in due:
        orders_poll.delay(code)
    return len(due)


@periodic_job(
    name="channels.webhooks_check_all",
    every_seconds=3600,
    description="Check every channel's webhook subscriptions; repair them if allowed",
)
def webhooks_check_all() -> int:
    codes = backstop.channels_with_webhooks()
    for code in codes:
        webhooks_check.delay(code, repair=bool(settings.HUB_WEBHOOKS_AUTO_REPAIR))
    return len(codes)
