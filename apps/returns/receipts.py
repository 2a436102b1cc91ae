"""Odoo → channel: validated return receipts, and the refunds the hub asks the channel for.

`receipts_poll()` (beat job `returns.poll_odoo`, every `HUB_RETURN_POLL_SECONDS`) pages through
`return_receipts_done_since(cursor)` (incoming, done, `return_id` set) from the stored cursor
(a `ShipmentCursor` row keyed `odoo.return_receipts@<Odoo server and database>`, minus an
overlap). Each receipt of a hub
order (by `sale_id`, else by origin), in ONE transaction:

- the `ChannelReturn` whose Odoo picking or deterministic origin it is, or a new one (source
  odoo, external id `odoo-<picking id>`); already received → nothing;
- state `received`, the received quantities, `return.received`;
- B2B channel: an `ODOO_CREDIT` row (the credit note from the received lines: Odoo owns both);
- a webshop channel with `refund_on_receipt`, for goods the channel has not refunded yet: a
  `RefundRequest` at the order's prices, `awaiting_approval` above `HUB_REFUND_APPROVAL_ABOVE`,
  else approved at once with its `CHANNEL_REFUND` row.

`refund_decide(req, approve, user, reason)`: an Approver's decision, audited.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.fulfillment.models import ShipmentCursor
from apps.odoo.cursors import server_cursor
from apps.orders.models import ChannelOrder
from apps.orders.transitions import order_note
from apps.sales_channels.models import Channel

from . import odoo
from .business_events import return_received
from .intake import new_sync
from .models import ChannelReturn, RefundRequest, ReturnLine, ReturnSync

logger = logging.getLogger(__name__)

CURSOR_KEY = "odoo.return_receipts"
ODOO_STAMP = "%Y-%m-%d %H:%M:%S"
PAGE = 200
MAX_PAGES = 50
ACTOR = "returns.receipt"
WEBSHOPS = (
    Channel.Kind.SHOPIFY,
    Channel.Kind.WOOCOMMERCE,
    Channel.Kind.BIGCOMMERCE,
    Channel.Kind.MAGENTO,
)


def approval_above() -> Decimal:
    return Decimal(str(getattr(settings, "HUB_REFUND_APPROVAL_ABOVE", "250.00")))


def cursor_key() -> str:
    """The return-receipts cursor's key for the configured Odoo server and database."""
    return server_cursor(CURSOR_KEY)[0]


def _cursor() -> ShipmentCursor:
    """This Odoo server's cursor (a new server starts one overlap before now)."""
    key, label = server_cursor(CURSOR_KEY)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=_overlap())
    row, _ = ShipmentCursor.objects.get_or_create(
        key=key, defaults={"value": f"{now.strftime(ODOO_STAMP)}|0", "server": label}
    )
    return row


def _overlap() -> int:
    return int(getattr(settings, "HUB_RETURN_POLL_OVERLAP_SECONDS", 300))


def _key(cursor: str) -> tuple[str, int]:
    second, _, last = cursor.partition("|")
    return second[:19], int(last or 0)


def receipts_poll(*, overlap_seconds: int | None = None) -> dict[str, int]:
    overlap = _overlap() if overlap_seconds is None else overlap_seconds
    cursor = _cursor()
    second, _ = _key(cursor.value)
    start = dt.datetime.strptime(second, ODOO_STAMP) - dt.timedelta(seconds=overlap)
    since = f"{start.strftime(ODOO_STAMP)}|0"
    gw = odoo.gateway()
    totals: dict[str, int] = {"pages": 0}
    for _ in range(MAX_PAGES):
        page = gw.return_receipts_done_since(cursor=since, limit=PAGE)
        pickings = list(getattr(page, "pickings", None) or [])
        if not pickings:
            break
        totals["pages"] += 1
        for p in pickings:
            outcome = receipt_record(p)
            totals[outcome] = totals.get(outcome, 0) + 1
        nxt = getattr(page, "next_cursor", "") or ""
        if not nxt or nxt == since:
            break
        if _key(nxt) > _key(cursor.value):
            ShipmentCursor.objects.filter(key=cursor.key).update(value=nxt)
            cursor.value = nxt
        since = nxt
    summary = ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
    ShipmentCursor.objects.filter(key=cursor.key).update(
        polled_at=timezone.now(), summary=summary[:300]
    )
    return totals


