"""The batched push to Odoo: claim, build, ensure, bind, retry, shadow.

- The push claims READY rows (SKIP LOCKED on PostgreSQL, one conditional UPDATE on SQLite),
  pushes them to Odoo with check-before-create on the deterministic reference in `origin`
  (`<channel code>:<external id>`), then binds the ids. A crash anywhere leaves the rows in
  `pushing` with an expiring lease; whoever reclaims them runs the same check-before-create and
  finds what Odoo already committed, so nothing is ever created twice.
- A ready order enqueues `orders.push_due` on commit; a failed push stores a due time on the
  rows and rings again (short countdown); the periodic sweep re-rings anything due or whose
  lease expired.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.errors import (
    ConfigurationError,
    DataConflict,
    MappingMissing,
    PermanentError,
    TransientError,
)
from apps.core.retry import backoff_delay
from apps.mappings.models import Binding
from apps.odoo.errors import OdooBusy
from apps.sales_channels.models import Channel

from . import metrics
from .acknowledge import order_ack_ring
from .batch import BatchContext, PushClock
from .cancel import cancel_after_push
from .conf import setting
from .customers import OrderPartner, b2b_ship_to, customer_key, partner_vals, resolve_partners
from .doorbells import EDIT_TASK, ENQUEUE_KEY, PUSH_TASK, push_due_ring, ring_task
from .errors import OrderRejected
from .holds import credit_exceeded, evaluate, hold_for_credit
from .integrations import inbox_clear, inbox_report, order_inbox_report
from .models import ChannelOrder, OrderState, OrderTransition
from .odoo_values import CENT, jsonable, sale_order_vals
from .pacing import PushSlot, batch_limit, due_rows, linger, record_cost
from .transitions import order_transition
from .warehouses import choose_warehouses, split_vals

logger = logging.getLogger(__name__)


def _claim(*, limit: int, token: str, now: dt.datetime) -> list[int]:
    lease = dt.timedelta(seconds=int(setting("HUB_ORDER_PUSH_LEASE_SECONDS", 300)))
    due = Q(state=OrderState.READY) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    # A pushing row whose lease ran out belongs to a worker that died: reclaim it. The push is
    # check-before-create, so whatever that worker got into Odoo is found, not duplicated.
    expired = Q(state=OrderState.PUSHING, lease_until__lt=now)
    update = {
        "state": OrderState.PUSHING,
        "lease_token": token,
        "lease_until": now + lease,
        "attempts": F("attempts") + 1,
        "updated_at": now,
    }
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: concurrent claimers skip each other's rows instead of waiting.
            ids = list(
                ChannelOrder.objects.filter(due | expired)
                .order_by("id")
                .select_for_update(skip_locked=True)
                .values_list("id", flat=True)[:limit]
            )
            ChannelOrder.objects.filter(Q(pk__in=ids) & (due | expired)).update(**update)
        else:
            # SQLite: one UPDATE statement is atomic and writers are serialised.
            sub = ChannelOrder.objects.filter(due | expired).order_by("id").values("id")[:limit]
            ChannelOrder.objects.filter(Q(pk__in=sub) & (due | expired)).update(**update)
        rows = list(
            ChannelOrder.objects.filter(lease_token=token, state=OrderState.PUSHING).values_list(
                "id", flat=True
            )
        )
        OrderTransition.objects.bulk_create(
            OrderTransition(
                order_id=i,
                from_state=OrderState.READY,
                to_state=OrderState.PUSHING,
                actor=PUSH_TASK,
                reason=f"claimed in batch {token[:8]}",
            )
            for i in rows
        )
    return rows


def order_push_due(*, limit: int | None = None) -> int:
    """Claim up to `limit` due orders and push them to Odoo together. Returns orders claimed.

    The claim waits for one of the Odoo's push slots and may linger while a burst is still
    arriving (pacing.py), so a burst makes a few large batches, one at a time.
    """
    from apps.odoo.gateway import get_gateway

    clock = PushClock()
    gateway = get_gateway()
    slot = PushSlot(gateway.client, clock)
    if not slot.hold():
        # Every push slot of this Odoo stayed taken: the holders ring again for what is still
        # due when they finish; ring once more in case one of them died.
        logger.info("push: no free Odoo push slot after %.1fs; ringing again", slot.waited)
        push_due_ring(countdown=1)
        return 0
    try:
        return _push_due(gateway=gateway, limit=limit, clock=clock, slot=slot)
    finally:
        slot.release()


def _push_due(*, gateway: Any, limit: int | None, clock: PushClock, slot: PushSlot) -> int:
    cache.delete(ENQUEUE_KEY)  # from now on, new ready orders need a new ring
    limit = int(limit or batch_limit(gateway.client))
    if not slot.contended:
        # Odoo was idle: give a burst that is still arriving a moment to form a batch.
        linger(limit=limit, clock=clock)
    token = uuid.uuid4().hex
    now = timezone.now()
    with clock.step("claim"):
        ids = _claim(limit=limit, token=token, now=now)
    if not ids:
        # SKIP LOCKED passes over a ready row that another transaction holds at this instant
        # (a duplicate delivery upserting it). That transaction may not ring again, so look
        # once more without skipping and ring shortly if a due row is still waiting.
        if due_rows(now).exists():
            push_due_ring(countdown=1)
        return 0
    if len(ids) >= limit:
        # A full batch: more may be waiting. Ring now, not after the push: another worker
        # process claims the next batch as soon as a push slot is free (claims never overlap).
        push_due_ring(countdown=0)
    with clock.step("claim"):
        rows = list(
            ChannelOrder.objects.filter(pk__in=ids, lease_token=token)
            .select_related("channel")
            .prefetch_related("lines")
            .order_by("id")
        )
    metrics.PUSH_BATCH_SIZE.observe(len(rows))
    shadow = [r for r in rows if r.channel.state == Channel.State.SHADOW]
    legacy = [r for r in rows if r not in shadow and _legacy_owned(r)]
    live = [r for r in rows if r not in shadow and r not in legacy]
    with clock.step("shadow"):
        if shadow:
            _push_shadow(rows=shadow, token=token)
        if legacy:
            _push_shadow(rows=legacy, token=token, legacy=True)
    if live:
        _push_group(gateway=gateway, rows=live, token=token, clock=clock, slot=slot)
    slot.release()
    if len(ids) < limit and due_rows().exists():
        # Rows skipped while locked (see above), or arrived during the push: ring for them.
        push_due_ring(countdown=1)
    # Where the batch's time went (hub steps, each Odoo RPC): bench/odoo_push_real.py reads it.
    logger.info("%s", clock.line(token=token, orders=len(ids)))
    return len(ids)


def _push_group(
    *, gateway: Any, rows: list[ChannelOrder], token: str, clock: PushClock, slot: PushSlot
) -> None:
    # Rows failed on their own (a missing mapping) are out of the batch already.
    rows = [r for r in rows if r.state == OrderState.PUSHING]
    if not rows:
        return
    try:
        _push_batch(gateway=gateway, rows=rows, token=token, clock=clock, slot=slot)
    except TransientError as exc:
        _push_retry_later(rows=rows, token=token, error=exc)
    except ConfigurationError as exc:
        # Odoo or the mappings are misconfigured for everyone: splitting would not help.
        _push_retry_later(rows=rows, token=token, error=exc, long_wait=True)
        inbox_report(error=exc, key=f"odoo_config:{type(exc).__name__}", row=rows[0])
    except PermanentError as exc:
        if len(rows) == 1:
            _push_failed(row=rows[0], token=token, error=exc)
            return
        # One bad order must not block the others: bisect until the bad one is alone.
        half = len(rows) // 2
        for part in (rows[:half], rows[half:]):
            _push_group(gateway=gateway, rows=part, token=token, clock=clock, slot=slot)


def _push_retry_later(
    *, rows: Sequence[ChannelOrder], token: str, error: Exception, long_wait: bool = False
) -> None:
    """Give the rows back as READY with a due time (stored in the DB, not in a countdown)."""
    base = float(setting("HUB_ORDER_RETRY_BASE_SECONDS", 5.0))
    cap = float(setting("HUB_ORDER_RETRY_MAX_SECONDS", 600.0))
    retry_after = getattr(error, "retry_after", None)
    attempts = max(r.attempts for r in rows)
    delay = (
        cap if long_wait else max(retry_after or 0.0, backoff_delay(attempts, base=base, cap=cap))
    )
    if _odoo_may_still_be_working(error):
        # Odoo may still be running the call that timed out (a create not committed yet would
        # be invisible to the retry's search): give it the read timeout again first.
        delay = min(cap, max(delay, float(setting("ODOO_TIMEOUT_READ", 60.0))))
    due = timezone.now() + dt.timedelta(seconds=delay)
    for row in rows:
        order_transition(
            order=row,
            to=OrderState.READY,
            actor=PUSH_TASK,
            reason=f"Odoo push will be retried: {error}",
            lease_token=token,
            next_attempt_at=due,
            lease_until=None,
            last_error=str(error)[:4000],
        )
    logger.warning("push of %d orders deferred %.1fs: %s", len(rows), delay, error)
    # A short wait is a countdown; a long one is left to the periodic sweep (orders.push_sweep).
    if delay <= float(setting("HUB_MAX_COUNTDOWN", 300)):
        push_due_ring(countdown=delay)


def _odoo_may_still_be_working(error: Exception) -> bool:
    """A call that timed out waiting for Odoo's answer (the request reached Odoo)."""
    context = getattr(error, "context", None) or {}
    return bool(context.get("maybe_committed")) and "timeout" in str(error).lower()


