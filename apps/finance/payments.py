"""Payments: what the channel captured, registered in Odoo against the order's invoice.

- An order delivery saying the order is paid (Shopify `financial_status` paid / `orders/paid`,
  WooCommerce `date_paid`, BigCommerce's payment status) records a `capture` work row for the
  order (`capture_wanted`). It reads the captured transactions (`captured_payments`: Shopify and
  BigCommerce over their API, WooCommerce from the order itself) and records one
  `ChannelPayment` per gateway transaction, unique on (channel, transaction id): a webhook
  delivered twice, or the poll finding the same order, records nothing new.
- Each payment is registered in Odoo (`payment_batch`, batched): the journal from the channel's
  payment-method value map (gateway -> account.journal id), the channel's amount and date, the
  memo `<channel>:payment:<transaction id>`. It is found by that memo before anything is
  created, so a lost answer never pays twice. Partial payments are allowed.
- An order paid before it is invoiced: the payment waits (`awaiting_invoice`, the row held) and
  goes when the hub posts the invoice (`invoicing._release_waiting`).
- `payment.captured` goes out once the payment is in Odoo.
- B2B channels (`register_payments` off): Odoo owns payment; nothing is registered.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core import workrow
from apps.core.errors import TransientError
from apps.core.workrow import UNFINISHED
from apps.mappings.models import ValueMap
from apps.orders.models import ChannelOrder
from apps.sales_channels.models import Channel

from . import odoo, runs
from .business_events import payment_captured
from .errors import PaymentJournalMissing
from .models import ChannelPayment, FinanceSync, OrderInvoice

logger = logging.getLogger(__name__)

PAID = ("paid", "partially_paid", "partially_refunded", "refunded")


def capture_wanted(order: ChannelOrder, payload: Mapping[str, Any] | None = None) -> bool:
    """Record a capture row for a paid order of a channel that registers payments (none while
    one is unfinished). Returns True when one was recorded. Call inside the intake transaction."""
    channel = order.channel
    if not channel.register_payments or channel.state == Channel.State.SHADOW:
        return False
    if channel.kind in (Channel.Kind.B2B_API, Channel.Kind.STANDARD_WEBHOOKS):
        return False
    if order.financial_status not in PAID:
        return False
    if FinanceSync.objects.filter(
        action=FinanceSync.Action.CAPTURE, order=order, state__in=UNFINISHED
    ).exists():
        return False
    # Already captured in full (a redelivery, orders/paid after orders/create): no new read.
    captured = ChannelPayment.objects.filter(order=order).aggregate(s=Sum("amount"))["s"]
    if captured is not None and captured >= order.total:
        return False
    # The read waits HUB_FINANCE_CAPTURE_DELAY_SECONDS (settings.py says why); rung_at stamps
    # the delayed ring so the sweeper leaves the row to it until the ring's grace has passed.
    delay = max(0.0, float(getattr(settings, "HUB_FINANCE_CAPTURE_DELAY_SECONDS", 0.0)))
    now = timezone.now()
    row = FinanceSync.objects.create(
        action=FinanceSync.Action.CAPTURE,
        order=order,
        entity_key=f"finance:cap:{order.odoo_ref}",
        correlation_id=order.correlation_id,
        request=dict(payload or {}),
        next_attempt_at=now + timedelta(seconds=delay) if delay else None,
        rung_at=now if delay else None,
    )
    runs.ring_after_commit(row, countdown=delay or None)
    return True


def run_capture(row: FinanceSync) -> str:
    from .providers.captures import captured_payments

    order = row.order
    assert order is not None
    found = captured_payments(order.channel, row.request or {}, order.external_id)
    recorded = 0
    for cap in found:
        recorded += payment_record(
            order=order,
            transaction_id=cap.transaction_id,
            gateway=cap.gateway,
            amount=cap.amount,
            currency=cap.currency,
            processed_at=cap.processed_at,
            kind=cap.kind,
        )
    return runs.complete(row, {"captured": len(found), "recorded": recorded}, "captured")


def payment_record(
    *,
    order: ChannelOrder,
    transaction_id: str,
    gateway: str,
    amount: Decimal,
    currency: str,
    processed_at: Any,
    kind: str = "sale",
) -> bool:
    """Record a captured payment and its Odoo work (once per transaction id)."""
    if amount <= 0:
        return False
    state = ChannelPayment.State.PENDING
    if not order.channel.register_payments:
        state = ChannelPayment.State.NOT_REGISTERED
    try:
        with transaction.atomic():
            pay = ChannelPayment.objects.create(
                channel_id=order.channel_id,
                order=order,
                transaction_id=str(transaction_id)[:255],
                gateway=str(gateway or "")[:100],
                kind=kind,
                amount=odoo.cents(amount),
                currency=(currency or order.currency).upper()[:3],
                processed_at=processed_at or timezone.now(),
                state=state,
            )
            if state == ChannelPayment.State.PENDING:
                row = FinanceSync.objects.create(
                    action=FinanceSync.Action.PAYMENT,
                    payment=pay,
                    entity_key=f"finance:pay:{order.odoo_ref}",
                    correlation_id=order.correlation_id,
                )
                runs.ring_after_commit(row)
    except IntegrityError:
        return False
    return True


def journal_for(channel: Channel, gateway: str) -> int | None:
    """The Odoo journal of a gateway: the channel's payment-method value map (a journal id, or
    a bank/cash journal code such as BNK1; `*` matches any gateway), else
    HUB_PAYMENT_DEFAULT_JOURNAL; neither -> PaymentJournalMissing (an inbox item)."""
    maps = {
        vm.channel_value.lower(): vm.odoo_value
        for vm in ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.PAYMENT_METHOD)
    }
    value = maps.get((gateway or "").lower()) or maps.get("*")
    if value is None:
        default = getattr(settings, "HUB_PAYMENT_DEFAULT_JOURNAL", None)
        if default:
            return int(default)
        raise PaymentJournalMissing(
            f"no Odoo journal mapped for payment gateway {gateway!r} of channel {channel.code}",
            field="gateway",
            channel=channel.code,
            gateway=gateway,
            mapping_kind=ValueMap.Kind.PAYMENT_METHOD,
        )
    if str(value).isdigit():
        return int(value)
    # A journal code (BNK1) is easier to type than an id: resolved once per batch.
    codes = {
        str(j.get("code") or ""): int(j["id"])
        for j in odoo.gateway().journals_find(types=("bank", "cash"))
    }
    if str(value) in codes:
        return codes[str(value)]
    raise PaymentJournalMissing(
        f"the journal mapped for gateway {gateway!r} of channel {channel.code} is neither an "
        f"Odoo journal id nor a bank or cash journal code: {value!r}",
        field="gateway",
    )


def _open_invoice(pay: ChannelPayment) -> OrderInvoice | None:
    """The order's oldest posted invoice that is not paid yet (else its first posted one)."""
    posted = list(OrderInvoice.objects.filter(order_id=pay.order_id, state="posted").order_by("pk"))
    for inv in posted:
        if inv.payment_state not in ("paid", "reversed", "in_payment"):
            return inv
    return posted[0] if posted else None


