"""Which queue a task goes to, how many messages wait in it, and the sweepers' brake.

A sweeper rings again the rows whose message may have been lost. While the row's queue holds a
backlog, that message is most likely still waiting in it, and ringing again only piles up
duplicates that every worker must read, a retry storm that keeps the backlog growing. The chaos
run (docs/reliability.md) met one at 10,000 orders: 18,000 duplicate `ledger.process_event`
and 30,000 `orders.acknowledge` messages behind a backlog. So a sweeper rings only while the
queue is shorter than `HUB_SWEEP_MAX_QUEUE` messages (default 500); the rows it leaves are
rung by a later sweep once the queue has drained.
"""

from __future__ import annotations

import fnmatch
import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

# Redis keeps a queue's prioritised messages under these suffixes (kombu's separator).
_PRIORITY_KEYS = ("", *(f"\x06\x16{p}" for p in range(1, 10)))


def queue_for(task_name: str) -> str:
    """The queue `task_name` is routed to (settings.HUB_TASK_ROUTES, first match)."""
    for pattern, queue in settings.HUB_TASK_ROUTES.items():
        if fnmatch.fnmatchcase(task_name, pattern):
            return queue
    return "default"


def queue_depths(queues: tuple[str, ...] | list[str]) -> dict[str, int]:
    """Messages waiting per queue, read from the broker itself (not counting those a worker
    has reserved)."""
    url: str = settings.CELERY_BROKER_URL
    depths = dict.fromkeys(queues, 0)
    if url.startswith("filesystem"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        for entry in folder.glob("*.msg"):
            queue = entry.name.rsplit(".", 2)[-2] if entry.name.count(".") >= 2 else ""
            if queue in depths:
                depths[queue] += 1
        return depths
    if url.startswith(("redis", "rediss")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        try:
            for queue in depths:
                keys = [f"{queue}{suffix}" for suffix in _PRIORITY_KEYS]
                depths[queue] = sum(int(client.llen(k)) for k in keys)  # type: ignore[arg-type,misc]
        finally:
            client.close()
    return depths


def sweep_may_ring(task_name: str) -> bool:
    """False while the queue of `task_name` holds a backlog (see the module docstring). A broker
    that cannot be read does not stop the sweep: ringing then fails or succeeds on its own."""
    queue = queue_for(task_name)
    try:
        depth = queue_depths([queue])[queue]
    except Exception as exc:  # the broker's own errors: leave it to the ring itself
        logger.debug("queue depth of %s unknown (%s)", queue, exc)
        return True
    limit = int(getattr(settings, "HUB_SWEEP_MAX_QUEUE", 500))
    if depth < limit:
        return True
    logger.info("sweep: %s holds %d messages, not ringing %s again yet", queue, depth, task_name)
    return False
