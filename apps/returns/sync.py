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
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core import workrow
from apps.core.context import correlation
from apps.core.errors import HubError, LockContention, PermanentError, RateLimited, TransientError
from apps.core.workrow import WorkState
from apps.fulfillment.models import Shipment
from apps.orders.models import ChannelOrder

from . import odoo
from .adapters import RefundLineData, RefundToSend, refund_adapter_for
from .errors import CreditNoteMismatch, RefundSyncFailed
from .models import ChannelRefund, ChannelReturn, RefundLine, RefundRequest, ReturnSync

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
    from celery import current_app
    from kombu.exceptions import OperationalError

    try:
        current_app.send_task(
            CHANNEL_TASK,
            kwargs={"sync_id": pk},
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
        )
    except (OperationalError, OSError) as exc:
        logger.warning("could not enqueue %s for %s (%s); the sweeper re-rings it", action, pk, exc)


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
        except HubError as exc:
            return _fail(row, exc)
        except Exception as exc:
            logger.exception("return sync %s crashed", row.pk)
            return _fail(row, UnclassifiedReturnError(f"{type(exc).__name__}: {exc}"))
    _ring_next(row)
    return outcome


def _order(row: ReturnSync) -> ChannelOrder:
    owner = row.ret or row.refund or row.request_row
    assert owner is not None
    return owner.order


def _complete(row: ReturnSync, result: dict[str, Any], outcome: str) -> str:
    from apps.inbox.services import issue_row_succeeded

    with transaction.atomic():
        ReturnSync.objects.filter(
            pk=row.pk, lease_token=row.lease_token, state=WorkState.RUNNING
        ).update(result=result)
        if not workrow.complete(row, effects=[{"outcome": outcome, **result}]):
            return "lost"
        issue_row_succeeded(row=row)
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
    return _complete(row, result, "made" if made else "found")


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
    return _complete(row, {"reduced": {str(k): v for k, v in quantities.items()}}, "reduced")


# --- ODOO_CREDIT -----------------------------------------------------------------------------


def _post_wanted(refund_or_ret: Any) -> bool:
    return bool(refund_or_ret.channel.post_credit_notes)


def _tax_table(channel: Any) -> dict[str, int]:
    from apps.mappings.models import ValueMap

    return {
        vm.channel_value: int(vm.odoo_value)
        for vm in ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.TAX)
        if vm.odoo_value.isdigit()
    }


def _odoo_taxes(
    table: dict[str, int], taxes: Any, *, channel: str, tax: Any = None
) -> list[int] | None:
    """The Odoo taxes of a line's channel taxes, mapped as the order push mapped them
    (apps.orders.odoo_values): None when the channel maps no taxes (the products' taxes
    apply, as on the order); a line the channel did not tax has none."""
    if not table:
        return None
    if tax is not None and not odoo.cents(tax):
        return []
    out: list[int] = []
    for t in taxes or []:
        rate, title = str(t.get("rate") or ""), str(t.get("title") or "")
        keys = [str(Decimal(rate).normalize()) if rate else "", rate, title]
        found = next((table[k] for k in keys if k and k in table), None)
        if found is None:
            raise PermanentError(
                f"no Odoo tax mapped for channel {channel} tax {title or rate}", field="tax"
            )
        out.append(found)
    return out


def _order_line_for(order_lines: list[Any], *, sku: str, line_id: str = "") -> Any:
    for ol in order_lines:
        if line_id and ol.external_line_id == line_id:
            return ol
    return next((ol for ol in order_lines if sku and ol.sku == sku), None)


def _line_taxes(order: ChannelOrder, ol: Any, table: dict[str, int]) -> list[int] | None:
    lines = (order.payload or {}).get("lines") or []
    data = lines[ol.position] if ol is not None and ol.position < len(lines) else {}
    return _odoo_taxes(
        table, data.get("taxes"), channel=order.channel.code, tax=data.get("tax", ol.tax)
    )


