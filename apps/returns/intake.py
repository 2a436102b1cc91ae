"""Recording what the channel says: exactly one `ChannelRefund` per channel refund.

`refund_record(channel, order, data)` takes a refund as the adapters normalise it (`RefundData`,
from a webhook body or from `refunds_read`), any number of times, and in ONE transaction (the
order row locked first, so two deliveries of the same refund run one after the other; the
unique (channel, external id) settles the rest):

- a known refund → nothing (`seen`);
- an order cancelled in Odoo → the refund is recorded, no Odoo work, an inbox item;
- otherwise the refund and its lines (mapped to the order's lines and SKUs), and the work:
  lines with restock `return` → a `ChannelReturn` (source refund_restock) and an `ODOO_RETURN`
  row (checked against shipped minus already returned: the excess goes to the inbox); lines
  with restock `cancel` → an `ODOO_REDUCE` row; the money → an `ODOO_CREDIT` row; events
  `refund.created` (and `return.requested`).

A refund carrying the key of a hub `RefundRequest` is the hub's own (by_hub): it gets its credit
note like any other, and the request is marked sent. A refund whose lines fall within a channel
return of the order (Shopify `returns/*`, source channel_return) is linked to it; its `return`
lines then make no second return (the goods are already expected through that return).

Shopify returns (`returns/request|approve|decline|cancel`, handlers.py) go through
`channel_return_record` (one `ChannelReturn` per return id; `return.requested` when it is first
recorded; approved → one `ODOO_RETURN` row) and `channel_return_close` (declined / cancelled; a
return picking already made or queued → an inbox item, nothing is undone in Odoo by itself).
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.context import get_correlation_id
from apps.fulfillment.models import ShipmentLine
from apps.orders.models import ChannelOrder, OrderLine, OrderState
from apps.orders.transitions import order_note
from apps.sales_channels.models import Channel

from .adapters import RefundData, RefundLineData, ReturnData
from .business_events import refund_created, return_requested
from .errors import RefundOnCancelledOrder, ReturnProblem
from .models import ChannelRefund, ChannelReturn, RefundLine, RefundRequest, ReturnLine, ReturnSync
from .odoo import cents

logger = logging.getLogger(__name__)

ACTOR = "returns.intake"
RETURNED_STATES = tuple(s for s in ChannelReturn.State.values if s not in ("declined", "cancelled"))


# --- quantities ------------------------------------------------------------------------------


def shipped_by_sku(order: ChannelOrder) -> Counter[str]:
    rows = (
        ShipmentLine.objects.filter(shipment__order=order).values("sku").annotate(n=Sum("quantity"))
    )
    return Counter({r["sku"]: int(r["n"] or 0) for r in rows})


def returned_by_sku(order: ChannelOrder, *, exclude: int | None = None) -> Counter[str]:
    qs = ReturnLine.objects.filter(ret__order=order, ret__state__in=RETURNED_STATES)
    if exclude is not None:
        qs = qs.exclude(ret_id=exclude)
    rows = qs.values("sku").annotate(n=Sum("quantity"))
    return Counter({r["sku"]: int(r["n"] or 0) for r in rows})


def returnable_by_sku(order: ChannelOrder) -> Counter[str]:
    """Shipped minus already returned (or expected back), per SKU."""
    left = shipped_by_sku(order)
    left.subtract(returned_by_sku(order))
    return Counter({k: v for k, v in left.items() if v > 0})


# --- mapping ---------------------------------------------------------------------------------


def map_line(line: RefundLineData, order_lines: list[OrderLine]) -> tuple[str, str]:
    """(sku, channel line id) of a refund line on the order: by the channel's line id, else SKU."""
    for ol in order_lines:
        if line.external_line_id and ol.external_line_id == line.external_line_id:
            return (ol.sku or line.sku), ol.external_line_id
    for ol in order_lines:
        if line.sku and ol.sku == line.sku:
            return ol.sku, ol.external_line_id
    return line.sku, line.external_line_id


