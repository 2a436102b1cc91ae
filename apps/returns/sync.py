"""The returns work: one `ReturnSync` row at a time, each reading before it writes.

`return_sync_run(sync_id)` (tasks `returns.sync` on `odoo`, `returns.refund` on `channel_io`)
claims the row (a work row; per-entity order on `returns:<order ref>`) and runs its action:

- `ODOO_RETURN`: find the return picking by its origin `<channel>:return:<return id>`; none →
  one return of those quantities from the done delivery (the order's `Shipment` holding the
  products), left ready to receive. The return becomes `expected`.
- `ODOO_REDUCE`: lower the open sale order lines the channel refunded before shipping.
- `ODOO_CREDIT`: find the credit note by its ref `<channel>:refund:<id>`; none → the order's
  posted invoice: none yet → the refund waits (`awaiting_invoice`, re-checked by
  `returns.apply_awaiting`); the whole invoice refunded → the full reversal, else a partial
  `out_refund` (refunded lines, shipping, tax); both linked by `reversed_entry_id`. Its total
  must equal the refund to the cent: else `mismatch`, an inbox item with both amounts, not
  posted. Posted when the channel's `post_credit_notes` says so. For a B2B return (no channel
  refund) the credit note is made from the received lines at the order's prices, ref
  `<channel>:return:<return id>`.
- `CHANNEL_REFUND`: `refund_adapter_for(channel).refund(...)` with the request's idempotency key:
  the adapter reads the order's refunds first, so a lost answer is found, never paid twice; the
  result is recorded as a `ChannelRefund(by_hub=True)` (intake.refund_record).

Failures: TransientError / RateLimited retry with due times; anything else fails the row with an
inbox item naming the channel, order, refund or return, SKUs and amounts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from apps.core import workrow
from apps.core.context import correlation
from apps.core.doorbell import ring_task
from apps.core.errors import (
    INFRASTRUCTURE_ERRORS,
    HubError,
    LockContention,
    PermanentError,
    RateLimited,
    TransientError,
)
from apps.core.workrow import WorkState
from apps.fulfillment.models import Shipment

from . import odoo
from .adapters import RefundLineData, RefundToSend, refund_adapter_for
from .credit_notes import run_odoo_credit
from .errors import RefundSyncFailed
from .models import ChannelReturn, RefundLine, RefundRequest, ReturnSync
from .runs import row_complete, row_order

logger = logging.getLogger(__name__)

ODOO_TASK = "returns.sync"
CHANNEL_TASK = "returns.refund"


class UnclassifiedReturnError(HubError):
    category = "unknown"


def task_for(action: str) -> str:
    return CHANNEL_TASK if action == ReturnSync.Action.CHANNEL_REFUND else ODOO_TASK


def sync_ring(pk: int, *, action: str = "", countdown: float | None = None) -> None:
    """Ring the row's task; the sweeper re-rings a lost ring (through `returns.sync`, which
    runs any action: the queue only says which resource the work loads)."""
    from apps.ledger.services import work_ring

    if not action:
        action = str(ReturnSync.objects.filter(pk=pk).values_list("action", flat=True).first())
    if task_for(action) == ODOO_TASK:
        work_ring(model=ReturnSync, pk=pk, countdown=countdown)
        return
    ring_task(CHANNEL_TASK, {"sync_id": pk}, countdown=countdown)


def sync_ring_after_commit(row: ReturnSync) -> None:
    pk, action = row.pk, row.action
    transaction.on_commit(lambda: sync_ring(pk, action=action))


# --- the run ---------------------------------------------------------------------------------


def return_sync_run(*, sync_id: int) -> str:
    """Run one row. Safe to call any number of times: only the claimer works."""
    claimed = workrow.claim_one(ReturnSync, pk=sync_id)
    if claimed is None:
        return "not-claimable"
    row = (
        ReturnSync.objects.select_related(
            "ret__order__channel", "refund__order__channel", "request_row__order__channel"
        )
        .filter(pk=claimed.pk, lease_token=claimed.lease_token)
        .first()
    )
    if row is None:
        return "lost"
    with correlation(row.correlation_id or None):
        try:
            outcome = ACTIONS[row.action](row)
        except RateLimited as exc:
            return _retry(row, LockContention(exc.message, retry_after=exc.retry_after or 1.0))
        except TransientError as exc:
            return _retry(row, exc)
        except INFRASTRUCTURE_ERRORS as exc:
            return _retry(row, TransientError(f"{type(exc).__name__}: {exc}"))
        except HubError as exc:
            return _fail(row, exc)
        except Exception as exc:
            logger.exception("return sync %s crashed", row.pk)
            return _fail(row, UnclassifiedReturnError(f"{type(exc).__name__}: {exc}"))
    _ring_next(row)
    return outcome


def _ring_next(row: ReturnSync) -> None:
    nxt = (
        ReturnSync.objects.filter(entity_key=row.entity_key, state=WorkState.PENDING)
        .exclude(pk=row.pk)
        .order_by("pk")
        .values_list("pk", "action")
        .first()
    )
    if nxt is not None:
        sync_ring(nxt[0], action=nxt[1])


# --- ODOO_RETURN -----------------------------------------------------------------------------


def _delivery_for(ret: ChannelReturn) -> tuple[int, dict[int, int]]:
    """(done delivery picking id, {odoo product id: quantity}) for the return's lines."""
    want: dict[str, int] = {ln.sku: int(ln.quantity) for ln in ret.lines.all()}
    shipments = list(Shipment.objects.filter(order=ret.order).prefetch_related("lines"))
    best: tuple[int, int, dict[int, int]] | None = None
    for sh in shipments:
        qty: dict[int, int] = {}
        covered = 0
        for ln in sh.lines.all():
            need = want.get(ln.sku, 0)
            if need and ln.odoo_product_id:
                take = min(need, int(ln.quantity))
                qty[ln.odoo_product_id] = qty.get(ln.odoo_product_id, 0) + take
                covered += take
        if covered and (best is None or covered > best[1]):
            best = (sh.odoo_picking_id, covered, qty)
    if best is None:
        skus = ", ".join(sorted(want))
        raise PermanentError(
            f"no done delivery of order {ret.order.number or ret.order.external_id} holds {skus}",
            field="lines",
        )
    return best[0], best[2]


