"""Credit notes for refunds and returns: the lines, the taxes, the check to the cent, the post.

A credit note is made in draft, under a deterministic ref (`<channel>:refund:<id>`), linked to
the invoice (`reversed_entry_id`); it is posted only when its total equals the refund to the
cent and the channel posts credit notes, else the refund is a mismatch with an inbox item.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import PermanentError, TransientError
from apps.orders.models import ChannelOrder

from . import odoo
from .errors import CreditNoteMismatch
from .models import ChannelRefund, ChannelReturn, ReturnSync
from .runs import row_complete

logger = logging.getLogger(__name__)


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
            return row_complete(row, {"awaiting_invoice": True}, "awaiting_invoice")
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
        return row_complete(row, {"credit_note": note_id, "mismatch": str(total)}, "mismatch")
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
    return row_complete(row, {"credit_note": note_id, "ref": ref, "posted": posted}, "credited")


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
    return row_complete(row, {"credit_note": int(note["id"]), "ref": ref}, "credited")


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