def new_sync(
    action: str,
    *,
    order: ChannelOrder,
    ret: ChannelReturn | None = None,
    refund: ChannelRefund | None = None,
    request_row: RefundRequest | None = None,
) -> ReturnSync:
    from .sync import sync_ring_after_commit

    row = ReturnSync.objects.create(
        action=action,
        ret=ret,
        refund=refund,
        request_row=request_row,
        # One Odoo order at a time: the return picking before the credit note of the same order.
        entity_key=f"returns:{order.odoo_ref}"[:200],
        correlation_id=(get_correlation_id() or "")[:128],
        rung_at=timezone.now(),
    )
    sync_ring_after_commit(row)
    return row


def _describe(lines: Iterable[RefundLineData]) -> str:
    return ", ".join(f"{ln.quantity} x {ln.sku}" for ln in lines) or "no lines"


# --- the record ------------------------------------------------------------------------------


def refund_id(value: str) -> str:
    """The channel's refund id as the hub keeps it: Shopify's GraphQL answers name a refund
    `gid://shopify/Refund/123`, its webhooks `123`; both are the one refund 123."""
    text = str(value or "").strip()
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


def _is_uuid(value: str) -> bool:
    """A hub key is a UUID; anything else in a channel's note (a merchant typing `[hub:x]`)
    names no request (and must not break the lookup)."""
    try:
        uuid.UUID(str(value or ""))
    except ValueError:
        return False
    return True


def refund_record(*, channel: Channel, order: ChannelOrder, data: RefundData) -> str:
    """Record one channel refund. Returns new, seen or cancelled_order."""
    external_id = refund_id(data.external_id)[:255]
    with transaction.atomic():
        order = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order.pk)
        req = None
        if _is_uuid(data.hub_key):
            req = RefundRequest.objects.filter(
                channel=channel, idempotency_key=data.hub_key
            ).first()
        known = ChannelRefund.objects.filter(channel=channel, external_id=external_id).first()
        if known is not None:
            if req is not None and not known.by_hub:
                # The channel's webhook for the hub's own refund came first (it carries no
                # key): the refund is the hub's, for the request's return.
                ChannelRefund.objects.filter(pk=known.pk).update(
                    by_hub=True, ret_id=known.ret_id or req.ret_id
                )
            return "seen"
        linked = None if req is not None else _return_for_refund(order, data.lines)
        refund = ChannelRefund.objects.create(
            channel=channel,
            order=order,
            external_id=external_id,
            ret=req.ret if req else linked,
            currency=(data.currency or order.currency).upper()[:3],
            amount=cents(data.amount),
            shipping_amount=cents(data.shipping_amount),
            tax_amount=cents(data.tax_amount),
            reason=data.reason[:500],
            refunded_at=data.refunded_at,
            by_hub=req is not None,
            payload=data.raw or {},
        )
        order_lines = list(order.lines.all())
        mapped: list[RefundLineData] = []
        for ln in data.lines:
            sku, line_id = map_line(ln, order_lines)
            mapped.append(
                RefundLineData(
                    sku=sku,
                    quantity=int(ln.quantity),
                    amount=cents(ln.amount),
                    tax=cents(ln.tax),
                    restock=ln.restock if ln.restock in RefundLine.Restock.values else "no_restock",
                    external_line_id=line_id,
                )
            )
        if req is None and _goods_by_setting(channel):
            mapped = _restock_by_shipped(order, mapped)
        RefundLine.objects.bulk_create(
            RefundLine(
                refund=refund,
                sku=ln.sku[:255],
                quantity=ln.quantity,
                amount=ln.amount,
                tax=ln.tax,
                restock=ln.restock,
                external_line_id=ln.external_line_id[:255],
            )
            for ln in mapped
        )
        number = order.number or order.external_id
        text = f"{channel.code} refund {external_id}: {refund.amount} {refund.currency}"
        order_note(order=order, actor=ACTOR, reason=f"{text} ({_describe(mapped)})")
        if req is not None:
            RefundRequest.objects.filter(pk=req.pk).update(
                state=RefundRequest.State.SENT, channel_refund_id=refund.external_id
            )
            ChannelReturn.objects.filter(pk=req.ret_id).update(state=ChannelReturn.State.REFUNDED)
        refund_created(refund=refund)
        if order.state == OrderState.CANCELLED:
            refund.state = ChannelRefund.State.FAILED
            refund.save(update_fields=["state", "updated_at"])
            _report_cancelled(refund, order, mapped)
            return "cancelled_order"
        back = [ln for ln in mapped if ln.restock == RefundLine.Restock.RETURN]
        if back and req is None and linked is None:
            _goods_back(channel, order, refund, back)
        cancel = [ln for ln in mapped if ln.restock == RefundLine.Restock.CANCEL]
        if cancel:
            new_sync(ReturnSync.Action.ODOO_REDUCE, order=order, refund=refund)
        if refund.amount > 0:
            new_sync(ReturnSync.Action.ODOO_CREDIT, order=order, refund=refund)
        logger.info("refund %s of order %s recorded", external_id, number)
        return "new"


