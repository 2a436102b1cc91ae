"""Status back to the channel: once an order is in Odoo, tell the channel its Odoo reference.

- Shopify: GraphQL `tagsAdd` with the tag `odoo:<sale order name>` (tags are a set, so a repeat
  adds nothing).
- WooCommerce: `PUT orders/<id>` status `processing` (only from pending / on-hold) and one order
  note carrying the Odoo reference; the notes are read first, so a repeat never adds a second.
- BigCommerce: v2 `PUT orders/<id>` `staff_notes` with the Odoo reference appended (read first,
  skipped when already there). The status is left to the fulfilment flow.
- Magento: `POST /V1/orders/<id>/comments` with a status-history comment carrying the Odoo
  reference, hidden from the customer, with the order's current status; the order's
  `status_histories` are read first, so a repeat never adds a second comment.
- B2B API: nothing to send, the order and its Odoo reference are visible through the API.

The task runs on the `channel_io` queue, rate limited per worker (`HUB_ORDER_ACK_RATE`); a 429
or a Shopify THROTTLED answer raises RateLimited, which HubTask re-queues after `Retry-After`
without spending an attempt. A transient failure is retried; a permanent one (or the last
transient one) leaves the order as it is and opens the inbox item `order_ack:<ref>`.

Shadow channels send nothing: what would have been sent is recorded in `ack_sent`.
Every outcome is recorded on the order (`ack_state`, `ack_at`, `ack_sent`) and in its history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core import shapes
from apps.core.errors import HubError, PermanentError, RateLimited, TransientError
from apps.sales_channels.clients import TIMEOUT, _check, answer
from apps.sales_channels.magento import magento_client
from apps.sales_channels.models import Channel

from . import metrics
from .doorbells import ring_task
from .integrations import order_inbox_report
from .models import ChannelOrder, OrderState, OrderTransition

logger = logging.getLogger(__name__)

ACK_TASK = "orders.acknowledge"
ACKABLE_STATES = (
    OrderState.IN_ODOO,
    OrderState.PARTIALLY_SHIPPED,
    OrderState.SHIPPED,
)


class AckState:
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
    SHADOW = "shadow"
    SKIPPED = "skipped"


# A planned call: (method, path relative to the channel's API root, JSON body).
Call = dict[str, Any]


def ack_note(row: ChannelOrder) -> str:
    return f"Odoo sale order {row.odoo_name or row.odoo_ref} (hub reference {row.odoo_ref})"


def ack_tag(row: ChannelOrder) -> str:
    return f"odoo:{row.odoo_name or row.odoo_ref}"


# --- transport -----------------------------------------------------------------------------------


class ChannelHttp:
    """One session per acknowledgement; every answer classified (429 -> RateLimited)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.session = requests.Session()
        self.calls: list[Call] = []

    def call(self, method: str, url: str, **kw: Any) -> requests.Response:
        try:
            resp = self.session.request(method, url, timeout=TIMEOUT, **kw)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                f"{self.channel.code}: {type(exc).__name__} calling {url.split('?')[0]}",
                channel=self.channel.code,
            ) from exc
        _check(resp, channel=self.channel)
        return resp

    def json(self, method: str, url: str, spec: Any, operation: str, **kw: Any) -> Any:
        """One call; its answer checked against ``spec`` (apps.core.shapes)."""
        return answer(self.call(method, url, **kw), spec, channel=self.channel, operation=operation)


def _shopify(channel: Channel, row: ChannelOrder, *, send: bool) -> list[Call]:
    version = getattr(settings, "HUB_SHOPIFY_API_VERSION", "2025-01")
    url = f"{channel.api_base_url.rstrip('/')}/admin/api/{version}/graphql.json"
    body = {
        "query": (
            "mutation HubOrderAck($id: ID!, $tags: [String!]!) {"
            " tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }"
        ),
        "variables": {"id": f"gid://shopify/Order/{row.external_id}", "tags": [ack_tag(row)]},
    }
    planned = [{"method": "POST", "path": "graphql.json", "body": body}]
    if not send:
        return planned
    http = ChannelHttp(channel)
    resp = http.call(
        "POST",
        url,
        json=body,
        headers={"X-Shopify-Access-Token": channel.access_token},
    )
    try:
        data = shapes.graphql_data(
            resp,
            {"tagsAdd": {"userErrors": [dict]}},
            partner=channel.code,
            operation="orders.acknowledge",
            channel=channel.code,
        )
    except RateLimited as exc:
        exc.retry_after = exc.retry_after or 2.0
        raise
    user_errors = data["tagsAdd"]["userErrors"]
    if user_errors:
        raise PermanentError(
            f"{channel.code}: tagsAdd refused: {user_errors[0].get('message')}",
            channel=channel.code,
        )
    return planned


