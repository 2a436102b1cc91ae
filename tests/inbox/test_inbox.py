"""The exception inbox: grouping, auto-resolution, permissions and audit, the triage UI."""

from __future__ import annotations

import json
import os

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test.utils import isolate_apps
from django.urls import reverse

from apps.core.errors import MappingMissing
from apps.core.models import AuditEntry
from apps.core.workrow import WorkState
from apps.inbox import services as inbox
from apps.inbox.models import Issue, Status
from apps.inbox.selectors import open_issue_counts
from apps.ledger import services
from apps.ledger.models import InboundEvent
from tests.fixtures.worker import wait_for
from tests.ledger.helpers import record
from tests.ledger.worker_tasks import count, mark

INCLUDE = ("tests.celery_tasks", "tests.ledger.worker_tasks")


def test_fingerprint_ignores_numbers_and_uuids_but_not_the_key():
    a = inbox.fingerprint_for(
        error_class="X", reason="order 1001 id 3f2b1c9e-0000-4000-8000-000000000001", key="k"
    )
    b = inbox.fingerprint_for(
        error_class="X", reason="order 2002 id 9a2b1c9e-0000-4000-8000-000000000002", key="k"
    )
    assert a == b
    assert a != inbox.fingerprint_for(error_class="X", reason="order 1", key="other")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_fifty_failures_one_cause_one_issue_then_retry_all_resolves(celery_worker_factory):
    celery_worker_factory(queues="maintenance", concurrency=2, include=INCLUDE)
    # given 50 orders that all fail on the same unmapped SKU
    events = [record("test.mapping", sku="ABC-1", order=f"#{1000 + i}") for i in range(50)]
    wait_for(lambda: InboundEvent.objects.filter(state=WorkState.FAILED).count() == 50, timeout=60)
    # then there is one issue with 50 rows, explained in business terms
    issue = Issue.objects.get()
    assert issue.rows.count() == 50 and issue.occurrences == 50
    assert issue.category == "mapping_missing" and issue.key == "sku:ABC-1@shop1"
    assert issue.suggested_action == "Map SKU ABC-1 to an Odoo record (Mappings), then Retry all"
    assert open_issue_counts()["mapping_missing"] == 1
    # when support maps the SKU and clicks "retry all"
    mark("mapped:ABC-1")
    assert inbox.issue_retry_all(issue=issue, user=None) == 50
    # then every row succeeds once and the issue resolves itself
    wait_for(lambda: InboundEvent.objects.filter(state=WorkState.DONE).count() == 50, timeout=60)
    wait_for(lambda: Issue.objects.get().status == Status.RESOLVED)
    assert sum(count(f"effect:{json.loads(bytes(e.body))['key']}") for e in events) == 50


def _failed_event_issue() -> tuple[Issue, InboundEvent]:
    event = record("test.mapping", sku="ZZ-9", order="#77")
    services.event_process(event_id=event.pk)
    return Issue.objects.get(), event


def _staff(django_user_model, name: str, group: str):
    call_command("hub_roles", verbosity=0)
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.mark.django_db
def test_support_cannot_edit_payloads_nor_touch_channel_credentials(client, django_user_model):
    support = _staff(django_user_model, "sue", "Support")
    issue, _ = _failed_event_issue()
    row = issue.rows.get()
    client.force_login(support)
    # support sees and works the inbox...
    assert client.get(reverse("admin:inbox_issue_changelist")).status_code == 200
    assert client.get(reverse("admin:inbox_issue_change", args=[issue.pk])).status_code == 200
    detail = client.get(reverse("admin:inbox_issue_change", args=[issue.pk])).content.decode()
    assert reverse("admin:ledger_inboundevent_change", args=[row.object_id]) in detail
    # ...but may not edit a payload
    url = reverse("admin:inbox_issue_edit_payload", args=[issue.pk, row.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"body": "{}"}).status_code == 403
    # and holds no permission of the app that stores channel credentials
    perms = Permission.objects.filter(group__name="Support")
    assert not perms.filter(content_type__app_label="sales_channels").exists()
    assert not support.has_perm("inbox.edit_payload")


@pytest.mark.django_db
def test_approver_edits_a_payload_audited_with_before_and_after(client, django_user_model):
    approver = _staff(django_user_model, "ann", "Approver")
    issue, event = _failed_event_issue()
    row = issue.rows.get()
    client.force_login(approver)
    before = bytes(event.body).decode()
    new = json.dumps({**json.loads(before), "sku": "ZZ-10"})
    url = reverse("admin:inbox_issue_edit_payload", args=[issue.pk, row.pk])
    assert client.get(url).status_code == 200
    # invalid JSON is refused and changes nothing
    assert client.post(url, {"body": "{not json"}).status_code == 200
    assert bytes(InboundEvent.objects.get(pk=event.pk).body).decode() == before
    # a valid edit is saved, audited and retried
    response = client.post(url, {"body": new})
    assert response.status_code == 302
    event.refresh_from_db()
    assert bytes(event.body).decode() == new and event.state == WorkState.PENDING
    entry = AuditEntry.objects.get(action="inbox.edit_payload")
    assert entry.user == approver and entry.before == {"body": before}
    assert entry.after == {"body": new} and entry.when is not None


