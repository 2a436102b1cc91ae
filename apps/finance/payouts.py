"""Payouts: import them with their balance transactions, then explain every line.

Import (`payouts_import`, beat `finance.payouts_import`): per enabled `PaymentAccount`, the paid
payouts since its cursor, page by page, each with all its balance transactions, stored in one
transaction (`net` exactly as the provider gives it; unknown types kept as category `other`).
A payout already stored is skipped, so a re-run or an overlapping page imports nothing twice.

Match (`payout_match`), line by line, against the hub's own records of the account's channel:

| line        | explained by                                                              |
|-------------|---------------------------------------------------------------------------|
| charge      | the `ChannelPayment` with its gateway transaction id (else the order's    |
|             | payment of the same amount), registered in Odoo, same amount and currency |
| refund      | a `ChannelRefund` of the order for that amount, with its Odoo credit note  |
| fee         | nothing more: a provider fee (to the fee account)                          |
| transfer    | ignored: the payout's own row                                             |
| adjustment, chargeback, reserve, other | nothing: a person decides (suspense)          |

Totals: gross (charges) - refunds - fees + adjustments must equal the payout's net to the cent.
Every line explained and no difference: `matched`, and the posting is queued. Otherwise
`difference`, with one inbox item per unexplained line (its suggested causes: a missing order,
an amount changed after capture, an adjustment with no order, a currency difference) and one
for a difference in the totals; an Approver may release it (posting.payout_release).
Payouts not posted yet are matched again on every run, so a payment that lands later in Odoo
turns a difference into a match by itself.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.orders.models import ChannelOrder
from apps.returns.models import ChannelRefund

from .errors import PayoutDifference
from .models import ZERO, ChannelPayment, PaymentAccount, Payout, PayoutLine
from .providers.base import ProviderPayout, ProviderTransaction, payout_source

logger = logging.getLogger(__name__)

INSERT_CHUNK = 1000
ORDERLESS = ("adjustment", "chargeback", "reserve", "other")


# --- import ----------------------------------------------------------------------------------


def payouts_import(account: PaymentAccount, *, max_pages: int = 20) -> dict[str, int]:
    """Import the account's new paid payouts; match each one. Returns counts."""
    source = payout_source(account)
    cursor: str | None = account.cursor or None
    imported = lines = 0
    new: list[Payout] = []
    for _ in range(max_pages):
        page, next_cursor = source.payouts_since(cursor, limit=100)
        for p in page:
            payout, n = payout_store(account, p, source.transactions(p))
            if payout is not None:
                imported += 1
                lines += n
                new.append(payout)
        if next_cursor is None or next_cursor == cursor:
            break
        cursor = next_cursor
        PaymentAccount.objects.filter(pk=account.pk).update(cursor=cursor)
    now = timezone.now()
    summary = f"{imported} payout(s), {lines} line(s)"
    PaymentAccount.objects.filter(pk=account.pk).update(imported_at=now, import_summary=summary)
    for payout in new:
        payout_match(payout)
    return {"payouts": imported, "lines": lines}


def _line(payout: Payout, tx: ProviderTransaction) -> PayoutLine:
    return PayoutLine(
        payout=payout,
        external_id=str(tx.external_id)[:255],
        type=str(tx.type)[:100],
        category=tx.category,
        currency=(tx.currency or payout.currency).upper()[:3],
        amount=tx.amount,
        fee=tx.fee,
        net=tx.net,
        processed_at=tx.processed_at,
        source_order_id=str(tx.source_order_id or "")[:255],
        source_order_number=str(tx.source_order_number or "")[:255],
        source_transaction_id=str(tx.source_transaction_id or "")[:255],
        raw=tx.raw,
    )


def payout_store(
    account: PaymentAccount, p: ProviderPayout, transactions: Any
) -> tuple[Payout | None, int]:
    """Store a payout and all its lines at once; (None, 0) when it is already stored."""
    if Payout.objects.filter(account=account, external_id=p.external_id).exists():
        return None, 0
    txs = list(transactions)
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                account=account,
                external_id=str(p.external_id)[:255],
                status=str(p.status)[:32],
                date=p.date,
                currency=p.currency.upper()[:3],
                amount=p.amount,
                summary=p.summary,
                raw=p.raw,
                line_count=0,
            )
            seen: set[str] = set()
            rows = []
            for tx in txs:
                if tx.external_id in seen:
                    continue  # a page boundary that moved under us
                seen.add(tx.external_id)
                rows.append(_line(payout, tx))
            for i in range(0, len(rows), INSERT_CHUNK):
                PayoutLine.objects.bulk_create(rows[i : i + INSERT_CHUNK])
    except IntegrityError:
        return None, 0  # stored by a concurrent import
    return payout, len(rows)


