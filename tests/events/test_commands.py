"""`manage.py events …`: endpoints from the shell, through the same services (and audit)."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.core.models import AuditEntry
from apps.core.workrow import WorkState
from apps.events import services
from apps.events.delivery import deliver_endpoint
from apps.events.fanout import fanout_run
from apps.events.models import (
    BusinessEvent,
    DeliveryAttempt,
    EndpointSecret,
    WebhookEndpoint,
    WebhookMessage,
)
from apps.sales_channels.models import Channel

from .api_helpers import (
    Receiver,
    Rings,
    channel_with_token,
    outbound_settings,
    publish_held,
    record_rings,
    verify,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Rings:
    outbound_settings(settings)
    return record_rings(monkeypatch)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def channel() -> Channel:
    return channel_with_token("alpha")[0]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("events", *args, stdout=out)
    return out.getvalue()


def add(url: str, *extra: str) -> tuple[WebhookEndpoint, str]:
    text = run("add", url, *extra)
    found = re.fullmatch(
        r"endpoint (ep_\w+) created; its secret \(shown once\): (whsec_\S+)\n", text
    )
    assert found, text
    return WebhookEndpoint.objects.get(uid=found.group(1)), found.group(2)


def test_add_then_list_with_health(channel: Channel, receiver: Receiver) -> None:
    ep, secret = add(
        receiver.url,
        "--types",
        "order.held, shipment.dispatched",
        "--channel",
        "alpha",
        "--ordered",
    )
    assert ep.channel == channel and ep.ordered and ep.created_by == "cli"
    assert ep.event_types == ["order.held", "shipment.dispatched"]
    assert EndpointSecret.objects.get(endpoint=ep).secret == secret
    assert AuditEntry.objects.filter(action="events.endpoint_create", object_id=str(ep.pk)).exists()
    every, _ = add("https://hooks.example.test/all", "--types", "*")
    assert every.channel is None and every.event_types == ["*"]

    assert "no attempts" not in run("endpoints")
    services.endpoint_send_test(endpoint=ep, actor="t")
    receiver.status = 500
    services.endpoint_send_test(endpoint=ep, actor="t")
    lines = run("endpoints").splitlines()
    assert len(lines) == 2
    mine = next(line for line in lines if ep.uid in line)
    assert "active" in mine and "alpha" in mine and receiver.url in mine
    assert "ok24h= 50.0%" in mine and "backlog=0" in mine  # a failed test ping is not retried
    assert "last error: HTTP500: receiver says no" in mine
    theirs = next(line for line in lines if every.uid in line)
    assert "ok24h=     -" in theirs and "  *  " in theirs and secret not in "\n".join(lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ftp://x.example.test/", "--types", "order.held"), "must be an http(s) URL"),
        (("https://x.example.test/", "--types", "order.teleported"), "unknown event type"),
        (("https://x.example.test/", "--types", " , "), "at least one event type"),
        (("https://x.example.test/", "--types", "*", "--channel", "nope"), "no channel 'nope'"),
    ],
)
def test_add_refuses_what_the_service_refuses(
    channel: Channel, args: tuple[str, ...], message: str
) -> None:
    with pytest.raises(CommandError, match=re.escape(message)):
        run("add", *args)
    assert not WebhookEndpoint.objects.exists()


def test_test_event_by_uid_or_number(channel: Channel, receiver: Receiver) -> None:
    ep, secret = add(receiver.url, "--types", "*")
    assert re.fullmatch(r"delivered: HTTP 200 in \d+ ms\n", run("test", ep.uid))
    assert re.fullmatch(r"delivered: HTTP 200 in \d+ ms\n", run("test", str(ep.pk)))
    assert len(receiver.requests) == 2
    assert verify(secret, receiver.requests[0])["data"]["sent_by"] == "cli"
    receiver.status = 410
    with pytest.raises(CommandError, match="not delivered: HTTP410 receiver says no"):
        run("test", ep.uid)
    assert DeliveryAttempt.objects.filter(trigger="test").count() == 3
    # 410 Gone disables the endpoint
    assert WebhookEndpoint.objects.get(pk=ep.pk).state == WebhookEndpoint.State.DISABLED
    with pytest.raises(CommandError, match="no endpoint 'ep_nope'"):
        run("test", "ep_nope")


def test_disable_enable_pause_and_rotate(channel: Channel, receiver: Receiver) -> None:
    ep, old = add(receiver.url, "--types", "order.held", "--channel", "alpha")
    publish_held(channel, "PO-1")
    fanout_run()
    assert run("disable", ep.uid) == "disabled; 1 waiting messages failed (recoverable)\n"
    ep.refresh_from_db()
    assert (
        ep.state == WebhookEndpoint.State.DISABLED and ep.disabled_reason == "disabled from the CLI"
    )
    assert WebhookMessage.objects.get().state == WorkState.FAILED
    assert run("enable", ep.uid).startswith("enabled; recover what it missed")
    assert WebhookEndpoint.objects.get(pk=ep.pk).state == WebhookEndpoint.State.ACTIVE
    assert run("pause", ep.uid) == "paused; messages wait until it is enabled\n"
    assert WebhookEndpoint.objects.get(pk=ep.pk).state == WebhookEndpoint.State.PAUSED
    run("enable", ep.uid)

    text = run("rotate", ep.uid)
    found = re.fullmatch(
        r"new secret \(shown once; the old one signs for 24 h\): (whsec_\S+)\n", text
    )
    assert found
    new = found.group(1)
    assert new != old
    run("test", ep.uid)
    request = receiver.requests[-1]
    assert verify(new, request) and verify(old, request)
    actions = list(
        AuditEntry.objects.filter(object_id=str(ep.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "events.endpoint_create",
        "events.endpoint_disable",
        "events.endpoint_enable",
        "events.endpoint_pause",
        "events.endpoint_enable",
        "events.secret_rotate",
        "events.endpoint_test",
    ]


def test_recover_dry_run_counts_then_recovers(
    channel: Channel, receiver: Receiver, settings: Any
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0,)
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100
    ep, _ = add(receiver.url, "--types", "*", "--channel", "alpha")
    since = timezone.now()
    publish_held(channel, "PO-1")
    publish_held(channel, "PO-2")
    fanout_run()
    receiver.status = 500
    assert deliver_endpoint(endpoint_id=ep.pk)["failed"] == 2
    run("disable", ep.uid)
    publish_held(channel, "PO-3")
    fanout_run()
    stamp = since.isoformat()
    dry = run("recover", ep.uid, "--since", stamp, "--dry-run")
    assert dry == f"{ep.uid}: would send 2 failed and 1 missed messages\n"
    later = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert run("recover", ep.uid, "--since", later, "--dry-run").endswith(
        "would send 0 failed and 0 missed messages\n"
    )
    assert WebhookMessage.objects.filter(endpoint=ep).count() == 2
    assert not AuditEntry.objects.filter(action="events.endpoint_recover").exists()
    with pytest.raises(CommandError, match="is disabled: enable it first"):
        run("recover", ep.uid, "--since", stamp)
    with pytest.raises(CommandError, match="not an ISO date-time"):
        run("recover", ep.uid, "--since", "2026-13-01T00:00", "--dry-run")
    run("enable", ep.uid)
    # a naive time is taken as UTC (the settings' zone)
    naive = since.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    assert (
        run("recover", ep.uid, "--since", naive)
        == f"{ep.uid}: queued 2 failed and 1 missed messages\n"
    )
    assert WebhookMessage.objects.filter(endpoint=ep, state=WorkState.PENDING).count() == 3
    receiver.status = 200
    assert deliver_endpoint(endpoint_id=ep.pk)["delivered"] == 3


def test_resend_one_message(channel: Channel, receiver: Receiver) -> None:
    ep, _ = add(receiver.url, "--types", "*")
    publish_held(channel, "PO-1")
    fanout_run()
    msg = WebhookMessage.objects.get()
    assert run("resend", str(msg.pk)).startswith("delivered: HTTP 200")
    assert WebhookMessage.objects.get().state == WorkState.DONE
    assert DeliveryAttempt.objects.get().trigger == DeliveryAttempt.Trigger.MANUAL
    with pytest.raises(CommandError, match="no message 999999"):
        run("resend", "999999")


def test_purge_keeps_recent_and_unfinished_events(channel: Channel, settings: Any) -> None:
    settings.HUB_EVENTS_RETENTION_DAYS = 30
    ep, _ = add("https://hooks.example.test/a", "--types", "*")
    old_done = publish_held(channel, "OLD-DONE")
    old_pending = publish_held(channel, "OLD-PENDING")
    recent = publish_held(channel, "RECENT")
    fanout_run()
    long_ago = timezone.now() - dt.timedelta(days=31)
    BusinessEvent.objects.filter(pk__in=[old_done.pk, old_pending.pk]).update(recorded_at=long_ago)
    done = WebhookMessage.objects.get(event=old_done)
    WebhookMessage.objects.filter(pk=done.pk).update(state=WorkState.DONE)
    DeliveryAttempt.objects.create(
        message=done, endpoint=ep, number=1, started_at=long_ago, status_code=200, success=True
    )
    assert run("purge") == "purged 1 events\n"
    assert set(BusinessEvent.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
    assert not WebhookMessage.objects.filter(event_id=old_done.pk).exists()
    assert not DeliveryAttempt.objects.exists()
    # a shorter retention, given on the command line
    BusinessEvent.objects.filter(pk=recent.pk).update(
        recorded_at=timezone.now() - dt.timedelta(days=3)
    )
    WebhookMessage.objects.update(state=WorkState.DONE)
    assert run("purge", "--days", "2") == "purged 2 events\n"
    assert not BusinessEvent.objects.exists()
