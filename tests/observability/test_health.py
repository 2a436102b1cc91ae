"""/healthz, /readyz and /metrics: in-process, and against gunicorn with broken dependencies."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.fixtures.worker import ROOT, child_env, wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(**env: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "integration_hub.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "30",
        ],
        cwd=ROOT,
        env=child_env(ODOO_REQUIRED_FOR_READY="false", **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _status(f"{base}/healthz") == 200, timeout=30)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (loopback)
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)
    except OSError:
        return 0


def _json(url: str) -> dict:
    import json

    try:
        with urllib.request.urlopen(url, timeout=15) as r:  # noqa: S310
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def test_healthz_answers_without_touching_dependencies(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_readyz_reports_each_dependency_with_latency(client, settings) -> None:
    settings.ODOO_REQUIRED_FOR_READY = False
    body = client.get("/readyz").json()
    for part in ("database", "broker"):
        assert body["checks"][part]["status"] == "ok"
        assert isinstance(body["checks"][part]["latency_ms"], float)


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_redis_is_unreachable() -> None:
    closed = _free_port()
    with gunicorn(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed}/0") as base:
        assert _status(f"{base}/readyz") == 503
        body = _json(f"{base}/readyz")
        assert body["checks"]["broker"]["status"] == "down"
        assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    closed = _free_port()
    with gunicorn(DATABASE_URL=f"postgres://hub@127.0.0.1:{closed}/hub") as base:
        assert _status(f"{base}/readyz") == 503
        assert _json(f"{base}/readyz")["checks"]["database"]["status"] == "down"


@pytest.mark.django_db
def test_metrics_use_the_prometheus_format_and_count_requests(client) -> None:
    client.get("/healthz")
    text = client.get("/metrics").content.decode()
    assert "# TYPE hub_http_requests_total counter" in text
    assert 'hub_http_requests_total{method="GET",route="healthz",status="200"}' in text
    assert "hub_queue_depth" in text
    assert 'hub_inbox_open_issues{category="mapping_missing"} 0.0' in text


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = child_env(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="", HUB_FIELD_ENCRYPTION_KEY="x")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_settings_start_with_their_secrets() -> None:
    env = child_env(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="k" * 50, HUB_FIELD_ENCRYPTION_KEY="x")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