def _m2o(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        value = value[0]
    return value if isinstance(value, int) and not isinstance(value, bool) and value else None


def _order_for(p: Mapping[str, Any]) -> ChannelOrder | None:
    sale_id = _m2o(p.get("sale_id"))
    if sale_id:
        order = ChannelOrder.objects.filter(odoo_id=sale_id).select_related("channel").first()
        if order:
            return order
    origin = str(p.get("origin") or "")
    if ":return:" in origin:
        code, _, ext = origin.partition(":return:")
        ret = ChannelReturn.objects.filter(channel__code=code, external_id=ext).first()
        if ret:
            return ret.order
    return None


def _received_lines(p: Mapping[str, Any], order: ChannelOrder) -> dict[str, tuple[int, int]]:
    """sku -> (quantity, odoo product id) of the receipt's done moves, under the order's SKUs
    (the order line of the move's product, as the shipments record them; Odoo's own product
    code only for a product not on the order)."""
    skus = {ol.product_id: ol.sku for ol in order.lines.all() if ol.product_id and ol.sku}
    out: dict[str, tuple[int, int]] = {}
    for m in p.get("moves") or []:
        if m.get("state", "done") != "done":
            continue
        qty = round(float(m.get("done") or m.get("quantity") or 0))
        prod = int(_m2o(m.get("product_id")) or 0)
        sku = skus.get(prod) or str(m.get("sku") or "")
        if qty <= 0 or not sku:
            continue
        had = out.get(sku, (0, 0))
        out[sku] = (had[0] + qty, prod or had[1])
    return out


def receipt_record(p: Mapping[str, Any]) -> str:
    """One validated return receipt. Returns new, received, seen or not_hub."""
    if p.get("state", "done") != "done" or not (p.get("return_of") or p.get("return_id")):
        return "skipped"
    order = _order_for(p)
    if order is None:
        return "not_hub"
    pid = int(p["id"])
    origin = str(p.get("origin") or "")
    with transaction.atomic():
        order = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order.pk)
        channel = order.channel
        ret = ChannelReturn.objects.select_for_update().filter(odoo_return_picking_id=pid).first()
        if ret is None and origin.startswith(f"{channel.code}:return:"):
            ext = origin.split(":return:", 1)[1]
            ret = (
                ChannelReturn.objects.select_for_update()
                .filter(channel=channel, external_id=ext)
                .first()
            )
        got = _received_lines(p, order)
        outcome = "received"
        if ret is None:
            ret = ChannelReturn.objects.create(
                channel=channel,
                order=order,
                external_id=f"odoo-{pid}",
                name=str(p.get("name") or pid)[:255],
                source=ChannelReturn.Source.ODOO,
                state=ChannelReturn.State.EXPECTED,
                odoo_delivery_id=_m2o(p.get("return_of") or p.get("return_id")),
            )
            ReturnLine.objects.bulk_create(
                ReturnLine(ret=ret, sku=sku[:255], quantity=q, odoo_product_id=prod or None)
                for sku, (q, prod) in got.items()
            )
            outcome = "new"
        if ret.received_at is not None:
            return "seen"
        ret.odoo_return_picking_id = pid
        ret.odoo_return_picking_name = str(p.get("name") or pid)[:64]
        ret.state = ChannelReturn.State.RECEIVED
        ret.received_at = _stamp(p.get("date_done")) or timezone.now()
        ret.save()
        for ln in ret.lines.all():
            ln.quantity_received = min(int(ln.quantity), got.get(ln.sku, (0, 0))[0])
            ln.save(update_fields=["quantity_received"])
        lines = ", ".join(f"{q} x {sku}" for sku, (q, _) in got.items())
        order_note(
            order=order,
            actor=ACTOR,
            reason=f"return {ret.odoo_return_picking_name} received: {lines}",
        )
        return_received(ret=ret)
        _after_receipt(ret, order, channel)
    return outcome