def _goods_by_setting(channel: Channel) -> bool:
    """WooCommerce and BigCommerce refunds carry no restock: the channel setting decides."""
    return bool(getattr(channel, "refunds_return_goods", False)) and channel.kind in (
        Channel.Kind.WOOCOMMERCE,
        Channel.Kind.BIGCOMMERCE,
    )


def _restock_by_shipped(order: ChannelOrder, lines: list[RefundLineData]) -> list[RefundLineData]:
    """Split each refunded line without a restock into what was shipped (comes back: `return`)
    and what was not (taken off the open order: `cancel`), by the order's shipments."""
    shipped = shipped_by_sku(order)
    out: list[RefundLineData] = []
    for ln in lines:
        if ln.restock != RefundLine.Restock.NO_RESTOCK or ln.quantity <= 0:
            out.append(ln)
            continue
        back = min(ln.quantity, max(0, shipped[ln.sku]))
        shipped[ln.sku] -= back
        parts = [(back, RefundLine.Restock.RETURN), (ln.quantity - back, RefundLine.Restock.CANCEL)]
        parts = [(q, r) for q, r in parts if q]
        # The money stays on the first part (a credit note line per refunded line is enough).
        for i, (qty, restock) in enumerate(parts):
            out.append(
                RefundLineData(
                    sku=ln.sku,
                    quantity=qty,
                    amount=ln.amount if i == 0 else ln.amount * 0,
                    tax=ln.tax if i == 0 else ln.tax * 0,
                    restock=str(restock),
                    external_line_id=ln.external_line_id,
                )
            )
    return out


def _goods_back(
    channel: Channel, order: ChannelOrder, refund: ChannelRefund, lines: list[RefundLineData]
) -> ChannelReturn | None:
    """A return for what the refund says comes back, capped at shipped minus returned."""
    left = returnable_by_sku(order)
    shipped = shipped_by_sku(order)
    keep: list[tuple[RefundLineData, int]] = []
    problems: list[str] = []
    for ln in lines:
        can = left.get(ln.sku, 0)
        qty = min(ln.quantity, can)
        if qty < ln.quantity:
            if not shipped.get(ln.sku):
                problems.append(f"{ln.sku}: {ln.quantity} refunded with return, never shipped")
            else:
                problems.append(f"{ln.sku}: {ln.quantity} to return, only {can} left to return")
        if qty > 0:
            left[ln.sku] = can - qty
            keep.append((ln, qty))
    if problems:
        _report_return_problem(
            order,
            what=f"refund {refund.external_id}",
            problems=problems,
            amount=f"{refund.amount} {refund.currency}",
        )
    if not keep:
        return None
    ret = ChannelReturn.objects.create(
        channel=channel,
        order=order,
        external_id=f"refund-{refund.external_id}"[:255],
        source=ChannelReturn.Source.REFUND_RESTOCK,
        state=ChannelReturn.State.APPROVED,
        reason=refund.reason[:500],
    )
    ReturnLine.objects.bulk_create(
        ReturnLine(
            ret=ret,
            sku=ln.sku[:255],
            quantity=qty,
            external_line_id=ln.external_line_id[:255],
        )
        for ln, qty in keep
    )
    ChannelRefund.objects.filter(pk=refund.pk).update(ret=ret)
    refund.ret = ret
    return_requested(ret=ret)
    new_sync(ReturnSync.Action.ODOO_RETURN, order=order, ret=ret)
    return ret


# --- channel returns (Shopify returns/*) -------------------------------------------------------

OPEN_RETURN_STATES = (
    ChannelReturn.State.REQUESTED,
    ChannelReturn.State.APPROVED,
    ChannelReturn.State.EXPECTED,
    ChannelReturn.State.RECEIVED,
)


