"""Webhook subscription health over HTTP against the stand-ins: healthy / missing / disabled,
the repair, the inbox item for what cannot be repaired, and the CLI table."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pytest_django.fixtures import SettingsWrapper

from apps.inbox.models import Issue, Status
from apps.ledger import registry
from apps.sales_channels.models import Channel, ChannelSyncState
from apps.webhooks.backstop import channel_webhooks_check, topics_needed
from tests.fixtures.channel_standins import ChannelStandin
from tests.fixtures.channels import WOO_SECRET

from .standins import standin_channel

pytestmark = pytest.mark.django_db

HUB = "https://hub.example.test"
SHOPIFY_ORDER_TOPICS = [
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/paid",
    "orders/edited",
]


@pytest.fixture(autouse=True)
def _public_url(settings: SettingsWrapper) -> None:
    settings.HUB_PUBLIC_URL = HUB


@pytest.fixture(autouse=True)
def _routing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed routing table (other apps register more handlers as they grow): the order
    topics of Shopify and WooCommerce, as apps.orders registers them."""
    table = {
        t: (lambda event: None) for t in [*SHOPIFY_ORDER_TOPICS, "order.created", "order.updated"]
    }
    monkeypatch.setattr(registry, "_HANDLERS", table)


@pytest.fixture
def shop(make_channel: Callable[..., Any], shopify_standin: ChannelStandin) -> Channel:
    return standin_channel(make_channel, shopify_standin, "hooks-shop")


def _shopify_hook(standin: ChannelStandin, topic: str, address: str) -> None:
    made = standin.api("POST", "webhooks.json", {"webhook": {"topic": topic, "address": address}})
    assert made.status == 201, made.body


def _statuses(report: Any) -> dict[str, str]:
    return {t.topic: t.status for t in report.topics}


def test_topics_needed_follow_the_ledger_routing_table(monkeypatch: pytest.MonkeyPatch) -> None:
    assert topics_needed("shopify") == SHOPIFY_ORDER_TOPICS
    assert topics_needed("woocommerce") == ["order.created", "order.updated"]
    assert topics_needed("bigcommerce") == []
    monkeypatch.setitem(registry._HANDLERS, "store/order/*", lambda event: None)
    assert "store/order/updated" in topics_needed("bigcommerce")


def test_shopify_missing_subscriptions_are_reported_then_repaired(
    shop: Channel, shopify_standin: ChannelStandin
) -> None:
    url = f"{HUB}/webhooks/shopify/{shop.code}/"
    _shopify_hook(shopify_standin, "orders/create", url)
    _shopify_hook(shopify_standin, "orders/updated", url)
    _shopify_hook(shopify_standin, "orders/paid", "https://old-hub.example.test/hooks/")
    # when only checking
    report = channel_webhooks_check(channel_code=shop.code)
    # then two are healthy, three missing (one of them goes to another address), nothing created
    assert _statuses(report) == {
        "orders/create": "healthy",
        "orders/updated": "healthy",
        "orders/cancelled": "missing",
        "orders/paid": "missing",
        "orders/edited": "missing",
    }
    assert next(t for t in report.topics if t.topic == "orders/paid").foreign == [
        "https://old-hub.example.test/hooks/"
    ]
    assert len(shopify_standin.api("GET", "webhooks.json").body["webhooks"]) == 3
    issue = Issue.objects.get(key=f"webhooks:{shop.code}")
    assert issue.status == Status.OPEN and issue.channel_code == shop.code
    assert "orders/cancelled" in issue.title
    # when repairing
    repaired = channel_webhooks_check(channel_code=shop.code, repair=True)
    assert {t.topic: t.action for t in repaired.topics if t.action} == {
        "orders/cancelled": "created",
        "orders/paid": "created",
        "orders/edited": "created",
    }
    ours = [
        h["topic"]
        for h in shopify_standin.api("GET", "webhooks.json").body["webhooks"]
        if h["address"] == url
    ]
    assert sorted(ours) == sorted(SHOPIFY_ORDER_TOPICS)
    # then the inbox item clears itself, and a fresh check is all healthy
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED
    assert set(_statuses(channel_webhooks_check(channel_code=shop.code)).values()) == {"healthy"}
    stored = ChannelSyncState.objects.get(channel=shop).webhooks_report
    assert stored["url"] == url and len(stored["topics"]) == 5