def _stamp(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(str(value)[:19], ODOO_STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _after_receipt(ret: ChannelReturn, order: ChannelOrder, channel: Channel) -> None:
    if channel.kind == Channel.Kind.B2B_API:
        new_sync(ReturnSync.Action.ODOO_CREDIT, order=order, ret=ret)
        return
    if channel.kind not in WEBSHOPS or not channel.refund_on_receipt:
        return
    if ret.source == ChannelReturn.Source.REFUND_RESTOCK or ret.refunds.exists():
        return  # the channel already paid it (the channel owns the money)
    if RefundRequest.objects.filter(ret=ret).exists():
        return
    prices = {ol.sku: ol for ol in order.lines.all()}
    lines: list[dict[str, Any]] = []
    total = Decimal("0.00")
    for ln in ret.lines.all():
        qty = int(ln.quantity_received or 0)
        ol = prices.get(ln.sku)
        if qty <= 0 or ol is None:
            continue
        unit = Decimal(ol.unit_price) - (Decimal(ol.discount) / max(1, ol.quantity))
        tax = (Decimal(ol.tax) * qty / max(1, ol.quantity)).quantize(Decimal("0.01"))
        amount = (unit * qty).quantize(Decimal("0.01"))
        total += amount + tax
        lines.append(
            {
                "sku": ln.sku,
                "quantity": qty,
                "amount": str(amount),
                "tax": str(tax),
                "external_line_id": ol.external_line_id,
            }
        )
    if not lines:
        return
    waits = total > approval_above()
    req = RefundRequest.objects.create(
        channel=channel,
        order=order,
        ret=ret,
        state=(RefundRequest.State.AWAITING_APPROVAL if waits else RefundRequest.State.APPROVED),
        currency=order.currency,
        amount=total,
        lines=lines,
        decided_by="" if waits else "auto (at or below the approval threshold)",
        decided_at=None if waits else timezone.now(),
    )
    if not waits:
        new_sync(ReturnSync.Action.CHANNEL_REFUND, order=order, request_row=req)


def refund_decide(*, req: RefundRequest, approve: bool, user: Any, reason: str) -> bool:
    """An Approver approves (the refund goes out) or rejects a waiting request, audited.
    False when it was not waiting any more (decided meanwhile)."""
    from apps.core.audit import audit_record

    with transaction.atomic():
        fresh = RefundRequest.objects.select_for_update().select_related("order").get(pk=req.pk)
        if fresh.state != RefundRequest.State.AWAITING_APPROVAL:
            return False
        before = {"state": fresh.state}
        fresh.state = RefundRequest.State.APPROVED if approve else RefundRequest.State.REJECTED
        fresh.decided_by = str(getattr(user, "username", user))[:200]
        fresh.decided_at = timezone.now()
        fresh.decision_reason = reason[:500]
        fresh.save()
        audit_record(
            user=user,
            action="returns.approve_refund" if approve else "returns.reject_refund",
            obj=fresh,
            before=before,
            after={"state": fresh.state, "amount": str(fresh.amount), "currency": fresh.currency},
            reason=reason,
        )
        if approve:
            new_sync(ReturnSync.Action.CHANNEL_REFUND, order=fresh.order, request_row=fresh)
    return True


def awaiting_apply(*, order_id: int | None = None) -> int:
    """Refunds waiting for their invoice get a new credit-note row (the invoice may exist now).
    `order_id`: only that order's (the finance flow calls it when it posts the invoice)."""
    from apps.core.workrow import UNFINISHED

    from .models import ChannelRefund

    n = 0
    waiting = ChannelRefund.objects.filter(state=ChannelRefund.State.AWAITING_INVOICE)
    if order_id is not None:
        waiting = waiting.filter(order_id=order_id)
    for refund in waiting.select_related("order")[:500]:
        busy = ReturnSync.objects.filter(
            refund=refund, action=ReturnSync.Action.ODOO_CREDIT, state__in=UNFINISHED
        ).exists()
        if busy:
            continue
        with transaction.atomic():
            new_sync(ReturnSync.Action.ODOO_CREDIT, order=refund.order, refund=refund)
        n += 1
    return n
