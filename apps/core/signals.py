"""Carry the correlation id from the code that enqueues a task into the worker that runs it."""

from __future__ import annotations

from typing import Any

from celery import signals

from .context import (
    _correlation_id,
    _log_context,
    get_correlation_id,
    get_log_context,
    new_correlation_id,
)

_tokens: dict[str, Any] = {}


@signals.before_task_publish.connect
def _add_correlation_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is None:
        return
    # Not "correlation_id": Celery already uses that message property for the task id.
    if not headers.get("hub_correlation_id"):
        headers["hub_correlation_id"] = get_correlation_id() or new_correlation_id()
    ctx = {k: v for k, v in get_log_context().items() if isinstance(v, (str, int))}
    if ctx and "hub_log_context" not in headers:
        headers["hub_log_context"] = ctx


@signals.task_prerun.connect
def _enter_task_context(task_id: str = "", task: Any = None, **_: Any) -> None:
    request = getattr(task, "request", None)
    cid = getattr(request, "hub_correlation_id", None) or new_correlation_id()
    ctx = dict(getattr(request, "hub_log_context", None) or {})
    ctx.update({"task_id": task_id, "task_name": getattr(task, "name", "")})
    _tokens[task_id] = (_correlation_id.set(cid), _log_context.set(ctx))


@signals.task_postrun.connect
def _leave_task_context(task_id: str = "", **_: Any) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens:
        _correlation_id.reset(tokens[0])
        _log_context.reset(tokens[1])


@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_db_connections(**_: Any) -> None:
    """Workers keep their database connections across tasks (CELERY_DB_REUSE_MAX): a new
    PostgreSQL session per task cost more than many tasks themselves. Django's own rules still
    apply between tasks, as between requests: a connection past CONN_MAX_AGE or broken by an
    error is closed here, and CONN_HEALTH_CHECKS checks the next one before it is used."""
    from django.db import close_old_connections

    close_old_connections()


@signals.beat_init.connect
def _sync_schedules_on_beat_start(**_: Any) -> None:
    import logging

    from .periodic import discover_jobs, sync_schedules

    discover_jobs()
    logging.getLogger(__name__).info("periodic schedules synced: %s", sync_schedules())
