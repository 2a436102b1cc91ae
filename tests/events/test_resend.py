"""An operator's resend and test event: one attempt now, whatever the message's turn."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.workrow import WorkState
from apps.events import services
from apps.events.models import DeliveryAttempt
from apps.inbox.models import Issue

from .conftest import (
    Rings,
    attempts_of,
    deliver,
    fan_out,
    make_channel,
    make_endpoint,
    messages,
    publish_order,
)
from .receivers import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def test_resend_jumps_the_entity_queue_and_a_failed_resend_is_not_retried(
    webhook_settings: Any, rings: Rings, receivers: Any
) -> None:
    webhook_settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 3600.0)
    replies = iter([Reply(500), Reply(200), Reply(500)])
    receiver = receivers(lambda _: next(replies))
    channel = make_channel()
    endpoint, _ = make_endpoint(receiver.url, ordered=True)
    publish_order(channel, "A1", entity="order:A")
    publish_order(channel, "A2", entity="order:A")
    fan_out()
    deliver(endpoint)  # A1 fails and waits an hour; A2 waits behind it
    first, second = messages(endpoint)
    assert [first.state, second.state] == [WorkState.PENDING, WorkState.PENDING]
    assert len(receiver.requests) == 1

    # An operator resends A2: it goes now, although A1 still waits (the turn is theirs to skip).
    out = services.message_resend(message=second, actor="support")
    assert out.success and out.status == 200
    second.refresh_from_db()
    assert second.state == WorkState.DONE
    assert [a.trigger for a in attempts_of(second)] == [DeliveryAttempt.Trigger.MANUAL]

    # Resending the delivered message again, this time refused: failed, not put on the schedule.
    out = services.message_resend(message=second, actor="support")
    assert not out.success and out.status == 500
    second.refresh_from_db()
    assert second.state == WorkState.FAILED and second.next_attempt_at is None
    assert not Issue.objects.exists()  # the operator saw the outcome; nothing for the inbox
    assert len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests[1:]} == {second.event.uid}


def test_a_test_event_is_sent_once_and_only_to_its_endpoint(
    webhook_settings: Any, rings: Rings, receivers: Any
) -> None:
    receiver = receivers()
    other_receiver = receivers()
    endpoint, _ = make_endpoint(receiver.url)
    other, _ = make_endpoint(other_receiver.url)
    out = services.endpoint_send_test(endpoint=endpoint, actor="admin")
    assert out.success
    fan_out()
    deliver(endpoint)
    deliver(other)
    assert len(receiver.requests) == 1 and not other_receiver.requests
    assert receiver.requests[0].json["type"] == "hub.ping"
    (msg,) = messages(endpoint)
    assert msg.state == WorkState.DONE
    assert [a.trigger for a in attempts_of(msg)] == [DeliveryAttempt.Trigger.TEST]
