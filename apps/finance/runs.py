"""How every finance work row runs and ends: claim, run, complete or fail into the inbox.

Invoices and payments run in batches (`batch_run`: one claim of up to N due rows of one action,
one gateway call for all of them); a payout posting runs alone (`row_run`). A transient failure
gives every row back with a due time; a permanent one fails the row with an inbox item naming
the channel, the order, the payout and the amounts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apps.core import workrow
from apps.core.context import correlation
from apps.core.doorbell import ring_task
from apps.core.errors import (
    INFRASTRUCTURE_ERRORS,
    HubError,
    LockContention,
    RateLimited,
    TransientError,
)
from apps.core.workrow import WorkState

from .errors import FinanceSyncFailed
from .models import FinanceSync

logger = logging.getLogger(__name__)

TASK = "finance.sync"
BATCH_TASK = "finance.batch"
CAPTURE_TASK = "finance.capture"


class UnclassifiedFinanceError(HubError):
    category = "unknown"


def ring(pk: int, *, countdown: float | None = None) -> None:
    from apps.ledger.services import work_ring

    work_ring(model=FinanceSync, pk=pk, countdown=countdown)


def ring_batch(action: str, *, countdown: float | None = None) -> None:
    """Ring the batch task of `action` (invoices, payments); a lost ring is re-rung by the
    sweeper through the row's own task, which runs the same batch."""
    ring_task(BATCH_TASK, {"action": action}, countdown=countdown)


def ring_capture(pk: int, *, countdown: float | None = None) -> None:
    """Captures read the channel's API: their own task on the channel queue."""
    ring_task(CAPTURE_TASK, {"sync_id": pk}, countdown=countdown)


def is_capture(pk: int) -> bool:
    return FinanceSync.objects.filter(pk=pk, action=FinanceSync.Action.CAPTURE).exists()


def ring_row(pk: int, action: str, *, countdown: float | None = None) -> None:
    """The task that runs a row of `action`: its batch, a capture's own task, or the row's."""
    if action in BATCHED:
        ring_batch(action, countdown=countdown)
    elif action == FinanceSync.Action.CAPTURE:
        ring_capture(pk, countdown=countdown)
    else:
        ring(pk, countdown=countdown)


def ring_after_commit(row: FinanceSync, *, countdown: float | None = None) -> None:
    pk, action = row.pk, row.action
    transaction.on_commit(lambda: ring_row(pk, action, countdown=countdown))


def complete(row: FinanceSync, result: dict[str, Any], outcome: str) -> str:
    from apps.inbox.services import issue_row_succeeded

    with transaction.atomic():
        FinanceSync.objects.filter(
            pk=row.pk, lease_token=row.lease_token, state=WorkState.RUNNING
        ).update(result=result)
        if not workrow.complete(row, effects=[{"outcome": outcome, **result}]):
            return "lost"
        issue_row_succeeded(row=row)
    return outcome


def retry(rows: Sequence[FinanceSync], error: TransientError) -> str:
    outcome = "retry"
    for row in rows:
        with transaction.atomic():
            outcome, delay = workrow.fail_transient(row, error=error)
            if outcome == "failed":
                report(row, error)
        if outcome == "retry" and delay <= float(settings.HUB_MAX_COUNTDOWN) / 10:
            workrow.mark_rung(FinanceSync, pks=[row.pk])
            ring_row(row.pk, row.action, countdown=delay)
    return outcome


def fail(row: FinanceSync, error: HubError) -> str:
    with transaction.atomic():
        failed = workrow.fail_permanent(row, error=error.as_dict())
        if failed:
            report(row, error)
            _mark_failed(row)
    return "failed" if failed else "lost"


def _mark_failed(row: FinanceSync) -> None:
    from .models import ChannelPayment, Payout

    if row.payment_id:
        ChannelPayment.objects.filter(pk=row.payment_id).update(state=ChannelPayment.State.FAILED)
    if row.payout_id:
        Payout.objects.filter(pk=row.payout_id).update(state=Payout.State.FAILED)


