"""Tasks that exist only for tests; real worker processes load them with --include."""

from __future__ import annotations

import logging
import time

from celery import shared_task

from apps.core.errors import PermanentError, TransientError
from apps.core.models import JobRun
from apps.core.taskbase import HubTask

logger = logging.getLogger("tests.celery_tasks")


def _attempt(key: str) -> int:
    JobRun.objects.create(name=f"attempt:{key}", status=JobRun.Status.OK)
    return JobRun.objects.filter(name=f"attempt:{key}").count()


@shared_task(base=HubTask, name="tests.echo")
def echo(key: str) -> str:
    logger.info("echo %s", key)
    _attempt(key)
    return key


@shared_task(base=HubTask, name="tests.flaky")
def flaky(key: str, fail_times: int) -> str:
    n = _attempt(key)
    if n <= fail_times:
        raise TransientError(f"flaky failure {n}", key=key)
    JobRun.objects.create(name=f"done:{key}", status=JobRun.Status.OK)
    return "ok"


@shared_task(base=HubTask, name="tests.permanent")
def permanent(key: str) -> str:
    _attempt(key)
    raise PermanentError("bad input", key=key)


@shared_task(base=HubTask, name="tests.crash_once")
def crash_once(key: str, hold_seconds: float) -> str:
    """Holds on its first attempt long enough for the test to kill the worker."""
    n = _attempt(key)
    if n == 1:
        time.sleep(hold_seconds)
    JobRun.objects.create(name=f"done:{key}", status=JobRun.Status.OK)
    return "ok"
