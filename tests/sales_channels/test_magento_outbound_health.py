"""Subscription health of Magento channels: with Adobe I/O Events on, the hub's registration at
Adobe (the stand-in's IMS token and registrations routes, over HTTP) is healthy, disabled
(an inbox item that clears itself) or missing; with I/O Events off the channel admin says the
poll is the intake, and an inbox item says when nothing brings orders in."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command
from pytest_django.fixtures import SettingsWrapper

from apps.core.errors import PermanentError
from apps.inbox.models import Issue, Status
from apps.ledger import registry
from apps.sales_channels.admin import ChannelAdmin
from apps.sales_channels.models import Channel, ChannelSyncState
from apps.webhooks.backstop import channel_webhooks_check, channels_with_webhooks
from tests.fixtures.channel_standins import ChannelStandin

from .magento_outbound_helpers import magento_channel

pytestmark = pytest.mark.django_db

HUB = "https://hub.example.test"
PLACED = "com.adobe.commerce.plugin.sales.api.order_management.place"
SAVED = "com.adobe.commerce.observer.sales_order_save_commit_after"
SAVED_BEFORE_COMMIT = "com.adobe.commerce.observer.sales_order_save_after"


@pytest.fixture(autouse=True)
def _public_url(settings: SettingsWrapper) -> None:
    settings.HUB_PUBLIC_URL = HUB


@pytest.fixture(autouse=True)
def _routing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fixed routing table: three of the Magento order events the order flow handles."""
    table = {t: (lambda event: None) for t in (PLACED, SAVED_BEFORE_COMMIT, SAVED)}
    monkeypatch.setattr(registry, "_HANDLERS", table)


@pytest.fixture
def adobe(settings: SettingsWrapper, magento_standin: ChannelStandin) -> ChannelStandin:
    """Adobe's IMS and I/O Events API answered by the stand-in; our registration delivers
    the order placed and saved events to the hub."""
    settings.HUB_ADOBE_IO_API_URL = magento_standin.url
    settings.HUB_ADOBE_IMS_URL = magento_standin.url
    settings.HUB_ADOBE_IO_CONSUMER_ORG_ID = "standin-org@AdobeOrg"
    settings.HUB_ADOBE_IO_CLIENT_SECRET = "standin-ims-client-secret"
    magento_standin.set_config(
        io_registration_url=f"{HUB}/webhooks/magento/mg/", io_events_of_interest=[PLACED, SAVED]
    )
    return magento_standin


def summary(channel: Channel) -> str:
    return ChannelAdmin(Channel, admin.site).webhook_health(channel)


def test_without_io_events_the_admin_says_the_poll_is_the_intake(
    magento_standin: ChannelStandin,
) -> None:
    channel = magento_channel(magento_standin)
    assert channel.code in channels_with_webhooks()
    report = channel_webhooks_check(channel_code=channel.code)
    assert report.topics == [] and not report.error
    assert report.note.endswith("orders come from the poll every 300s")
    assert "Adobe I/O Events off (Magento Open Source)" in summary(channel)
    assert magento_standin.stats()["total_calls"] == 0  # nothing to ask anyone
    assert not Issue.objects.filter(key=f"webhooks:{channel.code}").exists()
    out = StringIO()
    call_command("channel", "webhooks", channel.code, stdout=out)
    assert "orders come from the poll every 300s" in out.getvalue()


def test_without_io_events_and_without_the_poll_no_order_comes_in(
    magento_standin: ChannelStandin,
) -> None:
    channel = magento_channel(magento_standin, orders_poll_enabled=False)
    with pytest.raises(PermanentError, match="no order reaches the hub"):
        channel_webhooks_check(channel_code=channel.code)
    issue = Issue.objects.get(key=f"webhooks:{channel.code}")
    assert issue.status == Status.OPEN and issue.channel_code == channel.code
    assert " UTC: error: channel mg: Adobe I/O Events are off" in summary(channel)


def test_io_events_without_the_adobe_settings_are_not_checked(
    magento_standin: ChannelStandin,
) -> None:
    channel = magento_channel(
        magento_standin, magento_io_events=True, magento_client_id=magento_standin.client_id
    )
    report = channel_webhooks_check(channel_code=channel.code)
    assert "registration not checked (HUB_ADOBE_IO_CONSUMER_ORG_ID" in report.note
    assert "the order poll is the backstop" in summary(channel)
    assert not Issue.objects.filter(key=f"webhooks:{channel.code}").exists()


def test_the_registration_is_healthy_then_disabled_then_healthy_again(
    adobe: ChannelStandin,
) -> None:
    channel = magento_channel(adobe, magento_io_events=True, magento_client_id=adobe.client_id)
    # an active registration with two of the three handled events: those two are compared
    report = channel_webhooks_check(channel_code=channel.code)
    assert {t.topic: t.status for t in report.topics} == {PLACED: "healthy", SAVED: "healthy"}
    assert summary(channel).endswith("2 healthy")
    # Adobe disables it (deliveries kept failing): the inbox hears of it, a repair says how
    adobe.set_config(io_registration_status="disabled", io_registration_enabled=False)
    report = channel_webhooks_check(channel_code=channel.code, repair=True)
    assert {t.status for t in report.topics} == {"disabled"}
    assert all("Adobe Developer Console" in t.action for t in report.topics)
    issue = Issue.objects.get(key=f"webhooks:{channel.code}")
    assert issue.status == Status.OPEN and PLACED in str(issue.last_error)
    # re-activated at Adobe: the next check clears the item
    adobe.set_config(io_registration_status="verified", io_registration_enabled=True)
    channel_webhooks_check(channel_code=channel.code)
    issue.refresh_from_db()
    assert issue.status != Status.OPEN
    # the IMS token was fetched once and reused
    assert adobe.stats()["calls"]["ims_token"] == 1
    assert adobe.stats()["calls"]["io_registrations"] == 3
    state = ChannelSyncState.objects.get(channel=channel)
    assert state.webhooks_report["topics"][0]["subscription_id"]


def test_a_registration_delivering_elsewhere_is_not_ours(adobe: ChannelStandin) -> None:
    adobe.set_config(io_registration_url="https://old-hub.example.test/adobe/")
    channel = magento_channel(adobe, magento_io_events=True, magento_client_id=adobe.client_id)
    report = channel_webhooks_check(channel_code=channel.code)
    # none of ours: every handled event is missing, the other address listed as foreign
    assert {t.topic: t.status for t in report.topics} == {
        PLACED: "missing",
        SAVED_BEFORE_COMMIT: "missing",
        SAVED: "missing",
    }
    assert report.topics[0].foreign == ["https://old-hub.example.test/adobe/"]
    assert Issue.objects.filter(key=f"webhooks:{channel.code}", status=Status.OPEN).exists()
