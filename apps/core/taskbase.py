"""HubTask: the base of every task. Retries transient errors only, with bounded countdowns."""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task
from celery.exceptions import Ignore
from django.conf import settings

from .errors import LockContention, RateLimited, TransientError
from .metrics import TASK_RETRIES
from .retry import backoff_delay

logger = logging.getLogger(__name__)


class HubTask(Task):  # type: ignore[misc,type-arg]
    """Retries `TransientError` with backoff and jitter; lets everything else fail at once.

    Countdowns never exceed settings.HUB_MAX_COUNTDOWN, which stays below the broker's visibility
    timeout: a longer countdown on Redis would be redelivered and run twice. Work that must wait
    longer stores a due time in the database and is re-rung by the sweeper.
    """

    abstract = True
    typing = True

    @property
    def hub_max_attempts(self) -> int:
        return int(getattr(self, "max_attempts", None) or settings.HUB_RETRY_MAX_ATTEMPTS)

    def _queue(self) -> str:
        info = self.request.delivery_info or {}
        return str(info.get("routing_key") or "default")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except (LockContention, RateLimited) as exc:
            if self.request.called_directly:
                raise
            # Contention, and a channel telling us to slow down, do not spend an attempt: they
            # say nothing about whether the work can succeed. Re-send with the same retry count.
            countdown = exc.retry_after or random.uniform(0.2, 2.0)
            reason = "rate_limited" if isinstance(exc, RateLimited) else "contention"
            TASK_RETRIES.labels(self.name, self._queue(), reason).inc()
            logger.info("task %s %s, re-queued in %.1fs", self.name, reason, countdown)
            self.signature_from_request(
                countdown=min(countdown, settings.HUB_MAX_COUNTDOWN),
                retries=self.request.retries,
            ).apply_async()
            raise Ignore() from exc
        except TransientError as exc:
            if self.request.called_directly or self.request.retries >= self.hub_max_attempts - 1:
                raise
            delay: float = (
                exc.retry_after
                if exc.retry_after is not None
                else backoff_delay(
                    self.request.retries,
                    base=settings.HUB_RETRY_BASE_SECONDS,
                    cap=settings.HUB_MAX_COUNTDOWN,
                )
            )
            countdown = min(delay, settings.HUB_MAX_COUNTDOWN)
            TASK_RETRIES.labels(self.name, self._queue(), "transient").inc()
            logger.warning(
                "task %s transient failure (attempt %d): %s; retry in %.1fs",
                self.name,
                self.request.retries + 1,
                exc,
                countdown,
            )
            raise self.retry(exc=exc, countdown=countdown, max_retries=None) from exc
