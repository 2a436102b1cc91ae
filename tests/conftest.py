"""Shared test setup.

The suite runs against whatever DATABASE_URL / CELERY_BROKER_URL / REDIS_URL say: PostgreSQL and
Redis in CI, the embedded default (SQLite, filesystem broker) otherwise. With CI=true a test that
skips because a service or tool is missing counts as a failure, except `live_odoo` tests, which
need a real Odoo that CI does not have.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

_here = Path(__file__).parent
pytest_plugins = [
    "tests.fixtures.worker",
    *[
        f"tests.fixtures.{p.stem}"
        for p in sorted((_here / "fixtures").glob("*.py"))
        if p.stem not in {"__init__", "worker"}
    ],
    # The secrets scan: every secret the suite plants, every log line, scanned (docs/security.md).
    "tests.security.plugin",
]

LIVE_ODOO_VARS = ("ODOO_URL", "ODOO_DB", "ODOO_USER", "ODOO_PASSWORD")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start from empty queues: leftovers of an earlier run must not reach this run's workers."""
    from django.conf import settings

    url: str = settings.CELERY_BROKER_URL
    if url.startswith("filesystem"):
        for key in ("data_folder_in", "processed_folder"):
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS[key])
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True, exist_ok=True)
    elif url.startswith("redis"):
        import redis

        redis.Redis.from_url(url).flushdb()
    if getattr(settings, "REDIS_URL", ""):
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    live = all(os.environ.get(v) for v in LIVE_ODOO_VARS)
    skip_live = pytest.mark.skip(
        reason="live_odoo: set ODOO_URL, ODOO_DB, ODOO_USER, ODOO_PASSWORD"
    )
    for item in items:
        if "live_odoo" in item.keywords and not live:
            item.add_marker(skip_live)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if (
        os.environ.get("CI") == "true"
        and report.skipped
        and "live_odoo" not in item.keywords
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"


@pytest.fixture(autouse=True)
def _capture_at_once(settings: Any) -> None:
    """Captured payments are read at once in tests (production waits
    HUB_FINANCE_CAPTURE_DELAY_SECONDS; tests/finance/test_capture_delay.py covers the wait)."""
    settings.HUB_FINANCE_CAPTURE_DELAY_SECONDS = 0


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    """Locks and throttles live in the cache; each test starts without them."""
    yield
    try:
        from django.core.cache import cache

        cache.clear()
    except Exception:  # noqa: S110  the cache table may not exist outside database tests
        pass


def needs_redis() -> str:
    from django.conf import settings

    url: str = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        pytest.skip("needs CELERY_BROKER_URL pointing at Redis")
    return url