@pytest.mark.django_db
def test_triage_actions_are_audited(client, django_user_model):
    support = _staff(django_user_model, "sam", "Support")
    issue, _ = _failed_event_issue()
    client.force_login(support)
    base = "admin:inbox_issue_"
    client.post(reverse(base + "assign", args=[issue.pk]), {"owner": support.pk})
    client.post(reverse(base + "snooze", args=[issue.pk]), {"for": "1d"})
    client.post(reverse(base + "ignore", args=[issue.pk]), {"reason": "test shop, not real"})
    issue.refresh_from_db()
    assert issue.owner == support and issue.status == Status.IGNORED
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"inbox.assign", "inbox.snooze", "inbox.ignore"} <= actions
    ignore = AuditEntry.objects.get(action="inbox.ignore")
    assert ignore.before["status"] == "snoozed" and ignore.after["status"] == "ignored"
    assert ignore.reason == "test shop, not real"
    # the admin index shows the inbox summary
    assert "Open inbox issues" in client.get(reverse("admin:index")).content.decode()


@pytest.mark.django_db
def test_list_filters_and_search_by_business_reference(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("root", password="pw")
    _failed_event_issue()
    client.force_login(admin_user)
    url = reverse("admin:inbox_issue_changelist")
    assert "ZZ-9" in client.get(url, {"q": "ZZ-9"}).content.decode()
    assert "ZZ-9" not in client.get(url, {"q": "NOPE"}).content.decode()
    for params in (
        {"age": "lt1h"},
        {"category__exact": "mapping_missing"},
        {"status__exact": "open"},
    ):
        assert "ZZ-9" in client.get(url, params).content.decode()


@pytest.mark.django_db
def test_hub_roles_is_idempotent():
    call_command("hub_roles", verbosity=0)
    n = Permission.objects.filter(group__name="Approver").count()
    call_command("hub_roles", verbosity=0)
    assert Group.objects.filter(name__in=["Support", "Integration admin", "Approver"]).count() == 3
    assert Permission.objects.filter(group__name="Approver").count() == n
    assert Permission.objects.filter(group__name="Approver", codename="edit_payload").exists()


@pytest.mark.django_db
def test_domain_apps_give_support_what_triage_needs_and_no_credentials():
    call_command("hub_roles", verbosity=0)

    def codes(group: str) -> set[str]:
        return {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Permission.objects.filter(group__name=group).select_related("content_type")
        }

    support, approver = codes("Support"), codes("Approver")
    # support staff see orders, their history and stock per SKU to triage
    assert {
        "orders.view_channelorder",
        "orders.view_ordertransition",
        "inventory.view_skustock",
        "inventory.view_reconciliationrun",
    } <= support
    # but change nothing there except through audited actions, and never see channels
    assert not {c for c in support if c.startswith(("orders.change", "orders.delete"))}
    assert not {c for c in support if c.startswith("sales_channels.")}
    # an Approver sees the orders it may release
    assert {"orders.view_channelorder", "orders.release_hold"} <= approver


@pytest.mark.django_db
def test_issue_reopens_when_the_cause_comes_back():
    issue, event = _failed_event_issue()
    inbox.issue_resolve(issue=issue, user=None)
    services.event_process(event_id=record("test.mapping", sku="ZZ-9", order="#78").pk)
    assert Issue.objects.get().status == Status.OPEN
    assert isinstance(MappingMissing("x"), MappingMissing)


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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_list_detail_retry(live_server, django_user_model):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Chromium")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    django_user_model.objects.create_superuser("root", password="pw")
    issue, event = _failed_event_issue()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/admin/login/?next=/admin/inbox/issue/")
        page.fill("#id_username", "root")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        # the list: one row per cause, with its count
        page.wait_for_selector("#result_list")
        assert "ZZ-9" in page.inner_text("#result_list")
        page.click("#result_list tbody th a")
        # the detail: suggested action, the pretty payload, the retry buttons
        page.wait_for_selector("#affected-rows")
        assert "Map SKU ZZ-9" in page.inner_text("#inbox-actions")
        assert '"sku": "ZZ-9"' in page.inner_text("#affected-rows")
        page.click("button.retry-row")
        page.wait_for_selector(".messagelist")
        assert "Retrying" in page.inner_text(".messagelist")
        browser.close()
    assert InboundEvent.objects.get(pk=event.pk).state == WorkState.PENDING
    assert AuditEntry.objects.filter(action="inbox.retry").exists()


@isolate_apps("apps.inbox")
def test_audit_snapshot_masks_secrets_by_name_and_encrypted_fields_by_class():
    from django.db import models

    from apps.core.audit import snapshot

    class EncryptedTextField(models.TextField):
        pass

    class Credential(models.Model):
        consumer_key = EncryptedTextField()
        api_password = models.CharField(max_length=10)
        label = models.CharField(max_length=10)

        class Meta:
            app_label = "inbox"

        def __str__(self) -> str:
            return self.label

    data = snapshot(Credential(pk=1, consumer_key="ck_live", api_password="pw", label="shop"))
    assert data["consumer_key"] == "***" and data["api_password"] == "***"
    assert data["label"] == "shop"
