"""Channel webhooks about fulfillments: the hub's own echo, or a shipment Odoo does not know.

Registered in FulfillmentConfig.ready for Shopify `fulfillments/create` and BigCommerce
`store/shipment/created` (WooCommerce core sends nothing for its trackings or notes).

- **Echo**: the hub made it. Its id is in the channel's record of one of the order's shipments
  (`Shipment.channel_result`, `ShipmentSync(create).result`: the adapters keep the channel's
  fulfillment / shipment ids there), or one of its tracking numbers is a hub shipment's.
  Nothing happens.
- **Not yet known**: the order has a create sync still pending or running. The channel may
  have answered the hub's call with this very fulfillment while the sync has not stored its id
  yet: the event is retried shortly (TransientError), by when the id is stored.
- **Fulfilled outside Odoo**: anything else, for a hub order. One inbox item per order, on the
  order, with a suggestion. The hub never touches Odoo stock on its own: validating the delivery
  in Odoo (or cancelling the channel's fulfillment) is a person's decision.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from apps.core.errors import PermanentError, TransientError
from apps.core.workrow import UNFINISHED
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

from .errors import FulfilledOutsideOdoo
from .models import Shipment, ShipmentSync

logger = logging.getLogger(__name__)

SHOPIFY_TOPICS = ("fulfillments/create",)
BIGCOMMERCE_TOPICS = ("store/shipment/created",)
RECHECK_SECONDS = 5.0
# Shopify fulfillments that never shipped anything.
NOT_SHIPPED = {"cancelled", "error", "failure"}


def _norm(value: Any) -> str:
    """An id as the channel may write it: 255858046, "255858046", gid://shopify/Fulfillment/…"""
    text = str(value).strip()
    if text.startswith("gid://"):
        text = text.rsplit("/", 1)[-1].split("?", 1)[0]
    return text


_ID_KEY = re.compile(r"(^|_)ids?$|[a-z]Ids?$")
# Ids in a result that name something else than the fulfillment or shipment itself.
_OTHER = ("order", "location", "line", "address", "product", "item", "variant", "customer")


def _is_own_id(key: str) -> bool:
    return bool(_ID_KEY.search(key)) and not any(w in key.lower() for w in _OTHER)


def ids_in(data: Any) -> set[str]:
    """Every fulfillment / shipment id an adapter may have stored in a sync result (keys named
    id, *_id, *_ids, *Id; not the order's, lines' or location's ids)."""
    out: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            is_id = _is_own_id(str(key))
            if is_id and isinstance(value, str | int) and not isinstance(value, bool):
                if str(value).strip():
                    out.add(_norm(value))
            elif is_id and isinstance(value, list):
                out |= {_norm(v) for v in value if isinstance(v, str | int) and str(v).strip()}
            else:
                out |= ids_in(value)
    elif isinstance(data, list):
        for item in data:
            out |= ids_in(item)
    return out


def hub_made(order: ChannelOrder, *, channel_ids: set[str], numbers: set[str]) -> bool:
    results = list(
        ShipmentSync.objects.filter(
            shipment__order=order, action=ShipmentSync.Action.CREATE
        ).values_list("result", flat=True)
    )
    results += Shipment.objects.filter(order=order).values_list("channel_result", flat=True)
    ours: set[str] = set()
    for result in results:
        ours |= ids_in(result)
    if channel_ids & ours:
        return True
    if numbers:
        for tracked in Shipment.objects.filter(order=order).values_list(
            "tracking_numbers", flat=True
        ):
            if numbers & {str(n) for n in tracked or []}:
                return True
    return False


def _body(event: Any) -> dict[str, Any]:
    try:
        data = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(f"fulfillment webhook body is not JSON: {exc}", field="body")
    if not isinstance(data, dict):
        raise PermanentError("fulfillment webhook body is not a JSON object", field="body")
    return data


def _facts(channel: Channel, body: dict[str, Any]) -> tuple[str, set[str], set[str], str] | None:
    """(order external id, the channel's ids of it, tracking numbers, a name for people)."""
    if channel.kind == Channel.Kind.SHOPIFY:
        if str(body.get("status") or "").lower() in NOT_SHIPPED:
            return None
        ids = {_norm(v) for v in (body.get("id"), body.get("admin_graphql_api_id")) if v}
        numbers = {str(n) for n in body.get("tracking_numbers") or [] if n}
        if body.get("tracking_number"):
            numbers.add(str(body["tracking_number"]))
        name = str(body.get("name") or body.get("id") or "")
        return str(body.get("order_id") or ""), ids, numbers, name
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        sid = data.get("id")
        return str(data.get("orderId") or ""), ({_norm(sid)} if sid else set()), set(), str(sid)
    return None


def fulfillment_event_handle(event: Any) -> str:
    """One channel fulfillment webhook. Returns what it was (the ledger keeps it as effect)."""
    channel = Channel.objects.filter(code=event.channel_code).first()
    if channel is None:
        return "unknown channel"
    facts = _facts(channel, _body(event))
    if facts is None:
        return "not a shipment"
    external_id, ids, numbers, name = facts
    order = ChannelOrder.objects.filter(channel=channel, external_id=external_id).first()
    if not external_id or order is None:
        return "not a hub order"
    if hub_made(order, channel_ids=ids, numbers=numbers):
        return "echo"
    busy = ShipmentSync.objects.filter(
        shipment__order=order, action=ShipmentSync.Action.CREATE, state__in=UNFINISHED
    ).exists()
    if busy:
        raise TransientError(
            f"order {order.odoo_ref}: the hub is fulfilling it right now; looking again shortly",
            retry_after=RECHECK_SECONDS,
        )
    _report_outside(order, name=name, numbers=numbers)
    return "fulfilled outside Odoo"


def _report_outside(order: ChannelOrder, *, name: str, numbers: set[str]) -> None:
    from apps.inbox.models import Issue
    from apps.inbox.services import issue_report

    channel = order.channel
    number = order.number or order.external_id
    tracking = ", ".join(sorted(numbers)) or "no tracking number"
    error = FulfilledOutsideOdoo(
        f"Order {number} was fulfilled on {channel.code} outside Odoo (fulfillment {name}, "
        f"{tracking}); Odoo has not shipped it",
        fulfillment=name,
        tracking=tracking,
        odoo_order=order.odoo_name,
    )
    issue = issue_report(
        error=error,
        key=f"fulfilled_outside:{order.odoo_ref}",
        row=order,
        channel_code=channel.code,
        order_number=number,
        customer=order.customer_email or order.customer_external_id,
    )
    odoo = order.odoo_name or "its sale order"
    suggestion = (
        f"If the goods left the warehouse, validate the delivery of {odoo} in Odoo (the hub "
        f"then recognises the channel's fulfillment and sends nothing twice); if they did not, "
        f"cancel the fulfillment on {channel.code}. The hub does not change Odoo stock itself"
    )
    Issue.objects.filter(pk=issue.pk).update(suggested_action=suggestion)
    logger.info("order %s fulfilled outside Odoo on %s", order.odoo_ref, channel.code)


def register(register_event_handler: Callable[[str, Callable[[Any], Any]], Any]) -> None:
    for topic in SHOPIFY_TOPICS + BIGCOMMERCE_TOPICS:
        register_event_handler(topic, fulfillment_event_handle)
