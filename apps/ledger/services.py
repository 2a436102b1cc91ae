"""Ledger services: record inbound events, process them once, sweep, replay, purge.

Rules (ARCHITECTURE section 2): the row is written in the caller's transaction (the one that
answers 2xx); Celery is only rung after commit; anything not rung (broker down, message lost,
worker killed) is found by the sweeper from the rows themselves.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, connections, models, router, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from apps.core import workrow
from apps.core.context import correlation, get_correlation_id, log_context
from apps.core.doorbell import cache_forget
from apps.core.errors import INFRASTRUCTURE_ERRORS, HubError, LockContention, TransientError
from apps.core.queues import sweep_may_ring
from apps.core.workrow import FINISHED, WorkRow, WorkState

from . import doorbell, metrics
from .models import InboundEvent
from .registry import (
    WorkKind,
    handler_for,
    handler_name,
    register_event_handler,
    register_work_kind,
    work_kind_for,
    work_kinds,
)

__all__ = [
    "event_process",
    "events_purge",
    "events_replay",
    "inbound_event_record",
    "register_event_handler",
    "register_work_kind",
    "work_ring",
    "work_sweep",
]

logger = logging.getLogger(__name__)

# Failures that say nothing about the event: the task's time running out, our own database or
# shared cache hiccuping (see event_process).
OWN_FAILURES: tuple[type[Exception], ...] = (SoftTimeLimitExceeded, *INFRASTRUCTURE_ERRORS)

PROCESS_TASK = "ledger.process_event"


class UnclassifiedError(HubError):
    """Wraps an exception no edge classified, so it reaches the inbox instead of vanishing."""

    category = "unknown"


# --- recording --------------------------------------------------------------------------------


def inbound_event_record(
    *,
    channel_code: str,
    topic: str,
    dedupe_key: str,
    body: bytes,
    headers: dict[str, Any],
    entity_key: str = "",
    external_ref: str = "",
) -> tuple[InboundEvent, bool]:
    """Store a delivery in the caller's transaction; returns (event, created).

    A redelivery (same channel and dedupe key) returns the original row with created=False.
    Processing is enqueued only once the caller's transaction commits, through the coalesced
    doorbell (``doorbell.py``: one drain message per burst); if the broker is down then, the
    failure is logged and the sweeper rings the row later.
    """
    now = timezone.now()
    event = InboundEvent(
        channel_code=channel_code,
        topic=topic,
        dedupe_key=dedupe_key,
        body=bytes(body),
        headers=dict(headers),
        payload_hash=hashlib.sha256(body).hexdigest(),
        external_ref=external_ref,
        entity_key=entity_key,
        received_at=now,
        created_at=now,
        next_attempt_at=now,
        # Not rung yet (rung_at NULL): the coalesced doorbell below makes a worker ring it; if
        # that message is lost, the sweeper finds the row by the same NULL.
        rung_at=None,
        correlation_id=get_correlation_id() or "",
        # Every remaining field given explicitly: Model.__init__ then skips its per-field
        # default lookups, a measurable share of this path's Python time.
        state=WorkState.PENDING,
        attempts=0,
        lease_until=None,
        lease_token="",
        last_error=None,
        history=[],
        effects=[],
        note="",
        updated_at=now,
    )
    event.pk = _insert_unless_duplicate(event)
    if event.pk is None:
        # The same (channel, dedupe key) is already recorded, or a concurrent delivery of the
        # same event committed first: that row is the original.
        original = InboundEvent.objects.filter(
            channel_code=channel_code, dedupe_key=dedupe_key
        ).first()
        if original is None:  # the other insert rolled back after ours waited on it
            raise IntegrityError(f"event {channel_code}:{dedupe_key} vanished while recorded")
        return original, False
    event._state.adding = False
    event._state.db = router.db_for_write(InboundEvent)
    transaction.on_commit(doorbell.ring_events)
    return event, True


def _insert_unless_duplicate(event: InboundEvent) -> int | None:
    """One statement: ``INSERT … ON CONFLICT (channel_code, dedupe_key) DO NOTHING RETURNING id``.

    The new row's id, or None when the dedupe key is already taken. This is the hottest path of
    the hub (every webhook and API post), so it is one round trip in autocommit instead of a
    read, a savepoint, an insert and a release: a duplicate costs no aborted statement, and
    the caller's transaction, if it has one, is never poisoned. PostgreSQL and SQLite (3.35+)
    both speak this dialect; a concurrent insert of the same key makes ours wait for it and
    then return nothing.
    """
    conn = connections[router.db_for_write(InboundEvent)]
    sql, fields = _insert_statement(conn.alias)
    conn.ensure_connection()
    if conn.vendor == "postgresql":
        # psycopg adapts str, int, bytes and aware datetimes itself; only JSON needs wrapping
        # (Django's per-field preparation costs a tenth of a millisecond on this path). A
        # server-side-binding cursor on Django's own connection (so the caller's transaction
        # applies) sends the body as binary bytea instead of an escaped hex literal, and
        # psycopg prepares the statement after a few uses.
        values = [
            conn.ops.adapt_json_value(getattr(event, f.attname), f.encoder)
            if isinstance(f, models.JSONField) and getattr(event, f.attname) is not None
            else getattr(event, f.attname)
            for f in fields
        ]
        with psycopg.Cursor(conn.connection) as raw:
            raw.execute(sql, values)
            row = raw.fetchone()
    else:
        values = [f.get_db_prep_save(f.pre_save(event, True), conn) for f in fields]
        with conn.cursor() as cursor:
            cursor.execute(sql, values)
            row = cursor.fetchone()
    return int(row[0]) if row else None


@functools.cache
def _insert_statement(alias: str) -> tuple[str, list[models.Field[Any, Any]]]:
    """The insert's SQL and its fields for database `alias`, built once per process.

    Identifiers come from the model's own metadata; every value is a parameter."""
    meta = InboundEvent._meta
    qn = connections[alias].ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    columns = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    conflict = f"{qn('channel_code')}, {qn('dedupe_key')}"
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) "  # noqa: S608
    sql += f"ON CONFLICT ({conflict}) DO NOTHING RETURNING {pk}"
    return sql, fields


