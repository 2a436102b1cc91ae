"""Channel webhooks about refunds and returns → `intake.refund_record` (one row per refund).

Registered in ReturnsConfig.ready with the ledger:

- Shopify `refunds/create`: the Refund resource itself (refund line items with `restock_type`,
  transactions, order adjustments for shipping) is parsed here; `returns/*`: the order's
  refunds are read through the adapter (`refunds_read`), a return's lines with its money come
  with its refund.
- WooCommerce `order.updated`: the order handler runs first (the order is ingested as before);
  when `refunds[]` names a refund not recorded yet, the order's refunds are read through the
  adapter (`GET /orders/<id>/refunds`) and recorded.
- BigCommerce `store/order/refund/created`: the order's refunds are read through the adapter.

Anything for an order the hub does not know is ignored (`not a hub order`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from apps.core.errors import PermanentError
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

from .adapters import RefundData, RefundLineData, refund_adapter_for
from .intake import refund_record
from .models import ChannelRefund
from .odoo import cents

logger = logging.getLogger(__name__)

SHOPIFY_REFUND_TOPICS = ("refunds/create",)
SHOPIFY_RETURN_TOPICS = ("returns/*",)
WOO_TOPICS = ("order.updated",)
BIGCOMMERCE_TOPICS = ("store/order/refund/created",)


def _body(event: Any) -> dict[str, Any]:
    try:
        data = json.loads(bytes(event.body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise PermanentError(f"refund webhook body is not JSON: {exc}", field="body") from exc
    if not isinstance(data, dict):
        raise PermanentError("refund webhook body is not a JSON object", field="body")
    return data


def _gid(value: Any) -> str:
    text = str(value or "").strip()
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


def _when(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)


def shopify_refund(body: dict[str, Any], *, currency: str) -> RefundData:
    """A Shopify Refund resource (REST webhook shape), normalised."""
    lines = []
    tax = Decimal("0.00")
    for li in body.get("refund_line_items") or []:
        item = li.get("line_item") or {}
        line_tax = cents(li.get("total_tax"))
        tax += line_tax
        restock = str(li.get("restock_type") or "no_restock")
        lines.append(
            RefundLineData(
                sku=str(item.get("sku") or ""),
                quantity=int(li.get("quantity") or 0),
                amount=cents(li.get("subtotal")),
                tax=line_tax,
                restock="return" if restock == "legacy_restock" else restock,
                external_line_id=str(li.get("line_item_id") or item.get("id") or ""),
            )
        )
    paid = [
        t
        for t in body.get("transactions") or []
        if str(t.get("kind")) == "refund" and str(t.get("status") or "success") == "success"
    ]
    amount = sum((cents(t.get("amount")) for t in paid), Decimal("0.00"))
    shipping = Decimal("0.00")
    for adj in body.get("order_adjustments") or []:
        if str(adj.get("kind")) == "shipping_refund":
            shipping += -cents(adj.get("amount"))
            tax += -cents(adj.get("tax_amount"))
    cur = next((str(t.get("currency")) for t in paid if t.get("currency")), currency)
    return RefundData(
        external_id=_gid(body.get("id") or body.get("admin_graphql_api_id")),
        currency=cur.upper(),
        amount=amount,
        refunded_at=_when(body.get("processed_at") or body.get("created_at")),
        lines=tuple(lines),
        shipping_amount=shipping,
        tax_amount=tax,
        reason=str(body.get("note") or ""),
        raw=body,
    )


def _order(channel: Channel, external_id: str) -> ChannelOrder | None:
    if not external_id:
        return None
    return ChannelOrder.objects.filter(channel=channel, external_id=external_id).first()


def _record_all(channel: Channel, order: ChannelOrder, refunds: list[RefundData]) -> str:
    outcomes = [refund_record(channel=channel, order=order, data=r) for r in refunds]
    return ", ".join(outcomes) or "no refunds"


def refunds_pull(channel: Channel, order: ChannelOrder) -> str:
    """Read the order's refunds through the adapter and record the new ones."""
    adapter = refund_adapter_for(channel)
    if adapter is None:
        return "no refund adapter"
    return _record_all(channel, order, adapter.refunds_read(order.external_id))


def refund_event_handle(event: Any) -> str:
    channel = Channel.objects.filter(code=event.channel_code).first()
    if channel is None:
        return "unknown channel"
    body = _body(event)
    if channel.kind == Channel.Kind.SHOPIFY and event.topic.startswith("refunds/"):
        order = _order(channel, _gid(body.get("order_id")))
        if order is None:
            return "not a hub order"
        return refund_record(
            channel=channel, order=order, data=shopify_refund(body, currency=order.currency)
        )
    if channel.kind == Channel.Kind.SHOPIFY:
        raw = body.get("order_id") or (body.get("order") or {}).get("id")
        order = _order(channel, _gid(raw))
        return "not a hub order" if order is None else refunds_pull(channel, order)
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        order = _order(channel, str(data.get("id") or ""))
        return "not a hub order" if order is None else refunds_pull(channel, order)
    return "not a refund"


def woo_refunds_changed(channel: Channel, body: dict[str, Any]) -> str:
    """`order.updated`: a refund in `refunds[]` the hub has not recorded → read them all."""
    ids = {str(r.get("id")) for r in body.get("refunds") or [] if isinstance(r, dict)}
    if not ids:
        return "no refunds"
    known = set(
        ChannelRefund.objects.filter(channel=channel, external_id__in=ids).values_list(
            "external_id", flat=True
        )
    )
    if ids <= known:
        return "refunds known"
    order = _order(channel, str(body.get("id") or ""))
    if order is None:
        return "not a hub order"
    return refunds_pull(channel, order)


def woo_order_updated(previous: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """The order handler, then the refunds of the same delivery."""

    def handle(event: Any) -> Any:
        result = previous(event) if previous is not None else None
        channel = Channel.objects.filter(code=event.channel_code).first()
        if channel is None or channel.kind != Channel.Kind.WOOCOMMERCE:
            return result
        refunds = woo_refunds_changed(channel, _body(event))
        return {"order": result, "refunds": refunds}

    handle.__qualname__ = "woo_order_updated"
    return handle


def register(register_event_handler: Callable[[str, Callable[[Any], Any]], Any]) -> None:
    from apps.ledger.registry import handler_for

    for topic in SHOPIFY_REFUND_TOPICS + SHOPIFY_RETURN_TOPICS + BIGCOMMERCE_TOPICS:
        register_event_handler(topic, refund_event_handle)
    for topic in WOO_TOPICS:
        previous = handler_for(topic)
        if getattr(previous, "__qualname__", "") == "woo_order_updated":
            continue  # ready() ran twice: already wrapped
        register_event_handler(topic, woo_order_updated(previous))
