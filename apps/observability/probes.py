"""Readiness probes for the database and the broker, and the queue-depth reading."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.core.health import CheckResult
from apps.core.queues import queue_depths as core_queue_depths


def probe_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult(True, {"vendor": connection.vendor})


def probe_broker() -> CheckResult:
    url: str = settings.CELERY_BROKER_URL
    if url.startswith("filesystem"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        ok = folder.is_dir()
        return CheckResult(ok, {"transport": "filesystem"})
    from kombu import Connection

    with Connection(url, connect_timeout=2, transport_options={"socket_timeout": 2}) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        transport = conn.transport.driver_type  # type: ignore[attr-defined]
    return CheckResult(True, {"transport": str(transport)})


def queue_depths() -> dict[str, int]:
    """Messages waiting per queue, read from the broker itself."""
    return core_queue_depths(settings.HUB_QUEUES)
