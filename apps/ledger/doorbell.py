"""Coalesced doorbells: one broker message per burst of accepted events, not one per event.

Recording an event is one INSERT; ringing Celery for it used to be a second network write on
the same request, as expensive as the insert itself. Instead, the request sets a flag after its
transaction commits, and a small daemon thread in that process sends one ``ledger.drain_events``
message per window (``HUB_DOORBELL_WINDOW_MS``, default 20 ms). The drain task, in a worker,
rings every recorded event that has not been rung yet. A busy web process thus sends at most
~50 messages a second whatever its request rate, and an idle one still rings within a window.

Nothing depends on the thread for correctness: a row not rung (process killed inside the
window, broker down) has ``rung_at`` NULL and the sweeper rings it on its next pass.

The windows of all web processes are coalesced too (``ring_drain``): while a drain message waits
in the queue (a cache key lives until a drain starts), the next windows send nothing, since that
drain takes every event not rung yet. Without it, a queue slower than the request rate filled
with thousands of drains that found nothing to do (the chaos run, docs/reliability.md).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from celery import current_app
from django.conf import settings
from kombu.exceptions import OperationalError as BrokerError

from apps.core.doorbell import cache_first, cache_forget

from . import metrics

logger = logging.getLogger(__name__)

DRAIN_TASK = "ledger.drain_events"
DRAIN_KEY = "ledger:drain:rung"  # lives from a ring until a drain starts (events_drain)
DRAIN_KEY_SECONDS = 10  # a drain lost in the queue is rung again after this


def window_seconds() -> float:
    return max(0.0, float(getattr(settings, "HUB_DOORBELL_WINDOW_MS", 20)) / 1000.0)


def send_drain() -> bool:
    """One drain message now. Never raises for a broker outage (the sweeper has our back)."""
    try:
        current_app.send_task(
            DRAIN_TASK,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
        )
    except (BrokerError, OSError) as exc:
        metrics.ENQUEUE_FAILED.labels("inbound_event").inc()
        logger.warning(
            "could not ring the event drain (%s); the sweeper will re-ring the rows", exc
        )
        return False
    return True


def ring_drain() -> bool:
    """The doorbell's message, unless a drain is already waiting to start (DRAIN_KEY)."""
    if not cache_first(DRAIN_KEY, "1", timeout=DRAIN_KEY_SECONDS):
        return True
    if send_drain():
        return True
    cache_forget(DRAIN_KEY)  # nothing was queued: the next window must ring
    return False


class _Doorbell:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def ring(self) -> None:
        if window_seconds() <= 0:
            ring_drain()
            return
        self._ensure_thread()
        self._pending.set()

    def flush(self) -> None:
        """Send now if a ring is waiting (process exit)."""
        if self._pending.is_set() and self._pid == os.getpid():
            self._pending.clear()
            ring_drain()

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        thread = self._thread
        if thread is not None and self._pid == pid and thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._pid == pid and self._thread.is_alive():
                return
            # A forked child inherits the parent's objects but not its threads: start afresh.
            self._pending = threading.Event()
            self._pid = pid
            self._thread = threading.Thread(target=self._run, name="hub-doorbell", daemon=True)
            self._thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        pending = self._pending
        while True:
            pending.wait()
            time.sleep(window_seconds())
            # Clear before sending: a ring that lands after this point is covered by the next
            # message; one that landed before it is covered by this one (its row committed
            # before it rang, so the drain sees it).
            pending.clear()
            ring_drain()


_doorbell = _Doorbell()


def ring_events() -> None:
    """Called after a transaction that recorded events commits."""
    _doorbell.ring()
