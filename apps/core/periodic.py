"""Periodic jobs: defined in code, synced to django-celery-beat, each guarded by a lock.

Code owns the schedules, operators own the switch: the sync creates and updates the beat rows but
never touches `enabled` on a row that exists, so a pause made in the admin survives restarts and
deploys. Each run first takes the period lock in the shared cache (Redis, or the database cache
in the embedded default): a second beat, or a duplicated message, finds the period taken and
skips. A second lock stops a slow run from overlapping the next one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .context import get_correlation_id
from .metrics import PERIODIC_SKIPPED
from .taskbase import HubTask

logger = logging.getLogger(__name__)

MANAGED_MARK = "[managed by code]"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every_seconds: float | None = None
    crontab: dict[str, str] = field(default_factory=dict)
    description: str = ""
    time_limit: int = 300

    @property
    def period_seconds(self) -> float:
        return self.every_seconds if self.every_seconds else 60.0


REGISTRY: dict[str, PeriodicJob] = {}
TICK_MAX_WAIT = 300  # seconds a beat tick may wait in its queue before it expires


def periodic_job(
    *,
    name: str,
    every_seconds: float | None = None,
    crontab: dict[str, str] | None = None,
    description: str = "",
    time_limit: int = 300,
) -> Callable[[Callable[[], Any]], Any]:
    """Register `fn` as a periodic Celery task named `name`, guarded by the period lock."""
    if bool(every_seconds) == bool(crontab):
        raise ValueError("give exactly one of every_seconds or crontab")
    job = PeriodicJob(name, every_seconds, crontab or {}, description, time_limit)

    def decorate(fn: Callable[[], Any]) -> Any:
        REGISTRY[name] = job

        @shared_task(
            base=HubTask, name=name, time_limit=time_limit + 30, soft_time_limit=time_limit
        )
        def _run() -> str:
            return run_guarded(job, fn)

        _run.__doc__ = fn.__doc__
        return _run

    return decorate


def run_guarded(job: PeriodicJob, fn: Callable[[], Any]) -> str:
    """Run `fn` once per period at most, and never two at a time. Returns what happened."""
    from .models import JobRun

    token = uuid.uuid4().hex
    # The period lock expires a little before the next period starts, so a beat whose tick
    # drifts late still runs the next period, while a duplicate within this period is refused.
    period_ttl = max(1, int(job.period_seconds * 0.8))
    if not cache.add(f"periodic:period:{job.name}", token, timeout=period_ttl):
        PERIODIC_SKIPPED.labels(job.name).inc()
        logger.info("periodic %s skipped: this period already ran", job.name)
        return "skipped"
    running_key = f"periodic:running:{job.name}"
    if not cache.add(running_key, token, timeout=job.time_limit + 60):
        PERIODIC_SKIPPED.labels(job.name).inc()
        logger.info("periodic %s skipped: previous run still going", job.name)
        return "skipped"
    run = None
    try:
        # Inside the try: a database outage here must release the running lock too, or every
        # later period would be skipped as "still going" until the lock expired.
        run = JobRun.objects.create(name=job.name, correlation_id=get_correlation_id() or "")
        detail = fn()
    except Exception as exc:
        if run is not None:
            JobRun.objects.filter(pk=run.pk).update(
                status=JobRun.Status.FAILED, finished_at=timezone.now(), detail=repr(exc)[:2000]
            )
        raise
    else:
        assert run is not None
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.OK,
            finished_at=timezone.now(),
            detail="" if detail is None else str(detail)[:2000],
        )
        return "ran"
    finally:
        if cache.get(running_key) == token:
            cache.delete(running_key)


def sync_schedules() -> dict[str, int]:
    """Create or update the beat rows for every registered job; keep operators' `enabled`."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    created = updated = retired = 0
    with transaction.atomic():
        for job in REGISTRY.values():
            schedule: dict[str, Any]
            if job.every_seconds:
                interval, _ = IntervalSchedule.objects.get_or_create(
                    every=int(job.every_seconds), period=IntervalSchedule.SECONDS
                )
                schedule = {"interval": interval, "crontab": None}
            else:
                cron, _ = CrontabSchedule.objects.get_or_create(
                    minute=job.crontab.get("minute", "*"),
                    hour=job.crontab.get("hour", "*"),
                    day_of_week=job.crontab.get("day_of_week", "*"),
                    day_of_month=job.crontab.get("day_of_month", "*"),
                    month_of_year=job.crontab.get("month_of_year", "*"),
                    timezone="UTC",
                )
                schedule = {"interval": None, "crontab": cron}
            fields = {
                "task": job.name,
                "description": f"{job.description} {MANAGED_MARK}".strip(),
                # An undelivered tick is worthless once a later one has run; but in a queue
                # busier than the period every tick would expire unrun (the chaos run saw the
                # shipment poll starve behind a backlog). So a tick may wait TICK_MAX_WAIT
                # seconds; the ticks that queued up behind it find the period taken and return.
                "expire_seconds": max(1, int(job.period_seconds), TICK_MAX_WAIT),
                **schedule,
            }
            row = PeriodicTask.objects.filter(name=job.name).first()
            if row is None:
                PeriodicTask.objects.create(name=job.name, enabled=True, **fields)
                created += 1
            elif any(getattr(row, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(row, k, v)
                row.save()
                updated += 1
        stale = PeriodicTask.objects.filter(
            description__endswith=MANAGED_MARK, enabled=True
        ).exclude(name__in=list(REGISTRY))
        retired = stale.update(enabled=False)
    return {"created": created, "updated": updated, "retired": retired}


def discover_jobs() -> None:
    """Import every installed app's tasks module so that its periodic jobs register."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    for config in apps.get_app_configs():
        module = f"{config.name}.tasks"
        if config.name.startswith("apps.") and find_spec(module) is not None:
            import_module(module)