WOO_ACK_FROM = ("pending", "on-hold")


def _woocommerce(channel: Channel, row: ChannelOrder, *, send: bool) -> list[Call]:
    base = channel.api_base_url.rstrip("/") + f"/wp-json/wc/v3/orders/{row.external_id}"
    note = {"note": ack_note(row), "customer_note": False}
    status = {"status": "processing"}
    if not send:
        return [
            {"method": "PUT", "path": f"orders/{row.external_id}", "body": status},
            {"method": "POST", "path": f"orders/{row.external_id}/notes", "body": note},
        ]
    http = ChannelHttp(channel)
    http.session.auth = (channel.consumer_key, channel.consumer_secret)
    planned: list[Call] = []
    current = http.json("GET", base, {"status": str}, "orders.acknowledge")
    if current.get("status") in WOO_ACK_FROM:
        http.call("PUT", base, json=status)
        planned.append({"method": "PUT", "path": f"orders/{row.external_id}", "body": status})
    notes = http.json("GET", base + "/notes", [dict], "orders.acknowledge")
    if not any(row.odoo_ref in str(n.get("note") or "") for n in notes):
        http.call("POST", base + "/notes", json=note)
        planned.append({"method": "POST", "path": f"orders/{row.external_id}/notes", "body": note})
    return planned


def _bigcommerce(channel: Channel, row: ChannelOrder, *, send: bool) -> list[Call]:
    url = channel.api_base_url.rstrip("/") + f"/v2/orders/{row.external_id}"
    line = ack_note(row)
    if not send:
        return [
            {"method": "PUT", "path": f"v2/orders/{row.external_id}", "body": {"staff_notes": line}}
        ]
    http = ChannelHttp(channel)
    http.session.headers.update(
        {"X-Auth-Token": channel.access_token, "Accept": "application/json"}
    )
    order = http.json("GET", url, {"staff_notes?": (str, None)}, "orders.acknowledge")
    current = str(order.get("staff_notes") or "")
    if row.odoo_ref in current:
        return []
    body = {"staff_notes": f"{current}\n{line}".strip()}
    http.call("PUT", url, json=body)
    return [{"method": "PUT", "path": f"v2/orders/{row.external_id}", "body": body}]


def _magento(channel: Channel, row: ChannelOrder, *, send: bool) -> list[Call]:
    path = f"orders/{row.external_id}/comments"
    history: dict[str, Any] = {
        "comment": ack_note(row),
        "is_customer_notified": 0,
        "is_visible_on_front": 0,
    }
    if row.external_id.isdigit():
        history["parent_id"] = int(row.external_id)
    if not send:
        return [{"method": "POST", "path": path, "body": {"statusHistory": history}}]
    client = magento_client(channel)
    order = shapes.expect(
        client.request("GET", f"orders/{row.external_id}"),
        {"status?": (str, None), "status_histories?": [{"comment?": (str, None)}]},
        partner=channel.code,
        operation="orders.acknowledge",
        channel=channel.code,
    )
    if any(
        row.odoo_ref in str(h.get("comment") or "") for h in order.get("status_histories") or []
    ):
        return []
    if order.get("status"):
        # Keep the order's status: a comment without one may leave Magento's status unset.
        history["status"] = order["status"]
    body = {"statusHistory": history}
    client.request("POST", path, json=body)
    return [{"method": "POST", "path": path, "body": body}]