def _adopt_odoo_invoices(pays: list[ChannelPayment]) -> int:
    """Channels whose invoices Odoo makes itself (`invoicing` none): the posted invoices of the
    orders' sale orders become the hub's `OrderInvoice` rows (ref `odoo:<invoice id>`), so the
    payment has something to pay. One read per batch. Returns how many were recorded."""
    from apps.sales_channels.models import Channel

    orders = {
        p.order_id: p.order
        for p in pays
        if p.channel.invoicing == Channel.Invoicing.NONE
        and p.order.odoo_id
        and not OrderInvoice.objects.filter(order_id=p.order_id, state="posted").exists()
    }
    if not orders:
        return 0
    by_so: dict[int, ChannelOrder] = {}
    for order in orders.values():
        for part in order.odoo_parts or [{"id": order.odoo_id}]:
            if part.get("id"):
                by_so[int(part["id"])] = order
    found = odoo.gateway().invoices_of_orders(order_ids=sorted(by_so))
    made = 0
    for so, invoices in found.items():
        order = by_so[int(so)]
        for move in invoices:
            _, created = OrderInvoice.objects.get_or_create(
                odoo_id=int(move["id"]),
                defaults={
                    "channel_id": order.channel_id,
                    "order": order,
                    "ref": f"odoo:{move['id']}",
                    "odoo_order_id": int(so),
                    "odoo_name": str(move.get("name") or "")[:64],
                    "state": str(move.get("state") or ""),
                    "payment_state": str(move.get("payment_state") or ""),
                    "currency": str(move.get("currency") or order.currency)[:3],
                    "amount_total": odoo.cents(move.get("amount_total")),
                    "amount_residual": odoo.cents(move.get("amount_residual")),
                    "posted_at": timezone.now(),
                },
            )
            made += created
    return made