# --- match -----------------------------------------------------------------------------------


# What matching reads of orders and payments (5,000 orders' payloads would be most of the memory).
ORDER_ONLY = ("id", "channel_id", "external_id", "number", "customer_email")
PAYMENT_ONLY = (
    "id",
    "channel_id",
    "order_id",
    "transaction_id",
    "amount",
    "currency",
    "state",
    "odoo_payment_id",
    *(f"order__{f}" for f in ORDER_ONLY),
)


class _Index:
    """The hub records a payout's lines can point at, read in a few queries."""

    def __init__(self, account: PaymentAccount, lines: list[PayoutLine], payout: Payout) -> None:
        channel = account.channel_id
        # The payment intent beside the charge id (WooCommerce stores either), read alone: the
        # lines themselves are loaded without their raw JSON.
        self.intents = {
            pk: str(intent)
            for pk, intent in PayoutLine.objects.filter(payout=payout)
            .exclude(category="transfer")
            .values_list("pk", "raw__payment_intent")
            if intent
        }
        txids = {ln.source_transaction_id for ln in lines if ln.source_transaction_id}
        txids |= set(self.intents.values())
        ext = {ln.source_order_id for ln in lines if ln.source_order_id}
        numbers = {ln.source_order_number for ln in lines if ln.source_order_number}
        self.payments = {
            p.transaction_id: p
            for p in ChannelPayment.objects.filter(channel_id=channel, transaction_id__in=txids)
            .select_related("order")
            .only(*PAYMENT_ONLY)
        }
        orders = list(
            ChannelOrder.objects.filter(channel_id=channel, external_id__in=ext).only(*ORDER_ONLY)
        )
        orders += list(
            ChannelOrder.objects.filter(channel_id=channel, number__in=numbers).only(*ORDER_ONLY)
        )
        self.by_ext = {o.external_id: o for o in orders}
        self.by_number = {o.number: o for o in orders if o.number}
        self.by_number.update({o.number.lstrip("#"): o for o in orders if o.number})
        order_ids = {o.pk for o in orders} | {p.order_id for p in self.payments.values()}
        self.order_payments: dict[int, list[ChannelPayment]] = defaultdict(list)
        for p in (
            ChannelPayment.objects.filter(order_id__in=order_ids)
            .select_related("order")
            .only(*PAYMENT_ONLY)
        ):
            self.order_payments[p.order_id].append(p)
            self.payments.setdefault(p.transaction_id, p)
        self.refunds: dict[int, list[ChannelRefund]] = defaultdict(list)
        for r in (
            ChannelRefund.objects.filter(order_id__in=order_ids).defer("payload").order_by("pk")
        ):
            self.refunds[r.order_id].append(r)
        self.used_payments: set[int] = set()
        self.used_refunds: set[int] = set()

    def order(self, ln: PayoutLine) -> ChannelOrder | None:
        if ln.source_order_id and ln.source_order_id in self.by_ext:
            return self.by_ext[ln.source_order_id]
        num = ln.source_order_number
        return self.by_number.get(num) or self.by_number.get(num.lstrip("#")) if num else None


def _explain_charge(ln: PayoutLine, idx: _Index, currency: str) -> tuple[bool, str, list[str]]:
    pay = idx.payments.get(ln.source_transaction_id) if ln.source_transaction_id else None
    intent = idx.intents.get(ln.pk, "")
    if pay is None and intent:
        # WooCommerce's transaction_id holds the charge or the payment intent, by version.
        pay = idx.payments.get(intent)
    order = pay.order if pay is not None else idx.order(ln)
    if pay is None and order is not None:
        pay = next(
            (
                p
                for p in idx.order_payments.get(order.pk, [])
                if p.amount == ln.amount and p.pk not in idx.used_payments
            ),
            None,
        )
    ln.order = order
    ln.payment = pay
    if order is None:
        return False, "no hub order for this charge", ["missing order"]
    if pay is None:
        return (
            False,
            f"order {order.number or order.external_id} has no captured payment "
            f"{ln.source_transaction_id or ''}".strip(),
            ["payment not captured yet", "missing order"],
        )
    if ln.currency != pay.currency or ln.currency != currency:
        return (
            False,
            f"charge in {ln.currency}, payment in {pay.currency}, payout in {currency}",
            ["currency difference"],
        )
    if pay.amount != ln.amount:
        return (
            False,
            f"charge {ln.amount} but the captured payment is {pay.amount}",
            ["amount changed after capture"],
        )
    if not pay.odoo_payment_id:
        return (
            False,
            f"payment {pay.transaction_id} is not registered in Odoo yet ({pay.state})",
            ["payment waits for its invoice", "payment failed in Odoo"],
        )
    idx.used_payments.add(pay.pk)
    return True, "", []


