"""Hostile partner receivers: what a webhook receiver answers is a status, never a body to parse.

docs/events.md: 2xx is delivered, anything else a failed attempt; the body is only kept as an
excerpt of at most 2 KB. So a 200 with garbage (HTML, truncated JSON, an error object, bytes
that are not UTF-8, NUL characters, a body that claims gzip and is not) is delivered, and the
same bodies with a 500 are failed attempts, each excerpt stored as safe text.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.core.workrow import WorkState
from apps.events.models import DeliveryAttempt
from tests.events import conftest as events_fixtures
from tests.events.conftest import (
    all_done,
    attempts_of,
    deliver,
    deliver_until,
    fan_out,
    make_channel,
    make_endpoint,
    messages,
    publish_order,
)
from tests.events.receivers import Received, Reply

receivers = events_fixtures.receivers  # the delivery tests' fixtures
rings = events_fixtures.rings
webhook_settings = events_fixtures.webhook_settings

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings", "rings")]

BODIES: list[tuple[bytes, dict[str, str]]] = [
    (b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>", {}),
    (b'{"received": tr', {"Content-Type": "application/json"}),
    (b'{"error": "we are down", "code": 500}', {"Content-Type": "application/json"}),
    (b"\xff\xfe\x00garbage\x00\x00 with NUL", {}),
    (b"not gzip at all", {"Content-Encoding": "gzip"}),
    (b"", {}),
]


NUMBERS = itertools.count(1)


def excerpts(ep: Any) -> list[str]:
    return [a.response_excerpt for m in messages(ep) for a in attempts_of(m)]


@pytest.mark.parametrize(("body", "headers"), BODIES, ids=lambda v: repr(v)[:24])
def test_a_200_with_any_body_is_delivered_and_its_excerpt_is_safe_text(
    receivers: Any, body: bytes, headers: dict[str, str]
) -> None:
    partner = receivers(lambda req: Reply(200, body, headers))
    ep, _ = make_endpoint(partner.url)
    publish_order(make_channel(), "HR-1")
    fan_out()
    deliver_until(ep, all_done(ep))
    [message] = messages(ep)
    [attempt] = attempts_of(message)
    assert message.state == WorkState.DONE and attempt.success and attempt.status_code == 200
    assert "\x00" not in attempt.response_excerpt
    assert len(attempt.response_excerpt.encode()) <= 2048


def test_a_500_with_hostile_bodies_is_a_failed_attempt_recorded_safely(
    receivers: Any, settings: Any
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0,) + (0.01,) * len(BODIES)
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100

    def respond(req: Received) -> Reply:
        if req.number <= len(BODIES):
            body, headers = BODIES[req.number - 1]
            return Reply(500, body, headers)
        return Reply(200, b"thanks")

    partner = receivers(respond)
    ep, _ = make_endpoint(partner.url)
    publish_order(make_channel(), "HR-2")
    fan_out()
    deliver_until(ep, all_done(ep))
    rows = DeliveryAttempt.objects.filter(message__endpoint=ep).order_by("number")
    assert [a.success for a in rows] == [False] * len(BODIES) + [True]
    assert [a.error_class for a in rows][: len(BODIES)] == ["HTTP500"] * len(BODIES)
    assert all("\x00" not in text for text in excerpts(ep))


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    status=st.sampled_from([200, 201, 202, 204, 400, 500, 503]),
    body=st.binary(max_size=3000),
)
@example(status=200, body=b"ok\x00")
@example(status=500, body=b"\xc3\x28\x00")
def test_any_answer_is_recorded_as_an_attempt_never_a_crash(
    receivers: Any, status: int, body: bytes
) -> None:
    partner = receivers(lambda req: Reply(status, b"" if status == 204 else body))
    ep, _ = make_endpoint(partner.url)
    publish_order(make_channel(), f"HR-P{next(NUMBERS)}")
    fan_out()
    deliver(ep)
    rows = list(DeliveryAttempt.objects.filter(message__endpoint=ep))
    assert len(rows) == 1 and rows[0].success == (200 <= status < 300)
    assert "\x00" not in rows[0].response_excerpt
    assert len(rows[0].response_excerpt.encode()) <= 2048