# --- ringing ----------------------------------------------------------------------------------


def _kind(model: type[WorkRow]) -> WorkKind:
    kind = work_kind_for(model)
    if kind is None:
        raise LookupError(f"{model._meta.label} is not a registered work kind")
    return kind


def work_ring(*, model: type[WorkRow], pk: Any, countdown: float | None = None) -> bool:
    """Send the doorbell for row `pk`. Never raises for a broker outage: the row is durable and
    the sweeper rings it again, so the caller (often a request answering 2xx) must not fail."""
    kind = _kind(model)
    try:
        current_app.send_task(
            kind.task_name,
            kwargs={kind.kwarg: pk},
            countdown=countdown,
            # Fail fast: a request must not hang on a dead broker; the sweeper has our back.
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
        )
    except (BrokerError, OSError) as exc:
        metrics.ENQUEUE_FAILED.labels(kind.label).inc()
        logger.warning(
            "could not enqueue %s for %s %s (%s); the sweeper will re-ring it",
            kind.task_name,
            kind.label,
            pk,
            exc,
        )
        return False
    return True


def work_sweep(*, limit_per_kind: int = 500) -> dict[str, int]:
    """Re-ring rows that are due or whose lease expired, for every registered kind.

    Each rung row is stamped (rung_at) so a backlog the workers have not reached yet is not
    enqueued again on every sweep; after the grace period it is rung again, which covers a
    message lost after we rang.
    """
    grace = float(getattr(settings, "HUB_LEDGER_RING_GRACE_SECONDS", 30))
    rung: dict[str, int] = {}
    for kind in work_kinds():
        if not sweep_may_ring(kind.task_name):  # a backlog: its messages are still queued
            rung[kind.label] = 0
            continue
        ids = workrow.ring_candidates(
            kind.model,
            grace_seconds=grace,
            limit=limit_per_kind,
            unrung_grace_seconds=grace if kind.doorbell else 0.0,
        )
        if ids:
            workrow.mark_rung(kind.model, pks=ids)
            for pk in ids:
                work_ring(model=kind.model, pk=pk)
            metrics.RERINGS.labels(kind.label).inc(len(ids))
            logger.info("sweeper re-rang %d %s rows", len(ids), kind.label)
        metrics.OLDEST_PENDING.labels(kind.label).set(workrow.oldest_pending_age(kind.model))
        rung[kind.label] = len(ids)
    return rung


