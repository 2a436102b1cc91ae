"""Invoices: which orders and shipments to bill (the channel's invoicing policy), then one
Odoo create and one post per batch.

- `on_confirm`: an order confirmed in Odoo gets one invoice per sale order (a split order has
  several), ref `<channel>:invoice:<order id>` (`…:so<id>` for the parts of a split).
- `on_delivery`: each done delivery (a `Shipment`) gets an invoice for what it shipped, ref
  `<channel>:invoice:<order id>:<picking id>`; the first one of an order also bills its shipping
  and other non-stock lines.
- `none`: nothing (Odoo's own automation invoices).

`invoices_plan()` (beat, `finance.plan`) records an `OrderInvoice` and its work row for each one
due; `invoice_batch(rows)` sends up to `HUB_FINANCE_BATCH["invoice"]` of them to Odoo in one
`invoices_ensure` (found first by ref, so a lost answer never makes a second invoice), stores
what Odoo made, publishes `invoice.posted`, and releases the payments and refunds that waited
for the invoice.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.core.errors import PermanentError
from apps.fulfillment.models import Shipment
from apps.orders.models import ChannelOrder, OrderState
from apps.returns.receipts import awaiting_apply
from apps.sales_channels.models import Channel

from . import odoo, runs
from .business_events import invoice_posted
from .models import ChannelPayment, FinanceSync, OrderInvoice

logger = logging.getLogger(__name__)

BILLABLE = (OrderState.IN_ODOO, OrderState.PARTIALLY_SHIPPED, OrderState.SHIPPED)


def _sale_orders(order: ChannelOrder) -> list[int]:
    ids = [int(p["id"]) for p in order.odoo_parts or () if p.get("id")]
    return ids or ([int(order.odoo_id)] if order.odoo_id else [])


def _record(order: ChannelOrder, *, ref: str, so: int, picking: int | None = None) -> bool:
    try:
        with transaction.atomic():
            inv = OrderInvoice.objects.create(
                channel_id=order.channel_id,
                order=order,
                ref=ref,
                odoo_order_id=so,
                shipment_picking_id=picking,
                currency=order.currency,
            )
            FinanceSync.objects.create(
                action=FinanceSync.Action.INVOICE,
                invoice=inv,
                entity_key=f"finance:inv:{order.odoo_ref}",
                correlation_id=order.correlation_id,
            )
    except IntegrityError:
        return False  # planned by a concurrent run
    return True


def invoices_plan(*, limit: int = 1000) -> int:
    """Record the invoices due under each channel's policy. Returns how many were recorded."""
    made = 0
    confirm = Channel.objects.filter(invoicing=Channel.Invoicing.ON_CONFIRM).exclude(
        state=Channel.State.SHADOW
    )
    orders = (
        ChannelOrder.objects.filter(channel__in=confirm, state__in=BILLABLE, odoo_id__isnull=False)
        .exclude(Exists(OrderInvoice.objects.filter(order=OuterRef("pk"))))
        .select_related("channel")
        .order_by("pk")[:limit]
    )
    for order in orders:
        sale_orders = _sale_orders(order)
        for so in sale_orders:
            ref = odoo.invoice_ref(order.channel.code, order.external_id)
            if len(sale_orders) > 1:
                ref = f"{ref}:so{so}"
            made += _record(order, ref=ref, so=so)
    delivery = Channel.objects.filter(invoicing=Channel.Invoicing.ON_DELIVERY).exclude(
        state=Channel.State.SHADOW
    )
    shipments = (
        Shipment.objects.filter(channel__in=delivery, order__odoo_id__isnull=False)
        .exclude(
            Exists(OrderInvoice.objects.filter(shipment_picking_id=OuterRef("odoo_picking_id")))
        )
        .select_related("order__channel")
        .order_by("pk")[:limit]
    )
    for sh in shipments:
        order = sh.order
        so = _picking_sale_order(order, sh)
        ref = odoo.invoice_ref(order.channel.code, order.external_id, sh.odoo_picking_id)
        made += _record(order, ref=ref, so=so, picking=sh.odoo_picking_id)
    if made:
        runs.ring_batch(FinanceSync.Action.INVOICE)
    return made


def _picking_sale_order(order: ChannelOrder, sh: Shipment) -> int:
    """The sale order a delivery belongs to: a split order's part holding its products."""
    parts = [p for p in order.odoo_parts or () if p.get("id")]
    if len(parts) > 1:
        products = {str(ln.odoo_product_id) for ln in sh.lines.all() if ln.odoo_product_id}
        for p in parts:
            if products & {str(k) for k in (p.get("qty") or {})}:
                return int(p["id"])
    return int(order.odoo_id or 0)


def _shipment_quantities(picking_id: int) -> dict[int, int]:
    out: dict[int, int] = {}
    sh = Shipment.objects.filter(odoo_picking_id=picking_id).prefetch_related("lines").first()
    if sh is None:
        return out
    for ln in sh.lines.all():
        if ln.odoo_product_id:
            out[int(ln.odoo_product_id)] = out.get(int(ln.odoo_product_id), 0) + int(ln.quantity)
    return out


