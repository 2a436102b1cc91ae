"""Subscription health of a Magento channel: the hub's Adobe I/O Events registration.

A Magento store has no webhook subscriptions of its own (CHANNELS.md 4.1): Magento Open Source
sends nothing and its orders come from the poll; Adobe Commerce sends Adobe I/O Events through a
registration kept by Adobe, not by the store. So:

- **I/O Events off** (``magento_io_events``): nothing to check. The report says that orders come
  from the poll (and how often), or, with the poll off, that nothing brings orders in (an
  error, so the inbox hears of it). The channel admin shows the report.
- **I/O Events on**: the registrations of the Adobe organisation are read from Adobe's I/O
  Events API (``GET {HUB_ADOBE_IO_API_URL}/events/{HUB_ADOBE_IO_CONSUMER_ORG_ID}/registrations``
  with an IMS server-to-server token for the channel's client id and
  ``HUB_ADOBE_IO_CLIENT_SECRET``, ``POST {HUB_ADOBE_IMS_URL}/ims/token/v3``, cached until it
  expires). Each registration of the channel's client id becomes one ``Subscription`` per event
  code it is interested in, delivering to its ``webhook_url``, active when ``enabled`` and its
  ``webhook_status`` is ``verified``; ``apps.sales_channels.subscriptions`` then compares them
  with the topics the hub handles like any channel's, except that the hub handles alternative
  events (an order placed, or saved) and a registration needs only some: the handled events
  our registrations chose are compared, all of them when they chose none. The API paths, the
  paging and the status words are UNCONFIRMED beyond the field names of Adobe's Registration
  API samples (verify with a real Adobe project). Without the Adobe settings the registration
  is not checked and the report says so (the poll remains the backstop); no inbox item for
  that.
- **Repair**: Adobe re-activates an UNSTABLE or DISABLED registration when it is edited in the
  Adobe Developer Console (a new challenge); the hub does not edit registrations, so a repair
  reports what to do instead.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

from apps.core import shapes
from apps.core.errors import PermanentError, TransientError

from .clients import TIMEOUT, Subscription, _check
from .magento import EVENT_PREFIX, ORDER_EVENTS
from .models import Channel

# Adobe I/O Events a Magento registration can deliver that the hub may handle (CHANNELS.md 4.1);
# the ones the ledger has a handler for are compared (apps.webhooks.backstop.topics_needed).
EVENTS: tuple[str, ...] = ORDER_EVENTS + tuple(
    EVENT_PREFIX + name
    for name in (
        "observer.sales_order_shipment_save_after",
        "observer.sales_order_shipment_track_save_after",
        "observer.sales_order_creditmemo_save_after",
        "observer.sales_order_status_history_save_after",
        "observer.catalog_product_save_commit_after",
        "observer.cataloginventory_stock_item_save_commit_after",
        "observer.customer_save_commit_after",
    )
)
REPAIR_HINT = (
    "re-activate the registration in the Adobe Developer Console (edit it: Adobe sends a new "
    "challenge); the hub does not edit Adobe registrations"
)
REGISTRATION = {
    "client_id?": (str, None),
    "webhook_url?": (str, None),
    "enabled?": (bool, None),
    "webhook_status?": (str, None),
    "registration_id?": (str, None),
    "events_of_interest?": [{"event_code": str}],
}
LISTING = {"_embedded?": {"registrations?": [REGISTRATION]}, "_links?": (dict, None)}
MAX_PAGES = 100


def unchecked_note(channel: Channel) -> str:
    """Why the registration is not checked ("" when it is), for the report and the admin."""
    if not channel.magento_io_events:
        if not channel.orders_enabled or not channel.orders_poll_enabled:
            return ""  # the caller reports the error: nothing brings orders in
        return (
            "Adobe I/O Events off (Magento Open Source): no subscriptions to check; orders come "
            f"from the poll every {channel.orders_poll_interval_seconds}s"
        )
    missing = [
        name
        for name in ("HUB_ADOBE_IO_CONSUMER_ORG_ID", "HUB_ADOBE_IO_CLIENT_SECRET")
        if not str(getattr(settings, name, "") or "")
    ]
    if not channel.magento_client_id:
        missing.insert(0, "the channel's client id")
    if missing:
        return (
            f"Adobe I/O Events registration not checked ({', '.join(missing)} not set); the "
            "order poll is the backstop"
        )
    return ""


def poll_off_error(channel: Channel) -> PermanentError | None:
    """Open Source with the poll (or orders) off: nothing brings this channel's orders in."""
    if channel.magento_io_events or (channel.orders_enabled and channel.orders_poll_enabled):
        return None
    if not channel.orders_enabled:
        return None  # orders are off on purpose
    return PermanentError(
        f"channel {channel.code}: Adobe I/O Events are off and the order poll is off: no "
        "order reaches the hub (turn the poll on, or I/O Events on for Adobe Commerce)",
        channel=channel.code,
    )