ADAPTERS: dict[str, Callable[..., list[Call]]] = {
    Channel.Kind.SHOPIFY: _shopify,
    Channel.Kind.WOOCOMMERCE: _woocommerce,
    Channel.Kind.BIGCOMMERCE: _bigcommerce,
    Channel.Kind.MAGENTO: _magento,
}


# --- the service ---------------------------------------------------------------------------------


def order_ack_ring(*, row: ChannelOrder) -> None:
    """Enqueue the acknowledgement after the current transaction commits."""
    if row.channel.kind not in ADAPTERS:
        return
    order_id = row.pk
    transaction.on_commit(lambda: ring_task(ACK_TASK, order_id=order_id))


def _record(row: ChannelOrder, *, state: str, sent: Any, reason: str, actor: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        ChannelOrder.objects.filter(pk=row.pk).update(
            ack_state=state, ack_at=now, ack_sent=sent, updated_at=now
        )
        # History: the state does not change; the entry says what the channel was told.
        OrderTransition.objects.create(
            order=row, from_state=row.state, to_state=row.state, actor=actor, reason=reason[:1000]
        )
    row.ack_state, row.ack_at, row.ack_sent = state, now, sent


def order_acknowledge(*, order_id: int, final: bool = True, actor: str = ACK_TASK) -> str:
    """Tell the channel the Odoo reference of an order in Odoo. Returns the ack state.

    Idempotent: an order already acknowledged is not sent again, and each adapter checks the
    channel before adding anything that would not be a no-op the second time.
    `final=False` (a retry is coming) lets a TransientError through without an inbox item.
    """
    row = ChannelOrder.objects.select_related("channel").get(pk=order_id)
    channel = row.channel
    if row.ack_state in (AckState.DONE, AckState.SHADOW, AckState.SKIPPED):
        return row.ack_state
    if row.state not in ACKABLE_STATES:
        return row.ack_state
    adapter = ADAPTERS.get(channel.kind)
    if adapter is None:
        _record(row, state=AckState.SKIPPED, sent=None, reason="nothing to send", actor=actor)
        return row.ack_state
    if not channel.api_base_url and channel.state != Channel.State.SHADOW:
        logger.warning(
            "channel %s has no API base URL: order %s not acknowledged", channel.code, row.odoo_ref
        )
        _record(
            row,
            state=AckState.SKIPPED,
            sent=None,
            reason="channel has no API base URL",
            actor=actor,
        )
        return row.ack_state
    if channel.state == Channel.State.SHADOW:
        planned = adapter(channel, row, send=False)
        _record(
            row,
            state=AckState.SHADOW,
            sent=planned,
            reason="shadow mode: channel acknowledgement recorded, nothing sent",
            actor=actor,
        )
        metrics.ACKS.labels(channel.code, "shadow").inc()
        return row.ack_state
    try:
        with shapes.about(order_number=row.number, order_external_id=row.external_id):
            sent = adapter(channel, row, send=True)
    except RateLimited:
        metrics.ACKS.labels(channel.code, "rate_limited").inc()
        raise  # re-queued by HubTask without spending an attempt
    except TransientError as exc:
        if not final:
            raise
        _ack_failed(row, exc, actor)
        return row.ack_state
    except PermanentError as exc:
        _ack_failed(row, exc, actor)
        return row.ack_state
    _record(
        row,
        state=AckState.DONE,
        sent=sent,
        reason=f"acknowledged on {channel.code}: {ack_tag(row)}"
        + ("" if sent else " (already there)"),
        actor=actor,
    )
    metrics.ACKS.labels(channel.code, "done").inc()
    return row.ack_state


def _ack_failed(row: ChannelOrder, exc: HubError, actor: str) -> None:
    _record(
        row,
        state=AckState.FAILED,
        sent=None,
        reason=f"acknowledgement failed: {exc}",
        actor=actor,
    )
    metrics.ACKS.labels(row.channel.code, "failed").inc()
    order_inbox_report(
        error=exc,
        key=f"order_ack:{row.odoo_ref}",
        row=row,
        replay_task=ACK_TASK,
        replay_kwargs={"order_id": row.pk},
    )
