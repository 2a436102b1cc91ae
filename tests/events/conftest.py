"""Fixtures and helpers of the outbox and delivery tests (tests/events/test_outbox.py,
test_delivery.py, test_delivery_worker.py).

Nothing here is autouse: other test modules of this directory (the API's) opt in or not.

- `webhook_settings`: a short retry schedule, short timeouts, loopback allowed over http.
- `rings`: in-process tests record the broker rings (fan-out, delivery) instead of sending them,
  so no stale task waits in the broker for a later test's worker. Worker tests ring for real.
- `receivers`: loopback receivers (tests/events/receivers.py), closed after the test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction

from apps.core.workrow import WorkState
from apps.events import delivery, fanout, services
from apps.events.models import BusinessEvent, DeliveryAttempt, WebhookEndpoint, WebhookMessage
from apps.events.publish import event_publish
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create

from .receivers import Blackhole, Receiver

SHORT_SCHEDULE = (0.0, 0.05, 0.05, 0.05, 0.05)


@pytest.fixture
def webhook_settings(settings: Any) -> Any:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = SHORT_SCHEDULE
    settings.HUB_WEBHOOK_TIMEOUT_SECONDS = 2.0
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = True
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = False
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 5
    settings.HUB_WEBHOOK_BREAKER_SECONDS = 5.0
    settings.HUB_WEBHOOK_RUN_SECONDS = 20.0
    settings.HUB_EVENTS_STRICT = True
    settings.HUB_EVENTS_DOORBELL_MS = 0  # ring at commit (recorded by `rings`, or sent)
    return settings


@dataclass
class Rings:
    fanout: int = 0
    deliver: list[tuple[int, float | None]] = field(default_factory=list)


@pytest.fixture
def rings(monkeypatch: pytest.MonkeyPatch) -> Rings:
    """Record the broker rings of this process instead of sending them."""
    got = Rings()

    def fanout_sent() -> None:
        got.fanout += 1

    def deliver_rung(endpoint_id: int, *, countdown: float | None = None) -> None:
        if countdown is None or countdown >= 0:
            got.deliver.append((endpoint_id, countdown))

    monkeypatch.setattr("apps.events.publish._send_fanout", fanout_sent)
    monkeypatch.setattr("apps.events.delivery.deliver_ring", deliver_rung)
    monkeypatch.setattr("apps.events.services.deliver_ring", deliver_rung)
    return got


@pytest.fixture
def receivers() -> Iterator[Callable[..., Any]]:
    made: list[Receiver | Blackhole] = []

    def make(*args: Any, blackhole: bool = False, **kwargs: Any) -> Any:
        r: Receiver | Blackhole = Blackhole() if blackhole else Receiver(*args, **kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


# --- helpers --------------------------------------------------------------------------------------


def make_channel(code: str = "portal", **options: Any) -> Channel:
    channel = Channel.objects.filter(code=code).first()
    if channel is None:
        channel, _ = channel_create(code=code, kind="b2b_api", **options)
    return channel


def order_payload(channel: Channel, number: str, state: str = "ready") -> dict[str, Any]:
    return {
        "channel": channel.code,
        "order": {
            "external_id": number,
            "number": number,
            "reference": f"{channel.code}:{number}",
            "odoo_name": None,
            "state": state,
            "po_number": "",
            "total": "19.90",
            "currency": "EUR",
            "lines": [{"sku": "WIDGET", "quantity": 2}],
        },
    }


def publish_order(channel: Channel, number: str, *, entity: str | None = None) -> BusinessEvent:
    """One committed-with-its-block `order.accepted` event (the outbox insert)."""
    with transaction.atomic():
        event = event_publish(
            type="order.accepted",
            entity_key=entity or f"order:{channel.code}:{number}",
            channel=channel,
            payload=order_payload(channel, number, state="received"),
        )
    assert event is not None
    return event


def publish_stock(channel: Channel, sku: str, available: int = 2) -> BusinessEvent:
    with transaction.atomic():
        event = event_publish(
            type="stock.threshold_breached",
            entity_key=f"stock:{channel.code}:{sku}",
            channel=channel,
            payload={
                "channel": channel.code,
                "sku": sku,
                "available": available,
                "previous": available + 10,
                "threshold": 5,
                "direction": "below",
            },
        )
    assert event is not None
    return event


def make_endpoint(
    url: str, types: Sequence[str] = ("*",), **kwargs: Any
) -> tuple[WebhookEndpoint, str]:
    return services.endpoint_create(url=url, event_types=list(types), actor="test", **kwargs)


def fan_out() -> set[int]:
    return fanout.fanout_run()


def deliver(endpoint: WebhookEndpoint, budget: float = 10.0) -> dict[str, int]:
    return delivery.deliver_endpoint(endpoint_id=endpoint.pk, budget_seconds=budget)


def deliver_until(
    endpoint: WebhookEndpoint, done: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Run the endpoint's delivery again and again (what the sweeper's rings do) until `done`."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout}s: {states(endpoint)}")
        deliver(endpoint)
        time.sleep(0.02)


def messages(endpoint: WebhookEndpoint) -> list[WebhookMessage]:
    return list(
        WebhookMessage.objects.filter(endpoint=endpoint).select_related("event").order_by("pk")
    )


def states(endpoint: WebhookEndpoint) -> list[str]:
    return [m.state for m in messages(endpoint)]


def all_done(endpoint: WebhookEndpoint) -> Callable[[], bool]:
    return lambda: all(s == WorkState.DONE for s in states(endpoint))


def attempts_of(message: WebhookMessage) -> list[DeliveryAttempt]:
    return list(DeliveryAttempt.objects.filter(message=message).order_by("number", "pk"))