def run_odoo_return(row: ReturnSync) -> str:
    ret = row.ret
    assert ret is not None
    origin = odoo.return_origin(ret.channel.code, ret.external_id)
    picking_id, quantities = _delivery_for(ret)
    picking, made = odoo.gateway().return_ensure(
        picking_id=picking_id, origin=origin, quantities=quantities
    )
    pid = int(picking["id"])
    with transaction.atomic():
        fresh = ChannelReturn.objects.select_for_update().get(pk=ret.pk)
        fresh.odoo_delivery_id = picking_id
        fresh.odoo_return_picking_id = pid
        fresh.odoo_return_picking_name = str(picking.get("name") or pid)[:64]
        if fresh.state in (ChannelReturn.State.REQUESTED, ChannelReturn.State.APPROVED):
            fresh.state = ChannelReturn.State.EXPECTED
        fresh.save()
    result = {"odoo_return_picking_id": pid, "origin": origin}
    return row_complete(row, result, "made" if made else "found")


# --- ODOO_REDUCE -----------------------------------------------------------------------------


def run_odoo_reduce(row: ReturnSync) -> str:
    refund = row.refund
    assert refund is not None
    order = refund.order
    if not order.odoo_id:
        raise PermanentError(f"order {order.odoo_ref} is not in Odoo", field="order")
    products = {ol.sku: ol.product_id for ol in order.lines.all() if ol.sku}
    quantities: dict[int, int] = {}
    for ln in refund.lines.filter(restock=RefundLine.Restock.CANCEL):
        pid = products.get(ln.sku)
        if pid:
            quantities[pid] = quantities.get(pid, 0) + int(ln.quantity)
    if quantities:
        odoo.gateway().sale_order_lines_reduce(order_id=order.odoo_id, quantities=quantities)
    return row_complete(row, {"reduced": {str(k): v for k, v in quantities.items()}}, "reduced")


# --- CHANNEL_REFUND --------------------------------------------------------------------------


def refund_to_send(req: RefundRequest) -> RefundToSend:
    order = req.order
    lines = tuple(
        RefundLineData(
            sku=str(ln.get("sku") or ""),
            quantity=int(ln.get("quantity") or 0),
            amount=odoo.cents(ln.get("amount")),
            tax=odoo.cents(ln.get("tax")),
            restock="no_restock",  # Odoo owns stock: the channel never restocks (§2.4)
            external_line_id=str(ln.get("external_line_id") or ""),
        )
        for ln in req.lines or []
    )
    return RefundToSend(
        channel_code=req.channel.code,
        order_external_id=order.external_id,
        order_number=order.number or order.external_id,
        currency=req.currency,
        amount=odoo.cents(req.amount),
        lines=lines,
        idempotency_key=str(req.idempotency_key),
        reason=f"return {req.ret.name or req.ret.external_id} received in Odoo",
        notify_customer=True,
        not_before=req.decided_at or req.created_at,
    )