def _return_for_refund(
    order: ChannelOrder, lines: Iterable[RefundLineData]
) -> ChannelReturn | None:
    """The order's channel return (oldest first) whose lines hold every line of the refund (same
    SKU or channel line id, at least the quantity), else None. Runs under the order's lock."""
    order_lines = list(order.lines.all())
    want: Counter[str] = Counter()
    for ln in lines:
        if ln.quantity > 0:
            want[map_line(ln, order_lines)[0]] += int(ln.quantity)
    if not want:
        return None
    candidates = ChannelReturn.objects.filter(
        order=order, source=ChannelReturn.Source.CHANNEL_RETURN, state__in=OPEN_RETURN_STATES
    ).order_by("created_at", "pk")
    for ret in candidates.prefetch_related("lines"):
        have: Counter[str] = Counter()
        for rl in ret.lines.all():
            have[rl.sku] += int(rl.quantity)
        if all(have.get(sku, 0) >= qty for sku, qty in want.items()):
            return ret
    return None


def _return_lines(
    order: ChannelOrder, ret_ref: str, lines: Iterable[RefundLineData]
) -> list[tuple[RefundLineData, int]]:
    """The return's lines mapped to the order (channel line id, else SKU), capped at shipped
    minus already returned; the excess (or a SKU never shipped) is an inbox item."""
    order_lines = list(order.lines.all())
    left = returnable_by_sku(order)
    shipped = shipped_by_sku(order)
    keep: list[tuple[RefundLineData, int]] = []
    problems: list[str] = []
    for raw in lines:
        sku, line_id = map_line(raw, order_lines)
        ln = RefundLineData(
            sku=sku,
            quantity=int(raw.quantity),
            amount=ZERO,
            restock=RefundLine.Restock.RETURN,
            external_line_id=line_id,
        )
        can = left.get(sku, 0)
        qty = min(ln.quantity, can)
        if qty < ln.quantity:
            if not shipped.get(sku):
                problems.append(f"{sku}: {ln.quantity} to return, never shipped")
            else:
                problems.append(f"{sku}: {ln.quantity} to return, only {can} left to return")
        if qty > 0:
            left[sku] = can - qty
            keep.append((ln, qty))
    if problems:
        _report_return_problem(order, what=f"return {ret_ref}", problems=problems)
    return keep


def channel_return_record(
    *, channel: Channel, order: ChannelOrder, data: ReturnData, approved: bool
) -> str:
    """A channel return requested (approved=False) or approved: one `ChannelReturn` per return
    id, `return.requested` when it is first recorded, and on approval one `ODOO_RETURN` row
    (goods are expected). Any number of deliveries, in any order. Returns what happened."""
    external_id = refund_id(data.external_id)[:255]
    with transaction.atomic():
        order = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order.pk)
        ret = ChannelReturn.objects.filter(channel=channel, external_id=external_id).first()
        outcome = "seen"
        if ret is None:
            keep = _return_lines(order, data.name or external_id, data.lines)
            ret = ChannelReturn.objects.create(
                channel=channel,
                order=order,
                external_id=external_id,
                name=data.name[:255],
                source=ChannelReturn.Source.CHANNEL_RETURN,
                state=ChannelReturn.State.REQUESTED,
                reason=data.reason[:500],
                payload=data.raw or {},
            )
            ReturnLine.objects.bulk_create(
                ReturnLine(
                    ret=ret,
                    sku=ln.sku[:255],
                    quantity=qty,
                    external_line_id=ln.external_line_id[:255],
                )
                for ln, qty in keep
            )
            number = order.number or order.external_id
            what = ", ".join(f"{qty} x {ln.sku}" for ln, qty in keep) or "no lines"
            order_note(
                order=order,
                actor=ACTOR,
                reason=f"{channel.code} return {data.name or external_id} requested ({what})",
            )
            return_requested(ret=ret)
            logger.info("return %s of order %s recorded", external_id, number)
            outcome = "new"
        if not approved or ret.state != ChannelReturn.State.REQUESTED:
            return outcome if ret.state not in CLOSED_RETURN_STATES else f"{outcome}, {ret.state}"
        ret.state = ChannelReturn.State.APPROVED
        ret.save(update_fields=["state", "updated_at"])
        if not ret.lines.exists():
            return f"{outcome}, approved, nothing to return"
        order_note(
            order=order,
            actor=ACTOR,
            reason=f"{channel.code} return {ret.name or external_id} approved: goods expected",
        )
        new_sync(ReturnSync.Action.ODOO_RETURN, order=order, ret=ret)
        return f"{outcome}, approved"


