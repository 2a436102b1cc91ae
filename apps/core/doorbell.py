"""Ringing a task: one broker message, fail-fast, never raising for a broker outage.

A doorbell only says "look at the database": the work is a row, and the sweeper rings again
what a lost message left. So the caller (often a request about to answer 2xx, or a worker
finishing a row) must not fail or hang on a dead broker: one quick retry, then a warning.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}


def ring_task(name: str, kwargs: dict[str, Any], *, countdown: float | None = None) -> bool:
    """Send task ``name``; False (logged) when the broker refused, True otherwise."""
    from celery import current_app
    from kombu.exceptions import OperationalError

    try:
        current_app.send_task(
            name, kwargs=kwargs, countdown=countdown, retry=True, retry_policy=RETRY_POLICY
        )
    except (OperationalError, OSError) as exc:
        logger.warning("could not enqueue %s %s (%s); the sweeper re-rings it", name, kwargs, exc)
        return False
    return True
