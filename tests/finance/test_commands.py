"""`manage.py channel set` (every channel setting, audited), `manage.py finance ...`, and a
payment map that names the journal by its code."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from apps.core.models import AuditEntry
from apps.finance.models import ChannelPayment, PaymentAccount
from apps.finance.payments import journal_for
from apps.mappings.models import ValueMap
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create

from .conftest import bank_journal

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_channel_set_changes_settings_and_audits_them() -> None:
    channel, _ = channel_create(code="shop1", kind="shopify")
    out = run(
        "channel",
        "set",
        "shop1",
        "--invoicing",
        "on_delivery",
        "--register-payments",
        "off",
        "--pricelist",
        "7",
        "--reason",
        "B2B terms",
    )
    assert "invoicing = on_delivery" in out
    channel.refresh_from_db()
    assert channel.invoicing == "on_delivery"
    assert channel.register_payments is False and channel.pricelist_id == 7
    entry = AuditEntry.objects.get(action="channel.set")
    assert entry.before["invoicing"] == "none" and entry.after["invoicing"] == "on_delivery"
    assert entry.reason == "B2B terms"


def test_channel_set_refuses_bad_values_and_changes_nothing() -> None:
    channel, _ = channel_create(code="shop1", kind="shopify")
    with pytest.raises(CommandError, match="invalid choice"):
        run("channel", "set", "shop1", "--invoicing", "weekly")
    with pytest.raises(CommandError, match="register-payments"):
        run("channel", "set", "shop1", "--register-payments", "maybe")
    with pytest.raises(CommandError, match="nothing to set"):
        run("channel", "set", "shop1")
    with pytest.raises(CommandError, match="no channel"):
        run("channel", "set", "nope", "--invoicing", "none")
    channel.refresh_from_db()
    assert channel.invoicing == "none" and channel.register_payments is True
    assert not AuditEntry.objects.filter(action="channel.set").exists()


def test_channel_set_never_prints_a_credential() -> None:
    channel_create(code="shop1", kind="shopify")
    out = run("channel", "set", "shop1", "--access-token", "shpat_secret_value")
    assert "shpat_secret_value" not in out and "(set)" in out
    assert Channel.objects.get(code="shop1").access_token == "shpat_secret_value"
    entry = AuditEntry.objects.get(action="channel.set")
    assert "shpat_secret_value" not in str(entry.before) + str(entry.after)


def test_finance_account_add_stores_the_key_encrypted_and_lists_it() -> None:
    channel_create(code="woo1", kind="woocommerce")
    out = run(
        "finance",
        "account",
        "add",
        "stripe-woo1",
        "--provider",
        "stripe",
        "--channel",
        "woo1",
        "--secret-key",
        "sk_live_abc123",
        "--journal",
        "6",
    )
    assert "stripe-woo1" in out and "sk_live_abc123" not in out
    account = PaymentAccount.objects.get()
    assert account.secret_key == "sk_live_abc123" and account.odoo_journal_id == 6
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("select secret_key from finance_paymentaccount")
        (stored,) = cur.fetchone()
    assert "sk_live_abc123" not in stored
    assert "stripe-woo1" in run("finance", "account", "list")
    with pytest.raises(CommandError, match="needs --secret-key"):
        run("finance", "account", "add", "x", "--provider", "stripe", "--channel", "woo1")


def test_a_journal_code_in_the_payment_map_resolves_through_odoo(
    sandbox_settings: Any, gateway: Any
) -> None:
    channel, _ = channel_create(code="woo1", kind="woocommerce")
    ValueMap.objects.create(
        channel=channel, kind=ValueMap.Kind.PAYMENT_METHOD, channel_value="*", odoo_value="BNK1"
    )
    assert journal_for(channel, "stripe") == bank_journal(sandbox_settings)
    ValueMap.objects.filter(channel=channel).update(odoo_value="NOPE")
    with pytest.raises(Exception, match="neither an Odoo journal id"):
        journal_for(channel, "stripe")
    assert ChannelPayment.objects.count() == 0


def test_finance_demo_maps_the_demo_web_channels(settings: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert Channel.objects.get(code="demo-shopify").invoicing == "on_confirm"
    assert Channel.objects.get(code="demo-b2b").invoicing == "on_delivery"
    run("finance", "demo")
    run("finance", "demo")  # idempotent
    maps = ValueMap.objects.filter(kind="payment_method")
    assert sorted(m.channel.code for m in maps) == ["demo-shopify", "demo-woo"]