def relevant_topics(topics: list[str], subs: list[Subscription], url: str) -> list[str]:
    """The handled topics a Magento registration must deliver. The hub handles alternatives
    (an order placed or saved, before or after commit) and a registration subscribes to some of
    them: the ones our registrations chose are compared; when they chose none, all are
    (missing)."""
    ours = {s.topic for s in subs if s.address == url}
    return [t for t in topics if t in ours] or list(topics)


def _ims_token(channel: Channel, session: requests.Session) -> str:
    client_id = channel.magento_client_id
    secret = str(settings.HUB_ADOBE_IO_CLIENT_SECRET)
    key = "adobe:ims:" + hashlib.sha256(f"{client_id}:{secret}".encode()).hexdigest()[:24]
    found = cache.get(key)
    if isinstance(found, str) and found:
        return found
    url = str(settings.HUB_ADOBE_IMS_URL).rstrip("/") + "/ims/token/v3"
    try:
        resp = session.post(
            url,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
                "scope": "AdobeID,openid,read_organizations,adobeio_api",
            },
            timeout=TIMEOUT,
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(f"{channel.code}: Adobe IMS unreachable: {exc}") from exc
    _check(resp, channel=channel)
    body = shapes.decode(
        resp,
        {"access_token": str, "expires_in?": (int, None)},
        partner="adobe-ims",
        operation="channels.adobe_ims_token",
        channel=channel.code,
    )
    ttl = max(60, int(body.get("expires_in") or 3600) - 60)
    cache.set(key, body["access_token"], timeout=ttl)
    return str(body["access_token"])


def registrations_list(
    *, channel: Channel, session: requests.Session | None = None
) -> list[Subscription]:
    """The channel's Adobe I/O Events registrations, one Subscription per event code."""
    session = session or requests.Session()
    token = _ims_token(channel, session)
    org = str(settings.HUB_ADOBE_IO_CONSUMER_ORG_ID)
    url: str | None = f"{str(settings.HUB_ADOBE_IO_API_URL).rstrip('/')}/events/{org}/registrations"
    headers = {
        "Authorization": f"Bearer {token}",
        "x-api-key": channel.magento_client_id,
        "Accept": "application/hal+json",
    }
    out: list[Subscription] = []
    for _ in range(MAX_PAGES):
        if url is None:
            break
        try:
            resp = session.get(url, headers=headers, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                f"{channel.code}: Adobe I/O Events API unreachable: {exc}"
            ) from exc
        _check(resp, channel=channel)
        body: dict[str, Any] = shapes.decode(
            resp,
            LISTING,
            partner="adobe-io",
            operation="channels.adobe_io_registrations",
            channel=channel.code,
        )
        for reg in (body.get("_embedded") or {}).get("registrations") or []:
            if reg.get("client_id") not in (None, channel.magento_client_id):
                continue
            status = str(reg.get("webhook_status") or "")
            active = bool(reg.get("enabled")) and status.lower() == "verified"
            out.extend(
                Subscription(
                    str(reg.get("registration_id") or ""),
                    str(event["event_code"]),
                    str(reg.get("webhook_url") or ""),
                    active,
                    status or ("enabled" if reg.get("enabled") else "disabled"),
                )
                for event in reg.get("events_of_interest") or []
            )
        following = ((body.get("_links") or {}).get("next") or {}).get("href")
        url = str(following) if following and following != url else None
    return out