def _push_failed(*, row: ChannelOrder, token: str, error: PermanentError) -> None:
    order_transition(
        order=row,
        to=OrderState.FAILED,
        actor=PUSH_TASK,
        reason=str(error)[:1000],
        lease_token=token,
        lease_until=None,
        last_error=str(error)[:4000],
    )
    metrics.ORDERS.labels(row.channel.code, "failed").inc()
    order_inbox_report(
        error=error,
        key=f"order_push:{row.odoo_ref}",
        row=row,
        replay_task="orders.retry",
        replay_kwargs={"order_id": row.pk},
    )


def order_retry(*, order_id: int, actor: str = "support") -> ChannelOrder:
    """Replay a failed order: judge it again (it may be held now) and push when ready."""
    with transaction.atomic():
        row = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order_id)
        if row.state != OrderState.FAILED:
            return row
        evaluate(row=row, channel=row.channel, actor=actor)
    return row


def _build(
    ctx: BatchContext, rows: list[ChannelOrder], token: str
) -> list[tuple[ChannelOrder, list[dict[str, Any]]]]:
    """Per order, its sale order(s): one, or one per warehouse of a split plan."""
    partners = resolve_partners(ctx, rows)
    b2b_ship_to(ctx, rows, partners)
    over = credit_exceeded(ctx, rows, partners)
    ctx.order_warehouse = choose_warehouses(ctx, [r for r in rows if r.pk not in over])
    built: list[tuple[ChannelOrder, list[dict[str, Any]]]] = []
    for row in rows:
        if row.pk in over:
            hold_for_credit(row=row, token=token, detail=over[row.pk])
            continue
        try:
            vals = sale_order_vals(ctx, row, partners[row.pk])
        except (MappingMissing, OrderRejected) as exc:
            _push_failed(row=row, token=token, error=exc)
            continue
        parts = row.odoo_parts or []
        if len(parts) > 1:
            built.append((row, split_vals(vals, parts, len(row.payload["lines"]))))
        else:
            built.append((row, [vals]))
    return built