def _context(row: FinanceSync) -> tuple[Any, str, str]:
    """(order or None, what, amount) for the inbox."""
    if row.payout is not None:
        p = row.payout
        return (
            None,
            f"posting payout {p.external_id} ({p.account.code})",
            f"{p.amount} {p.currency}",
        )
    if row.payment is not None:
        pay = row.payment
        what = f"registering payment {pay.transaction_id} ({pay.gateway})"
        return pay.order, what, f"{pay.amount} {pay.currency}"
    if row.invoice is not None:
        inv = row.invoice
        return inv.order, f"invoice {inv.ref}", ""
    return row.order, "reading the captured payments", ""


def report(row: FinanceSync, error: HubError) -> None:
    from apps.inbox.services import issue_report

    order, what, amount = _context(row)
    channel = ""
    number = ""
    customer = ""
    if order is not None:
        channel = order.channel.code
        number = order.number or order.external_id
        customer = order.customer_email
    elif row.payout is not None:
        channel = row.payout.account.channel.code
    ctx = {**error.context, "action": row.action, "what": what}
    if amount:
        ctx["amount"] = amount
    wrapped = FinanceSyncFailed(f"{what}: {error.message}", **ctx)
    wrapped.category = error.category
    issue_report(
        error=wrapped,
        key=f"finance:{row.action}:{channel}",
        row=row,
        channel_code=channel,
        order_number=number,
        customer=customer,
        replay_task=TASK,
        replay_kwargs={"sync_id": row.pk},
    )


Runner = Callable[[FinanceSync], str]
BatchRunner = Callable[[list[FinanceSync]], str]
ACTIONS: dict[str, Runner] = {}
BATCHED: dict[str, BatchRunner] = {}


def _guard(rows: list[FinanceSync], fn: Callable[[], str]) -> str:
    try:
        return fn()
    except RateLimited as exc:
        return retry(rows, LockContention(exc.message, retry_after=exc.retry_after or 1.0))
    except TransientError as exc:
        return retry(rows, exc)
    except INFRASTRUCTURE_ERRORS as exc:
        return retry(rows, TransientError(f"{type(exc).__name__}: {exc}"))
    except HubError as exc:
        for row in rows:
            fail(row, exc)
        return "failed"
    except Exception as exc:
        logger.exception("finance %s crashed", rows[0].action if rows else "?")
        for row in rows:
            fail(row, UnclassifiedFinanceError(f"{type(exc).__name__}: {exc}"))
        return "failed"


def _related() -> tuple[str, ...]:
    return (
        "order__channel",
        "invoice__order__channel",
        "payment__order__channel",
        "payout__account__channel",
    )


def row_run(*, sync_id: int) -> str:
    """Run one row (a payout posting, a capture; for a batched action, its whole batch)."""
    action = FinanceSync.objects.filter(pk=sync_id).values_list("action", flat=True).first()
    if action is None:
        return "gone"
    if action in BATCHED:
        return batch_run(action=action, first=sync_id)
    claimed = workrow.claim_one(FinanceSync, pk=sync_id)
    if claimed is None:
        return "not-claimable"
    row = (
        FinanceSync.objects.select_related(*_related())
        .filter(pk=claimed.pk, lease_token=claimed.lease_token)
        .first()
    )
    if row is None:
        return "lost"
    with correlation(row.correlation_id or None):
        return _guard([row], lambda: ACTIONS[row.action](row))


def batch_size(action: str) -> int:
    return int(getattr(settings, "HUB_FINANCE_BATCH", {}).get(action, 200))


def batch_run(*, action: str, first: int | None = None) -> str:
    """Claim up to the batch size of due `action` rows and run them together; ring again while
    more are due."""
    rows = workrow.claim_due(
        FinanceSync,
        limit=batch_size(action),
        where=Q(action=action),
        select_related=_related(),
    )
    if not rows:
        return "empty"
    outcome = _guard(rows, lambda: BATCHED[action](rows))
    if len(rows) >= batch_size(action):
        ring_batch(action)
    return f"{outcome}:{len(rows)}"
