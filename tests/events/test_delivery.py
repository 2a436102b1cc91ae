"""Partner webhook delivery, in-process, against real HTTP receivers on 127.0.0.1.

Each test runs `delivery.deliver_endpoint` (what an `events.deliver` task runs) on the real
database, as often as the sweeper's rings would; the retry schedule is shortened through
settings. Receivers verify signatures with the independent `standardwebhooks` package.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from standardwebhooks import Webhook

from apps.core.errors import ConfigurationError
from apps.core.workrow import WorkState
from apps.events import services, signing
from apps.events.models import (
    BusinessEvent,
    DeliveryAttempt,
    EndpointSecret,
    WebhookEndpoint,
    WebhookMessage,
)
from apps.events.services import EndpointInvalid
from apps.inbox.models import Issue, IssueRow

from .conftest import (
    all_done,
    attempts_of,
    deliver,
    deliver_until,
    fan_out,
    make_channel,
    make_endpoint,
    messages,
    publish_order,
    publish_stock,
    states,
)
from .receivers import Received, Reply

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_settings", "rings")]


def refresh(ep: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(pk=ep.pk)


# --- signatures ---------------------------------------------------------------------------------


def test_sign_matches_the_standard_webhooks_spec_vector() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    args = {"msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "timestamp": 1614265330}
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.sign(secret=secret, body=body, **args) == expected
    header = f"v1,bm90IHRoaXMgb25l {expected}"  # ours among others, space-separated
    assert signing.verify(secret=secret, body=body, header=header, **args)
    assert not signing.verify(secret=secret, body=body + b" ", header=header, **args)
    # a generated secret is what the independent implementation accepts
    fresh = signing.secret_generate()
    stamp = dt.datetime.fromtimestamp(1614265330, tz=dt.UTC)
    assert signing.sign(secret=fresh, body=body, **args) == Webhook(fresh).sign(
        args["msg_id"], stamp, body
    )


def test_every_delivery_verifies_with_standardwebhooks(receivers, settings) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 60.0)  # one attempt per run, however slow
    channel = make_channel()
    partner = receivers(require_signature=True)
    ep, secret = make_endpoint(partner.url)
    partner.secrets["partner"] = secret
    # a receiver holding another secret refuses the same deliveries (the check can fail)
    stranger = receivers(secrets={"other": signing.secret_generate()}, require_signature=True)
    other_ep, _ = make_endpoint(stranger.url)
    events = [
        publish_order(channel, "SIG-1"),
        publish_stock(channel, "RED"),
        publish_order(channel, "SIG-2"),
    ]
    fan_out()
    # when delivered
    deliver_until(ep, all_done(ep))
    deliver(other_ep)
    # then every request verified, carries the event's uid as webhook-id and its envelope
    got = partner.snapshot()
    assert len(got) == 3 and all(r.verified == {"partner": True} for r in got)
    by_id = {r.webhook_id: r for r in got}
    assert set(by_id) == {e.uid for e in events}
    for event in events:
        body = by_id[event.uid].json
        assert body["id"] == event.uid and body["type"] == event.type
        assert body["data"] == event.payload
        assert body["channel"] == channel.code and body["entity"] == event.entity_key
        assert abs(int(by_id[event.uid].headers["webhook-timestamp"]) - time.time()) < 30
    assert [r.verified for r in stranger.snapshot()] == [{"other": False}] * 3
    assert all(m.last_status == 400 and m.state == WorkState.PENDING for m in messages(other_ep))


def test_rotation_both_secrets_verify_during_the_overlap_then_only_the_new(receivers) -> None:
    channel = make_channel()
    partner = receivers()
    ep, old = make_endpoint(partner.url)
    partner.secrets["old"] = old
    publish_order(channel, "ROT-0")
    fan_out()
    deliver_until(ep, all_done(ep))
    # when the secret is rotated
    new = services.endpoint_secret_rotate(endpoint=ep, actor="test")
    partner.secrets["new"] = new
    publish_order(channel, "ROT-1")
    fan_out()
    deliver_until(ep, all_done(ep))
    # and once the overlap has ended
    EndpointSecret.objects.filter(endpoint=ep, valid_until__isnull=False).update(
        valid_until=timezone.now() - dt.timedelta(seconds=1)
    )
    publish_order(channel, "ROT-2")
    fan_out()
    deliver_until(ep, all_done(ep))
    # then: before, only the old verified; during the overlap both; after, only the new
    before, during, after = partner.snapshot()
    assert before.verified == {"old": True}
    assert during.verified == {"old": True, "new": True}
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert after.verified == {"old": False, "new": True}
    assert len(after.headers["webhook-signature"].split(" ")) == 1


# --- retries and attempts -----------------------------------------------------------------------


def test_three_failures_then_one_success_with_the_same_webhook_id(receivers, settings) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 0.2, 0.4, 0.2, 60.0)
    settings.HUB_WEBHOOK_TIMEOUT_SECONDS = 0.5
    # 6001 bytes of UTF-8 whose 2 KB cut falls inside a two-byte character
    big = ("x" + "é" * 3000).encode()

    def respond(req: Received) -> Reply:
        return {
            1: Reply(500, big),
            2: Reply(503, b"maintenance"),
            3: Reply(200, b"too late", delay=1.0),  # answers after the sender's timeout
        }.get(req.number, Reply(200, b"thanks"))

    partner = receivers(respond)
    ep, _ = make_endpoint(partner.url)
    event = publish_order(make_channel(), "R-1")
    fan_out()
    # when the sweeper keeps ringing the endpoint
    deliver_until(ep, all_done(ep))
    # then four requests, one webhook-id, attempts numbered, the schedule's waits between them
    got = partner.snapshot()
    assert len(got) == 4
    assert {r.webhook_id for r in got} == {event.uid}
    assert [r.headers["webhook-attempt"] for r in got] == ["1", "2", "3", "4"]
    assert len({r.body for r in got}) == 1
    assert got[1].at - got[0].at >= 0.2 and got[2].at - got[1].at >= 0.4
    assert got[3].at - got[2].at >= 0.5 + 0.2  # the timeout, then the wait
    # and four attempt rows: status, success, error class, latency, a 2 KB excerpt
    [message] = messages(ep)
    rows = attempts_of(message)
    assert [a.number for a in rows] == [1, 2, 3, 4]
    assert [a.status_code for a in rows] == [500, 503, None, 200]
    assert [a.success for a in rows] == [False, False, False, True]
    assert [a.error_class for a in rows] == ["HTTP500", "HTTP503", "Timeout", ""]
    assert 450 <= rows[2].latency_ms < 1500
    assert all(0 <= a.latency_ms < 1500 for a in rows)
    excerpt = rows[0].response_excerpt
    assert excerpt.startswith("xéé") and 2040 <= len(excerpt.encode()) <= 2048
    assert rows[1].response_excerpt == "maintenance" and rows[3].response_excerpt == "thanks"
    assert all(len(a.response_excerpt.encode()) <= 2048 for a in rows)
    assert message.state == WorkState.DONE and message.attempts == 4
    assert message.last_status == 200 and message.delivered_at is not None
    ep = refresh(ep)
    assert ep.consecutive_failures == 0 and ep.failing_since is None
    assert ep.last_success_at is not None and ep.last_error == ""


def test_exhausted_schedule_fails_the_messages_and_files_one_inbox_item(
    receivers, settings
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 0.02, 0.02)  # three attempts
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100
    partner = receivers(lambda req: Reply(500, b"broken"))
    channel = make_channel()
    ep, _ = make_endpoint(partner.url, ["order.accepted"], channel=channel)
    publish_order(channel, "EX-1")
    publish_order(channel, "EX-2")
    fan_out()
    deliver_until(ep, lambda: states(ep) == [WorkState.FAILED] * 2)
    # then each message spent the schedule and stopped
    assert len(partner.snapshot()) == 6
    for m in messages(ep):
        assert m.attempts == 3 and m.last_status == 500
        assert m.last_error["exhausted"] is True and m.last_error["class"] == "HTTP500"
        assert [a.number for a in attempts_of(m)] == [1, 2, 3]
    deliver(ep)
    assert len(partner.snapshot()) == 6  # nothing more is sent
    # and one inbox item for the endpoint, each message a row, with channel and order
    [issue] = Issue.objects.all()
    assert issue.key == f"webhook_exhausted:{ep.uid}"
    assert issue.channel_code == channel.code and issue.order_number in {"EX-1", "EX-2"}
    assert ep.url in issue.title and issue.occurrences == 2
    assert issue.replay_task == "events.deliver" and issue.replay_kwargs == {"endpoint_id": ep.pk}
    ct = ContentType.objects.get_for_model(WebhookMessage)
    assert set(IssueRow.objects.filter(issue=issue, content_type=ct).values_list("object_id")) == {
        (str(m.pk),) for m in messages(ep)
    }


# --- what receivers answer ----------------------------------------------------------------------


def test_410_disables_the_endpoint_and_fails_its_waiting_messages(receivers) -> None:
    partner = receivers(lambda req: Reply(410, b"gone"))
    channel = make_channel()
    ep, _ = make_endpoint(partner.url, max_in_flight=1)
    for n in range(3):
        publish_order(channel, f"G-{n}")
    fan_out()
    deliver(ep)
    # then one request, and nothing more is sent to a receiver that said Gone
    assert len(partner.snapshot()) == 1
    ep = refresh(ep)
    assert ep.state == WebhookEndpoint.State.DISABLED and "410" in ep.disabled_reason
    first, *waiting = messages(ep)
    assert first.state == WorkState.FAILED and first.last_status == 410
    assert first.last_error["exhausted"] is False
    for m in waiting:
        assert m.state == WorkState.FAILED and m.attempts == 0
        assert m.last_error["class"] == "EndpointDisabled"
    assert DeliveryAttempt.objects.filter(endpoint=ep).count() == 1
    # and a disabled endpoint gets no new messages
    publish_order(channel, "G-late")
    fan_out()
    assert len(messages(ep)) == 3
    deliver(ep)
    assert len(partner.snapshot()) == 1


def test_429_retry_after_blocks_the_endpoint_at_least_that_long(receivers, rings) -> None:
    partner = receivers(
        lambda req: Reply(429, b"slow down", {"Retry-After": "2"}) if req.number == 1 else Reply()
    )
    channel = make_channel()
    ep, _ = make_endpoint(partner.url, max_in_flight=1)
    for n in range(3):
        publish_order(channel, f"T-{n}")
    fan_out()
    deliver(ep)
    # then the endpoint is blocked for the Retry-After, and its run re-rings itself after it
    [throttled] = DeliveryAttempt.objects.filter(endpoint=ep)
    assert throttled.status_code == 429 and throttled.error_class == "HTTP429"
    blocked = refresh(ep).blocked_until
    assert blocked is not None and blocked - throttled.started_at >= dt.timedelta(seconds=2)
    assert rings.deliver and rings.deliver[-1][0] == ep.pk
    assert 1.5 <= (rings.deliver[-1][1] or 0) <= 2.1
    # when the sweeper keeps ringing
    deliver_until(ep, all_done(ep))
    # then nothing was sent for two seconds, and the waiting messages spent no attempt
    got = partner.snapshot()
    assert len(got) == 4
    assert got[1].at - got[0].at >= 1.9
    assert [m.attempts for m in messages(ep)] == [2, 1, 1]


def test_redirect_is_a_failure_and_is_not_followed(receivers, settings) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 60.0)
    elsewhere = receivers()
    partner = receivers(lambda req: Reply(302, b"", {"Location": elsewhere.url}))
    ep, _ = make_endpoint(partner.url)
    publish_order(make_channel(), "RD-1")
    fan_out()
    deliver(ep)
    [attempt] = DeliveryAttempt.objects.filter(endpoint=ep)
    assert (attempt.status_code, attempt.success, attempt.error_class) == (302, False, "Redirect")
    assert len(partner.snapshot()) == 1 and elsewhere.snapshot() == []
    [m] = messages(ep)
    assert m.state == WorkState.PENDING and m.attempts == 1 and m.next_attempt_at is not None


def test_breaker_opens_after_the_threshold_and_probes_with_one_message(receivers, settings) -> None:
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 3
    settings.HUB_WEBHOOK_BREAKER_SECONDS = 30.0
    healthy = {"on": False}
    partner = receivers(lambda req: Reply() if healthy["on"] else Reply(500, b"down"))
    channel = make_channel()
    ep, _ = make_endpoint(partner.url, max_in_flight=1)
    for n in range(6):
        publish_order(channel, f"B-{n}")
    fan_out()
    deliver(ep)
    # then the breaker opened after three failures; the other messages spent nothing
    assert len(partner.snapshot()) == 3
    ep = refresh(ep)
    assert ep.consecutive_failures == 3
    assert ep.blocked_until is not None
    assert ep.blocked_until - timezone.now() > dt.timedelta(seconds=25)
    assert sorted(m.attempts for m in messages(ep)) == [0, 0, 0, 1, 1, 1]
    time.sleep(0.1)  # past the retry schedule: only the breaker holds them now
    deliver(ep)
    assert len(partner.snapshot()) == 3
    # when the cool-down is over (the clock moves) and the receiver still fails: one probe
    WebhookEndpoint.objects.filter(pk=ep.pk).update(blocked_until=timezone.now())
    deliver(ep)
    assert len(partner.snapshot()) == 4
    ep = refresh(ep)
    assert ep.blocked_until - timezone.now() > dt.timedelta(seconds=55)  # the cool-down doubled
    # when it is over again and the receiver is back: the probe succeeds, the rest follow
    healthy["on"] = True
    WebhookEndpoint.objects.filter(pk=ep.pk).update(blocked_until=timezone.now())
    deliver_until(ep, all_done(ep))
    assert len(partner.snapshot()) == 10
    ep = refresh(ep)
    assert ep.consecutive_failures == 0 and ep.blocked_until is None


# --- ordering -----------------------------------------------------------------------------------


def test_ordered_endpoint_a_failing_message_blocks_its_entity_only(receivers, settings) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, *[0.05] * 9)  # A1 is not exhausted here
    channel = make_channel()
    events: dict[str, BusinessEvent] = {}
    failing = {"on": True}

    def respond(req: Received) -> Reply:
        if failing["on"] and req.webhook_id == events["A1"].uid:
            return Reply(500, b"not yet")
        return Reply()

    partner = receivers(respond)
    ep, _ = make_endpoint(partner.url, ordered=True)
    events["A1"] = publish_order(channel, "A1", entity="order:portal:A")
    events["B1"] = publish_order(channel, "B1", entity="order:portal:B")
    events["A2"] = publish_order(channel, "A2", entity="order:portal:A")
    fan_out()
    # when A's first message keeps failing
    deliver_until(ep, lambda: partner.ids().count(events["A1"].uid) >= 4)
    # then B went through, and A's second message was never sent
    sent = partner.ids()
    assert events["B1"].uid in sent
    assert events["A2"].uid not in sent
    by_event = {m.event_id: m for m in messages(ep)}
    assert by_event[events["B1"].pk].state == WorkState.DONE
    assert by_event[events["A2"].pk].attempts == 0
    # when A1 is accepted at last, A2 follows it
    failing["on"] = False
    deliver_until(ep, all_done(ep))
    sent = partner.ids()
    assert sent.index(events["A2"].uid) > len(sent) - 1 - sent[::-1].index(events["A1"].uid)


def test_a_run_blocked_behind_its_entity_does_not_ring_itself_again(
    receivers, settings, rings
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 60.0)
    channel = make_channel()
    partner = receivers(lambda req: Reply(500, b"not yet"))
    ep, _ = make_endpoint(partner.url, ordered=True)
    publish_order(channel, "A1", entity="order:portal:A")
    publish_order(channel, "A2", entity="order:portal:A")
    fan_out()
    # when A1 fails and waits a minute, A2 waits behind it
    assert deliver(ep) == {"delivered": 0, "failed": 1}
    # then the run does not ring itself at once (its next run could claim nothing): the
    # sweeper rings the endpoint when A1 is due
    assert rings.deliver == []
    assert deliver(ep) == {"delivered": 0, "failed": 0}
    assert len(partner.snapshot()) == 1


# --- private addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hooks",
        "http://localhost:9/hooks",
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hooks",
    ],
)
def test_private_address_refused_at_creation_when_not_allowed(url: str, settings) -> None:
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(EndpointInvalid) as err:
        make_endpoint(url)
    assert err.value.context["field"] == "url"
    assert not WebhookEndpoint.objects.exists()


def test_public_address_accepted_when_private_ones_are_not(settings) -> None:
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    ep, _ = make_endpoint("http://93.184.216.34/hooks")  # an IP literal: no DNS needed
    assert ep.pk is not None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_address_refused_at_delivery_when_the_flag_is_switched_off(
    host: str, receivers, settings
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 60.0)
    partner = receivers()
    ep, _ = make_endpoint(partner.url.replace("127.0.0.1", host))  # allowed at creation
    publish_order(make_channel(), "SSRF-1")
    fan_out()
    # when the flag is switched off afterwards
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    deliver(ep)
    # then the socket's address is refused: nothing reached the receiver
    [attempt] = DeliveryAttempt.objects.filter(endpoint=ep)
    assert attempt.error_class == "RefusedAddress" and attempt.status_code is None
    assert "loopback" in attempt.response_excerpt
    assert partner.snapshot() == []
    [m] = messages(ep)
    assert m.state == WorkState.PENDING and m.last_error["class"] == "RefusedAddress"


# --- operations ---------------------------------------------------------------------------------


def test_endpoint_failing_for_five_days_is_disabled_with_an_inbox_item(receivers, settings) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 60.0)
    channel = make_channel()
    partner = receivers(lambda req: Reply(500, b"broken"))
    dead, _ = make_endpoint(partner.url, ["order.accepted"], channel=channel)
    young, _ = make_endpoint(partner.url, ["order.accepted"], channel=channel)
    publish_order(channel, "AD-1")
    fan_out()
    deliver(dead)
    deliver(young)
    assert refresh(dead).failing_since is not None  # set by real failures
    # when the first has failed for five days (the clock moves), the second for four
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=dead.pk).update(
        failing_since=now - dt.timedelta(days=5, minutes=1)
    )
    WebhookEndpoint.objects.filter(pk=young.pk).update(failing_since=now - dt.timedelta(days=4))
    assert services.endpoints_auto_disable() == [dead.uid]
    # then it is disabled, its waiting message failed, and its owner has an inbox item
    dead = refresh(dead)
    assert dead.state == WebhookEndpoint.State.DISABLED
    assert "every delivery failed since" in dead.disabled_reason
    assert "HTTP500" in dead.disabled_reason
    [m] = messages(dead)
    assert m.state == WorkState.FAILED and m.last_error["class"] == "EndpointDisabled"
    [issue] = Issue.objects.filter(key=f"webhook_endpoint:{dead.uid}")
    assert issue.channel_code == channel.code and dead.uid in issue.title
    assert refresh(young).state == WebhookEndpoint.State.ACTIVE
    assert services.endpoints_auto_disable() == []  # once


def test_recover_dry_run_counts_then_requeues_failed_and_creates_missed(
    receivers, settings, rings, django_capture_on_commit_callbacks
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0, 0.02)
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100
    up = {"on": False}
    partner = receivers(lambda req: Reply() if up["on"] else Reply(500, b"down"))
    channel = make_channel()
    ep, _ = make_endpoint(partner.url, ["order.accepted"])
    old = publish_order(channel, "RC-0")  # fails before `since`: not recovered
    fan_out()
    deliver_until(ep, lambda: states(ep) == [WorkState.FAILED])
    since = timezone.now()
    failed = publish_order(channel, "RC-1")  # fails after `since`
    fan_out()
    deliver_until(ep, lambda: states(ep) == [WorkState.FAILED] * 2)
    services.endpoint_disable(endpoint=ep, reason="maintenance", actor="test")
    missed = [publish_order(channel, "RC-2"), publish_order(channel, "RC-3")]
    publish_stock(channel, "RED")  # not a type it wants
    fan_out()
    assert len(messages(ep)) == 2  # nothing was created while disabled
    ep = refresh(ep)
    # when an operator asks what a recovery would do
    assert services.endpoint_recover(
        endpoint=ep, since=since, actor="test", dry_run=True
    ) == services.Recovery(requeued=1, created=2)
    # then nothing changed
    assert states(ep) == [WorkState.FAILED] * 2
    with pytest.raises(ConfigurationError):
        services.endpoint_recover(endpoint=ep, since=since, actor="test")
    # when the endpoint is enabled and recovered for real, with the receiver back
    services.endpoint_enable(endpoint=ep, actor="test")
    ep = refresh(ep)
    up["on"] = True
    sent_before = len(partner.snapshot())
    with django_capture_on_commit_callbacks(execute=True):
        result = services.endpoint_recover(endpoint=ep, since=since, actor="test")
    assert result == services.Recovery(requeued=1, created=2)
    assert (ep.pk, None) in rings.deliver  # its delivery was rung
    deliver_until(ep, lambda: states(ep).count(WorkState.DONE) == 3)
    # then the failed one and the missed ones were delivered once each, the older failure not
    recovered = sorted(partner.ids()[sent_before:])
    assert recovered == sorted([failed.uid, *(e.uid for e in missed)])
    assert WebhookMessage.objects.get(endpoint=ep, event=old).state == WorkState.FAILED


def test_purge_removes_old_finished_events_with_their_messages_and_attempts(
    receivers, settings
) -> None:
    settings.HUB_EVENTS_RETENTION_DAYS = 30
    channel = make_channel()
    partner = receivers()
    ep, _ = make_endpoint(partner.url, ["order.accepted"])
    delivered = publish_order(channel, "P-1")
    unsent = publish_stock(channel, "RED")  # nobody subscribed: no message
    fan_out()
    deliver_until(ep, all_done(ep))
    waiting = publish_order(channel, "P-2")  # still pending: kept whatever its age
    recent = publish_order(channel, "P-3")
    fan_out()
    old = timezone.now() - dt.timedelta(days=31)
    BusinessEvent.objects.filter(pk__in=[delivered.pk, unsent.pk, waiting.pk]).update(
        recorded_at=old
    )
    assert DeliveryAttempt.objects.filter(message__event=delivered).count() == 1
    # when purged
    assert services.events_purge() == 2
    # then the old finished ones are gone with their messages and attempts
    left = set(BusinessEvent.objects.values_list("pk", flat=True))
    assert left == {waiting.pk, recent.pk}
    assert not WebhookMessage.objects.filter(event_id=delivered.pk).exists()
    assert not DeliveryAttempt.objects.filter(message__event_id=delivered.pk).exists()
    assert services.events_purge() == 0
    assert services.events_purge(days=1000) == 0
    # and an explicit shorter retention reaches the recent ones once they are finished
    deliver_until(ep, all_done(ep))
    assert services.events_purge(days=30) == 1  # the waiting one, now delivered and old
    assert set(BusinessEvent.objects.values_list("pk", flat=True)) == {recent.pk}
