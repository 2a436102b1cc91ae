"""Task metrics from Celery signals: count, latency and outcome by task and queue.

Retries are counted where they are decided, in HubTask, with their reason.
"""

from __future__ import annotations

import time
from typing import Any

from celery import signals

from apps.core.metrics import TASK_LATENCY, TASKS

_started: dict[str, tuple[float, str]] = {}


def _queue_of(task: Any) -> str:
    info = getattr(getattr(task, "request", None), "delivery_info", None) or {}
    return str(info.get("routing_key") or "default")


@signals.task_prerun.connect
def _task_started(task_id: str = "", task: Any = None, **_: Any) -> None:
    _started[task_id] = (time.perf_counter(), _queue_of(task))


@signals.task_postrun.connect
def _task_finished(task_id: str = "", task: Any = None, state: str | None = None, **_: Any) -> None:
    started, queue = _started.pop(task_id, (time.perf_counter(), _queue_of(task)))
    name = getattr(task, "name", "unknown")
    TASK_LATENCY.labels(name, queue).observe(time.perf_counter() - started)
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(
        state or "", (state or "unknown").lower()
    )
    TASKS.labels(name, queue, outcome).inc()
