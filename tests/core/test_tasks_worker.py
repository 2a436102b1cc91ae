"""HubTask through a real worker process: round trip, retries, crash recovery, correlation ids."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission

from apps.core.models import JobRun
from tests.celery_tasks import crash_once, echo, flaky, permanent
from tests.conftest import needs_redis
from tests.fixtures.worker import ROOT, broker_purge, child_env, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FAST_RETRY = {"HUB_RETRY_BASE_SECONDS": "0.05", "HUB_MAX_COUNTDOWN": "1"}


def _count(name: str) -> int:
    return JobRun.objects.filter(name=name).count()


def test_round_trip_through_the_configured_broker(celery_worker) -> None:
    # given a worker on every queue
    key = uuid.uuid4().hex
    # when a task is sent through the broker
    echo.delay(key)
    # then the worker runs it once
    wait_for(lambda: _count(f"attempt:{key}") == 1)


def test_round_trip_through_the_filesystem_broker(celery_worker_factory, tmp_path) -> None:
    # given a worker on the embedded broker, whatever broker the suite uses
    env = {"CELERY_BROKER_URL": "filesystem://", "HUB_VAR_DIR": str(tmp_path)}
    worker = celery_worker_factory(**env)
    key = uuid.uuid4().hex
    # when another process publishes through the same folder
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); "
            f"from tests.celery_tasks import echo; echo.delay({key!r})",
        ],
        cwd=ROOT,
        env=child_env(DJANGO_SETTINGS_MODULE="integration_hub.settings", **env),
        check=True,
        timeout=60,
    )
    # then the worker picks it up
    wait_for(lambda: _count(f"attempt:{key}") == 1)
    assert "tests.echo" in worker.log()


def test_transient_error_is_retried_with_backoff(celery_worker_factory) -> None:
    celery_worker_factory(**FAST_RETRY)
    key = uuid.uuid4().hex
    flaky.delay(key, 2)
    wait_for(lambda: _count(f"done:{key}") == 1)
    assert _count(f"attempt:{key}") == 3


def test_permanent_error_is_not_retried(celery_worker_factory) -> None:
    worker = celery_worker_factory(**FAST_RETRY)
    key = uuid.uuid4().hex
    permanent.delay(key)
    wait_for(lambda: "PermanentError" in worker.log())
    # a sentinel behind it on the same single-process worker proves the queue moved on
    sentinel = uuid.uuid4().hex
    echo.delay(sentinel)
    wait_for(lambda: _count(f"attempt:{sentinel}") == 1)
    assert _count(f"attempt:{key}") == 1
    assert "Retry in" not in worker.log()


def test_worker_killed_mid_task_runs_it_again_on_a_fresh_worker(celery_worker_factory) -> None:
    needs_redis()
    # given a short visibility timeout so the unacknowledged message comes back quickly
    env = {
        "HUB_BROKER_VISIBILITY_TIMEOUT": "4",
        "HUB_TASK_TIME_LIMIT": "3",
        "HUB_TASK_SOFT_TIME_LIMIT": "2",
        "HUB_MAX_COUNTDOWN": "1",
        "HUB_BROKER_RESTORE_INTERVAL": "1",
    }
    first = celery_worker_factory(**env)
    key = uuid.uuid4().hex
    crash_once.apply_async(args=[key, 60])
    wait_for(lambda: _count(f"attempt:{key}") == 1)
    # when the whole worker dies without any chance to clean up
    first.kill()
    assert _count(f"done:{key}") == 0
    # then a fresh worker gets the message back and completes it
    second = celery_worker_factory(**env)
    wait_for(lambda: _count(f"done:{key}") == 1, timeout=60)
    assert _count(f"attempt:{key}") == 2
    # A copy the killed worker held may still be restored later; with the database flushed it
    # would look like a first attempt and hold the next test's worker for a minute.
    second.stop()
    broker_purge()


def test_correlation_id_reaches_the_worker_log(celery_worker, client, django_user_model) -> None:
    # given a staff user who sees job runs (the pipeline check's right) and a request carrying
    # its own id
    user = django_user_model.objects.create_user("ops", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    client.force_login(user)
    cid = f"req-{uuid.uuid4().hex[:12]}"
    # when the request enqueues the pipeline check
    response = client.post("/ops/pipeline-check", HTTP_X_REQUEST_ID=cid)
    assert response.status_code == 202
    assert response["X-Request-ID"] == cid
    # then the task ran under the same id, and the worker's log lines carry it
    wait_for(lambda: JobRun.objects.filter(name="core.ping", correlation_id=cid).exists())
    records = []
    for line in celery_worker.log().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    pongs = [r for r in records if r.get("message") == "pong"]
    assert pongs, "the task's own log record is missing"
    assert all(r.get("correlation_id") == cid for r in pongs)
    status = client.get(f"/ops/pipeline-check/{cid}").json()
    assert status["status"] == "done"


def test_periodic_job_triggered_twice_in_one_period_runs_once(celery_worker) -> None:
    from apps.core.tasks import heartbeat

    # when two beats send the same tick
    heartbeat.delay()
    heartbeat.delay()
    wait_for(lambda: celery_worker.log().count("core.heartbeat[") >= 4)  # received+succeeded x2
    # then the job body ran once
    assert _count("core.heartbeat") == 1
    assert settings.CELERY_TASK_ACKS_LATE