def events_drain(*, limit: int = 25) -> int:
    """Process the recorded events not rung yet, in this task (the doorbell's target).

    Runs in a worker, off the request path. Events are processed inline rather than fanned out
    as one message each: a task per event costs more in Celery bookkeeping than most handlers
    cost. A full slice first rings another drain, so a burst spreads over the worker processes.
    Rows are stamped before they run; if this worker dies mid-slice, the sweeper re-rings the
    unfinished ones after the grace period, as for any lost message. Returns how many it took.
    """
    cache_forget(doorbell.DRAIN_KEY)  # from now on, newly recorded events need a new ring
    ids = workrow.ring_candidates(InboundEvent, grace_seconds=0, limit=limit, unrung_only=True)
    if not ids:
        return 0
    workrow.mark_rung(InboundEvent, pks=ids)
    if len(ids) >= limit:  # more may be waiting: let another worker process take them
        doorbell.send_drain()
    for pk in ids:
        event_process(event_id=pk)
    return len(ids)


# --- processing -------------------------------------------------------------------------------


def _inbox_key(event: InboundEvent, error: HubError) -> str:
    ctx = error.context
    if ctx.get("key"):
        return str(ctx["key"])
    for field in ("sku", "customer", "order_number"):
        if ctx.get(field):
            return f"{field}:{ctx[field]}@{event.channel_code}"
    return f"topic:{event.topic}@{event.channel_code}"


def _report(event: InboundEvent, error: HubError) -> None:
    from apps.inbox.services import issue_report

    ctx = error.context
    issue_report(
        error=error,
        key=_inbox_key(event, error),
        row=event,
        channel_code=event.channel_code,
        order_number=str(ctx.get("order_number") or ""),
        sku=str(ctx.get("sku") or ""),
        customer=str(ctx.get("customer") or ""),
        replay_task=PROCESS_TASK,
        replay_kwargs={"event_id": event.pk},
    )