def _explain_refund(ln: PayoutLine, idx: _Index) -> tuple[bool, str, list[str]]:
    order = idx.order(ln)
    if order is None and ln.source_transaction_id in idx.payments:
        order = idx.payments[ln.source_transaction_id].order
    ln.order = order
    if order is None:
        return False, "no hub order for this refund", ["missing order"]
    want = -ln.amount
    refund = next(
        (
            r
            for r in idx.refunds.get(order.pk, [])
            if r.amount == want and r.pk not in idx.used_refunds
        ),
        None,
    )
    ln.refund = refund
    if refund is None:
        return (
            False,
            f"no refund of {want} recorded for order {order.number or order.external_id}",
            ["refund not recorded in the hub", "amount changed after capture"],
        )
    if not refund.odoo_credit_note_id:
        return (
            False,
            f"refund {refund.external_id} has no Odoo credit note yet ({refund.state})",
            ["credit note waits for the invoice", "credit note mismatch"],
        )
    idx.used_refunds.add(refund.pk)
    return True, "", []


def _explain(ln: PayoutLine, idx: _Index, currency: str) -> tuple[str, str, list[str]]:
    if ln.category == "transfer":
        return PayoutLine.Match.IGNORED, "", []
    if ln.category == "charge":
        ok, reason, hints = _explain_charge(ln, idx, currency)
    elif ln.category == "refund":
        ok, reason, hints = _explain_refund(ln, idx)
    elif ln.category == "fee":
        ok, reason, hints = True, "", []
    else:
        ln.order = idx.order(ln)
        ok = False
        what = ln.category if ln.category != "other" else f"unknown type {ln.type}"
        if ln.order is None:
            reason, hints = f"{what} with no order", ["adjustment with no order"]
        else:
            reason = f"{what} on order {ln.order.number or ln.order.external_id}"
            hints = ["chargeback or dispute", "adjustment after capture"]
    if ok and ln.currency != currency:
        ok, reason, hints = (
            False,
            f"line in {ln.currency}, payout in {currency}",
            ["currency difference"],
        )
    state = PayoutLine.Match.MATCHED if ok else PayoutLine.Match.UNEXPLAINED
    return state, reason, hints


def totals(lines: list[PayoutLine]) -> dict[str, Decimal]:
    gross = refunds = fees = adjustments = ZERO
    for ln in lines:
        if ln.category == "transfer":
            continue
        fees += ln.fee
        if ln.category == "charge":
            gross += ln.amount
        elif ln.category == "refund":
            refunds += -ln.amount
        elif ln.category == "fee":
            fees += -ln.amount
        else:
            adjustments += ln.amount
    return {"gross": gross, "refunds": refunds, "fees": fees, "adjustments": adjustments}


def payout_match(payout: Payout) -> str:
    """Explain every line of a payout not posted yet; queue its posting when it all holds."""
    if payout.state in (Payout.State.POSTED, Payout.State.RELEASED):
        return payout.state
    lines = list(payout.lines.defer("raw"))
    before = {ln.pk: _match_values(ln) for ln in lines}
    idx = _Index(payout.account, lines, payout)
    unexplained: list[PayoutLine] = []
    for ln in lines:
        ln.match, ln.reason, ln.suggestions = _explain(ln, idx, payout.currency)
        if ln.match == PayoutLine.Match.UNEXPLAINED:
            unexplained.append(ln)
    t = totals(lines)
    difference = payout.amount - (t["gross"] - t["refunds"] - t["fees"] + t["adjustments"])
    matched = sum(1 for ln in lines if ln.match != PayoutLine.Match.UNEXPLAINED)
    state = Payout.State.MATCHED if not unexplained and not difference else Payout.State.DIFFERENCE
    with transaction.atomic():
        _save_matches([ln for ln in lines if _match_values(ln) != before[ln.pk]])
        Payout.objects.filter(pk=payout.pk).update(
            state=state,
            line_count=len(lines),
            matched_count=matched,
            difference=difference,
            **t,
        )
        payout.state = state
        _settle_issues(payout, lines, {k: v[0] for k, v in before.items()}, difference)
        if state == Payout.State.MATCHED:
            from .posting import post_wanted

            post_wanted(payout)
        else:
            _report(payout, unexplained, difference)
    return state


MATCH_FIELDS = ("match", "reason", "suggestions", "order_id", "payment_id", "refund_id")


def _match_values(ln: PayoutLine) -> tuple[Any, ...]:
    return (
        ln.match,
        ln.reason,
        list(ln.suggestions or []),
        ln.order_id,
        ln.payment_id,
        ln.refund_id,
    )