CLOSED_RETURN_STATES = (ChannelReturn.State.DECLINED, ChannelReturn.State.CANCELLED)


def channel_return_close(
    *, channel: Channel, order: ChannelOrder, data: ReturnData, state: str
) -> str:
    """A channel return declined or cancelled. Not known yet → recorded in that state (a late
    `returns/request` then changes nothing). A return picking made or queued for it → an inbox
    item (the picking is Odoo's to cancel); the return keeps its state otherwise."""
    assert state in CLOSED_RETURN_STATES
    external_id = refund_id(data.external_id)[:255]
    with transaction.atomic():
        order = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order.pk)
        ret = ChannelReturn.objects.filter(channel=channel, external_id=external_id).first()
        if ret is None:
            ret = ChannelReturn.objects.create(
                channel=channel,
                order=order,
                external_id=external_id,
                name=data.name[:255],
                source=ChannelReturn.Source.CHANNEL_RETURN,
                state=state,
                reason=data.reason[:500],
                payload=data.raw or {},
            )
            return f"new, {state}"
        if ret.state in CLOSED_RETURN_STATES:
            return "seen"
        if ret.state in (ChannelReturn.State.RECEIVED, ChannelReturn.State.REFUNDED):
            return f"already {ret.state}"
        picking = (
            bool(ret.odoo_return_picking_id)
            or ret.syncs.filter(action=ReturnSync.Action.ODOO_RETURN).exists()
        )
        ret.state = state
        ret.save(update_fields=["state", "updated_at"])
        label = ret.name or external_id
        order_note(order=order, actor=ACTOR, reason=f"{channel.code} return {label} {state}")
        if picking:
            where = ret.odoo_return_picking_name or "queued"
            problems = [
                f"{ln.sku}: {ln.quantity} no longer coming back (return picking {where}, "
                "cancel it in Odoo)"
                for ln in ret.lines.all()
            ] or [f"-: return picking {where}, cancel it in Odoo"]
            _report_return_problem(order, what=f"return {label} {state}", problems=problems)
            return f"{state}, picking to cancel"
        return state


# --- inbox -----------------------------------------------------------------------------------


def _report_return_problem(
    order: ChannelOrder, *, what: str, problems: list[str], amount: str = ""
) -> None:
    from apps.inbox.services import issue_report

    channel = order.channel
    number = order.number or order.external_id
    skus = ", ".join(sorted({p.split(":", 1)[0] for p in problems}))
    text = f"{channel.code} order {number}, {what}: " + "; ".join(problems)
    if amount:
        text += f" (refund {amount})"
    issue_report(
        error=ReturnProblem(text, what=what, problems=problems, amount=amount),
        key=f"return_problem:{order.odoo_ref}:{what}",
        row=order,
        channel_code=channel.code,
        order_number=number,
        sku=skus,
        customer=order.customer_email or order.customer_external_id,
    )


def _report_cancelled(
    refund: ChannelRefund, order: ChannelOrder, lines: list[RefundLineData]
) -> None:
    from apps.inbox.services import issue_report

    channel = order.channel
    number = order.number or order.external_id
    text = (
        f"{channel.code} refund {refund.external_id} of {refund.amount} {refund.currency} on "
        f"order {number}, which is cancelled in Odoo ({_describe(lines)}): nothing to credit"
    )
    issue_report(
        error=RefundOnCancelledOrder(
            text, refund=refund.external_id, amount=str(refund.amount), currency=refund.currency
        ),
        key=f"refund_cancelled:{channel.code}:{refund.external_id}",
        row=refund,
        channel_code=channel.code,
        order_number=number,
        sku=", ".join(ln.sku for ln in lines),
        customer=order.customer_email or order.customer_external_id,
    )


def return_problem_report(order: ChannelOrder, *, what: str, problems: list[str]) -> None:
    _report_return_problem(order, what=what, problems=problems)


ZERO = Decimal("0.00")