class _RpcCounter:
    """The gateway's client, counting the RPCs one push batch makes (hub_order_push_rpcs_*)
    and timing each on the batch's clock."""

    def __init__(self, client: Any, clock: PushClock, slot: PushSlot) -> None:
        self._client = client
        self._clock = clock
        self._slot = slot
        self.calls = 0

    def call(self, model: str, method: str, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self._slot.extend()  # the push slot outlives every call of the batch
        began = time.perf_counter()
        try:
            return self._client.call(model, method, *args, **kwargs)
        finally:
            self._clock.rpc(f"{model}.{method}", time.perf_counter() - began)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _push_batch(
    *, gateway: Any, rows: list[ChannelOrder], token: str, clock: PushClock, slot: PushSlot
) -> None:
    from apps.odoo.client import OdooClient
    from apps.odoo.gateway import OdooGateway

    if not slot.hold():  # a bisected half after an earlier half let the slot go
        raise OdooBusy("no free Odoo push slot", retry_after=1.0)
    client = gateway.client
    counter = _RpcCounter(client, clock, slot)
    gateway = OdooGateway(cast(OdooClient, counter))
    ctx = BatchContext(gateway=gateway)
    with clock.step("build"):
        built = _build(ctx, rows, token)
    if not built:
        return
    with clock.step("ensure"):
        # One search for all references, one create for the missing ones, one confirm for all.
        ids = gateway.sale_orders_ensure(
            orders=[v for _, parts in built for v in parts], confirm=True
        )
        # ONE read for the whole batch: the names to bind and amount_total to reconcile.
        info = gateway.sale_orders_totals(order_ids=list(ids.values()))
    # Odoo is done with this batch: the next push sizes its batch on this one's cost, and may
    # start while we bind.
    record_cost(client, clock, len(built))
    slot.release()
    with clock.step("bind"):
        _bind(built=built, ids=ids, info=info, token=token, calls=counter.calls)


def _bind(
    *,
    built: list[tuple[ChannelOrder, list[dict[str, Any]]]],
    ids: dict[str, int],
    info: dict[int, dict[str, Any]],
    token: str,
    calls: int,
) -> None:
    """pushing -> in_odoo with the ids and names, then the amount check, edits, cancellations."""
    now = timezone.now()
    bound: list[tuple[ChannelOrder, Any]] = []
    # One transaction for the whole batch's bookkeeping (savepoints per order, one commit).
    with transaction.atomic():
        for row, parts in built:
            vals = parts[0]
            odoo_id = ids[vals["ref"]]
            summaries = [info.get(ids[v["ref"]], {}) for v in parts]
            summary = summaries[0]
            names = [str(s.get("name") or "") for s in summaries]
            totals = [s.get("amount_total") for s in summaries]
            amount = (
                None
                if any(t is None for t in totals)
                else sum((Decimal(str(t)) for t in totals), Decimal("0"))
            )
            extra: dict[str, Any] = {}
            if len(parts) > 1:
                plans = {p["ref"]: p for p in row.odoo_parts or []}
                extra["odoo_parts"] = [
                    {**plans.get(v["ref"], {}), "ref": v["ref"], "id": ids[v["ref"]], "name": n}
                    for v, n in zip(parts, names, strict=True)
                ]
            had_trouble = row.attempts > 1 or bool(row.last_error)
            moved = order_transition(
                order=row,
                to=OrderState.IN_ODOO,
                actor=PUSH_TASK,
                reason=f"sale order {', '.join(names) or odoo_id} confirmed"
                + (f" (split over {len(parts)} warehouses)" if len(parts) > 1 else ""),
                lease_token=token,
                odoo_id=odoo_id,
                odoo_name=", ".join(names)[:64] or (summary.get("name") or ""),
                odoo_partner_id=vals["partner_id"],
                **extra,
                odoo_amount_total=(
                    Decimal(str(amount)).quantize(CENT) if amount is not None else None
                ),
                pushed_at=now,
                lease_until=None,
                next_attempt_at=None,
                last_error="",
            )
            if not moved:
                # Our lease expired and someone else reclaimed the row; they bind the same id.
                continue
            if had_trouble:
                inbox_clear(row=row)  # an order that never failed has nothing to clear
            bound.append((row, amount))
            order_ack_ring(row=row)
    if bound:
        metrics.PUSH_RPCS_PER_ORDER.observe(calls / len(bound))
    for row, amount in bound:
        code = row.channel.code
        metrics.PUSH_RPCS.labels(code).inc(calls / len(bound))
        metrics.PUSH_ORDERS.labels(code).inc()
        metrics.ORDERS.labels(code, "pushed").inc()
        metrics.ORDER_TO_ODOO_SECONDS.labels(code).observe((now - row.received_at).total_seconds())
        _amount_check(row=row, odoo_total=amount)
    # An edit that arrived while we were pushing (intake could only keep it).
    for order_id in ChannelOrder.objects.filter(
        pk__in=[r.pk for r, _ in bound], edit_payload__isnull=False, cancel_wanted=False
    ).values_list("pk", flat=True):
        ring_task(EDIT_TASK, order_id=order_id)
    # A cancellation that arrived while we were pushing (intake could only flag it).
    for row in ChannelOrder.objects.filter(
        pk__in=[r.pk for r, _ in bound], cancel_wanted=True
    ).select_related("channel"):
        with transaction.atomic():
            cancel_after_push(row=row, actor="channel")


def _amount_check(*, row: ChannelOrder, odoo_total: Any) -> None:
    if odoo_total is None:
        return
    odoo_amount = Decimal(str(odoo_total)).quantize(CENT, ROUND_HALF_UP)
    if abs(odoo_amount - row.total) <= CENT:
        return
    inbox_report(
        error=DataConflict(
            f"Odoo {row.odoo_name} totals {odoo_amount} {row.currency} but the channel "
            f"charged {row.total} {row.currency} (difference {odoo_amount - row.total})",
            order=row.odoo_ref,
            odoo_amount_total=str(odoo_amount),
            channel_total=str(row.total),
        ),
        key=f"amount_mismatch:{row.odoo_ref}",
        row=row,
        channel_code=row.channel.code,
        order_number=row.number,
    )


def _legacy_owned(row: ChannelOrder) -> bool:
    """Created on the channel before its cutover watermark: the legacy connector's order
    (docs/migration.md). The hub records it like a shadow order and never pushes it."""
    watermark = row.channel.cutover_at
    return watermark is not None and row.channel_created_at < watermark and row.odoo_id is None


def _push_shadow(*, rows: list[ChannelOrder], token: str, legacy: bool = False) -> None:
    """Shadow channels: build and record the Odoo payload; nothing is written to Odoo.

    Reads still happen (product lookups), so the recorded payload is what a live push would
    send, apart from the partner of a customer Odoo does not know yet (recorded as None).
    `legacy`: orders of an active channel created before its cutover watermark; recorded the
    same way, and the channel is not told anything (the legacy connector owns them).
    """
    from apps.odoo.gateway import get_gateway

    ctx = BatchContext(gateway=get_gateway())
    for row in rows:
        bound = Binding.objects.filter(
            channel=row.channel, kind=Binding.Kind.CUSTOMER, external_id=customer_key(row)
        ).first()
        partner = OrderPartner(row.odoo_partner_id or (bound.odoo_id if bound else 0))
        try:
            result: dict[str, Any] = {"sale_order": jsonable(sale_order_vals(ctx, row, partner))}
            if not partner.id:
                result["sale_order"]["partner_id"] = None
                result["partner_to_create"] = partner_vals(row)
        except (PermanentError, TransientError) as exc:
            result = {"error": str(exc)}
        with transaction.atomic():
            if (
                order_transition(
                    order=row,
                    to=OrderState.IN_ODOO,
                    actor=PUSH_TASK,
                    reason=(
                        "created before the cutover watermark: left to the legacy connector, "
                        "Odoo payload recorded, nothing sent"
                        if legacy
                        else "shadow mode: Odoo payload recorded, nothing sent"
                    ),
                    lease_token=token,
                    shadow_payload=result,
                    lease_until=None,
                )
                and not legacy
            ):
                # Records what the channel would be told; nothing is sent (acknowledge.py).
                order_ack_ring(row=row)


def orders_push_sweep() -> int:
    """Re-ring the push when orders are due or leases expired (lost message, dead worker)."""
    now = timezone.now()
    due = ChannelOrder.objects.filter(
        (
            Q(state=OrderState.READY)
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        )
        | Q(state=OrderState.PUSHING, lease_until__lt=now)
    ).count()
    if due:
        ring_task(PUSH_TASK)
    return due