def test_woocommerce_disabled_is_reactivated_and_missing_created_with_the_secret(
    make_channel: Callable[..., Any], woo_standin: ChannelStandin
) -> None:
    channel = standin_channel(make_channel, woo_standin, "hooks-woo", secret=WOO_SECRET)
    url = f"{HUB}/webhooks/woocommerce/{channel.code}/"
    made = woo_standin.api(
        "POST", "webhooks", {"topic": "order.updated", "delivery_url": url, "secret": WOO_SECRET}
    )
    woo_standin.api("PUT", f"webhooks/{made.body['id']}", {"status": "disabled"})
    report = channel_webhooks_check(channel_code=channel.code, repair=True)
    assert _statuses(report) == {"order.created": "missing", "order.updated": "disabled"}
    assert {t.topic: t.action for t in report.topics} == {
        "order.created": "created",
        "order.updated": "reactivated",
    }
    hooks = woo_standin.api("GET", "webhooks?status=active").body
    assert sorted(h["topic"] for h in hooks) == ["order.created", "order.updated"]
    created = [r for r in woo_standin.received() if r["op"] == "POST webhooks"][-1]
    assert created["body"]["secret"] == WOO_SECRET and created["body"]["delivery_url"] == url
    assert not Issue.objects.filter(key=f"webhooks:{channel.code}", status=Status.OPEN).exists()


def test_bigcommerce_inactive_hook_is_reactivated(
    make_channel: Callable[..., Any],
    bigcommerce_standin: ChannelStandin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry._HANDLERS, "store/order/updated", lambda event: None)
    channel = standin_channel(make_channel, bigcommerce_standin, "hooks-bc")
    url = f"{HUB}/webhooks/bigcommerce/{channel.code}/"
    made = bigcommerce_standin.api(
        "POST", "v3/hooks", {"scope": "store/order/updated", "destination": url}
    )
    bigcommerce_standin.api("PUT", f"v3/hooks/{made.body['data']['id']}", {"is_active": False})
    report = channel_webhooks_check(channel_code=channel.code, repair=True)
    assert [(t.topic, t.status, t.action) for t in report.topics] == [
        ("store/order/updated", "disabled", "reactivated")
    ]
    assert (
        bigcommerce_standin.api("GET", "v3/hooks?is_active=true").body["meta"]["pagination"][
            "total"
        ]
        == 1
    )


def test_unrepairable_subscription_opens_an_inbox_item_and_the_cli_says_so(
    shop: Channel, shopify_standin: ChannelStandin, settings: SettingsWrapper
) -> None:
    # given a hub URL Shopify refuses (plain http)
    settings.HUB_PUBLIC_URL = "http://hub.example.test"
    out = StringIO()
    with pytest.raises(CommandError, match="5 topic"):
        call_command("channel", "webhooks", shop.code, "--repair", stdout=out)
    table = out.getvalue()
    assert "orders/updated" in table and "missing" in table
    assert "failed: " in table and "not supported" in table
    issue = Issue.objects.get(key=f"webhooks:{shop.code}", status=Status.OPEN)
    assert issue.channel_code == shop.code
    assert issue.replay_task == "channels.webhooks_check"
    assert shopify_standin.api("GET", "webhooks.json").body["webhooks"] == []


def test_cli_table_when_healthy(shop: Channel, shopify_standin: ChannelStandin) -> None:
    for topic in SHOPIFY_ORDER_TOPICS:
        _shopify_hook(shopify_standin, topic, f"{HUB}/webhooks/shopify/{shop.code}/")
    out = StringIO()
    call_command("channel", "webhooks", shop.code, stdout=out)
    lines = [ln for ln in out.getvalue().splitlines() if ln.startswith("orders/")]
    assert len(lines) == 5 and all(" healthy " in ln for ln in lines)


def test_missing_public_url_is_a_configuration_error(
    shop: Channel, settings: SettingsWrapper
) -> None:
    settings.HUB_PUBLIC_URL = ""
    with pytest.raises(CommandError, match="HUB_PUBLIC_URL"):
        call_command("channel", "webhooks", shop.code, stdout=StringIO())
    assert not Issue.objects.filter(key=f"webhooks:{shop.code}").exists()


def test_without_public_url_the_hourly_job_checks_nothing(
    shop: Channel, settings: SettingsWrapper
) -> None:
    from apps.webhooks.backstop import channels_with_webhooks

    assert channels_with_webhooks() == [shop.code]
    settings.HUB_PUBLIC_URL = ""
    assert channels_with_webhooks() == []
    assert not Issue.objects.filter(key=f"webhooks:{shop.code}").exists()