def _shipping_taxes(order: ChannelOrder, table: dict[str, int]) -> list[int]:
    shipping = (order.payload or {}).get("shipping") or []
    if not shipping:
        return []
    return _odoo_taxes(table, shipping[0].get("taxes"), channel=order.channel.code) or []


def _refund_lines(refund: ChannelRefund) -> list[dict[str, Any]]:
    """The refunded lines as credit note lines: the channel's amount (tax excluded) over the
    quantity, with the taxes the order line has in Odoo (the channel's tax map, as the push
    used it; without a map the products' taxes)."""
    order = refund.order
    order_lines = list(order.lines.all())
    table = _tax_table(order.channel)
    out = []
    for ln in refund.lines.all():
        if ln.amount <= 0:
            continue
        ol = _order_line_for(order_lines, sku=ln.sku, line_id=ln.external_line_id)
        pid = ol.product_id if ol is not None else None
        if not pid:
            raise PermanentError(
                f"refund {refund.external_id}: {ln.sku} has no Odoo product on the order",
                field="sku",
            )
        qty = int(ln.quantity) or 1
        line: dict[str, Any] = {
            "product_id": pid,
            "quantity": qty,
            "price_unit": (ln.amount / qty).quantize(Decimal("0.000001")),
            "name": f"{ln.sku} (refund {refund.external_id})",
        }
        taxes = _line_taxes(order, ol, table)
        if taxes is not None:
            line["tax_ids"] = taxes
        out.append(line)
    return out


def _invoice_of(order: ChannelOrder) -> dict[str, Any] | None:
    if not order.odoo_id:
        raise PermanentError(f"order {order.odoo_ref} is not in Odoo", field="order")
    invoices = odoo.gateway().invoices_of_orders(order_ids=[order.odoo_id])
    return odoo.posted_invoice(invoices.get(order.odoo_id))


def run_odoo_credit(row: ReturnSync) -> str:
    if row.refund is None:
        return _credit_return(row)
    refund = row.refund
    gw = odoo.gateway()
    ref = odoo.refund_ref(refund.channel.code, refund.external_id)
    note = gw.credit_notes_find(refs=[ref]).get(ref)
    if note is None:
        invoice = _invoice_of(refund.order)
        if invoice is None:
            ChannelRefund.objects.filter(pk=refund.pk).update(
                state=ChannelRefund.State.AWAITING_INVOICE, updated_at=timezone.now()
            )
            return _complete(row, {"awaiting_invoice": True}, "awaiting_invoice")
        # Posted only after the totals match: made as a draft.
        if odoo.cents(invoice.get("amount_total")) == refund.amount:
            note, _ = gw.credit_note_full(invoice_id=int(invoice["id"]), ref=ref, post=False)
        else:
            extra = []
            if refund.shipping_amount:
                extra.append(
                    {
                        "name": f"Shipping (refund {refund.external_id})",
                        "price_unit": refund.shipping_amount,
                        "tax_ids": _shipping_taxes(refund.order, _tax_table(refund.order.channel)),
                    }
                )
            note, _ = gw.credit_note_partial(
                invoice_id=int(invoice["id"]),
                ref=ref,
                lines=_refund_lines(refund),
                extra_lines=extra,
                post=False,
            )
    return _check_and_post(row, refund, note, ref)


