"""Privacy: Shopify's compliance webhooks verified like the others; a redact erases the
customer from every table while amounts and SKUs stay; a data request writes an export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from apps.core.audit import audit_record
from apps.core.errors import PermanentError
from apps.core.models import AuditEntry
from apps.customers.models import PrivacyRequest
from apps.customers.privacy import export_dir
from apps.inbox.models import Issue
from apps.inbox.services import issue_report
from apps.ledger.models import InboundEvent
from apps.mappings.models import Binding
from apps.orders.models import ChannelOrder, OrderLine
from apps.orders.services import order_ingest
from apps.sales_channels.translators import order_from_shopify
from tests.fixtures.channels import shopify_headers
from tests.orders.conftest import shopify_payload

from .conftest import SHOP, database_hits, process

pytestmark = pytest.mark.django_db

EMAIL = "maria.lopez@example.com"
PHONE = "+1 212-555-0142"
OTHER = "someone.else@example.org"


def _order(shop: Any, deliver: Any, order_id: int, **changes: Any) -> ChannelOrder:
    payload = shopify_payload(order_id, **changes)
    deliver(shop, "orders/create", json.dumps(payload).encode())
    return order_ingest(order=order_from_shopify(payload, channel=shop.code))


def _other_customer(order_id: int) -> dict[str, Any]:
    payload = shopify_payload(order_id)
    customer = dict(payload["customer"], id=555, email=OTHER, first_name="Ann", last_name="Other")
    return {
        "email": OTHER,
        "customer": customer,
        "billing_address": dict(payload["billing_address"], first_name="Ann", last_name="Other"),
        "shipping_address": dict(payload["shipping_address"], first_name="Ann", last_name="Other"),
    }


def _seed(shop: Any, deliver: Any) -> tuple[ChannelOrder, ChannelOrder]:
    mine = _order(shop, deliver, 1001)
    theirs = _order(shop, deliver, 1002, **_other_customer(1002))
    assert mine.customer_email == EMAIL and theirs.customer_email == OTHER
    mine.odoo_partner_id = 4242
    mine.save(update_fields=["odoo_partner_id"])
    Binding.objects.create(
        channel=shop,
        kind="customer",
        external_id="6912345678901",
        external_code=EMAIL,
        odoo_model="res.partner",
        odoo_id=4242,
    )
    # the person shows up in an inbox item, an audited payload edit and a customers/update
    issue_report(
        error=PermanentError(f"address rejected for {EMAIL}", customer=EMAIL),
        key=f"customer:{EMAIL}@{shop.code}",
        row=mine,
        channel_code=shop.code,
        customer=EMAIL,
    )
    audit_record(
        user=None,
        action="edit_payload",
        obj=mine,
        before={"email": EMAIL.upper()},
        after={"phone": PHONE},
    )
    update = {
        "id": 6912345678901,
        "email": EMAIL,
        "first_name": "Maria",
        "last_name": "Lopez",
        "phone": PHONE,
        "updated_at": "2026-01-01T00:00:00Z",
    }
    deliver(shop, "customers/update", json.dumps(update).encode())
    return mine, theirs


def test_redact_erases_the_email_from_every_table_and_keeps_amounts_and_skus(
    shop: Any, deliver: Any
) -> None:
    mine, theirs = _seed(shop, deliver)
    assert database_hits(EMAIL), "the seed must put the e-mail in the database"
    lines_before = list(
        OrderLine.objects.filter(order=mine).values_list("sku", "quantity", "unit_price")
    )
    total_before = mine.total
    payload_before = mine.payload
    body = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "customer": {"id": 6912345678901, "email": EMAIL, "phone": PHONE},
        "orders_to_redact": [1001],
    }
    event = deliver(shop, "customers/redact", json.dumps(body).encode())

    event = process(event)

    assert event.state == "done", event.last_error
    assert database_hits(EMAIL) == []
    assert database_hits("Maria Lopez") == []
    assert database_hits(PHONE) == []
    mine.refresh_from_db()
    assert mine.total == total_before
    assert mine.payload["total"] == payload_before["total"]
    assert mine.payload["shipping"] == payload_before["shipping"]
    assert (
        list(OrderLine.objects.filter(order=mine).values_list("sku", "quantity", "unit_price"))
        == lines_before
    )
    assert [ln["sku"] for ln in mine.payload["lines"]] == [s for s, _q, _p in lines_before]
    assert mine.payload["shipping_address"]["country_code"] == "US"
    # the other customer is untouched
    theirs.refresh_from_db()
    assert theirs.customer_email == OTHER
    assert database_hits(OTHER)
    # the binding went; the erasure is in the audit log without the address
    assert not Binding.objects.filter(external_id="6912345678901").exists()
    request = PrivacyRequest.objects.get(kind="customers/redact")
    entry = AuditEntry.objects.get(action="privacy_redact")
    assert entry.after["orders"] == 1 and entry.after["odoo_partners"] == [4242]
    # the channel asks for an inbox item (the default): one, naming the partner
    assert request.state == "odoo_pending"
    issue = Issue.objects.get(key=f"privacy:{shop.code}:partner:4242")
    assert "4242" in issue.title
    # the same delivery handled again resumes: no second request, erasure or inbox item
    from apps.customers.handlers import privacy_event_handle

    privacy_event_handle(event)
    assert PrivacyRequest.objects.filter(kind="customers/redact").count() == 1
    assert AuditEntry.objects.filter(action="privacy_redact").count() == 1
    assert Issue.objects.filter(key__startswith="privacy:").count() == 1


def test_redact_webhook_with_a_bad_signature_is_401_and_records_nothing(
    shop: Any, client: Client
) -> None:
    body = json.dumps({"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 1}}).encode()
    headers = shopify_headers(body, topic="customers/redact", shop=SHOP, secret="not-the-secret")
    resp = client.generic(
        "POST", f"/webhooks/shopify/{shop.code}/", body, content_type="application/json", **headers
    )
    assert resp.status_code == 401
    assert not InboundEvent.objects.filter(topic="customers/redact").exists()


def test_data_request_writes_an_export_that_a_later_redact_removes(shop: Any, deliver: Any) -> None:
    _seed(shop, deliver)
    body = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "orders_requested": [1001],
        "customer": {"id": 6912345678901, "email": EMAIL, "phone": PHONE},
        "data_request": {"id": 9999},
    }
    event = process(deliver(shop, "customers/data_request", json.dumps(body).encode()))
    assert event.state == "done", event.last_error
    request = PrivacyRequest.objects.get(kind="customers/data_request")
    path: Path = export_dir() / request.export_file
    doc = json.loads(path.read_text())
    assert [o["external_id"] for o in doc["orders"]] == ["1001"]
    assert doc["identifiers"]["emails"] == [EMAIL]
    assert {e["topic"] for e in doc["events"]} >= {"orders/create", "customers/update"}
    assert "inbox.Issue" in doc["other_rows_naming_the_customer"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert EMAIL not in json.dumps(request.counts)

    redact = {
        "shop_id": 954889,
        "shop_domain": SHOP,
        "customer": {"id": 6912345678901, "email": EMAIL},
        "orders_to_redact": [],
    }
    process(deliver(shop, "customers/redact", json.dumps(redact).encode()))
    assert not path.exists()
    assert database_hits(EMAIL) == []


def test_shop_redact_erases_every_customer_of_the_channel(shop: Any, deliver: Any) -> None:
    mine, theirs = _seed(shop, deliver)
    event = process(
        deliver(shop, "shop/redact", json.dumps({"shop_id": 954889, "shop_domain": SHOP}).encode())
    )
    assert event.state == "done", event.last_error
    for row in (mine, theirs):
        row.refresh_from_db()
        assert row.payload["customer"]["email"] == "[redacted]"
        assert row.payload["lines"][0]["sku"]
    for event in InboundEvent.objects.filter(channel_code=shop.code, topic="orders/create"):
        assert EMAIL not in event.body_text() and OTHER not in event.body_text()
    assert not Binding.objects.filter(channel=shop, kind="customer").exists()