def payments_waiting_recheck() -> int:
    """Beat: payments held for an invoice Odoo makes itself (`invoicing` none) look again."""
    from apps.core.workrow import requeue
    from apps.sales_channels.models import Channel

    held = FinanceSync.objects.filter(
        action=FinanceSync.Action.PAYMENT,
        state="held",
        payment__channel__invoicing=Channel.Invoicing.NONE,
    ).values_list("pk", flat=True)[:1000]
    n = sum(requeue(FinanceSync, pk=pk, reset_attempts=False) for pk in held)
    if n:
        runs.ring_batch(FinanceSync.Action.PAYMENT)
    return n


def payment_batch(rows: list[FinanceSync]) -> str:
    """Register the claimed payments in Odoo: one search by memo for all, then the wizard for
    each one not found; rows whose order has no posted invoice yet wait (held)."""
    todo: dict[str, tuple[FinanceSync, dict[str, Any]]] = {}
    _adopt_odoo_invoices([r.payment for r in rows if r.payment is not None])
    for row in rows:
        pay = row.payment
        assert pay is not None
        inv = _open_invoice(pay)
        if inv is None or not inv.odoo_id:
            with transaction.atomic():
                ChannelPayment.objects.filter(pk=pay.pk).update(
                    state=ChannelPayment.State.AWAITING_INVOICE
                )
                workrow.hold(row, note="waits for the order's invoice")
            continue
        try:
            journal = journal_for(pay.channel, pay.gateway)
        except PaymentJournalMissing as exc:
            runs.fail(row, exc)
            continue
        ref = odoo.payment_ref(pay.channel.code, pay.transaction_id)
        todo[ref] = (
            row,
            {
                "ref": ref,
                "invoice_id": inv.odoo_id,
                "amount": pay.amount,
                "date": timezone.localtime(pay.processed_at).date().isoformat(),
                "journal_id": journal,
            },
        )
    if not todo:
        return "waiting"
    made = odoo.gateway().payments_register(payments=[req for _, req in todo.values()])
    done = 0
    for ref, (row, req) in todo.items():
        pair = made.get(ref)
        if pair is None:
            runs.retry([row], TransientError(f"Odoo did not answer payment {ref}"))
            continue
        payment, created = pair
        _store(row, req, payment, created)
        done += 1
    _refresh_invoices({req["invoice_id"] for _, req in todo.values()})
    return f"registered:{done}"


def _store(row: FinanceSync, req: dict[str, Any], payment: dict[str, Any], created: bool) -> None:
    pay = row.payment
    assert pay is not None
    with transaction.atomic():
        ChannelPayment.objects.filter(pk=pay.pk).update(
            state=ChannelPayment.State.REGISTERED,
            odoo_payment_id=int(payment["id"]),
            odoo_payment_name=str(payment.get("name") or "")[:64],
            odoo_invoice_id=req["invoice_id"],
            odoo_journal_id=req.get("journal_id"),
        )
        if runs.complete(row, {"payment": int(payment["id"]), "created": created}, "paid") == (
            "lost"
        ):
            return
        pay.refresh_from_db()
        payment_captured(payment=pay)


def _refresh_invoices(odoo_ids: set[int]) -> None:
    """Read back the invoices' payment state and residual (one call)."""
    if not odoo_ids:
        return
    rows = odoo.gateway().moves_read(move_ids=sorted(odoo_ids))
    for oid, move in rows.items():
        OrderInvoice.objects.filter(odoo_id=oid).update(
            payment_state=str(move.get("payment_state") or ""),
            amount_residual=odoo.cents(move.get("amount_residual")),
            state=str(move.get("state") or ""),
        )


runs.ACTIONS[FinanceSync.Action.CAPTURE] = run_capture
runs.BATCHED[FinanceSync.Action.PAYMENT] = payment_batch
