"""Kernel periodic jobs."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .context import get_correlation_id
from .periodic import periodic_job
from .taskbase import HubTask

logger = logging.getLogger(__name__)


@periodic_job(
    name="core.heartbeat",
    every_seconds=30,
    description="Proves beat and a maintenance worker are alive (readiness reads it).",
)
def heartbeat() -> str:
    return "alive"


@periodic_job(
    name="core.prune_job_runs",
    crontab={"minute": "17", "hour": "3"},
    description="Deletes periodic-job audit rows older than the retention period.",
)
def prune_job_runs() -> str:
    from django.conf import settings

    from .models import JobRun

    cutoff = timezone.now() - timedelta(days=settings.HUB_RETENTION_DAYS)
    deleted, _ = JobRun.objects.filter(started_at__lt=cutoff).delete()
    return f"deleted {deleted}"


@shared_task(base=HubTask, name="core.ping")
def ping() -> str:
    """End-to-end pipeline check: proves web → broker → worker → database for one request."""
    from .models import JobRun

    logger.info("pong")
    JobRun.objects.create(
        name="core.ping",
        status=JobRun.Status.OK,
        finished_at=timezone.now(),
        correlation_id=get_correlation_id() or "",
    )
    return "pong"
