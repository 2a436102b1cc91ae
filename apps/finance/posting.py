"""Posting a payout to Odoo, once, through the Odoo user in the accounting group.

A `matched` payout (or one an Approver released) is posted by its work row:

1. a bank statement line for the net on the account's journal, label
   `<account>:payout:<id>` (found by that label on a retry);
2. one settlement entry under the same ref: Dr the fee account for the fees, Dr the
   customer's receivable for each refund (to clear its credit note), the released adjustments
   on the adjustment account, and the balancing line on Outstanding Receipts (the clearing
   account the payments sit on until the bank matches them);
3. each refund's receivable line reconciled with its credit note's;
4. the transcript-15 path: the statement line's suspense item moved to Outstanding Receipts and
   reconciled with the payments' items and the entry's clearing line; the payments become
   matched, the statement line reconciled.

Every step finds what an earlier try made before it writes (statement line and entry by ref;
the reconcile skips lines already reconciled), so a lost answer never posts twice. The sum
works out because the payments were registered at the channel's amounts: payments (gross) =
net (bank) + fees + refunds - adjustments.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import ConfigurationError, PermanentError

from . import odoo, runs
from .models import ZERO, FinanceSync, Payout, PayoutLine

logger = logging.getLogger(__name__)


def post_wanted(payout: Payout) -> bool:
    """Queue the payout's posting (once; inside the caller's transaction)."""
    try:
        with transaction.atomic():
            row = FinanceSync.objects.create(
                action=FinanceSync.Action.POST_PAYOUT,
                payout=payout,
                entity_key=f"finance:payout:{payout.account_id}",
            )
    except IntegrityError:
        return False
    runs.ring_after_commit(row)
    return True


def payout_release(*, payout: Payout, user: Any, reason: str) -> bool:
    """An Approver accepts a payout's difference: its unexplained lines go to the adjustment
    account. Audited. Returns False when the payout is not waiting for a release."""
    if not reason.strip():
        raise PermanentError("a release needs a reason", field="reason")
    with transaction.atomic():
        locked = Payout.objects.select_for_update().get(pk=payout.pk)
        if locked.state != Payout.State.DIFFERENCE:
            return False
        if not locked.account.adjustment_account_id:
            raise ConfigurationError(
                f"payment account {locked.account.code} has no adjustment account: set one "
                "before releasing a difference",
                field="adjustment_account_id",
            )
        who = getattr(user, "get_username", lambda: str(user))()
        before = {"state": locked.state}
        Payout.objects.filter(pk=locked.pk).update(
            state=Payout.State.RELEASED,
            released_by=who[:200],
            released_at=timezone.now(),
            release_reason=reason[:500],
        )
        locked.refresh_from_db()
        audit_record(
            user=user,
            action="finance.payout_release",
            obj=locked,
            before=before,
            after={"state": locked.state, "difference": str(locked.difference)},
            reason=reason,
        )
        post_wanted(locked)
    return True


def _entry_lines(
    payout: Payout, clearing: int, notes: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    account = payout.account
    lines: list[dict[str, Any]] = []
    fees = payout.fees
    if fees:
        if not account.fee_account_id:
            raise ConfigurationError(
                f"payment account {account.code} has no fee account", field="fee_account_id"
            )
        lines.append(
            {"account_id": account.fee_account_id, "amount": fees, "name": f"Fees {payout}"}
        )
    released = payout.state == Payout.State.RELEASED
    for ln in payout.lines.all().select_related("refund"):
        if ln.category == "transfer" or ln.category in ("charge", "fee"):
            if ln.match == PayoutLine.Match.UNEXPLAINED and ln.category == "charge":
                # A released charge nobody explained: the money is in the bank, book it.
                lines.append(_adjustment(account, -ln.amount, ln))
            continue
        if ln.category == "refund" and ln.match == PayoutLine.Match.MATCHED:
            assert ln.refund is not None
            note = notes.get(int(ln.refund.odoo_credit_note_id or 0))
            if note is None:
                raise PermanentError(f"credit note of refund {ln.refund.external_id} not found")
            lines.append(
                {
                    "account_id": note["account_id"],
                    "partner_id": note["partner_id"],
                    "amount": -ln.amount,
                    "name": f"Refund {ln.refund.external_id}",
                }
            )
            continue
        if not released:
            raise PermanentError(f"payout line {ln.external_id} is not explained")
        lines.append(_adjustment(account, -ln.amount, ln))
    total = sum((Decimal(x["amount"]) for x in lines), ZERO)
    if lines and total:
        lines.append({"account_id": clearing, "amount": -total, "name": f"Settlement {payout}"})
    return [x for x in lines if x["amount"]]


def _adjustment(account: Any, amount: Decimal, ln: PayoutLine) -> dict[str, Any]:
    if not account.adjustment_account_id:
        raise ConfigurationError(
            f"payment account {account.code} has no adjustment account",
            field="adjustment_account_id",
        )
    return {
        "account_id": account.adjustment_account_id,
        "amount": amount,
        "name": f"{ln.type} {ln.external_id}",
    }


def _credit_notes(gw: Any, payout: Payout) -> dict[int, dict[str, Any]]:
    """credit note id -> its open receivable item (account, partner, line id)."""
    ids = [
        int(r)
        for r in payout.lines.filter(
            category="refund", match=PayoutLine.Match.MATCHED, refund__isnull=False
        ).values_list("refund__odoo_credit_note_id", flat=True)
        if r
    ]
    if not ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    for move_id, items in gw.move_lines_of(move_ids=ids).items():
        receivable = [
            i for i in items if Decimal(str(i.get("balance") or 0)) < 0 and i.get("partner_id")
        ]
        open_ = [i for i in receivable if Decimal(str(i.get("amount_residual") or 0)) != 0]
        pick = (open_ or receivable or [None])[0]
        if pick is not None:
            out[int(move_id)] = {
                "line_id": int(pick["id"]),
                "account_id": int(pick["account_id"]),
                "partner_id": int(pick["partner_id"]),
                "open": bool(open_),
            }
    return out


def run_post_payout(row: FinanceSync) -> str:
    payout = row.payout
    assert payout is not None
    account = payout.account
    if payout.state not in (Payout.State.MATCHED, Payout.State.RELEASED, Payout.State.FAILED):
        return runs.complete(row, {"skipped": payout.state}, "skipped")
    if not account.odoo_journal_id:
        raise ConfigurationError(
            f"payment account {account.code} has no Odoo journal", field="odoo_journal_id"
        )
    gw = odoo.accounting_gateway()
    ref = odoo.payout_ref(account.code, payout.external_id)
    date = payout.date.isoformat()
    clearing = int(gw.clearing_account_id())
    statement, _ = gw.statement_line_ensure(
        ref=ref, journal_id=account.odoo_journal_id, date=date, amount=payout.amount
    )
    notes = _credit_notes(gw, payout)
    lines = _entry_lines(payout, clearing, notes)
    entry: dict[str, Any] | None = None
    if lines:
        entry, _ = gw.settlement_entry_ensure(
            ref=ref, journal_id=account.odoo_journal_id, date=date, lines=lines
        )
    entry_lines = list((entry or {}).get("lines") or [])
    for note in notes.values():
        if not note["open"]:
            continue
        mine = next(
            (
                e
                for e in entry_lines
                if int(e.get("partner_id") or 0) == note["partner_id"]
                and int(e["account_id"]) == note["account_id"]
                and not e.get("reconciled")
            ),
            None,
        )
        if mine is not None:
            # Both read open in this run (the credit note's item, the entry's): no read first.
            gw.lines_reconcile(line_ids=[int(mine["id"]), note["line_id"]], open_known=True)
            entry_lines.remove(mine)
    payment_ids = [
        int(p)
        for p in payout.lines.filter(category="charge", match=PayoutLine.Match.MATCHED).values_list(
            "payment__odoo_payment_id", flat=True
        )
        if p
    ]
    items = gw.payment_lines(payment_ids=payment_ids, account_id=clearing) if payment_ids else {}
    ids = [int(i["id"]) for i in items.values() if not i.get("reconciled")]
    ids += [
        int(e["id"])
        for e in entry_lines
        if int(e["account_id"]) == clearing and not e.get("reconciled")
    ]
    # Always through the reconcile: Odoo calls a statement line "reconciled" as soon as its
    # suspense item moved to another account, before anything is matched; the gateway reads
    # the items first and reconciles only those still open, so a retry is harmless.
    result = gw.statement_line_reconcile(
        statement_line=statement, clearing_account_id=clearing, line_ids=ids, open_known=True
    )
    values = {
        "state": Payout.State.POSTED,
        "odoo_statement_line_id": int(statement["id"]),
        "odoo_entry_id": int(entry["id"]) if entry else None,
        "odoo_entry_name": str((entry or {}).get("name") or "")[:64],
        "posted_at": timezone.now(),
    }
    Payout.objects.filter(pk=payout.pk).update(**values)
    return runs.complete(
        row,
        {
            "statement_line": values["odoo_statement_line_id"],
            "entry": values["odoo_entry_id"],
            "payments": len(payment_ids),
            "reconciled": bool(result.get("is_reconciled")),
        },
        "posted",
    )


runs.ACTIONS[FinanceSync.Action.POST_PAYOUT] = run_post_payout