def _check_and_post(row: ReturnSync, refund: ChannelRefund, move: dict[str, Any], ref: str) -> str:
    note_id = int(move["id"])
    total = odoo.cents(move.get("amount_total"))
    name = str(move.get("name") or note_id)[:64]
    values: dict[str, Any] = {
        "odoo_credit_note_id": note_id,
        "odoo_credit_note_name": name,
        "odoo_credit_note_total": total,
    }
    if total != refund.amount:
        values["state"] = ChannelRefund.State.MISMATCH
        with transaction.atomic():
            ChannelRefund.objects.filter(pk=refund.pk).update(**values)
            _report_mismatch(refund, name, total)
        return _complete(row, {"credit_note": note_id, "mismatch": str(total)}, "mismatch")
    posted = move.get("state") == "posted"
    if not posted and _post_wanted(refund):
        odoo.gateway().moves_post(move_ids=[note_id])
        posted = True
    values["state"] = ChannelRefund.State.CREDITED if posted else ChannelRefund.State.RECORDED
    ChannelRefund.objects.filter(pk=refund.pk).update(**values)
    if refund.ret_id:
        ChannelReturn.objects.filter(pk=refund.ret_id).update(
            odoo_credit_note_id=note_id, odoo_credit_note_name=name
        )
    return _complete(row, {"credit_note": note_id, "ref": ref, "posted": posted}, "credited")


def _credit_return(row: ReturnSync) -> str:
    """B2B: the credit note of a received return, at the order's prices (Odoo owns both)."""
    ret = row.ret
    assert ret is not None
    gw = odoo.gateway()
    ref = odoo.return_origin(ret.channel.code, ret.external_id)
    note = gw.credit_notes_find(refs=[ref]).get(ref)
    if note is None:
        invoice = _invoice_of(ret.order)
        if invoice is None:
            raise TransientError(f"order {ret.order.odoo_ref} has no posted invoice yet")
        order_lines = list(ret.order.lines.all())
        table = _tax_table(ret.order.channel)
        lines = []
        for ln in ret.lines.all():
            ol = _order_line_for(order_lines, sku=ln.sku, line_id=ln.external_line_id)
            pid = (ol.product_id if ol else None) or ln.odoo_product_id
            qty = int(ln.quantity_received or ln.quantity)
            if not pid or qty <= 0:
                continue
            # The order's net price (its discount spread over the units), with its taxes.
            unit = Decimal("0")
            if ol is not None:
                unit = Decimal(ol.unit_price) - Decimal(ol.discount) / max(1, int(ol.quantity))
            line: dict[str, Any] = {
                "product_id": pid,
                "quantity": qty,
                "price_unit": unit.quantize(Decimal("0.000001")),
            }
            taxes = _line_taxes(ret.order, ol, table) if ol is not None else None
            if taxes is not None:
                line["tax_ids"] = taxes
            lines.append(line)
        note, _ = gw.credit_note_partial(
            invoice_id=int(invoice["id"]), ref=ref, lines=lines, post=_post_wanted(ret)
        )
    elif note.get("state") == "draft" and _post_wanted(ret):
        gw.moves_post(move_ids=[int(note["id"])])
    ChannelReturn.objects.filter(pk=ret.pk).update(
        odoo_credit_note_id=int(note["id"]),
        odoo_credit_note_name=str(note.get("name") or note["id"])[:64],
        state=ChannelReturn.State.CREDITED,
    )
    return _complete(row, {"credit_note": int(note["id"]), "ref": ref}, "credited")


def _report_mismatch(refund: ChannelRefund, note: str, total: Decimal) -> None:
    from apps.inbox.services import issue_report

    order = refund.order
    number = order.number or order.external_id
    skus = ", ".join(sorted({ln.sku for ln in refund.lines.all()}))
    text = (
        f"{refund.channel.code} refund {refund.external_id} on order {number}: the channel "
        f"refunded {refund.amount} {refund.currency}, the Odoo credit note {note} totals "
        f"{total} {refund.currency}; left in draft"
    )
    issue_report(
        error=CreditNoteMismatch(
            text,
            refund=refund.external_id,
            channel_amount=str(refund.amount),
            credit_note=note,
            credit_note_total=str(total),
        ),
        key=f"credit_mismatch:{refund.channel.code}:{refund.external_id}",
        row=refund,
        channel_code=refund.channel.code,
        order_number=number,
        sku=skus,
        customer=order.customer_email or order.customer_external_id,
    )


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
    return _complete(
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

    order = _order(row)
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
