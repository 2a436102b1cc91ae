"""The payout admin: the report columns, unexplained lines first, the CSV export, and the
release of a difference (an Approver only, a reason required, audited). One browser test walks
the release as a person does."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from apps.core.models import AuditEntry
from apps.finance.models import FinanceSync, PaymentAccount, Payout, PayoutLine
from apps.sales_channels.services import channel_create

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def payout_with_difference() -> Payout:
    channel, _ = channel_create(code="woo", kind="woocommerce")
    account = PaymentAccount.objects.create(
        code="stripe-woo",
        provider="stripe",
        channel=channel,
        secret_key="sk_test_secret_never_shown",
        odoo_journal_id=6,
        fee_account_id=42,
        adjustment_account_id=43,
    )
    payout = Payout.objects.create(
        account=account,
        external_id="po_admin_1",
        status="paid",
        date=dt.date(2026, 12, 1),
        currency="USD",
        amount=Decimal("49.50"),
        gross=Decimal("66.74"),
        fees=Decimal("2.24"),
        adjustments=Decimal("-15.00"),
        line_count=2,
        matched_count=1,
        state=Payout.State.DIFFERENCE,
    )
    PayoutLine.objects.create(
        payout=payout,
        external_id="txn_charge",
        type="charge",
        category="charge",
        currency="USD",
        amount=Decimal("66.74"),
        fee=Decimal("2.24"),
        net=Decimal("64.50"),
        match="matched",
    )
    PayoutLine.objects.create(
        payout=payout,
        external_id="txn_dispute",
        type="adjustment",
        category="chargeback",
        currency="USD",
        amount=Decimal("-15.00"),
        net=Decimal("-15.00"),
        match="unexplained",
        reason="chargeback with no order",
        suggestions=["adjustment with no order"],
    )
    return payout


def user(django_user_model: Any, name: str, role: str | None) -> Any:
    call_command("hub_roles", verbosity=0)
    u = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    if role:
        u.groups.add(Group.objects.get(name=role))
    return u


def test_the_report_lists_the_payout_and_exports_csv(django_user_model: Any) -> None:
    payout = payout_with_difference()
    client = Client()
    client.force_login(user(django_user_model, "support", "Support"))
    page = client.get("/admin/finance/payout/").content.decode()
    assert "po_admin_1" in page and "50.0% (1/2)" in page and "-15.00" in page
    detail = client.get(f"/admin/finance/payout/{payout.pk}/change/").content.decode()
    assert detail.index("txn_dispute") < detail.index("txn_charge")  # unexplained first
    assert "chargeback with no order" in detail
    resp = client.post(
        "/admin/finance/payout/",
        {"action": "export_csv", "_selected_action": [payout.pk]},
    )
    assert resp["Content-Type"] == "text/csv"
    body = resp.content.decode()
    assert body.splitlines()[0].startswith("account,payout,date,currency,gross")
    assert "stripe-woo,po_admin_1,2026-12-01,USD,66.74,0.00,2.24,-15.00,49.50" in body
    assert "txn_dispute" in body and "adjustment with no order" in body


def test_support_cannot_release_an_approver_releases_with_a_reason(
    django_user_model: Any,
) -> None:
    payout = payout_with_difference()
    support = Client()
    support.force_login(user(django_user_model, "support", "Support"))
    support.post(
        "/admin/finance/payout/",
        {"action": "release", "_selected_action": [payout.pk], "reason": "x", "decide": "1"},
    )
    payout.refresh_from_db()
    assert payout.state == Payout.State.DIFFERENCE
    approver = Client()
    approver.force_login(user(django_user_model, "approver", "Approver"))
    # without a reason: the form asks for one, nothing changes
    form = approver.post(
        "/admin/finance/payout/", {"action": "release", "_selected_action": [payout.pk]}
    )
    assert b"Reason (required)" in form.content
    payout.refresh_from_db()
    assert payout.state == Payout.State.DIFFERENCE
    approver.post(
        "/admin/finance/payout/",
        {
            "action": "release",
            "_selected_action": [payout.pk],
            "reason": "dispute lost",
            "decide": "1",
        },
    )
    payout.refresh_from_db()
    assert payout.state == Payout.State.RELEASED and payout.released_by == "approver"
    assert FinanceSync.objects.filter(action="post_payout", payout=payout).count() == 1
    entry = AuditEntry.objects.get(action="finance.payout_release")
    assert entry.reason == "dispute lost" and entry.user.username == "approver"


def test_the_stripe_key_is_write_only_in_the_account_admin(admin_client: Client) -> None:
    payout = payout_with_difference()
    page = admin_client.get(f"/admin/finance/paymentaccount/{payout.account_id}/change/")
    assert page.status_code == 200
    assert b"sk_test_secret_never_shown" not in page.content


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_an_approver_releases_a_payout_difference(
    live_server: Any, django_user_model: Any
) -> None:
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Chromium")
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    payout = payout_with_difference()
    user(django_user_model, "approver", "Approver")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(15000)
        page.goto(f"{live_server.url}/admin/login/?next=/admin/finance/payout/")
        page.fill("#id_username", "approver")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_selector("#result_list")
        assert "po_admin_1" in page.inner_text("#result_list")
        page.check(f"#result_list input[name=_selected_action][value='{payout.pk}']")
        page.select_option("select[name=action]", "release")
        page.click("button[name=index]")
        page.wait_for_selector("#reason")
        summary = page.inner_text("#content")
        assert "po_admin_1" in summary and "2 line(s), 1 explained" in summary
        page.fill("#reason", "dispute lost, booked to suspense")
        page.click("input[name=decide]")
        page.wait_for_selector(".messagelist")
        assert "1 payout(s) released for posting" in page.inner_text(".messagelist")
        browser.close()
    payout.refresh_from_db()
    assert payout.state == Payout.State.RELEASED
    assert payout.release_reason == "dispute lost, booked to suspense"
