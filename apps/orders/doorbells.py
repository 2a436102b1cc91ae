"""Ringing the order tasks: Celery is only the doorbell, the rows are the truth.

A broker outage never fails the caller: the periodic sweep (orders.push_sweep) rings again.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from apps.core.doorbell import cache_first, cache_forget

logger = logging.getLogger(__name__)


PUSH_TASK = "orders.push_due"
ENQUEUE_KEY = "orders:push_due:rung"
EDIT_TASK = "orders.push_edit"


def ring_task(task_name: str, countdown: float | None = None, **kwargs: Any) -> None:
    """Ring a task. A broker outage only delays the work: the rows are the truth and
    orders.push_sweep rings again, so the caller (an API request, a webhook) must not fail."""
    from celery import current_app
    from kombu.exceptions import OperationalError as BrokerError

    try:
        current_app.send_task(task_name, kwargs=kwargs, countdown=countdown)
    except BrokerError as exc:
        cache_forget(ENQUEUE_KEY)
        logger.warning("could not enqueue %s (%s); the sweep will ring it", task_name, exc)


def push_due_ring(*, countdown: float | None = None) -> None:
    """Enqueue `orders.push_due` after the current transaction commits.

    Coalesced: while a ring is pending (the key lives until a push_due starts), more ready
    orders add nothing; the push that starts claims them all. An idle hub therefore pushes a
    single order at once, and a busy one forms batches by itself.
    """

    def ring() -> None:
        if countdown is None and not cache_first(ENQUEUE_KEY, "1", timeout=10):
            return
        ring_task(PUSH_TASK, countdown=countdown)

    transaction.on_commit(ring)