def run_channel_refund(row: ReturnSync) -> str:
    from .intake import refund_id, refund_record

    req = row.request_row
    assert req is not None
    if req.state not in (RefundRequest.State.APPROVED, RefundRequest.State.SENT):
        workrow.ignore(row, note=f"refund request is {req.state}")
        return "ignored"
    channel = req.channel
    adapter = refund_adapter_for(channel)
    if adapter is None:
        workrow.ignore(row, note=f"no refund adapter for {channel.kind}")
        return "ignored"
    result = adapter.refund(refund_to_send(req))
    data = result.refund
    if not data.hub_key:
        # The adapter found or made it for this key: record it as the hub's.
        from dataclasses import replace

        data = replace(data, hub_key=str(req.idempotency_key))
    refund_record(channel=channel, order=req.order, data=data)
    channel_refund_id = refund_id(data.external_id)
    RefundRequest.objects.filter(pk=req.pk).update(
        state=RefundRequest.State.SENT, channel_refund_id=channel_refund_id
    )
    ChannelReturn.objects.filter(pk=req.ret_id).update(state=ChannelReturn.State.REFUNDED)
    return row_complete(
        row,
        {"channel_refund_id": channel_refund_id, "found_existing": result.found_existing},
        "found_existing" if result.found_existing else "refunded",
    )


ACTIONS: dict[str, Callable[[ReturnSync], str]] = {
    ReturnSync.Action.ODOO_RETURN: run_odoo_return,
    ReturnSync.Action.ODOO_REDUCE: run_odoo_reduce,
    ReturnSync.Action.ODOO_CREDIT: run_odoo_credit,
    ReturnSync.Action.CHANNEL_REFUND: run_channel_refund,
}


# --- failures --------------------------------------------------------------------------------


def _retry(row: ReturnSync, error: TransientError) -> str:
    with transaction.atomic():
        outcome, delay = workrow.fail_transient(row, error=error)
        if outcome == "failed":
            _report(row, error)
    if outcome == "retry" and delay <= float(settings.HUB_MAX_COUNTDOWN) / 10:
        workrow.mark_rung(ReturnSync, pks=[row.pk])
        sync_ring(row.pk, action=row.action, countdown=delay)
    return outcome


def _fail(row: ReturnSync, error: HubError) -> str:
    with transaction.atomic():
        failed = workrow.fail_permanent(row, error=error.as_dict())
        if failed:
            _report(row, error)
            if row.request_row_id:
                RefundRequest.objects.filter(pk=row.request_row_id).update(
                    state=RefundRequest.State.FAILED
                )
    return "failed" if failed else "lost"


def _report(row: ReturnSync, error: HubError) -> None:
    from apps.inbox.services import issue_report

    order = row_order(row)
    channel = order.channel
    number = order.number or order.external_id
    what, skus, amount = "", "", ""
    if row.request_row is not None:
        req = row.request_row
        what = f"the channel refund for return {req.ret.external_id}"
        skus = ", ".join(str(ln.get("sku")) for ln in req.lines or [])
        amount = f"{req.amount} {req.currency}"
    elif row.refund is not None:
        what = f"{row.get_action_display()} for refund {row.refund.external_id}"
        skus = ", ".join(ln.sku for ln in row.refund.lines.all())
        amount = f"{row.refund.amount} {row.refund.currency}"
    elif row.ret is not None:
        what = f"{row.get_action_display()} for return {row.ret.external_id}"
        skus = ", ".join(f"{ln.quantity} x {ln.sku}" for ln in row.ret.lines.all())
    text = f"{channel.code} order {number}: {what}"
    if skus:
        text += f" ({skus})"
    if amount:
        text += f", {amount}"
    issue_report(
        error=RefundSyncFailed(
            f"{text} failed: {error.message}",
            category=str(getattr(error, "category", "unknown")),
            context=dict(error.context),
            action=row.action,
            amount=amount,
            cause=error.as_dict()["class"],
        ),
        key=f"returnsync:{row.pk}",
        row=row,
        channel_code=channel.code,
        order_number=number,
        sku=skus[:200],
        customer=order.customer_email or order.customer_external_id,
        replay_task=task_for(row.action),
        replay_kwargs={"sync_id": row.pk},
    )
