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


def cache_first(key: str, value: Any, timeout: int) -> bool:
    """``cache.add`` of a coalesced doorbell's key: True means this caller rings. With the
    shared cache down (Redis stopped) it rings anyway: the doorbell runs after a commit and must
    not fail its caller (ring_task then logs a broker that went down with it)."""
    from django.core.cache import cache

    try:
        return bool(cache.add(key, value, timeout=timeout))
    except Exception as exc:  # the backend's own errors (redis, database), whatever they are
        logger.warning("doorbell key %s: cache unavailable (%s); ringing anyway", key, exc)
        return True


def cache_forget(key: str) -> None:
    """``cache.delete`` of a doorbell's key; a cache outage only means the key expires alone."""
    from django.core.cache import cache

    try:
        cache.delete(key)
    except Exception as exc:  # the backend's own errors, as above
        logger.warning("doorbell key %s: cache unavailable (%s)", key, exc)
