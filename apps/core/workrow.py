"""Work rows: every pending unit of work is a database row with a state, a due time and a lease.

Celery only rings the doorbell; the row is the truth. A worker *claims* a row (conditional
update, see claims.py) and gets a lease: a deadline plus a random token. Every later write by
that worker (complete, fail) is a conditional update keyed on the token, so a worker whose lease
expired (it hung, or was killed and its row reclaimed) cannot overwrite the newer owner's result.

Per-entity order: a row with an `entity_key` is not claimable while an older unfinished row
(pending, running or held) with the same key exists. Different entities run in parallel.

Attempts count failed tries, plus crashes: reclaiming a row whose lease expired (its worker
died mid-work) spends an attempt, so a payload that kills workers cannot loop forever. Lock
contention never spends one: it says nothing about whether the work can succeed.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Case, Exists, F, OuterRef, Q, When
from django.utils import timezone

from .claims import claim_batch, claim_pk, new_token
from .errors import HubError, LockContention, TransientError
from .retry import backoff_delay

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 50


class WorkState(models.TextChoices):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    IGNORED = "ignored"
    # Waiting for a person (credit check, unknown SKU...): never claimed until released.
    HELD = "held"


ACTIVE = (WorkState.PENDING, WorkState.RUNNING)
# A held row is unfinished too: later work for the same entity waits behind it.
UNFINISHED = (WorkState.PENDING, WorkState.RUNNING, WorkState.HELD)
FINISHED = (WorkState.DONE, WorkState.FAILED, WorkState.IGNORED)


class WorkRow(models.Model):
    """Abstract mixin: the bookkeeping fields every unit of work carries."""

    state = models.CharField(
        max_length=16, choices=WorkState.choices, default=WorkState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # When the row was last enqueued (by on_commit, a retry countdown or the sweeper); the
    # sweeper leaves recently rung rows alone so a backlog is not enqueued again every sweep.
    rung_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    last_error = models.JSONField(null=True, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    entity_key = models.CharField(max_length=200, blank=True, default="", db_index=True)
    # Attempt timeline and effects already done (e.g. {"odoo": "sale.order,42"}), for the inbox.
    history = models.JSONField(default=list, blank=True)
    effects = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


W = TypeVar("W", bound=WorkRow)


def lease_seconds_default() -> int:
    return int(getattr(settings, "HUB_LEDGER_LEASE_SECONDS", 60))


def max_attempts_default() -> int:
    return int(getattr(settings, "HUB_LEDGER_MAX_ATTEMPTS", 10))


def claimable_q(model: type[WorkRow], now: datetime) -> Q:
    """Due pending rows, or running rows whose lease expired; never behind an older sibling."""
    due = Q(state=WorkState.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    expired = Q(state=WorkState.RUNNING, lease_until__lt=now)
    older_unfinished = model._default_manager.filter(
        entity_key=OuterRef("entity_key"), pk__lt=OuterRef("pk"), state__in=UNFINISHED
    )
    in_order = Q(entity_key="") | Q(~Exists(older_unfinished))
    return (due | expired) & in_order


def _claim_values(token: str, now: datetime, lease_seconds: int) -> dict[str, Any]:
    return {
        "state": WorkState.RUNNING,
        "lease_token": token,
        "lease_until": now + timedelta(seconds=lease_seconds),
        # A running row being reclaimed lost its worker mid-work: that crash is an attempt.
        "attempts": Case(
            When(state=WorkState.RUNNING, then=F("attempts") + 1),
            default=F("attempts"),
            output_field=models.PositiveIntegerField(),
        ),
        "updated_at": now,
    }


def claim_one(model: type[W], *, pk: Any, lease_seconds: int | None = None) -> W | None:
    """Claim row `pk` if it is claimable now. None if it is not (done, leased, not due...)."""
    now = timezone.now()
    token = new_token()
    values = _claim_values(token, now, lease_seconds or lease_seconds_default())
    if not claim_pk(model, pk=pk, condition=claimable_q(model, now), values=values):
        return None
    return model._default_manager.filter(pk=pk, lease_token=token).first()


def claim_due(
    model: type[W],
    *,
    limit: int,
    lease_seconds: int | None = None,
    where: Q | None = None,
    select_related: tuple[str, ...] = (),
) -> list[W]:
    """Claim up to `limit` claimable rows, oldest first (only rows matching `where`, if given)."""
    now = timezone.now()
    token = new_token()
    condition = claimable_q(model, now)
    return claim_batch(
        model,
        condition=condition if where is None else condition & where,
        select_related=select_related,
        values=_claim_values(token, now, lease_seconds or lease_seconds_default()),
        token_field="lease_token",
        token=token,
        limit=limit,
    )


def _owned(row: WorkRow) -> Q:
    # Every write after a claim is keyed on the lease token: a stale owner matches nothing.
    return Q(pk=row.pk, lease_token=row.lease_token, state=WorkState.RUNNING)


def _timeline(row: WorkRow, outcome: str, **extra: Any) -> list[dict[str, Any]]:
    entry = {"at": timezone.now().isoformat(), "outcome": outcome, "attempt": row.attempts}
    entry.update(extra)
    return [*list(row.history or []), entry][-HISTORY_LIMIT:]


def _write(row: WorkRow, **values: Any) -> bool:
    values.setdefault("updated_at", timezone.now())
    changed = type(row)._default_manager.filter(_owned(row)).update(**values)
    if changed != 1:
        logger.warning(
            "%s %s: lease %s lost before the result was written; the newer owner decides",
            type(row).__name__,
            row.pk,
            row.lease_token,
        )
        return False
    for key, value in values.items():
        setattr(row, key, value)
    return True


def extend_lease(row: WorkRow, *, lease_seconds: int | None = None) -> bool:
    """Heartbeat for long work: push the lease deadline; False if the lease was already lost."""
    until = timezone.now() + timedelta(seconds=lease_seconds or lease_seconds_default())
    return _write(row, lease_until=until)


def complete(row: WorkRow, *, effects: list[Any] | None = None) -> bool:
    """Mark done. False if our lease was lost (a newer owner will write the result)."""
    return _write(
        row,
        state=WorkState.DONE,
        lease_until=None,
        next_attempt_at=None,
        effects=[*list(row.effects or []), *(effects or [])],
        history=_timeline(row, "done"),
    )


def ignore(row: WorkRow, *, note: str) -> bool:
    return _write(
        row,
        state=WorkState.IGNORED,
        lease_until=None,
        next_attempt_at=None,
        note=note[:500],
        history=_timeline(row, "ignored", note=note[:200]),
    )


def hold(row: WorkRow, *, note: str) -> bool:
    """Park the row for a person (released with `requeue`); later work of its entity waits."""
    return _write(
        row,
        state=WorkState.HELD,
        lease_until=None,
        next_attempt_at=None,
        note=note[:500],
        history=_timeline(row, "held", note=note[:200]),
    )


def fail_permanent(row: WorkRow, *, error: dict[str, Any]) -> bool:
    """Retrying cannot help: the row is failed and waits for a person (the inbox)."""
    return _write(
        row,
        state=WorkState.FAILED,
        lease_until=None,
        next_attempt_at=None,
        last_error=error,
        history=_timeline(row, "failed", error=str(error.get("message", ""))[:200]),
    )


def fail_transient(
    row: WorkRow,
    *,
    error: HubError,
    max_attempts: int | None = None,
    base_seconds: float | None = None,
    cap_seconds: float | None = None,
) -> tuple[str, float]:
    """Schedule a retry in the database. Returns (outcome, delay seconds).

    outcome: "retry" (pending again, due after the delay), "failed" (attempts exhausted) or
    "lost" (our lease expired and someone else owns the row now).
    """
    limit = max_attempts or max_attempts_default()
    base = base_seconds if base_seconds is not None else settings.HUB_RETRY_BASE_SECONDS
    cap = (
        cap_seconds
        if cap_seconds is not None
        else float(getattr(settings, "HUB_LEDGER_BACKOFF_CAP_SECONDS", 3600))
    )
    payload = error.as_dict()
    if isinstance(error, LockContention):
        # Contention: retry soon, and the attempt is not spent.
        attempts = row.attempts
        delay = error.retry_after if error.retry_after is not None else random.uniform(0.2, 2.0)
    else:
        attempts = row.attempts + 1
        if attempts >= limit:
            ok = _write(
                row,
                state=WorkState.FAILED,
                attempts=attempts,
                lease_until=None,
                next_attempt_at=None,
                last_error={**payload, "exhausted": True},
                history=_timeline(row, "exhausted", error=error.message[:200]),
            )
            return ("failed" if ok else "lost"), 0.0
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        delay = (
            retry_after
            if retry_after is not None
            else backoff_delay(attempts - 1, base=base, cap=cap)
        )
    now = timezone.now()
    ok = _write(
        row,
        state=WorkState.PENDING,
        attempts=attempts,
        lease_until=None,
        lease_token="",
        next_attempt_at=now + timedelta(seconds=delay),
        rung_at=None,
        last_error=payload,
        history=_timeline(row, "retry", error=error.message[:200], delay=round(delay, 3)),
    )
    return ("retry" if ok else "lost"), delay


def requeue(model: type[WorkRow], *, pk: Any, reset_attempts: bool = True) -> bool:
    """Make a finished row pending again (retry from the inbox, replay). Never steals a lease.

    Running rows are left alone: their owner is working on them and the retry would race it.
    """
    now = timezone.now()
    values: dict[str, Any] = {
        "state": WorkState.PENDING,
        "next_attempt_at": now,
        "rung_at": now,
        "lease_until": None,
        "lease_token": "",
        "updated_at": now,
    }
    if reset_attempts:
        values["attempts"] = 0
    # Held rows are released this way too (the hold is over: run it).
    cond = Q(state__in=(*FINISHED, WorkState.PENDING, WorkState.HELD))
    return claim_pk(model, pk=pk, condition=cond, values=values)


def mark_rung(model: type[WorkRow], *, pks: list[Any]) -> None:
    model._default_manager.filter(pk__in=pks).update(rung_at=timezone.now())


def ring_candidates(
    model: type[W],
    *,
    grace_seconds: float,
    limit: int,
    unrung_grace_seconds: float = 0.0,
    unrung_only: bool = False,
) -> list[Any]:
    """Row ids the sweeper should enqueue: due or lease-expired, and not rung recently.

    A row never rung (rung_at NULL) qualifies once it is `unrung_grace_seconds` old: kinds
    whose rows are rung by a coalesced doorbell give it that long before the sweeper steps in.
    `unrung_only` selects just the never-rung rows (the doorbell's drain).
    """
    now = timezone.now()
    if unrung_only:
        quiet = Q(rung_at__isnull=True)
    else:
        quiet = Q(
            rung_at__isnull=True, created_at__lt=now - timedelta(seconds=unrung_grace_seconds)
        ) | Q(rung_at__lt=now - timedelta(seconds=grace_seconds))
    qs = model._default_manager.filter(claimable_q(model, now), quiet).order_by("pk")
    return list(qs.values_list("pk", flat=True)[:limit])


def oldest_pending_age(model: type[WorkRow]) -> float:
    row = (
        model._default_manager.filter(state__in=ACTIVE)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return max(0.0, (timezone.now() - row).total_seconds()) if row else 0.0
