"""The events API over HTTP: partners' webhook endpoints, the pull API, the catalog, the schema."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient
from standardwebhooks.webhooks import WebhookVerificationError

from apps.core.models import AuditEntry
from apps.core.workrow import WorkState
from apps.events import services
from apps.events.catalog import SCHEMA_DIR
from apps.events.delivery import deliver_endpoint
from apps.events.fanout import fanout_run
from apps.events.models import BusinessEvent, WebhookEndpoint, WebhookMessage
from apps.events.publish import event_publish

from .api_helpers import (
    Receiver,
    Rings,
    channel_with_token,
    outbound_settings,
    publish_held,
    publish_stock,
    record_rings,
    verify,
)

pytestmark = pytest.mark.django_db

MANAGE = "events:manage"
READ = "events:read"
ENDPOINTS = "/api/v1/webhook-endpoints/"


@pytest.fixture(autouse=True)
def rings(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Rings:
    outbound_settings(settings)
    return record_rings(monkeypatch)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def manager() -> APIClient:
    return channel_with_token("alpha", MANAGE, READ)[1]


def create(client: APIClient, **body: Any) -> Any:
    body.setdefault("url", "https://hooks.example.test/alpha")
    body.setdefault("event_types", ["order.held"])
    return client.post(ENDPOINTS, data=json.dumps(body), content_type="application/json")


def patch(client: APIClient, endpoint_id: str, **body: Any) -> Any:
    return client.patch(
        f"{ENDPOINTS}{endpoint_id}/", data=json.dumps(body), content_type="application/json"
    )


def post(client: APIClient, path: str, **body: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


# --- endpoints ------------------------------------------------------------------------------------


def test_endpoint_lifecycle_and_the_secret_is_shown_once(
    manager: APIClient, receiver: Receiver
) -> None:
    created = create(
        manager,
        url=receiver.url,
        event_types=["order.held", "stock.threshold_breached"],
        description="ERP bridge",
        ordered=True,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert body["id"].startswith("ep_") and body["channel"] == "alpha"
    assert body["event_types"] == ["order.held", "stock.threshold_breached"]
    assert body["ordered"] is True and body["state"] == "active"
    ep_id = body["id"]

    # the secret never appears again: not in the list, the detail, nor the change's answer
    listed = manager.get(ENDPOINTS)
    assert listed.status_code == 200
    assert [e["id"] for e in listed.json()] == [ep_id]
    detail = manager.get(f"{ENDPOINTS}{ep_id}/")
    assert detail.status_code == 200 and detail.json()["description"] == "ERP bridge"
    changed = patch(manager, ep_id, description="ERP bridge v2", event_types=["*"])
    assert changed.status_code == 200, changed.content
    for answer in (listed, detail, changed):
        assert "secret" not in answer.content.decode().lower()
        assert secret not in answer.content.decode()
    assert changed.json()["event_types"] == ["*"]
    assert changed.json()["description"] == "ERP bridge v2"

    # and it is the secret that signs: a test event verifies with the independent package
    outcome = services.endpoint_send_test(
        endpoint=WebhookEndpoint.objects.get(uid=ep_id), actor="test"
    )
    assert outcome.success
    assert verify(secret, receiver.requests[-1])["type"] == "hub.ping"

    paused = patch(manager, ep_id, state="paused")
    assert paused.status_code == 200 and paused.json()["state"] == "paused"
    assert WebhookEndpoint.objects.get(uid=ep_id).state == WebhookEndpoint.State.PAUSED

    gone = manager.delete(f"{ENDPOINTS}{ep_id}/")
    assert gone.status_code == 204
    assert manager.get(f"{ENDPOINTS}{ep_id}/").status_code == 404
    assert not WebhookEndpoint.objects.filter(uid=ep_id).exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "events.endpoint_create",
        "events.endpoint_update",
        "events.endpoint_pause",
        "events.endpoint_delete",
    } <= actions
    # no audit row carries the secret
    assert secret not in json.dumps(list(AuditEntry.objects.values("before", "after")))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://hooks.example.test/x"}, "url"),
        ({"event_types": ["order.teleported"]}, "event_types[0]"),
        ({"event_types": []}, "event_types"),
        ({"event_types": ["hub.ping"]}, "event_types[0]"),
        ({"event_types": "order.held"}, "event_types"),
        ({"max_in_flight": 99}, "max_in_flight"),
        # JSON types are strict (the schema says so): no number for a string, no 0 for false
        ({"description": 0}, "description"),
        ({"ordered": 0}, "ordered"),
        ({"max_in_flight": "4"}, "max_in_flight"),
        ({"event_types": [""]}, "event_types[0]"),
    ],
)
def test_create_validation_names_the_field(
    manager: APIClient, body: dict[str, Any], field: str
) -> None:
    resp = create(manager, **body)
    assert resp.status_code == 400, resp.content
    err = resp.json()
    assert err["error"] == "invalid_request"
    assert err["field"] == field
    assert err["reason"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hooks", "https://10.1.2.3/hooks"])
def test_private_addresses_are_refused_unless_allowed(
    manager: APIClient, settings: Any, url: str
) -> None:
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    resp = create(manager, url=url)
    # A well-formed URL the hub may not call: the document accepts it, a rule refuses it.
    assert resp.status_code == 422
    assert resp.json()["field"] == "url"
    assert "address" in resp.json()["reason"]
    assert not WebhookEndpoint.objects.exists()
    # a change to such a URL is refused the same way, and changes nothing
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = True
    ep_id = create(manager).json()["id"]
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = False
    resp = patch(manager, ep_id, url=url)
    assert resp.status_code == 422 and resp.json()["field"] == "url"
    assert WebhookEndpoint.objects.get(uid=ep_id).url == "https://hooks.example.test/alpha"
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = True
    assert create(manager, url=url).status_code == 201


def test_bodies_are_json(manager: APIClient) -> None:
    form = manager.post(ENDPOINTS, {"url": "https://x.example.test/", "event_types": "*"})
    assert form.status_code == 415
    assert form.json()["error"] == "unsupported_media_type" and form.json()["field"] is None
    broken = manager.post(ENDPOINTS, data="{nope", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["error"] == "invalid_request"
    assert manager.put(ENDPOINTS, data="{}", content_type="application/json").status_code == 405
    assert not WebhookEndpoint.objects.exists()


def test_a_blank_description_is_accepted(manager: APIClient) -> None:
    resp = create(manager, description="")
    assert resp.status_code == 201, resp.content


def test_patch_validation_names_the_field(manager: APIClient) -> None:
    ep_id = create(manager).json()["id"]
    for body, field in (
        ({"event_types": ["nope.never"]}, "event_types[0]"),
        ({"event_types": []}, "event_types"),
        ({"state": "sleeping"}, "state"),
        ({"url": "nope"}, "url"),
    ):
        resp = patch(manager, ep_id, **body)
        assert resp.status_code == 400, body
        assert resp.json()["field"] == field
    ep = WebhookEndpoint.objects.get(uid=ep_id)
    assert ep.event_types == ["order.held"] and ep.state == WebhookEndpoint.State.ACTIVE


def test_patching_the_current_state_is_not_a_transition(manager: APIClient) -> None:
    """A client that sends the whole representation back must not reset the failure clock
    (which auto-disables an endpoint failing for 5 days) by repeating `state: active`."""
    ep_id = create(manager).json()["id"]
    since = timezone.now() - dt.timedelta(days=4)
    WebhookEndpoint.objects.filter(uid=ep_id).update(failing_since=since, consecutive_failures=7)
    resp = patch(manager, ep_id, state="active", description="same state")
    assert resp.status_code == 200 and resp.json()["description"] == "same state"
    ep = WebhookEndpoint.objects.get(uid=ep_id)
    assert ep.failing_since == since and ep.consecutive_failures == 7
    assert not AuditEntry.objects.filter(action="events.endpoint_enable").exists()
    for _ in range(2):
        assert patch(manager, ep_id, state="disabled").json()["state"] == "disabled"
    assert AuditEntry.objects.filter(action="events.endpoint_disable").count() == 1
    # a real transition still is one
    assert patch(manager, ep_id, state="active").json()["state"] == "active"
    ep.refresh_from_db()
    assert ep.failing_since is None and ep.consecutive_failures == 0


def test_channels_do_not_see_each_others_endpoints_nor_events(manager: APIClient) -> None:
    beta, beta_client = channel_with_token("beta", MANAGE, READ)
    alpha_ep = create(manager).json()["id"]
    beta_ep = create(beta_client, url="https://hooks.example.test/beta").json()["id"]
    # alpha's token: beta's endpoint does not exist for it, whatever the method
    assert manager.get(f"{ENDPOINTS}{beta_ep}/").status_code == 404
    resp = patch(manager, beta_ep, url="https://evil.example.test/")
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"
    assert manager.delete(f"{ENDPOINTS}{beta_ep}/").status_code == 404
    assert post(manager, f"{ENDPOINTS}{beta_ep}/rotate-secret/").status_code == 404
    recover = post(manager, f"{ENDPOINTS}{beta_ep}/recover/", since="2020-01-01T00:00:00Z")
    assert recover.status_code == 404
    assert [e["id"] for e in manager.get(ENDPOINTS).json()] == [alpha_ep]
    beta_row = WebhookEndpoint.objects.get(uid=beta_ep)
    assert beta_row.url == "https://hooks.example.test/beta"
    assert beta_row.secrets.count() == 1
    # nor beta's events in the pull API
    alpha = WebhookEndpoint.objects.get(uid=alpha_ep).channel
    assert alpha is not None
    publish_held(alpha, "A-1")
    publish_held(beta, "B-1")
    publish_stock(beta, "B-SKU")
    fanout_run()
    alpha_page = manager.get("/api/v1/events/").json()
    assert [e["data"]["order"]["number"] for e in alpha_page["data"]] == ["A-1"]
    assert {e["channel"] for e in alpha_page["data"]} == {"alpha"}
    beta_page = beta_client.get("/api/v1/events/").json()
    assert [e["type"] for e in beta_page["data"]] == ["order.held", "stock.threshold_breached"]
    # each endpoint got only its own channel's events
    assert set(
        WebhookMessage.objects.filter(endpoint__uid=alpha_ep).values_list(
            "event__channel__code", flat=True
        )
    ) == {"alpha"}


def test_scopes_and_tokens(manager: APIClient) -> None:
    _, reader = channel_with_token("alpha", READ)
    _, writer = channel_with_token("alpha", "orders:write")
    _, anonymous = channel_with_token("alpha")
    ep_id = create(manager).json()["id"]
    # a reader may pull events but not manage endpoints
    assert reader.get("/api/v1/events/").status_code == 200
    for resp in (
        reader.get(ENDPOINTS),
        create(reader),
        reader.get(f"{ENDPOINTS}{ep_id}/"),
        patch(reader, ep_id, description="x"),
        reader.delete(f"{ENDPOINTS}{ep_id}/"),
        post(reader, f"{ENDPOINTS}{ep_id}/rotate-secret/"),
    ):
        assert resp.status_code == 403, resp.content
        assert resp.json()["error"] == "forbidden" and MANAGE in resp.json()["reason"]
    # a token for other things may do neither
    assert writer.get("/api/v1/events/").status_code == 403
    assert writer.get(ENDPOINTS).status_code == 403
    # no token, or a wrong one: 401 and a challenge
    for client in (anonymous, APIClient()):
        resp = client.get(ENDPOINTS)
        assert resp.status_code == 401
        assert resp.json()["error"] == "unauthorized"
        assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert anonymous.get("/api/v1/events/").status_code == 401
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer hub_000000000000_forged")
    assert forged.get(ENDPOINTS).status_code == 401
    # nothing changed through the refused calls
    assert WebhookEndpoint.objects.get(uid=ep_id).description == ""
    assert WebhookEndpoint.objects.count() == 1


def test_rotate_secret_returns_a_new_one_and_both_sign_for_a_while(
    manager: APIClient, receiver: Receiver
) -> None:
    created = create(manager, url=receiver.url).json()
    before = timezone.now()
    resp = post(manager, f"{ENDPOINTS}{created['id']}/rotate-secret/")
    assert resp.status_code == 200, resp.content
    new = resp.json()["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    until = dt.datetime.fromisoformat(resp.json()["previous_valid_until"].replace("Z", "+00:00"))
    assert before + dt.timedelta(hours=23) < until <= timezone.now() + dt.timedelta(hours=24)
    ep = WebhookEndpoint.objects.get(uid=created["id"])
    assert services.endpoint_send_test(endpoint=ep, actor="test").success
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert verify(new, request)["type"] == "hub.ping"
    assert verify(created["secret"], request)["type"] == "hub.ping"
    with pytest.raises(WebhookVerificationError):
        verify("whsec_" + "A" * 43 + "=", request)
    assert AuditEntry.objects.filter(action="events.secret_rotate").count() == 1
    # a second rotation is another secret again
    again = post(manager, f"{ENDPOINTS}{created['id']}/rotate-secret/").json()["secret"]
    assert again not in (new, created["secret"])


def test_recover_counts_dry_run_then_resends(
    manager: APIClient, receiver: Receiver, settings: Any
) -> None:
    settings.HUB_WEBHOOK_RETRY_SCHEDULE = (0.0,)  # one attempt, then failed
    ep_id = create(manager, url=receiver.url, event_types=["*"]).json()["id"]
    ep = WebhookEndpoint.objects.get(uid=ep_id)
    channel = ep.channel
    assert channel is not None
    publish_held(channel, "OLD")
    fanout_run()
    receiver.status = 503
    assert deliver_endpoint(endpoint_id=ep.pk) == {"delivered": 0, "failed": 1}
    since = timezone.now()
    for n in range(3):
        publish_held(channel, f"N-{n}")
    fanout_run()
    # breaker off: three more failures
    settings.HUB_WEBHOOK_BREAKER_THRESHOLD = 100
    WebhookEndpoint.objects.filter(pk=ep.pk).update(blocked_until=None)
    assert deliver_endpoint(endpoint_id=ep.pk) == {"delivered": 0, "failed": 3}
    assert patch(manager, ep_id, state="disabled").json()["state"] == "disabled"
    publish_stock(channel, "MISSED-1")
    publish_stock(channel, "MISSED-2")
    fanout_run()  # a disabled endpoint gets no messages: these two are missed
    assert WebhookMessage.objects.filter(endpoint=ep).count() == 4
    url = f"{ENDPOINTS}{ep_id}/recover/"
    dry = post(manager, url, since=since.isoformat(), dry_run=True)
    assert dry.status_code == 200, dry.content
    assert dry.json() == {"requeued": 3, "created": 2, "dry_run": True}
    # a dry run changes nothing
    assert WebhookMessage.objects.filter(endpoint=ep).count() == 4
    assert WebhookMessage.objects.filter(endpoint=ep, state=WorkState.FAILED).count() == 4
    # recovering a disabled endpoint is refused until it is enabled
    refused = post(manager, url, since=since.isoformat())
    assert refused.status_code == 409 and refused.json()["field"] == "state"
    assert post(manager, url, since="yesterday").json()["field"] == "since"
    assert patch(manager, ep_id, state="active").json()["state"] == "active"
    done = post(manager, url, since=since.isoformat())
    assert done.json() == {"requeued": 3, "created": 2, "dry_run": False}
    assert WebhookMessage.objects.filter(endpoint=ep, state=WorkState.PENDING).count() == 5
    receiver.status = 200
    assert deliver_endpoint(endpoint_id=ep.pk) == {"delivered": 5, "failed": 0}
    numbers = [r.json["data"].get("order", {}).get("number") for r in receiver.requests[-5:]]
    assert sorted(n for n in numbers if n) == ["N-0", "N-1", "N-2"]
    # the one before `since` stays failed
    old = WebhookMessage.objects.get(endpoint=ep, event__payload__order__number="OLD")
    assert old.state == WorkState.FAILED
    assert AuditEntry.objects.filter(action="events.endpoint_recover").count() == 1


# --- the pull API ---------------------------------------------------------------------------------


def _pages(client: APIClient, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    after = params.pop("after", "0")
    pages = 0
    while True:
        resp = client.get("/api/v1/events/", {"after": after, **params})
        assert resp.status_code == 200, resp.content
        body = resp.json()
        pages += 1
        items += body["data"]
        assert body["next_cursor"] == (body["data"][-1]["cursor"] if body["data"] else after)
        after = body["next_cursor"]
        if not body["has_more"]:
            return items, pages


def test_pull_api_pages_in_order_with_types(manager: APIClient) -> None:
    channel, _ = channel_with_token("alpha")
    published = []
    for n in range(7):
        published.append(
            publish_held(channel, f"PO-{n}") if n % 2 else publish_stock(channel, f"SKU-{n}")
        )
    # not fanned out yet: not visible (it has no cursor yet)
    assert manager.get("/api/v1/events/").json() == {
        "data": [],
        "next_cursor": "0",
        "has_more": False,
    }
    fanout_run()
    items, pages = _pages(manager, limit=3)
    assert pages == 3
    assert [i["id"] for i in items] == [e.uid for e in published]
    cursors = [int(i["cursor"]) for i in items]
    assert cursors == sorted(cursors) and len(set(cursors)) == 7
    first = items[0]
    assert set(first) == {
        "id",
        "type",
        "version",
        "timestamp",
        "channel",
        "entity",
        "data",
        "cursor",
    }
    assert first["type"] == "stock.threshold_breached" and first["channel"] == "alpha"
    assert first["timestamp"].endswith("Z") and first["version"] == 1
    # types filter, with paging
    held, _ = _pages(manager, types="order.held", limit=2)
    assert [i["data"]["order"]["number"] for i in held] == ["PO-1", "PO-3", "PO-5"]
    both, _ = _pages(manager, types="order.held, stock.threshold_breached", limit=100)
    assert len(both) == 7
    # from the middle, and past the end
    rest, _ = _pages(manager, after=items[4]["cursor"])
    assert [i["id"] for i in rest] == [e.uid for e in published[5:]]
    end = manager.get("/api/v1/events/", {"after": items[-1]["cursor"]}).json()
    assert end == {"data": [], "next_cursor": items[-1]["cursor"], "has_more": False}
    exact = manager.get("/api/v1/events/", {"limit": 7}).json()
    assert len(exact["data"]) == 7 and exact["has_more"] is False
    # a test event (hub.ping) is never in the pull API
    ep_id = create(manager).json()["id"]
    WebhookEndpoint.objects.filter(uid=ep_id).update(url="http://127.0.0.1:9/")
    services.endpoint_send_test(endpoint=WebhookEndpoint.objects.get(uid=ep_id), actor="t")
    fanout_run()
    assert len(_pages(manager)[0]) == 7


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "abc"}, "after"),
        ({"after": "-1"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"types": "order.teleported"}, "types"),
        ({"types": "order.held,"}, "types"),
    ],
)
def test_pull_api_validation(manager: APIClient, params: dict[str, str], field: str) -> None:
    resp = manager.get("/api/v1/events/", params)
    assert resp.status_code == 400
    assert resp.json()["field"] == field and resp.json()["reason"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two concurrent write transactions; SQLite serialises writers (CI runs it)",
)
def test_an_event_committed_late_is_not_skipped(settings: Any) -> None:
    """Ids are assigned at INSERT, visibility at COMMIT: the event with the smaller id commits
    after a reader has passed a larger one; its cursor (seq) still comes after the reader's."""
    channel, client = channel_with_token("alpha", READ)
    inserted = threading.Event()
    release = threading.Event()
    late: dict[str, Any] = {}

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                late["event"] = event_publish(
                    type="stock.threshold_breached",
                    entity_key="sku:alpha:LATE",
                    channel=channel,
                    payload={
                        "channel": "alpha",
                        "sku": "LATE",
                        "available": 1,
                        "previous": 9,
                        "threshold": 5,
                        "direction": "below",
                    },
                    ring=False,
                )
                inserted.set()
                assert release.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert inserted.wait(30)
    early = publish_held(channel, "EARLY")
    assert late["event"].pk < early.pk  # an id cursor would skip the late one
    fanout_run()
    first = client.get("/api/v1/events/").json()
    assert [e["id"] for e in first["data"]] == [early.uid]
    release.set()
    writer.join(30)
    assert not writer.is_alive()
    # committed now, but not fanned out: not visible yet, and nothing is skipped meanwhile
    assert client.get("/api/v1/events/", {"after": first["next_cursor"]}).json()["data"] == []
    fanout_run()
    second = client.get("/api/v1/events/", {"after": first["next_cursor"]}).json()
    assert [e["id"] for e in second["data"]] == [late["event"].uid]
    assert int(second["data"][0]["cursor"]) > int(first["next_cursor"])
    seqs = dict(BusinessEvent.objects.values_list("uid", "seq"))
    assert seqs[late["event"].uid] == seqs[early.uid] + 1


