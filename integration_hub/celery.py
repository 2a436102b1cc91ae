"""The Celery app. Configuration lives in settings (CELERY_* keys); routing in HUB_TASK_ROUTES."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")

app = Celery("integration_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> Any:
    """Route a task by name through the single table in settings.HUB_TASK_ROUTES."""
    from apps.core.queues import queue_for

    return {"queue": queue_for(name)}


@app.on_after_configure.connect
def _configure_queues(sender: Celery, **_: Any) -> None:
    from django.conf import settings

    sender.conf.task_queues = [Queue(q, routing_key=q) for q in settings.HUB_QUEUES]
    sender.conf.task_routes = (route_task,)


app.autodiscover_tasks()
