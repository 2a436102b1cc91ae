"""Thin tasks: primitive arguments, one service each. Names are stable (beat rows, replays)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from apps.core.errors import LockContention, PermanentError
from apps.core.periodic import periodic_job
from apps.core.taskbase import HubTask
from apps.inbox.services import issue_report
from apps.sales_channels.models import Channel

from . import detection

logger = logging.getLogger(__name__)

PUBLISH_TASK = "catalog.publish"


def _lock_key(channel_id: int) -> str:
    return f"catalog:publish:lock:{channel_id}"


def publish_channel_run(
    *, channel_id: int, prices: bool = True, products: bool = True
) -> dict[str, Any]:
    """One catalog publication of the channel at a time: missing products created (when the
    channel says so), products, prices, B2B price lists."""
    from .b2b import publish_b2b
    from .creation import create_missing
    from .services import publish_prices, publish_products

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or channel.state == Channel.State.PAUSED:
        return {}
    token = uuid.uuid4().hex
    lease = int(getattr(settings, "HUB_CATALOG_PUBLISH_LEASE_SECONDS", 1800))
    if not cache.add(_lock_key(channel_id), token, timeout=lease):
        raise LockContention(f"catalog publish of channel {channel.code} running", retry_after=5)
    out: dict[str, Any] = {}
    try:
        if products and channel.products_enabled and channel.products_create_missing:
            out["create"] = create_missing(channel).as_dict()
        if products and channel.products_enabled:
            out["products"] = publish_products(channel).as_dict()
        if prices and channel.prices_enabled:
            out["prices"] = publish_prices(channel).as_dict()
            out["b2b"] = publish_b2b(channel).as_dict()
    except PermanentError as exc:
        # The whole channel refused (credentials, configuration, no engine): a person acts;
        # the rows stay as they were, so the next run after the fix sends what is due.
        issue_report(
            error=exc, key=f"catalog:publish:{channel.code}", row=channel, channel_code=channel.code
        )
        logger.warning("catalog publish of %s refused: %s", channel.code, exc)
    finally:
        if cache.get(_lock_key(channel_id)) == token:
            cache.delete(_lock_key(channel_id))
    return out


@shared_task(base=HubTask, name=PUBLISH_TASK)
def publish(channel_id: int, prices: bool = True, products: bool = True) -> dict[str, Any]:
    """Publish the channel's catalog and prices. Odoo or the channel down: TransientError ->
    retried with backoff by HubTask; nothing is recorded as published until accepted."""
    return publish_channel_run(channel_id=channel_id, prices=prices, products=products)


def due_channels(now: dt.datetime | None = None) -> list[int]:
    """Active channels whose catalog or prices are due by their cadence
    (``prices_interval_seconds``)."""
    from .models import ChannelCatalogRun

    now = now or timezone.now()
    runs = {r.channel_id: r for r in ChannelCatalogRun.objects.all()}
    due = []
    for ch in Channel.objects.filter(Q(prices_enabled=True) | Q(products_enabled=True)).exclude(
        state=Channel.State.PAUSED
    ):
        run = runs.get(ch.pk)
        last = None
        if run is not None:
            stamps = [s for s in (run.prices_run_at, run.products_run_at) if s]
            last = min(stamps) if stamps else None
        if last is None or (now - last).total_seconds() >= ch.prices_interval_seconds:
            due.append(ch.pk)
    return due


@periodic_job(
    name="catalog.publish_due",
    every_seconds=60,
    description="Queue the catalog and price publication of every channel due by its cadence",
)
def publish_due() -> int:
    from celery import current_app

    ids = due_channels()
    for cid in ids:
        current_app.send_task(PUBLISH_TASK, kwargs={"channel_id": cid})
    return len(ids)


@periodic_job(
    name="catalog.poll_odoo",
    every_seconds=float(getattr(settings, "HUB_CATALOG_POLL_SECONDS", 60)),
    description="Read Odoo product, template and attribute-value changes; mark bound variants",
    time_limit=300,
)
def poll_odoo() -> int:
    return detection.catalog_poll()