# --- the catalog and the OpenAPI document ---------------------------------------------------------


def test_types_list_every_schema_file_each_a_valid_json_schema() -> None:
    files = sorted(SCHEMA_DIR.glob("*.json"))
    assert files
    resp = APIClient().get("/api/v1/events/types/")
    assert resp.status_code == 200
    listed = resp.json()
    assert sorted(f"{t['type']}.v{t['version']}.json" for t in listed) == [f.name for f in files]
    for item in listed:
        Draft202012Validator.check_schema(item["schema"])
        on_disk = json.loads((SCHEMA_DIR / f"{item['type']}.v{item['version']}.json").read_text())
        assert item["schema"] == on_disk
        assert item["description"] == on_disk["description"]
        one = APIClient().get(f"/api/v1/events/types/{item['type']}/")
        assert one.status_code == 200 and one.json() == item
    missing = APIClient().get("/api/v1/events/types/order.teleported/")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found" and missing.json()["field"] == "type"


def _ref(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = doc["components"]["schemas"][name]
    return node


def test_openapi_declares_bodies_and_answers_of_the_endpoint_api() -> None:
    resp = APIClient().get("/api/schema/", {"format": "json"})
    assert resp.status_code == 200
    doc = json.loads(resp.content)
    paths = doc["paths"]
    base = "/api/v1/webhook-endpoints/"
    detail = base + "{endpoint_id}/"

    def codes(path: str, method: str) -> set[str]:
        return set(paths[path][method]["responses"])

    def body(path: str, method: str) -> dict[str, Any]:
        content = paths[path][method]["requestBody"]["content"]["application/json"]
        return _ref(doc, content["schema"])

    assert {"201", "400", "401", "403"} <= codes(base, "post")
    assert {"200", "401", "403"} <= codes(base, "get")
    assert set(body(base, "post")["required"]) == {"url", "event_types"}
    assert set(paths[base]["post"]["requestBody"]["content"]) == {"application/json"}
    event_types = body(base, "post")["properties"]["event_types"]
    assert event_types["type"] == "array" and event_types["minItems"] == 1

    def answer(path: str, method: str, code: str) -> dict[str, Any]:
        content = paths[path][method]["responses"][code]["content"]["application/json"]
        return _ref(doc, content["schema"])

    created = answer(base, "post", "201")
    assert "secret" in created["properties"] and "secret" in created["required"]
    assert "secret" not in _ref(doc, answer(base, "get", "200")["items"])["properties"]
    assert "secret" not in answer(detail, "get", "200")["properties"]
    for method in ("get", "patch", "delete"):
        assert {"401", "403", "404"} <= codes(detail, method), method
    assert {"200", "400"} <= codes(detail, "patch")
    assert "204" in codes(detail, "delete")
    assert {"url", "event_types", "state"} <= set(body(detail, "patch")["properties"])
    assert {"200", "401", "403", "404"} <= codes(detail + "rotate-secret/", "post")
    assert {"200", "400", "404", "409"} <= codes(detail + "recover/", "post")
    assert {"since", "dry_run"} <= set(body(detail + "recover/", "post")["properties"])
    assert "400" not in codes(detail, "get")  # nothing to be invalid in a GET
    assert "secret" in answer(detail + "rotate-secret/", "post", "200")["properties"]
    for code in ("400", "401", "403", "404"):
        assert set(answer(detail, "patch", code)["properties"]) == {"error", "field", "reason"}
    events = paths["/api/v1/events/"]["get"]
    assert {p["name"] for p in events["parameters"]} >= {"after", "types", "limit"}
    assert {"200", "400", "401", "403"} <= set(events["responses"])
    # the public catalog needs no token; the rest does (there is no document-wide default)
    assert not doc.get("security")
    assert not paths["/api/v1/events/types/"]["get"].get("security")
    assert paths[base]["post"]["security"] == [{"channelToken": ["events:manage"]}]
