"""The webhook admin: endpoints (health, actions, secrets shown once), messages with their
attempts, business events; every change audited with the operator. One browser test drives it
in Chromium against a loopback receiver."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
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

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENDPOINTS = "admin:events_webhookendpoint_changelist"
MESSAGES = "admin:events_webhookmessage_changelist"


@pytest.fixture(autouse=True)
def rings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Rings:
    outbound_settings(settings)
    return record_rings(monkeypatch)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def operator(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("ops", password=None)


@pytest.fixture
def ops(client: Client, operator: Any) -> Client:
    client.force_login(operator)
    return client


@pytest.fixture
def channel(db: None) -> Channel:
    return channel_with_token("alpha")[0]


def endpoint(channel: Channel | None, url: str, **kw: Any) -> tuple[WebhookEndpoint, str]:
    kw.setdefault("event_types", ["*"])
    return services.endpoint_create(url=url, channel=channel, actor="setup", **kw)


def act(client: Client, action: str, pks: list[int], url: str = ENDPOINTS, **extra: Any) -> Any:
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}
    if not any(k.startswith("_") and k != "_selected_action" for k in extra):
        data["index"] = "0"  # the changelist's "Go" button
    return client.post(reverse(url), data, follow=True)


def said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


# --- endpoints: list, detail, add, change -------------------------------------------------------


@pytest.mark.django_db
def test_endpoint_list_shows_health_and_never_a_secret(
    ops: Client, channel: Channel, receiver: Receiver, settings: Any
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0,)
    ep, secret = endpoint(channel, receiver.url, event_types=["order.held"])
    assert services.endpoint_send_test(endpoint=ep, actor="t").success
    assert services.endpoint_send_test(endpoint=ep, actor="t").success
    receiver.status = 500
    assert not services.endpoint_send_test(endpoint=ep, actor="t").success
    publish_held(channel, "PO-1")
    publish_held(channel, "PO-2")
    fanout_run()
    ep.refresh_from_db()
    assert ep.failing_since is not None and ep.last_error == "HTTP500: receiver says no"
    page = ops.get(reverse(ENDPOINTS)).content.decode()
    row = re.search(
        r"<tr[^>]*>.*?</tr>", page.split('id="result_list"')[1].split("<tbody>")[1], re.S
    )
    assert row is not None
    cells = row.group(0)
    for expected in (
        ep.uid,
        "Active",
        "alpha",
        receiver.url,
        "order.held",
        "66.7% of 3",
        "HTTP500",
    ):
        assert expected in cells, expected
    assert re.search(r'class="field-backlog">2<', cells)
    assert f"{timezone.localtime(ep.failing_since):%Y}" in cells
    detail = ops.get(reverse("admin:events_webhookendpoint_change", args=[ep.pk]))
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "1 valid (never shown again" in text
    for body in (page, text):
        assert secret not in body and secret[6:] not in body


@pytest.mark.django_db
def test_add_goes_through_the_service_and_shows_the_secret_once(
    ops: Client, operator: Any, channel: Channel, receiver: Receiver
) -> None:
    add = reverse("admin:events_webhookendpoint_add")
    assert ops.get(add).status_code == 200
    resp = ops.post(
        add,
        {
            "url": receiver.url,
            "description": "warehouse bridge",
            "channel": channel.pk,
            "event_types": ["order.held", "shipment.dispatched"],
            "max_in_flight": "2",
        },
        follow=True,
    )
    assert resp.redirect_chain == [(reverse(ENDPOINTS), 302)]
    ep = WebhookEndpoint.objects.get()
    assert ep.channel == channel and ep.created_by == "ops" and ep.max_in_flight == 2
    assert ep.event_types == ["order.held", "shipment.dispatched"]
    shown = [m for m in said(resp) if "whsec_" in m]
    assert len(shown) == 1 and ep.uid in shown[0]
    secret = shown[0].rsplit(" ", 1)[1]
    assert EndpointSecret.objects.get(endpoint=ep).secret == secret
    # it signs the deliveries
    assert services.endpoint_send_test(endpoint=ep, actor="t").success
    assert verify(secret, receiver.requests[-1])["data"]["endpoint"] == ep.uid
    # audited once, by the service, with the operator; Django's history has its entry too
    [entry] = audits("events.endpoint_create")
    assert entry.user == operator and entry.after["url"] == receiver.url
    assert not audits("add")
    assert LogEntry.objects.filter(object_id=str(ep.pk)).exists()
    # the secret is not shown again
    again = ops.get(reverse("admin:events_webhookendpoint_change", args=[ep.pk]))
    assert secret not in again.content.decode()
    assert all("whsec_" not in m for m in said(again))


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"url": "ftp://hooks.example.test/"}, "url", "must be an http(s) URL"),
        ({"url": "no url at all"}, "url", "Enter a valid URL"),
        ({"url": "http://127.0.0.1:9/hooks"}, "url", "loopback address"),
        ({"event_types": []}, "event_types", "This field is required"),
        ({"event_types": ["order.teleported"]}, "event_types", "Select a valid choice"),
        ({"event_types": ["hub.ping"]}, "event_types", "Select a valid choice"),
        ({"max_in_flight": "40"}, "max_in_flight", "less than or equal to 16"),
    ],
)
@pytest.mark.django_db
def test_add_shows_validation_errors_on_the_form(
    ops: Client, settings: Any, data: dict[str, Any], field: str, error: str
) -> None:
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    body = {"url": "https://1.1.1.1/hooks", "event_types": ["order.held"], "max_in_flight": "4"}
    body.update(data)
    resp = ops.post(reverse("admin:events_webhookendpoint_add"), body)
    assert resp.status_code == 200
    errors = resp.context["adminform"].form.errors
    assert field in errors, errors
    assert error in " ".join(errors[field])
    assert not WebhookEndpoint.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_change_goes_through_the_service_audited(
    ops: Client, operator: Any, channel: Channel, settings: Any
) -> None:
    ep, _ = endpoint(channel, "https://hooks.example.test/a", event_types=["order.held"])
    url = reverse("admin:events_webhookendpoint_change", args=[ep.pk])
    form = {
        "url": ep.url,
        "description": "now with shipments",
        "event_types": ["order.held", "shipment.dispatched"],
        "max_in_flight": "4",
    }
    assert ops.post(url, form).status_code == 302
    ep.refresh_from_db()
    assert ep.description == "now with shipments"
    assert ep.event_types == ["order.held", "shipment.dispatched"]
    [entry] = audits("events.endpoint_update")
    assert entry.user == operator
    assert entry.before["description"] == "" and entry.after["description"] == "now with shipments"
    assert not audits("change")
    # a refused URL is an error on the form, and changes nothing
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    resp = ops.post(url, {**form, "url": "https://10.0.0.8/x"})
    assert resp.status_code == 200
    assert "private address" in " ".join(resp.context["adminform"].form.errors["url"])
    ep.refresh_from_db()
    assert ep.url == "https://hooks.example.test/a"
    # the state is not a form field: a posted one is ignored (the actions change it)
    assert ops.post(url, {**form, "state": "disabled"}).status_code == 302
    assert WebhookEndpoint.objects.get(pk=ep.pk).state == WebhookEndpoint.State.ACTIVE


@pytest.mark.django_db
def test_delete_goes_through_the_service(
    ops: Client, operator: Any, channel: Channel, receiver: Receiver
) -> None:
    ep, secret = endpoint(channel, receiver.url)
    other, _ = endpoint(channel, "https://hooks.example.test/b")
    publish_held(channel, "PO-1")
    fanout_run()
    services.endpoint_send_test(endpoint=ep, actor="t")
    url = reverse("admin:events_webhookendpoint_delete", args=[ep.pk])
    # the confirmation: a summary with counts (messages have no delete permission of their own)
    confirm = ops.get(url)
    assert confirm.status_code == 200
    assert confirm.context["perms_lacking"] == set()
    assert dict(confirm.context["model_count"]) == {
        "webhook endpoints": 1,
        "webhook messages": 2,
        "delivery attempts": 1,
    }
    assert secret not in confirm.content.decode()
    assert ops.post(url, {"post": "yes"}).status_code == 302
    assert list(WebhookEndpoint.objects.all()) == [other]
    assert list(WebhookMessage.objects.values_list("endpoint_id", flat=True)) == [other.pk]
    assert not EndpointSecret.objects.filter(endpoint_id=ep.pk).exists()
    [entry] = audits("events.endpoint_delete")
    assert entry.user == operator and entry.before["url"] == receiver.url
    assert not audits("delete")
    # and the list's bulk delete the same way
    act(ops, "delete_selected", [other.pk], post="yes")
    assert not WebhookEndpoint.objects.exists()
    assert len(audits("events.endpoint_delete")) == 2


# --- endpoint actions ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_test_event_shows_the_outcome(
    ops: Client, operator: Any, channel: Channel, receiver: Receiver
) -> None:
    ep, secret = endpoint(channel, receiver.url)
    resp = act(ops, "send_test_event", [ep.pk])
    assert resp.redirect_chain == [(reverse(ENDPOINTS), 302)]
    [msg] = said(resp)
    assert msg.startswith(f"Test event delivered to {receiver.url}: HTTP 200 in ")
    [request] = receiver.requests
    assert verify(secret, request)["type"] == "hub.ping"
    assert request.json["data"]["sent_by"] == "ops"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.trigger == DeliveryAttempt.Trigger.TEST and attempt.success
    [entry] = audits("events.endpoint_test")
    assert entry.user == operator and entry.object_id == str(ep.pk)
    # a failing receiver: the failure and its cause are shown
    receiver.status = 503
    [msg] = said(act(ops, "send_test_event", [ep.pk]))
    assert msg.startswith(f"Test event to {receiver.url} failed: HTTP503")
    assert "receiver says no" in msg


@pytest.mark.django_db
def test_enable_pause_disable_are_audited(
    ops: Client,
    operator: Any,
    channel: Channel,
    rings: Rings,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ep, _ = endpoint(channel, "https://hooks.example.test/a")
    other, _ = endpoint(None, "https://hooks.example.test/b")
    publish_held(channel, "PO-1")
    fanout_run()
    assert WebhookMessage.objects.filter(state=WorkState.PENDING).count() == 2

    resp = act(ops, "pause", [ep.pk])
    assert said(resp) == ["1 endpoint(s) paused; their messages wait."]
    assert WebhookEndpoint.objects.get(pk=ep.pk).state == WebhookEndpoint.State.PAUSED

    resp = act(ops, "disable", [ep.pk, other.pk])
    assert said(resp) == ["2 endpoint(s) disabled; 2 waiting message(s) failed (recoverable)."]
    for row in WebhookEndpoint.objects.all():
        assert row.state == WebhookEndpoint.State.DISABLED
        assert row.disabled_reason == "disabled by ops in the admin"
    assert WebhookMessage.objects.filter(state=WorkState.FAILED).count() == 2

    WebhookEndpoint.objects.filter(pk=ep.pk).update(
        failing_since=timezone.now(), consecutive_failures=9, blocked_until=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        resp = act(ops, "enable", [ep.pk])
    assert rings.deliver == [ep.pk]  # its waiting messages are delivered at once
    assert "1 endpoint(s) enabled" in said(resp)[0] and "Recover since" in said(resp)[0]
    ep.refresh_from_db()
    assert ep.state == WebhookEndpoint.State.ACTIVE and ep.disabled_reason == ""
    assert ep.failing_since is None and ep.consecutive_failures == 0 and ep.blocked_until is None
    assert WebhookEndpoint.objects.get(pk=other.pk).state == WebhookEndpoint.State.DISABLED

    assert [e.object_id for e in audits("events.endpoint_pause")] == [str(ep.pk)]
    assert sorted(e.object_id for e in audits("events.endpoint_disable")) == sorted(
        [str(ep.pk), str(other.pk)]
    )
    assert [e.object_id for e in audits("events.endpoint_enable")] == [str(ep.pk)]
    for action in ("events.endpoint_pause", "events.endpoint_disable", "events.endpoint_enable"):
        assert {e.user for e in audits(action)} == {operator}


@pytest.mark.django_db
def test_rotate_secret_shows_the_new_one_once(
    ops: Client, operator: Any, channel: Channel, receiver: Receiver
) -> None:
    ep, old = endpoint(channel, receiver.url)
    resp = act(ops, "rotate_secret", [ep.pk])
    [msg] = said(resp)
    assert ep.uid in msg and "shown once" in msg
    new = msg.rsplit(" ", 1)[1]
    assert new.startswith("whsec_") and new != old
    assert EndpointSecret.objects.filter(endpoint=ep).count() == 2
    assert services.endpoint_send_test(endpoint=ep, actor="t").success
    assert verify(new, receiver.requests[-1]) and verify(old, receiver.requests[-1])
    [entry] = audits("events.secret_rotate")
    assert entry.user == operator and new not in str(entry.after)
    detail = ops.get(reverse("admin:events_webhookendpoint_change", args=[ep.pk]))
    text = detail.content.decode()
    assert new not in text and old not in text
    assert "2 valid" in text and "the previous one signs until" in text


@pytest.mark.django_db
def test_recover_since_counts_first_then_confirms(
    ops: Client, operator: Any, channel: Channel, receiver: Receiver, settings: Any
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0,)
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100
    ep, _ = endpoint(channel, receiver.url)
    receiver.status = 500
    since = timezone.now()
    publish_held(channel, "PO-1")
    publish_held(channel, "PO-2")
    fanout_run()
    assert deliver_endpoint(endpoint_id=ep.pk)["failed"] == 2
    services.endpoint_disable(endpoint=ep, reason="test", actor="t")
    publish_held(channel, "PO-3")  # missed while disabled
    fanout_run()

    # the action opens the page: a time field, no counts yet, nothing changed
    page = act(ops, "recover_since", [ep.pk])
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="since"' in text and 'type="datetime-local"' in text
    assert "recover-counts" not in text and "Enable it first" in text
    since_text = f"{timezone.localtime(since):%Y-%m-%dT%H:%M:%S.%f}"
    counted = act(ops, "recover_since", [ep.pk], since=since_text, _count="1")
    assert counted.status_code == 200
    text = counted.content.decode()
    assert re.search(r'class="requeued">2<', text) and re.search(r'class="created">1<', text)
    assert 'name="_confirm"' in text
    assert WebhookMessage.objects.filter(endpoint=ep, state=WorkState.FAILED).count() == 2
    assert not audits("events.endpoint_recover")
    counted_since = re.search(r'name="counted_since" value="([^"]+)"', text)
    assert counted_since is not None
    # confirming while disabled: refused, said, nothing changed
    refused = act(ops, "recover_since", [ep.pk], counted_since=counted_since.group(1), _confirm="1")
    assert refused.redirect_chain == [(reverse(ENDPOINTS), 302)]
    assert "enable it first" in said(refused)[0]
    assert WebhookMessage.objects.filter(endpoint=ep).count() == 2
    # enabled: the confirmation sends again what failed and queues what was missed
    act(ops, "enable", [ep.pk])
    done = act(ops, "recover_since", [ep.pk], counted_since=counted_since.group(1), _confirm="1")
    assert done.redirect_chain == [(reverse(ENDPOINTS), 302)]
    assert said(done)[0].startswith(f"{ep.uid}: 2 failed message(s) sent again and 1 missed")
    assert WebhookMessage.objects.filter(endpoint=ep, state=WorkState.PENDING).count() == 3
    [entry] = audits("events.endpoint_recover")
    assert entry.user == operator and entry.after["requeued"] == 2 and entry.after["created"] == 1
    receiver.status = 200
    assert deliver_endpoint(endpoint_id=ep.pk)["delivered"] == 3
    # a bad time is shown on the page
    bad = act(ops, "recover_since", [ep.pk], since="yesterday-ish", _count="1")
    assert bad.status_code == 200 and "Enter a valid date/time" in bad.content.decode()


@pytest.mark.django_db
def test_view_only_staff_see_but_cannot_act(
    client: Client, django_user_model: Any, channel: Channel, receiver: Receiver
) -> None:
    viewer = django_user_model.objects.create_user("viewer", password=None, is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="events",
            codename__in=[
                "view_webhookendpoint",
                "view_webhookmessage",
                "view_deliveryattempt",
                "view_businessevent",
            ],
        )
    )
    ep, _ = endpoint(channel, receiver.url)
    services.endpoint_send_test(endpoint=ep, actor="t")
    client.force_login(viewer)
    page = client.get(reverse(ENDPOINTS))
    assert page.status_code == 200 and ep.uid in page.content.decode()
    assert "send_test_event" not in page.content.decode()
    act(client, "send_test_event", [ep.pk])
    act(client, "disable", [ep.pk])
    assert len(receiver.requests) == 1
    assert WebhookEndpoint.objects.get().state == WebhookEndpoint.State.ACTIVE
    msg = WebhookMessage.objects.get()
    assert (
        client.get(reverse("admin:events_webhookmessage_change", args=[msg.pk])).status_code == 200
    )
    act(client, "resend", [msg.pk], url=MESSAGES)
    assert DeliveryAttempt.objects.count() == 1
    assert client.get(reverse("admin:events_webhookendpoint_add")).status_code == 403


# --- messages and events ------------------------------------------------------------------------


@pytest.mark.django_db
def test_messages_list_filters_detail_with_attempts_and_resend(
    ops: Client, operator: Any, channel: Channel, receiver: Receiver, settings: Any
) -> None:
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100
    ep, _ = endpoint(channel, receiver.url)
    quiet, _ = endpoint(channel, "https://hooks.example.test/quiet", event_types=["order.held"])
    services.endpoint_pause(endpoint=quiet, actor="t")
    held = publish_held(channel, "PO-9")
    fanout_run()
    receiver.status = 502
    deliver_endpoint(endpoint_id=ep.pk)
    msg = WebhookMessage.objects.get(endpoint=ep, event=held)
    assert msg.state == WorkState.PENDING and msg.last_status == 502

    listing = ops.get(reverse(MESSAGES)).content.decode()
    for expected in ("order.held", held.entity_key, ep.uid, "pending", "502"):
        assert expected in listing, expected
    by_endpoint = ops.get(reverse(MESSAGES), {"endpoint__id__exact": quiet.pk})
    assert list(by_endpoint.context["cl"].result_list) == [
        WebhookMessage.objects.get(endpoint=quiet)
    ]
    by_state = ops.get(reverse(MESSAGES), {"state__exact": "pending"})
    assert by_state.context["cl"].result_count == 2
    by_type = ops.get(reverse(MESSAGES), {"event__type": "stock.threshold_breached"})
    assert by_type.context["cl"].result_count == 0
    assert ops.get(reverse(MESSAGES), {"event__type": "order.held"}).context["cl"].result_count == 2

    receiver.status = 200
    resp = act(ops, "resend", [msg.pk], url=MESSAGES)
    [said_] = said(resp)
    assert said_.startswith(f"Message {msg.pk} to {receiver.url} delivered: HTTP 200")
    msg.refresh_from_db()
    assert msg.state == WorkState.DONE and msg.delivered_at is not None
    [entry] = audits("events.message_resend")
    assert entry.user == operator and entry.object_id == str(msg.pk)

    detail = ops.get(reverse("admin:events_webhookmessage_change", args=[msg.pk]))
    assert detail.status_code == 200
    attempts = detail.context["inline_admin_formsets"][0]
    rows = [f.form.instance for f in attempts]
    assert [(a.number, a.status_code, a.trigger) for a in rows] == [
        (1, 502, "scheduled"),
        (2, 200, "manual"),
    ]
    text = detail.content.decode()
    assert "resend" in text and "PO-9" in text and held.uid in text
    # read-only: no saving, adding or deleting through the admin
    change = reverse("admin:events_webhookmessage_change", args=[msg.pk])
    assert ops.post(change, {"state": "failed"}).status_code == 403
    assert ops.get(reverse("admin:events_webhookmessage_add")).status_code == 403
    delete = reverse("admin:events_webhookmessage_delete", args=[msg.pk])
    assert ops.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookMessage.objects.get(pk=msg.pk).state == WorkState.DONE


@pytest.mark.django_db
def test_business_events_are_read_only(ops: Client, channel: Channel) -> None:
    event = publish_held(channel, "PO-77")
    fanout_run()
    event.refresh_from_db()
    listing = ops.get(reverse("admin:events_businessevent_changelist")).content.decode()
    assert event.uid in listing and "order.held" in listing and event.entity_key in listing
    url = reverse("admin:events_businessevent_change", args=[event.pk])
    detail = ops.get(url)
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "PO-77" in text and "over the credit limit" in text and str(event.seq) in text
    assert ops.post(url, {"type": "order.cancelled"}).status_code == 403
    assert ops.get(reverse("admin:events_businessevent_add")).status_code == 403
    delete = reverse("admin:events_businessevent_delete", args=[event.pk])
    assert ops.post(delete, {"post": "yes"}).status_code == 403
    assert BusinessEvent.objects.get(pk=event.pk).type == "order.held"


# --- in a browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_send_test_event_then_the_message_and_its_attempts(
    live_server: Any, django_user_model: Any, receiver: Receiver
) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Chromium")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    django_user_model.objects.create_superuser("root", password="pw")
    ep, secret = endpoint(None, receiver.url, description="browser receiver")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/admin/login/?next=/admin/events/webhookendpoint/")
        page.fill("#id_username", "root")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_selector("#result_list")
        assert receiver.url in page.inner_text("#result_list")
        page.check(f"#result_list input[name=_selected_action][value='{ep.pk}']")
        page.select_option("select[name=action]", "send_test_event")
        page.click("button[name=index]")
        page.wait_for_selector(".messagelist")
        assert f"Test event delivered to {receiver.url}: HTTP 200" in page.inner_text(
            ".messagelist"
        )
        assert secret not in page.content()
        # the message of that test event, with its attempt
        page.goto(f"{live_server.url}/admin/events/webhookmessage/")
        page.wait_for_selector("#result_list")
        assert "hub.ping" in page.inner_text("#result_list")
        page.click("#result_list tbody th a")
        page.wait_for_selector(".inline-group")
        attempts = page.inner_text(".inline-group")
        assert "test event" in attempts and "200" in attempts
        browser.close()
    [request] = receiver.requests
    assert verify(secret, request)["data"]["sent_by"] == "root"
    assert DeliveryAttempt.objects.get().status_code == 200
