"""The shipments admin: read-only rows with lines, syncs and reports; Support sees them; the
audited "Retry sync" action is the admins'."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.core.models import AuditEntry
from apps.fulfillment.models import ShipmentSync
from apps.sales_channels.services import channel_create

from .conftest import make_order, make_shipment

pytestmark = pytest.mark.django_db


def staff(django_user_model: Any, name: str, group: str) -> Any:
    call_command("hub_roles", verbosity=0)
    user = django_user_model.objects.create_user(name, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def shipment(db: None) -> Any:
    channel, _ = channel_create(code="shop", kind="shopify")
    return make_shipment(make_order(channel))


def test_support_sees_shipments_read_only(
    client: Client, django_user_model: Any, shipment: Any
) -> None:
    client.force_login(staff(django_user_model, "sue", "Support"))
    listing = client.get(reverse("admin:fulfillment_shipment_changelist"))
    assert listing.status_code == 200 and "WH/OUT/00501" in listing.content.decode()
    page = client.get(reverse("admin:fulfillment_shipment_change", args=[shipment.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "TSHIRT" in text and "1Z999AA10123456784" in text
    assert 'name="_save"' not in text  # nothing to save
    assert "retry_sync" not in listing.content.decode()  # the action is not theirs
    assert client.get(reverse("admin:fulfillment_shipmentsync_changelist")).status_code == 200


def test_retry_sync_requeues_failed_syncs_audited(
    client: Client,
    django_user_model: Any,
    shipment: Any,
    rings: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    row = ShipmentSync.objects.get(shipment=shipment)
    ShipmentSync.objects.filter(pk=row.pk).update(
        state="failed", attempts=3, last_error={"message": "no"}
    )
    admin = staff(django_user_model, "ada", "Integration admin")
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            reverse("admin:fulfillment_shipment_changelist"),
            {"action": "retry_sync", "_selected_action": [shipment.pk]},
            follow=True,
        )
    assert resp.status_code == 200 and "1 sync(s) queued again" in resp.content.decode()
    row.refresh_from_db()
    assert (row.state, row.attempts) == ("pending", 0)
    assert ("fulfillment.shipmentsync", row.pk) in rings
    entry = AuditEntry.objects.get(action="fulfillment.retry_sync")
    assert entry.user == admin and entry.object_id == str(row.pk)
    # a done sync is not sent again
    ShipmentSync.objects.filter(pk=row.pk).update(state="done")
    client.post(
        reverse("admin:fulfillment_shipment_changelist"),
        {"action": "retry_sync", "_selected_action": [shipment.pk]},
    )
    row.refresh_from_db()
    assert row.state == "done"
