"""HubTask re-queues RateLimited like LockContention: the wait does not spend an attempt."""

from __future__ import annotations

from typing import Any

import pytest
from celery import shared_task

from apps.core.errors import RateLimited, TransientError
from apps.core.taskbase import HubTask


@shared_task(base=HubTask, name="tests.inventory.rate_limited", bind=True)
def rate_limited_task(self: Any, kind: str) -> None:
    if kind == "rate":
        raise RateLimited("channel says slow down", retry_after=7.0)
    raise TransientError("network")


@pytest.fixture
def resent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    class Sig:
        def __init__(self, **kw: Any) -> None:
            self.kw = kw

        def apply_async(self) -> None:
            sent.append(self.kw)

    monkeypatch.setattr(rate_limited_task, "signature_from_request", lambda *a, **kw: Sig(**kw))
    return sent


def test_rate_limited_is_requeued_after_retry_after_with_the_same_attempt_count(
    resent: list[dict[str, Any]],
) -> None:
    # when a task is told by the channel to wait 7 s, on its 4th attempt
    result = rate_limited_task.apply(args=["rate"], retries=3)
    # then it is re-sent after 7 s with the attempt count unchanged, not failed or retried
    assert result.state == "IGNORED"
    assert resent == [{"countdown": 7.0, "retries": 3}]


def test_other_transient_errors_still_spend_an_attempt(
    resent: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    retried: list[dict[str, Any]] = []

    def retry(**kw: Any) -> None:
        retried.append(kw)
        raise RuntimeError("retried")

    monkeypatch.setattr(rate_limited_task, "retry", retry)
    rate_limited_task.apply(args=["net"], retries=3)
    assert resent == [] and len(retried) == 1
