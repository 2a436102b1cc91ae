"""Consumer accounts: a channel's customer update reaches the bound Odoo partner (sandbox),
matched by binding then e-mail; a shared e-mail is an inbox item, never a merge."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apps.customers.models import CustomerAccount
from apps.inbox.models import Issue
from apps.mappings.models import Binding
from apps.odoo.gateway import get_gateway

from .conftest import process

pytestmark = pytest.mark.django_db


def _update(cid: int, email: str, **extra: Any) -> bytes:
    body = {
        "id": cid,
        "email": email,
        "first_name": "Maria",
        "last_name": "Lopez",
        "phone": "+1 212-555-0142",
        "updated_at": "2026-02-01T10:00:00Z",
        "default_address": {
            "address1": "5 Elm Street",
            "city": "Springfield",
            "zip": "62704",
            "country_code": "US",
        },
        **extra,
    }
    return json.dumps(body).encode()


def _person(email: str, ref: str) -> int:
    return (
        get_gateway()
        .partner_create(
            partner={"name": "Old Name", "email": email, "ref": ref, "is_company": False}
        )
        .id
    )


def test_update_matched_by_email_binds_and_writes_only_what_changed(
    shop: Any, deliver: Any, odoo_settings: Any
) -> None:
    pid = _person("maria.c@example.com", "shop1:customer:77")
    event = process(deliver(shop, "customers/update", _update(77, "maria.c@example.com")))
    assert event.state == "done", event.last_error
    gw = get_gateway()
    row = gw.partners_contact_read(partner_ids=[pid])[pid]
    assert (row["name"], row["street"], row["zip"]) == ("Maria Lopez", "5 Elm Street", "62704")
    assert Binding.objects.get(channel=shop, kind="customer", external_id="77").odoo_id == pid
    # a repeat with the same version changes nothing; an older one is ignored
    again = process(deliver(shop, "customers/update", _update(77, "maria.c@example.com")))
    assert again.effects[-1]["result"]["skipped"].startswith("an equal or newer version")
    calls = odoo_settings.stats()["calls"].get("res.partner.write", 0)
    newer = _update(77, "maria.c@example.com", updated_at="2026-03-01T10:00:00Z")
    process(deliver(shop, "customers/update", newer))
    assert odoo_settings.stats()["calls"].get("res.partner.write", 0) == calls  # nothing differs
    assert CustomerAccount.objects.get(channel=shop, external_id="77").odoo_partner_id == pid


def test_an_email_on_two_odoo_partners_is_an_inbox_item_not_a_merge(
    shop: Any, deliver: Any, odoo_settings: Any
) -> None:
    a = _person("twin@example.com", "legacy-a")
    b = _person("twin@example.com", "legacy-b")
    event = process(deliver(shop, "customers/update", _update(88, "twin@example.com")))
    assert event.state == "failed"
    issue = Issue.objects.get(key="customer-email:88@shop1")
    assert issue.category == "data_conflict" and f"{a}, {b}" in issue.title
    rows = get_gateway().partners_contact_read(partner_ids=[a, b])
    assert {r["name"] for r in rows.values()} == {"Old Name"}
    assert not Binding.objects.filter(channel=shop, external_id="88").exists()


def test_a_b2b_contact_is_never_written_from_a_channel(
    shop: Any, deliver: Any, odoo_settings: Any
) -> None:
    # the sandbox's Acme Distribution has buyer@acme.example.com as a contact
    event = process(deliver(shop, "customers/update", _update(99, "buyer@acme.example.com")))
    assert event.state == "done"
    assert "B2B" in event.effects[-1]["result"]["outcome"]
    matches = get_gateway().partners_by_email(emails=["buyer@acme.example.com"])
    assert all(m["name"] != "Maria Lopez" for m in matches["buyer@acme.example.com"])


def test_customer_sync_off_changes_nothing(shop: Any, deliver: Any, odoo_settings: Any) -> None:
    shop.customers_enabled = False
    shop.save()
    pid = _person("off@example.com", "shop1:customer:66")
    event = process(deliver(shop, "customers/update", _update(66, "off@example.com")))
    assert event.effects[-1]["result"] == {"skipped": "customer sync is off for this channel"}
    assert get_gateway().partners_contact_read(partner_ids=[pid])[pid]["name"] == "Old Name"
