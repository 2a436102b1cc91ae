"""Channel webhooks about refunds and returns → `intake.refund_record` (one row per refund).

Registered in ReturnsConfig.ready with the ledger:

- Shopify `refunds/create`: the Refund resource itself (refund line items with `restock_type`,
  transactions, order adjustments for shipping) is parsed here.
- Shopify `returns/request|approve|decline|cancel|close` (LIFECYCLE.md §2.1, no money in them):
  one `ChannelReturn` per return id through `intake.channel_return_record` /
  `channel_return_close`; the lines come from the payload's `return_line_items` (fulfillment
  line item → order line id → the order's line / SKU), re-read through the adapter's
  `returns_read` when the payload is thin (cancel/close, or lines without their order line).
  `returns/process` (money) and any other `returns/*`: the order's refunds are read through
  `refunds_read`; the refund is linked to the return by its lines (intake).
- Shopify `orders/updated` and BigCommerce `store/order/updated` (the polling backstop records
  polled orders under these topics): the order handler runs first; then, for a polled order
  that shows refunds the hub does not have, ONE `refunds_read` and intake (see
  `polled_refunds_check`).
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

from .adapters import RefundData, RefundLineData, ReturnData, refund_adapter_for
from .intake import channel_return_close, channel_return_record, refund_record
from .models import ChannelRefund, ChannelReturn
from .odoo import cents

logger = logging.getLogger(__name__)

SHOPIFY_REFUND_TOPICS = ("refunds/create",)
SHOPIFY_RETURN_TOPICS = ("returns/*",)
WOO_TOPICS = ("order.updated",)
# Order topics the polling backstop records polled orders under (apps.sales_channels.polling).
POLLED_ORDER_TOPICS = ("orders/updated", "store/order/updated")
POLL_HEADER = "x-hub-source"
REFUNDED_HEADER = "x-hub-refunded-amount"
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
        if order is None:
            return "not a hub order"
        action = event.topic.split("/", 1)[-1]
        if event.topic.startswith("returns/") and action in RETURN_ACTIONS:
            return shopify_return(channel, order, action, body)
        return refunds_pull(channel, order)
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        order = _order(channel, str(data.get("id") or ""))
        return "not a hub order" if order is None else refunds_pull(channel, order)
    return "not a refund"


# --- Shopify returns ---------------------------------------------------------------------------

RETURN_ACTIONS = ("request", "approve", "decline", "cancel", "close")


def _return_lines_of(body: dict[str, Any]) -> tuple[RefundLineData, ...] | None:
    """The payload's return lines (order line id, quantity); None when it is too thin to map."""
    items = body.get("return_line_items")
    if not isinstance(items, list) or not items:
        return None
    out = []
    for x in items:
        if not isinstance(x, dict):
            return None
        fli = x.get("fulfillment_line_item") or {}
        li = fli.get("line_item") or {} if isinstance(fli, dict) else {}
        line_id = _gid(li.get("id") or li.get("admin_graphql_api_id")) if li else ""
        if not line_id or not x.get("quantity"):
            return None
        out.append(
            RefundLineData(
                sku=str(li.get("sku") or ""),
                quantity=int(x.get("quantity") or 0),
                amount=Decimal("0.00"),
                restock="return",
                external_line_id=line_id,
            )
        )
    return tuple(out)


def _return_reason(body: dict[str, Any]) -> str:
    reasons = [
        str(x.get("return_reason") or "")
        for x in body.get("return_line_items") or []
        if isinstance(x, dict) and x.get("return_reason")
    ]
    decline = body.get("decline") if isinstance(body.get("decline"), dict) else None
    if decline:
        reasons.append(f"declined: {decline.get('reason') or ''} {decline.get('note') or ''}")
    return ", ".join(dict.fromkeys(r.strip() for r in reasons if r.strip()))


def _return_reread(channel: Channel, order: ChannelOrder, return_id: str) -> ReturnData | None:
    adapter = refund_adapter_for(channel)
    if adapter is None:
        return None
    for r in adapter.returns_read(order.external_id):
        if _gid(r.external_id) == return_id:
            return r
    return None


