"""The migration admin: the diff report with its links, the class filter, the CSV export, and the
cutovers (their list, and the audit log's entries)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.migration.models import DiffRun, ShadowDiff
from apps.migration.services import channel_cutover, diff_run
from apps.sales_channels.models import Channel

from .conftest import T0, Ingest, Legacy

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client, django_user_model: Any) -> Client:
    user = django_user_model.objects.create_superuser("admin", "a@example.com", "pw")
    client.force_login(user)
    return client


def test_report_filter_csv_and_channel_page(
    staff: Client, shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    ingest(9001, at=T0)
    ingest(9002, at=T0 + dt.timedelta(minutes=1))
    legacy.order("#9001", tshirt_price=26.0)
    run = diff_run(channel=shop)
    page = staff.get(reverse("admin:migration_diffrun_change", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Unit price" in body and "50.00%" in body and "not clean" in body
    listing = reverse("admin:migration_shadowdiff_changelist")
    page = staff.get(listing, {"channel__id__exact": shop.pk, "klass": "price"})
    assert page.status_code == 200
    assert "#9001" in page.content.decode() and "#9002" not in page.content.decode()
    ids = list(ShadowDiff.objects.values_list("pk", flat=True))
    resp = staff.post(
        listing,
        {"action": "export_csv", "_selected_action": ids},
    )
    assert resp.status_code == 200 and resp["Content-Type"] == "text/csv"
    text = resp.content.decode()
    assert "#9001,legacy:9001" in text and "line.price_unit" in text and "missing" in text
    channel_cutover(channel=shop, at=T0, reason="go live")
    page = staff.get(reverse("admin:migration_cutover_changelist"), {"channel__id__exact": shop.pk})
    assert page.status_code == 200 and "Cutover (shadow" in page.content.decode()
    entries = staff.get(reverse("admin:core_auditentry_changelist"), {"action": "channel.cutover"})
    assert entries.status_code == 200 and "go live" in entries.content.decode()
    assert DiffRun.objects.get().is_clean is False