def _request(inv: OrderInvoice) -> dict[str, Any]:
    item: dict[str, Any] = {
        "ref": inv.ref,
        "order_id": inv.odoo_order_id,
        "quantities": None,
        "include_other_lines": True,
        "date": timezone.localdate().isoformat(),
    }
    if inv.shipment_picking_id:
        qty = _shipment_quantities(inv.shipment_picking_id)
        if not qty:
            raise PermanentError(
                f"shipment {inv.shipment_picking_id} of order {inv.order.number} has no "
                "Odoo products to invoice",
                field="shipment",
            )
        item["quantities"] = qty
        # The first shipment of a sale order also bills its shipping and other non-stock lines.
        item["include_other_lines"] = not OrderInvoice.objects.filter(
            odoo_order_id=inv.odoo_order_id,
            shipment_picking_id__isnull=False,
            pk__lt=int(inv.pk or 0),
        ).exists()
    return item


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def invoice_batch(rows: list[FinanceSync]) -> str:
    """One `invoices_ensure` for the claimed rows; each row completes or fails on its own."""
    requests: dict[str, FinanceSync] = {}
    for row in rows:
        assert row.invoice is not None
        try:
            req = _request(row.invoice)
        except PermanentError as exc:
            runs.fail(row, exc)
            continue
        requests[row.invoice.ref] = row
        row._req = req  # type: ignore[attr-defined]
    if not requests:
        return "failed"
    made = odoo.gateway().invoices_ensure(
        invoices=[r._req for r in requests.values()],  # type: ignore[attr-defined]
        post=True,
    )
    done = 0
    for ref, row in requests.items():
        found = made.get(ref)
        if found is None:
            # Nothing left to invoice on that sale order (invoiced by hand, or by Odoo).
            runs.complete(row, {"nothing_to_invoice": True}, "nothing")
            OrderInvoice.objects.filter(pk=int(row.invoice_id or 0)).update(state="nothing")
            continue
        move, created = found
        _store(row, move, created)
        done += 1
    return f"invoiced:{done}"


def _store(row: FinanceSync, move: dict[str, Any], created: bool) -> None:
    inv = row.invoice
    assert inv is not None
    values = {
        "odoo_id": int(move["id"]),
        "odoo_name": str(move.get("name") or "")[:64],
        "state": str(move.get("state") or ""),
        "payment_state": str(move.get("payment_state") or ""),
        "currency": str(move.get("currency") or inv.currency)[:3],
        "amount_total": odoo.cents(move.get("amount_total")),
        "amount_residual": odoo.cents(move.get("amount_residual")),
        "due_date": _date(move.get("invoice_date_due")),
    }
    posted = values["state"] == "posted"
    with transaction.atomic():
        if posted and inv.posted_at is None:
            values["posted_at"] = timezone.now()
        OrderInvoice.objects.filter(pk=inv.pk).update(**values)
        if runs.complete(row, {"invoice": values["odoo_id"], "created": created}, "invoiced") in (
            "lost",
        ):
            return
        if posted and inv.posted_at is None:
            inv.refresh_from_db()
            invoice_posted(invoice=inv)
            _release_waiting(inv.order_id)
            # Channel refunds that waited for this invoice get their credit note now.
            awaiting_apply(order_id=inv.order_id)


def _release_waiting(order_id: int) -> None:
    """Payments that waited for the order's invoice go now."""
    waiting = list(
        ChannelPayment.objects.filter(
            order_id=order_id, state=ChannelPayment.State.AWAITING_INVOICE
        ).values_list("pk", flat=True)
    )
    if not waiting:
        return
    ChannelPayment.objects.filter(pk__in=waiting).update(state=ChannelPayment.State.PENDING)
    for sync in FinanceSync.objects.filter(payment_id__in=waiting, state="held"):
        from apps.core.workrow import requeue

        requeue(FinanceSync, pk=sync.pk)
    transaction.on_commit(lambda: runs.ring_batch(FinanceSync.Action.PAYMENT))


def invoices_refresh(*, limit: int = 1000) -> int:
    """Read back the payment state of open invoices (Odoo owns payment on B2B channels).
    One call per 1,000 invoices. Returns how many changed."""
    open_ = list(
        OrderInvoice.objects.filter(state="posted", odoo_id__isnull=False)
        .exclude(payment_state__in=("paid", "reversed"))
        .order_by("updated_at")[:limit]
    )
    if not open_:
        return 0
    moves = odoo.gateway().moves_read(move_ids=[int(i.odoo_id or 0) for i in open_])
    changed = 0
    for inv in open_:
        move = moves.get(int(inv.odoo_id or 0))
        if move is None:
            continue
        values = {
            "payment_state": str(move.get("payment_state") or ""),
            "amount_residual": odoo.cents(move.get("amount_residual")),
            "state": str(move.get("state") or ""),
        }
        if any(getattr(inv, k) != v for k, v in values.items()):
            changed += 1
        OrderInvoice.objects.filter(pk=inv.pk).update(updated_at=timezone.now(), **values)
    return changed


runs.BATCHED[FinanceSync.Action.INVOICE] = invoice_batch