def _ring_next_sibling(event: InboundEvent) -> None:
    """Per-entity order: the next row of the same entity was blocked on this one; ring it now."""
    if not event.entity_key:
        return
    nxt = (
        InboundEvent.objects.filter(entity_key=event.entity_key, state=WorkState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if nxt is not None:
        work_ring(model=InboundEvent, pk=nxt)


def _effect(handler: Any, result: Any) -> list[dict[str, Any]]:
    """What the handler says it did (e.g. the order row or Odoo id), shown in the inbox."""
    if result is None or not isinstance(result, (str, int, float, bool, list, dict)):
        return []
    return [{"at": timezone.now().isoformat(), "handler": handler_name(handler), "result": result}]


def _fail(event: InboundEvent, error: HubError, kind: str) -> str:
    # The failed state and its inbox item become visible together or not at all: nobody may
    # ever see a failed row that the inbox does not list.
    with transaction.atomic():
        failed = workrow.fail_permanent(event, error=error.as_dict())
        if failed:
            _report(event, error)
    if failed:
        metrics.OUTCOMES.labels(kind, "failed").inc()
        _ring_next_sibling(event)
    return "failed"


def event_process(*, event_id: int) -> str:
    """Claim the event, run its handler, record the outcome. Returns what happened.

    Safe to call any number of times for the same id (duplicate messages, sweeper re-rings):
    only the caller whose conditional update claims the row runs the handler.
    """
    event = workrow.claim_one(InboundEvent, pk=event_id)
    if event is None:
        return "not-claimable"
    policy = _kind(InboundEvent)
    kind = policy.label
    limit = policy.max_attempts or workrow.max_attempts_default()
    if event.attempts >= limit:
        # Reclaimed after crash upon crash (each lost lease spends an attempt): a payload that
        # kills its worker must end in the inbox, not loop forever.
        metrics.OUTCOMES.labels(kind, "exhausted").inc()
        crashed = UnclassifiedError(
            f"worker lost mid-work {event.attempts} times (killed, or over the time limit)",
            exhausted=True,
        )
        return _fail(event, crashed, kind)
    handler = handler_for(event.topic)
    if handler is None:
        workrow.ignore(event, note=f"no handler registered for topic {event.topic!r}")
        metrics.OUTCOMES.labels(kind, "ignored").inc()
        _ring_next_sibling(event)
        return "ignored"
    with (
        correlation(event.correlation_id or None),
        log_context(channel=event.channel_code, event=event.pk, topic=event.topic),
    ):
        try:
            try:
                result = handler(event)
            except OWN_FAILURES as exc:
                # Our own database or shared cache (Redis) hiccuping, or the task's time running
                # out, says nothing about the event: classify it here, at the edge we own, as
                # transient.
                raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except TransientError as exc:
            # Exhausted: the failed state and its inbox item commit together (see _fail).
            with transaction.atomic():
                outcome, delay = workrow.fail_transient(
                    event,
                    error=exc,
                    max_attempts=limit,
                    base_seconds=policy.base_seconds,
                    cap_seconds=policy.cap_seconds,
                )
                if outcome == "failed":
                    _report(event, exc)
            reason = "contention" if isinstance(exc, LockContention) else "transient"
            metrics.RETRIES.labels(kind, reason).inc()
            if outcome == "failed":
                metrics.OUTCOMES.labels(kind, "exhausted").inc()
                _ring_next_sibling(event)
            elif outcome == "retry" and delay <= settings.HUB_MAX_COUNTDOWN / 10:
                # Short waits ride a Celery countdown (far below the visibility timeout); long
                # ones stay in the database and the sweeper rings them when due.
                workrow.mark_rung(InboundEvent, pks=[event.pk])
                work_ring(model=InboundEvent, pk=event.pk, countdown=delay)
            return outcome
        except HubError as exc:
            return _fail(event, exc, kind)
        except Exception as exc:
            # Not classified by any edge: never retried blindly, never lost silently.
            logger.exception("handler %s crashed on event %s", handler_name(handler), event.pk)
            wrapped = UnclassifiedError(f"{type(exc).__name__}: {exc}", topic=event.topic)
            return _fail(event, wrapped, kind)
    from apps.inbox.services import issue_row_succeeded

    # Success and the auto-resolution of its inbox items commit together.
    with transaction.atomic():
        if not workrow.complete(event, effects=_effect(handler, result)):
            return "lost"
        issue_row_succeeded(row=event)
    metrics.OUTCOMES.labels(kind, "done").inc()
    _ring_next_sibling(event)
    return "done"


# --- replay -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayLine:
    event_id: int
    text: str
    requeued: bool


def events_select(
    *,
    channel_code: str = "",
    topic: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    event_ids: Iterable[int] = (),
) -> list[InboundEvent]:
    qs = InboundEvent.objects.all().order_by("pk")
    ids = list(event_ids)
    if ids:
        qs = qs.filter(pk__in=ids)
    if channel_code:
        qs = qs.filter(channel_code=channel_code)
    if topic:
        qs = qs.filter(topic=topic)
    if since:
        qs = qs.filter(received_at__gte=since)
    if until:
        qs = qs.filter(received_at__lt=until)
    return list(qs)


def event_dry_run(*, event: InboundEvent) -> str:
    handler = handler_for(event.topic)
    if handler is None:
        return f"no handler for topic {event.topic!r}: would be ignored"
    dry = getattr(handler, "dry_run", None)
    if callable(dry):
        return str(dry(event))
    return f"would re-run handler {handler_name(handler)}"


def event_requeue(*, event_id: int) -> bool:
    """Make the event pending again and ring it, after commit. The handler path is the same
    idempotent one as the first run; a running event is left to its owner."""
    if not workrow.requeue(InboundEvent, pk=event_id):
        return False
    transaction.on_commit(lambda: work_ring(model=InboundEvent, pk=event_id))
    return True


def events_replay(
    *,
    channel_code: str = "",
    topic: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    event_ids: Iterable[int] = (),
    dry_run: bool = False,
) -> list[ReplayLine]:
    lines = []
    for event in events_select(
        channel_code=channel_code, topic=topic, since=since, until=until, event_ids=event_ids
    ):
        if dry_run:
            lines.append(ReplayLine(event.pk, event_dry_run(event=event), False))
            continue
        with transaction.atomic():
            ok = event_requeue(event_id=event.pk)
        text = "requeued" if ok else f"skipped: {event.state} (running events are left alone)"
        lines.append(ReplayLine(event.pk, text, ok))
    return lines


# --- retention --------------------------------------------------------------------------------


def events_purge(*, days: int | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Delete finished work older than the retention, in batches; keep rows of open issues."""
    from apps.inbox.selectors import open_issue_object_ids

    keep_days = days if days is not None else int(settings.HUB_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=keep_days)
    deleted: dict[str, int] = {}
    for kind in work_kinds():
        keep = open_issue_object_ids(model=kind.model)
        total = 0
        while True:
            ids = list(
                kind.model._default_manager.filter(state__in=FINISHED, updated_at__lt=cutoff)
                .exclude(pk__in=keep)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            # Short transactions: a purge never holds locks the workers need for long.
            with transaction.atomic():
                total += kind.model._default_manager.filter(pk__in=ids).delete()[0]
        deleted[kind.label] = total
    return deleted