def shopify_return(channel: Channel, order: ChannelOrder, action: str, body: dict[str, Any]) -> str:
    """One `returns/<action>` delivery → intake. Re-reads the return (one call) only when the
    payload cannot say which lines come back."""
    return_id = _gid(body.get("id") or body.get("admin_graphql_api_id"))
    if not return_id:
        raise PermanentError("Shopify return webhook without a return id", field="id")
    known = ChannelReturn.objects.filter(channel=channel, external_id=return_id).first()
    if action == "close":
        return "closed" if known is not None else "closed, not a return the hub has"
    lines = _return_lines_of(body)
    data = ReturnData(
        external_id=return_id,
        name=str(body.get("name") or ""),
        status=str(body.get("status") or ""),
        lines=lines or (),
        reason=_return_reason(body),
        raw=body,
    )
    if action in ("decline", "cancel"):
        state = (
            ChannelReturn.State.DECLINED if action == "decline" else ChannelReturn.State.CANCELLED
        )
        return channel_return_close(channel=channel, order=order, data=data, state=state)
    if lines is None and known is None:
        found = _return_reread(channel, order, return_id)
        if found is None:
            raise PermanentError(
                f"{channel.code}: Shopify return {return_id} of order "
                f"{order.number or order.external_id} has no lines to map",
                field="return_line_items",
            )
        data = ReturnData(
            external_id=return_id,
            name=data.name or found.name,
            status=data.status or found.status,
            lines=found.lines,
            reason=data.reason or found.reason,
            raw=body,
        )
    return channel_return_record(
        channel=channel, order=order, data=data, approved=action == "approve"
    )


# --- the polling backstop: refunds of polled orders ---------------------------------------------


def _headers(event: Any) -> dict[str, str]:
    raw = getattr(event, "headers", None) or {}
    return {str(k).lower(): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _shopify_refunds_lacking(channel: Channel, order: ChannelOrder, body: dict[str, Any]) -> bool:
    """Does the polled Shopify order show refunds the hub does not have? By the REST order's
    `refunds[]` ids; when it names none (a trimmed or stale order body), by a refunded financial
    status changed after the newest refund the hub has of the order."""
    refunds = body.get("refunds")
    if isinstance(refunds, list) and refunds:
        ids = {_gid(r.get("id")) for r in refunds if isinstance(r, dict) and r.get("id")}
        known = set(
            ChannelRefund.objects.filter(channel=channel, external_id__in=ids).values_list(
                "external_id", flat=True
            )
        )
        return bool(ids - known)
    if str(body.get("financial_status") or "") not in ("refunded", "partially_refunded"):
        return False
    newest = (
        ChannelRefund.objects.filter(order=order)
        .order_by("-refunded_at")
        .values_list("refunded_at", flat=True)
        .first()
    )
    updated = _when(body.get("updated_at")) if body.get("updated_at") else None
    return newest is None or (updated is not None and updated > newest)


def _bigcommerce_refunds_lacking(order: ChannelOrder, refunded: str) -> bool:
    """The polled order's `refunded_amount` (carried in a header by the poll) above what the
    hub has recorded for it."""
    try:
        amount = cents(refunded)
    except PermanentError:
        return False
    if amount <= 0:
        return False
    have = sum(ChannelRefund.objects.filter(order=order).values_list("amount", flat=True))
    return amount > cents(have)


def polled_refunds_check(channel: Channel, event: Any) -> str:
    """After the order handler ingested a polled order: one `refunds_read` (+ intake) when it
    shows refunds the hub lacks; nothing for a delivered (not polled) order."""
    headers = _headers(event)
    if headers.get(POLL_HEADER) != "poll":
        return "not polled"
    body = _body(event)
    if channel.kind == Channel.Kind.SHOPIFY:
        order = _order(channel, _gid(body.get("id")))
        if order is None:
            return "not a hub order"
        lacking = _shopify_refunds_lacking(channel, order, body)
    elif channel.kind == Channel.Kind.BIGCOMMERCE:
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        order = _order(channel, str(data.get("id") or ""))
        if order is None:
            return "not a hub order"
        lacking = _bigcommerce_refunds_lacking(order, headers.get(REFUNDED_HEADER, ""))
    else:
        return "no refunds"
    return refunds_pull(channel, order) if lacking else "refunds known"


def polled_order_updated(previous: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """The order handler, then the refunds a polled order shows and the hub lacks."""

    def handle(event: Any) -> Any:
        result = previous(event) if previous is not None else None
        channel = Channel.objects.filter(code=event.channel_code).first()
        if channel is None or channel.kind not in (
            Channel.Kind.SHOPIFY,
            Channel.Kind.BIGCOMMERCE,
        ):
            return result
        refunds = polled_refunds_check(channel, event)
        if refunds == "not polled":
            return result
        return {"order": result, "refunds": refunds}

    handle.__qualname__ = "polled_order_updated"
    dry_run = getattr(previous, "dry_run", None)
    if dry_run is not None:
        handle.dry_run = dry_run  # type: ignore[attr-defined]
    return handle


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
    for topic in POLLED_ORDER_TOPICS:
        previous = handler_for(topic)
        if getattr(previous, "__qualname__", "") == "polled_order_updated":
            continue
        register_event_handler(topic, polled_order_updated(previous))
