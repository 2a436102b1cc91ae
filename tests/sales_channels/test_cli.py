"""`manage.py channel ...` and `manage.py seed_demo`."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.sales_channels.models import ApiToken, Channel, ChannelSecret

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("channel", *args, stdout=out)
    return out.getvalue()


def test_add_list_rotate_and_tokens() -> None:
    text = run(
        "add",
        "acme",
        "--kind",
        "shopify",
        "--api-base-url",
        "https://acme.myshopify.com",
        "--secret",
        "shpss_x",
        "--access-token",
        "shpat_y",
        "--warehouse",
        "2",
        "--warehouse",
        "1",
        "--name",
        "Acme",
        "--state",
        "shadow",
    )
    assert "acme" in text and "shpss_x" not in text
    channel = Channel.objects.get(code="acme")
    assert channel.state == "shadow" and channel.access_token == "shpat_y"
    assert [w.odoo_warehouse_id for w in channel.warehouses.all()] == [2, 1]
    assert "acme" in run("list")

    rotated = run("rotate-secret", "acme")
    new_secret = rotated.split("(shown once): ", 1)[1].split()[0]
    secrets = list(ChannelSecret.objects.filter(channel=channel).order_by("created_at"))
    assert secrets[0].valid_until is not None and secrets[1].secret == new_secret

    created = run("token", "create", "acme", "--scopes", "orders:write,orders:read")
    raw = created.split("(shown once): ", 1)[1].split()[0]
    token = ApiToken.objects.get()
    assert raw.startswith(f"hub_{token.prefix}_")
    run("token", "revoke", token.prefix)
    assert ApiToken.objects.get().revoked_at is not None

    with pytest.raises(CommandError):
        run("token", "create", "acme", "--scopes", "everything")
    with pytest.raises(CommandError):
        run("add", "acme", "--kind", "shopify")


def test_add_generates_a_standard_webhooks_secret() -> None:
    text = run("add", "bc", "--kind", "bigcommerce")
    assert "whsec_" in text


def test_seed_demo_is_idempotent(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    second = io.StringIO()
    call_command("seed_demo", stdout=second)
    assert set(Channel.objects.values_list("code", flat=True)) == {
        "demo-shopify",
        "demo-woo",
        "demo-b2b",
    }
    assert Channel.objects.get(code="demo-shopify").api_base_url == "http://127.0.0.1:18099"
    assert ApiToken.objects.count() == 1
    token_line = [ln for ln in first.getvalue().splitlines() if "demo-b2b token" in ln][0]
    raw = token_line.rsplit(" ", 1)[1]
    assert raw in second.getvalue()  # shown again from the state directory
    assert second.getvalue().count("secret ") == 2  # the two webhook channels
    (tmp_path / "demo_b2b_token").unlink()
    third = io.StringIO()
    call_command("seed_demo", stdout=third)
    assert "cannot be shown again" in third.getvalue() and ApiToken.objects.count() == 1
