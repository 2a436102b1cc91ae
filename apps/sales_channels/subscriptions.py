"""Webhook subscription health, the channel side: list a channel's subscriptions through its API,
compare them with the topics the hub handles, re-register missing ones and re-activate disabled
ones. Which topics the hub handles (the ledger's routing table) and the inbox item for what could
not be repaired are decided one layer up, in `apps.webhooks.backstop`.

A topic is *healthy* when an active subscription delivers it to the hub's own URL
(`HUB_PUBLIC_URL` + `/webhooks/<kind>/<code>/`); *disabled* when only an inactive one does
(WooCommerce `status` paused/disabled, BigCommerce `is_active: false`); *missing* otherwise —
a subscription of the topic to another address is not ours (listed as `foreign`). Shopify has no
disabled state: it deletes a subscription that keeps failing. Magento's subscriptions are its
Adobe I/O Events registration, read from Adobe, or none at all (Open Source: the report notes
that the poll is the intake); see `magento_health`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.core.errors import ConfigurationError, HubError, PermanentError

from . import clients, magento_health
from .models import Channel, ChannelSyncState

logger = logging.getLogger(__name__)

# Topics each platform can deliver that the hub may handle; the ones the ledger has a handler
# for are the ones a channel must be subscribed to. Shopify's compliance topics
# (customers/redact, shop/redact, customers/data_request) are not here: they are set in the
# app's configuration (Partner Dashboard / shopify.app.toml), not through webhooks.json.
CANDIDATE_TOPICS: dict[str, tuple[str, ...]] = {
    Channel.Kind.SHOPIFY: (
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/paid",
        "orders/edited",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "fulfillments/create",
        "fulfillments/update",
        "refunds/create",
        "returns/request",
        "returns/approve",
        "returns/decline",
        "returns/cancel",
        "returns/close",
        "returns/process",
        "order_transactions/create",
        "products/update",
        "inventory_levels/update",
        "customers/create",
        "customers/update",
    ),
    Channel.Kind.WOOCOMMERCE: (
        "order.created",
        "order.updated",
        "order.deleted",
        "order.restored",
        "product.created",
        "product.updated",
        "customer.created",
        "customer.updated",
    ),
    Channel.Kind.BIGCOMMERCE: (
        "store/order/created",
        "store/order/updated",
        "store/order/statusUpdated",
        "store/order/archived",
        "store/order/refund/created",
        "store/shipment/created",
        "store/shipment/updated",
        "store/product/updated",
        "store/sku/inventory/updated",
        "store/customer/created",
        "store/customer/updated",
    ),
    # Adobe I/O Events codes; the registration lives at Adobe (magento_health.py).
    Channel.Kind.MAGENTO: magento_health.EVENTS,
}
REACTIVATABLE = (Channel.Kind.WOOCOMMERCE, Channel.Kind.BIGCOMMERCE)

HEALTHY, MISSING, DISABLED = "healthy", "missing", "disabled"


@dataclass
class TopicHealth:
    topic: str
    status: str  # healthy / missing / disabled (before any repair)
    subscription_id: str = ""
    action: str = ""  # created / reactivated / "failed: …" / "" (nothing done)
    foreign: list[str] = field(default_factory=list)  # same topic, another address

    @property
    def ok_now(self) -> bool:
        return self.status == HEALTHY or self.action in ("created", "reactivated")


@dataclass
class WebhookReport:
    channel: str
    url: str
    checked_at: str
    repair: bool
    topics: list[TopicHealth] = field(default_factory=list)
    extra: list[dict[str, Any]] = field(default_factory=list)  # ours, for topics not handled
    error: str = ""
    note: str = ""  # why nothing was compared (Magento: I/O Events off, the poll is the intake)

    @property
    def unhealthy(self) -> list[TopicHealth]:
        return [t for t in self.topics if not t.ok_now]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def hub_webhook_url(channel: Channel) -> str:
    base = str(getattr(settings, "HUB_PUBLIC_URL", "") or "").rstrip("/")
    if not base:
        raise ConfigurationError(
            "HUB_PUBLIC_URL is not set: cannot tell which subscriptions point at this hub",
            channel=channel.code,
        )
    return f"{base}/webhooks/{channel.kind}/{channel.code}/"


def _newest_secret(channel: Channel) -> str:
    now = timezone.now()
    valid = [s for s in channel.secrets.order_by("-valid_from") if s.is_valid_at(now)]
    return str(valid[0].secret) if valid else ""


def _repair(channel: Channel, row: TopicHealth, url: str) -> None:
    if channel.kind == Channel.Kind.MAGENTO:
        row.action = f"failed: {magento_health.REPAIR_HINT}"
        return
    try:
        if row.status == DISABLED and channel.kind in REACTIVATABLE:
            clients.webhook_subscription_activate(
                channel=channel, subscription_id=row.subscription_id
            )
            row.action = "reactivated"
        elif row.status in (MISSING, DISABLED):
            sub = clients.webhook_subscription_create(
                channel=channel, topic=row.topic, address=url, secret=_newest_secret(channel)
            )
            row.subscription_id, row.action = sub.id, "created"
    except PermanentError as exc:  # refused (e.g. not https, duplicate): report, do not retry
        row.action = f"failed: {exc.message}"[:300]


def channel_subscriptions_check(
    *, channel: Channel, topics: list[str], repair: bool
) -> WebhookReport:
    """Compare the channel's subscriptions with `topics`, repair if asked, store the report.

    A refused call (credentials, a kind without subscriptions, no HUB_PUBLIC_URL) is stored as
    the report's error and raised; a transient failure is raised and nothing is stored.
    """
    report = WebhookReport(
        channel=channel.code, url="", checked_at=timezone.now().isoformat(), repair=repair
    )
    try:
        if channel.kind == Channel.Kind.MAGENTO:
            failure = magento_health.poll_off_error(channel)
            if failure is not None:
                raise failure
            report.note = magento_health.unchecked_note(channel)
            if report.note:
                _store(channel, report)
                return report
        report.url = url = hub_webhook_url(channel)
        if channel.kind == Channel.Kind.MAGENTO:
            subs = magento_health.registrations_list(channel=channel)
            topics = magento_health.relevant_topics(topics, subs, url)
        else:
            subs = clients.webhook_subscriptions_list(channel=channel)
        for topic in topics:
            ours = [s for s in subs if s.topic == topic and s.address == url]
            row = TopicHealth(topic=topic, status=MISSING)
            row.foreign = sorted({s.address for s in subs if s.topic == topic} - {url})
            active = [s for s in ours if s.active]
            if active:
                row.status, row.subscription_id = HEALTHY, active[0].id
            elif ours:
                row.status, row.subscription_id = DISABLED, ours[0].id
            if repair and row.status != HEALTHY:
                _repair(channel, row, url)
            report.topics.append(row)
        report.extra = [
            {"topic": s.topic, "id": s.id, "status": s.status}
            for s in subs
            if s.address == url and s.topic not in topics
        ]
    except PermanentError as exc:
        report.error = exc.message
        _store(channel, report)
        raise
    _store(channel, report)
    return report


def _store(channel: Channel, report: WebhookReport) -> None:
    ChannelSyncState.objects.update_or_create(
        channel=channel,
        defaults={"webhooks_checked_at": timezone.now(), "webhooks_report": report.as_dict()},
    )


def report_summary(report: dict[str, Any]) -> str:
    """One line for the admin and the inbox: counts per status, and what was done."""
    if not report:
        return "never checked"
    if report.get("error"):
        return f"error: {report['error']}"
    if report.get("note"):
        return str(report["note"])
    rows = report.get("topics") or []
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    done = [f"{r['topic']} {r['action']}" for r in rows if r.get("action")]
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no topics needed"
    return text + (f" ({'; '.join(done)})" if done else "")


class WebhookSubscriptionsUnhealthy(PermanentError):
    """Topics the hub handles that no active subscription of the channel delivers to the hub."""


def unhealthy_error(report: WebhookReport) -> HubError:
    names = ", ".join(
        f"{t.topic} ({t.status}{'; ' + t.action if t.action else ''})" for t in report.unhealthy
    )
    return WebhookSubscriptionsUnhealthy(
        f"channel {report.channel}: webhook subscriptions not delivering to {report.url}: {names}",
        channel=report.channel,
        url=report.url,
    )
