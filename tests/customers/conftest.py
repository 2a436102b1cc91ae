"""Fixtures for the customers flow: a Shopify channel whose webhooks are posted through the real
receiver, the Odoo sandbox pointed at by settings, and a scan of every table of the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from pytest_django.fixtures import SettingsWrapper

from apps.ledger.models import InboundEvent
from apps.ledger.services import event_process
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.fixtures.channels import SHOPIFY_SECRET, shopify_headers

SHOP = "acme.myshopify.com"


@pytest.fixture
def shop(db: None) -> Channel:
    channel, _ = channel_create(
        code="shop1", kind="shopify", secret=SHOPIFY_SECRET, api_base_url=f"https://{SHOP}"
    )
    return channel


@pytest.fixture
def deliver(client: Client) -> Callable[..., InboundEvent]:
    """POST a signed Shopify delivery to the receiver; the recorded event (not processed)."""
    counter = {"n": 0}

    def post(channel: Channel, topic: str, body: bytes) -> InboundEvent:
        counter["n"] += 1
        resp = client.generic(
            "POST",
            f"/webhooks/shopify/{channel.code}/",
            body,
            content_type="application/json",
            **shopify_headers(
                body, topic=topic, webhook_id=f"wh-{topic}-{counter['n']}", shop=SHOP
            ),
        )
        assert resp.status_code == 202, resp.content
        return InboundEvent.objects.get(pk=resp.json()["event_id"])

    return post


def process(event: InboundEvent) -> InboundEvent:
    event_process(event_id=event.pk)
    event.refresh_from_db()
    return event


@pytest.fixture
def odoo_settings(odoo_sandbox: Any, settings: SettingsWrapper) -> Any:
    settings.ODOO_URL = odoo_sandbox.url.rstrip("/")
    settings.ODOO_DB = odoo_sandbox.db
    settings.ODOO_USER = odoo_sandbox.user
    settings.ODOO_PASSWORD = odoo_sandbox.password
    settings.ODOO_TIMEOUT_READ = 30.0
    settings.ODOO_BREAKER_THRESHOLD = 1000
    return odoo_sandbox


def database_hits(needle: str) -> list[str]:
    """Every "table.column" of every table in the database whose value contains ``needle``
    (case-insensitive): each row is read and each value, bytes decoded, searched as text."""
    needle = needle.lower()
    hits: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cols = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(c) for c in cols)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for col, value in zip(cols, row, strict=True):
                    if isinstance(value, (bytes, memoryview)):
                        text = bytes(value).decode("utf-8", errors="replace")
                    else:
                        text = str(value)
                    if needle in text.lower():
                        hits.append(f"{table}.{col}")
    return sorted(set(hits))