def _save_matches(lines: list[PayoutLine]) -> None:
    """Write what matching decided for the changed lines. PostgreSQL: one UPDATE ... FROM
    (VALUES ...) per 1,000 lines (Django's bulk_update builds a CASE per field and row, which
    took 10 s for a payout of 5,000); elsewhere bulk_update."""
    if not lines:
        return
    if connection.vendor != "postgresql":
        PayoutLine.objects.bulk_update(
            lines, ["match", "reason", "suggestions", "order", "payment", "refund"], batch_size=500
        )
        return
    table = PayoutLine._meta.db_table
    for i in range(0, len(lines), INSERT_CHUNK):
        part = lines[i : i + INSERT_CHUNK]
        rows = ", ".join(
            ["(%s, %s, %s, %s::jsonb, %s::bigint, %s::bigint, %s::bigint)"] * len(part)
        )
        params: list[Any] = []
        for ln in part:
            params += [
                ln.pk,
                ln.match,
                ln.reason[:500],
                json.dumps(list(ln.suggestions or [])),
                ln.order_id,
                ln.payment_id,
                ln.refund_id,
            ]
        with connection.cursor() as cur:
            # Only the model's own table name and "%s" placeholders are formatted in.
            sql = (
                f'UPDATE "{table}" AS l SET "match" = v.m, "reason" = v.r, "suggestions" = v.s, '  # noqa: S608
                '"order_id" = v.o, "payment_id" = v.p, "refund_id" = v.f '
                f"FROM (VALUES {rows}) AS v(id, m, r, s, o, p, f) WHERE l.id = v.id"
            )
            cur.execute(sql, params)


def _settle_issues(
    payout: Payout, lines: list[PayoutLine], before: dict[int, str], difference: Decimal
) -> None:
    """Lines explained now that were not before resolve their inbox items (and the payout's
    totals item once the difference is gone)."""
    from apps.inbox.services import issue_row_succeeded

    for ln in lines:
        if before.get(ln.pk) == PayoutLine.Match.UNEXPLAINED and ln.match != before[ln.pk]:
            issue_row_succeeded(row=ln)
    if not difference:
        issue_row_succeeded(row=payout)


def _report(payout: Payout, unexplained: list[PayoutLine], difference: Decimal) -> None:
    from apps.inbox.services import issue_report

    account = payout.account
    channel = account.channel.code
    for ln in unexplained:
        order = ln.order
        err = PayoutDifference(
            f"payout {payout.external_id} ({account.code}): {ln.type} {ln.external_id} "
            f"{ln.amount} {ln.currency}: {ln.reason}",
            payout=payout.external_id,
            line=ln.external_id,
            amount=str(ln.amount),
            net=str(ln.net),
            currency=ln.currency,
            suggestions=ln.suggestions,
        )
        issue_report(
            error=err,
            key=f"payout:{account.code}:{payout.external_id}:{ln.external_id}",
            row=ln,
            channel_code=channel,
            order_number=(order.number or order.external_id) if order is not None else "",
            customer=order.customer_email if order is not None else "",
        )
    if difference:
        err = PayoutDifference(
            f"payout {payout.external_id} ({account.code}): net {payout.amount} "
            f"{payout.currency} differs from gross - refunds - fees + adjustments by {difference}",
            payout=payout.external_id,
            difference=str(difference),
            suggestions=["a line's net differs from its amount minus fee", "missing lines"],
        )
        issue_report(
            error=err,
            key=f"payout:{account.code}:{payout.external_id}",
            row=payout,
            channel_code=channel,
        )


def payouts_rematch(*, limit: int = 200) -> int:
    """Match again the payouts that still have a difference (payments land later)."""
    n = 0
    for payout in Payout.objects.filter(
        state__in=(Payout.State.IMPORTED, Payout.State.DIFFERENCE)
    ).select_related("account__channel")[:limit]:
        if payout_match(payout) == Payout.State.MATCHED:
            n += 1
    return n


def payouts_import_all() -> str:
    """Beat's `finance.payouts_import`: every enabled account, then the rematch and the
    metrics. An account whose provider fails (a refused key, an answer of the wrong shape) is
    an inbox item naming the account and its channel, resolved by its next good import."""
    from apps.core.errors import HubError
    from apps.inbox.services import issue_report, issue_row_succeeded

    from .reports import metrics_refresh

    parts = []
    for account in PaymentAccount.objects.filter(enabled=True).select_related("channel"):
        try:
            counts = payouts_import(account)
        except HubError as exc:
            issue_report(
                error=exc,
                key=f"finance:payouts_import:{account.code}",
                row=account,
                channel_code=account.channel.code,
            )
            parts.append(f"{account.code}: failed ({exc.message[:80]})")
            continue
        issue_row_succeeded(row=account)
        parts.append(f"{account.code}: {counts['payouts']} payout(s)")
    rematched = payouts_rematch()
    metrics_refresh()
    return "; ".join([*parts, f"{rematched} rematched"])
