"""Writes of the order flow: intake, holds, the batched push to Odoo, cancellations.

Concurrency model (read this before changing anything here):

- (channel, external_id) is unique: concurrent deliveries of one order end on ONE row. Intake
  locks that row (SELECT ... FOR UPDATE; SQLite serialises writers anyway) for the whole
  upsert, so create/update/cancel of one order apply one after the other (per-entity order).
- An older version of an order (channel updated_at) never overwrites a newer one, so an update
  that arrives before its create works and the late create is ignored.
- Every state change is a conditional UPDATE on the expected state (and, for pushing rows, on
  the lease token): if the row count is 0 someone else moved the order and we do nothing.
- The push claims READY rows (SKIP LOCKED on PostgreSQL, one conditional UPDATE on SQLite),
  pushes them to Odoo with check-before-create on the deterministic reference in `origin`
  (`<channel code>:<external id>`), then binds the ids. A crash anywhere leaves the rows in
  `pushing` with an expiring lease; whoever reclaims them runs the same check-before-create and
  finds what Odoo already committed, so nothing is ever created twice.
- Celery is only the doorbell: a ready order enqueues `orders.push_due` on commit; a failed push
  stores a due time on the rows and rings again (short countdown); the periodic sweep re-rings
  anything due or whose lease expired.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.core.canonical import Order
from apps.core.context import get_correlation_id
from apps.core.errors import (
    ConfigurationError,
    DataConflict,
    MappingMissing,
    PermanentError,
    TransientError,
)
from apps.core.retry import backoff_delay
from apps.mappings.models import Binding, ValueMap
from apps.sales_channels.models import Channel

from . import metrics
from .acknowledge import order_ack_ring
from .codec import content_fingerprint, order_to_json, payload_hash
from .errors import OrderRejected, TransitionRefused
from .integrations import inbox_clear, inbox_report, order_inbox_report
from .models import (
    PRE_ODOO_STATES,
    TRANSITIONS,
    ChannelOrder,
    HoldReason,
    OrderLine,
    OrderState,
    OrderTransition,
)
from .validation import currency_check

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
PUSH_TASK = "orders.push_due"
ENQUEUE_KEY = "orders:push_due:rung"


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def odoo_reference(*, channel_code: str, external_id: str) -> str:
    """The deterministic reference the hub writes to sale.order.origin (docs/odoo.md)."""
    return f"{channel_code}:{external_id}"


# --- state machine -------------------------------------------------------------------------------


def order_transition(
    *,
    order: ChannelOrder,
    to: str,
    actor: str,
    reason: str = "",
    lease_token: str | None = None,
    **fields: Any,
) -> bool:
    """Move `order` from its current state to `to` if nobody moved it first.

    A conditional UPDATE on the state we read (and on the lease token for pushing rows): the
    row count says whether we won. The history row is written in the same transaction.
    Returns False when the order was moved by someone else; raises TransitionRefused when the
    state machine forbids the move.
    """
    frm = order.state
    if to not in TRANSITIONS[frm]:
        raise TransitionRefused(
            f"order {order.odoo_ref}: {frm} -> {to} is not allowed", order=order.odoo_ref
        )
    cond = Q(pk=order.pk, state=frm)
    if lease_token is not None:
        cond &= Q(lease_token=lease_token)
    now = timezone.now()
    with transaction.atomic():
        changed = ChannelOrder.objects.filter(cond).update(state=to, updated_at=now, **fields)
        if changed != 1:
            return False
        OrderTransition.objects.create(
            order=order, from_state=frm, to_state=to, actor=actor, reason=reason[:1000]
        )
    order.state = to
    for key, value in fields.items():
        if not hasattr(value, "resolve_expression"):
            setattr(order, key, value)
    return True


# --- intake --------------------------------------------------------------------------------------


def _version(order: Order) -> dt.datetime:
    return order.updated_at or order.created_at


def _is_cancelled(order: Order) -> bool:
    return order.cancelled_at is not None or order.source_status in ("cancelled", "trash")


def order_validate(*, order: Order) -> None:
    """Refuse what can never become a sale order, naming the field (nothing is written)."""
    if not order.external_id:
        raise OrderRejected("external_id is required", field="external_id")
    currency_check(order.currency, field_name="currency")
    if not order.lines:
        raise OrderRejected("an order needs at least one line", field="lines")
    for i, line in enumerate(order.lines):
        if line.quantity <= 0:
            raise OrderRejected(
                f"quantity must be positive, got {line.quantity}", field=f"lines[{i}].quantity"
            )
        if line.unit_price.amount < 0:
            raise OrderRejected("unit_price must not be negative", field=f"lines[{i}].unit_price")
        if not line.sku:
            raise OrderRejected("every line needs a SKU", field=f"lines[{i}].sku")


def order_ingest(*, order: Order, actor: str = "intake") -> ChannelOrder:
    """Upsert the channel order and decide what happens to it next. Safe to run any number of
    times, concurrently, and in any arrival order (see the module docstring)."""
    return order_upsert(order=order, actor=actor)[0]


def order_upsert(*, order: Order, actor: str = "intake") -> tuple[ChannelOrder, bool]:
    """order_ingest, also saying whether this call created the row (the unique constraint
    decides, so exactly one of any number of concurrent calls gets True)."""
    order_validate(order=order)
    try:
        channel = Channel.objects.get(code=order.channel)
    except Channel.DoesNotExist:
        raise ConfigurationError(f"unknown channel {order.channel!r}", field="channel") from None
    data = order_to_json(order)
    digest = payload_hash(data)
    version = _version(order)
    with transaction.atomic():
        row = _locked_row(channel=channel, external_id=order.external_id)
        if row is None:
            row = _row_create(channel=channel, order=order, data=data, digest=digest)
            if row is not None:
                metrics.ORDERS.labels(channel.code, "received").inc()
                OrderTransition.objects.create(
                    order=row,
                    from_state="",
                    to_state=OrderState.RECEIVED,
                    actor=actor,
                    reason=f"received (v {version.isoformat()})",
                )
                _evaluate(row=row, channel=channel, actor=actor)
                return row, True
            # Lost the insert race: the winner committed; continue as an update of its row.
            row = _locked_row(channel=channel, external_id=order.external_id)
            assert row is not None
        if version < row.source_version or (
            version == row.source_version and digest == row.payload_hash
        ):
            # A duplicate delivery, or an older version arriving late: nothing to do.
            logger.info("order %s: version %s not newer, ignored", row.odoo_ref, version)
            return row, False
        before = row.payload
        _row_update(row=row, order=order, data=data, digest=digest)
        if row.state in PRE_ODOO_STATES:
            _evaluate(row=row, channel=channel, actor=actor)
        elif _is_cancelled(order):
            _cancel_after_push(row=row, actor=actor)
        elif _content_changed(before, data):
            # A payment or fulfilment status update is not an edit; lines or addresses are.
            _edit_after_push(row=row, data=data)
        elif row.edit_payload is not None:
            # Edited back to what Odoo has: the pending edit is void.
            row.edit_payload = None
            row.save(update_fields=["edit_payload", "updated_at"])
    return row, False


def _content_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """An edit changes lines, quantities, prices, discounts, shipping or addresses; a payment
    or fulfilment status, tags, a note or timestamps do not (codec.content_fingerprint)."""
    return content_fingerprint(before) != content_fingerprint(after)


def _locked_row(*, channel: Channel, external_id: str) -> ChannelOrder | None:
    return (
        ChannelOrder.objects.select_for_update()
        .filter(channel=channel, external_id=external_id)
        .first()
    )


def _order_fields(order: Order, data: dict[str, Any], digest: str) -> dict[str, Any]:
    cust = order.customer
    return {
        "number": order.number,
        "po_number": order.po_number,
        "financial_status": order.financial_status,
        "source_status": order.source_status,
        "currency": order.currency,
        "total": order.totals.total.cents().amount,
        "customer_email": (cust.email if cust else "")
        or (order.billing_address.email if order.billing_address else ""),
        "customer_external_id": cust.external_id if cust else "",
        "payload": data,
        "payload_hash": digest,
        "source_version": _version(order),
        "channel_created_at": order.created_at,
        "cancel_wanted": _is_cancelled(order),
    }


def _lines_replace(row: ChannelOrder, order: Order) -> None:
    OrderLine.objects.filter(order=row).delete()
    OrderLine.objects.bulk_create(
        OrderLine(
            order=row,
            position=i,
            external_line_id=ln.external_line_id,
            sku=ln.sku,
            name=ln.name[:500],
            quantity=ln.quantity,
            unit_price=ln.unit_price.amount,
            discount=ln.discount_total.cents().amount,
            tax=ln.tax_total.cents().amount,
        )
        for i, ln in enumerate(order.lines)
    )


def _row_create(
    *, channel: Channel, order: Order, data: dict[str, Any], digest: str
) -> ChannelOrder | None:
    """Insert in a savepoint; None when a concurrent delivery inserted the same order first."""
    try:
        with transaction.atomic():
            row = ChannelOrder.objects.create(
                channel=channel,
                external_id=order.external_id,
                odoo_ref=odoo_reference(channel_code=channel.code, external_id=order.external_id),
                correlation_id=get_correlation_id() or "",
                **_order_fields(order, data, digest),
            )
            _lines_replace(row, order)
    except IntegrityError:
        return None
    row.channel = channel
    return row


def _row_update(*, row: ChannelOrder, order: Order, data: dict[str, Any], digest: str) -> None:
    fields = _order_fields(order, data, digest)
    if row.state not in PRE_ODOO_STATES:
        # The Odoo order exists: keep what it was built from (edits are handled separately).
        fields = {
            k: fields[k]
            for k in ("financial_status", "source_status", "source_version", "cancel_wanted")
        }
    for key, value in fields.items():
        setattr(row, key, value)
    row.save(update_fields=[*fields, "updated_at"])
    if row.state in PRE_ODOO_STATES:
        _lines_replace(row, order)


@dataclass
class _Verdict:
    state: str
    hold_reason: str = ""
    detail: str = ""
    missing_skus: list[str] = field(default_factory=list)


def _sku_bindings(channel: Channel, skus: Iterable[str]) -> dict[str, int]:
    """sku -> Odoo product id through the channel's product bindings (SKU or variant id)."""
    wanted = set(skus)
    rows = Binding.objects.filter(channel=channel, kind=Binding.Kind.PRODUCT).filter(
        Q(external_code__in=wanted) | Q(external_id__in=wanted)
    )
    out: dict[str, int] = {}
    for b in rows.order_by("id"):
        for key in (b.external_code, b.external_id):
            if key in wanted:
                out.setdefault(key, b.odoo_id)
    return out


def _judge(*, row: ChannelOrder, channel: Channel) -> _Verdict:
    if row.cancel_wanted:
        return _Verdict(OrderState.CANCELLED, detail="cancelled on the channel")
    lines = list(OrderLine.objects.filter(order=row))
    products = _sku_bindings(channel, (ln.sku for ln in lines))
    changed = [ln for ln in lines if ln.product_id != products.get(ln.sku)]
    for ln in changed:
        ln.product_id = products.get(ln.sku)
    if changed:
        OrderLine.objects.bulk_update(changed, ["product_id"])
    missing = sorted({ln.sku for ln in lines if ln.product_id is None})
    if missing:
        return _Verdict(
            OrderState.HELD, HoldReason.UNKNOWN_SKU, "unknown SKU: " + ", ".join(missing), missing
        )
    allowed = channel.import_financial_states or []
    if allowed and row.financial_status not in allowed:
        return _Verdict(
            OrderState.HELD,
            HoldReason.AWAITING_PAYMENT,
            f"financial status {row.financial_status!r} is not one of {', '.join(allowed)}",
        )
    if row.hold_reason in (HoldReason.RISK, HoldReason.CREDIT) and row.state == OrderState.HELD:
        # A person decides on risk and credit holds; a channel update does not release them.
        return _Verdict(OrderState.HELD, row.hold_reason, row.hold_detail)
    if not row.hold_approved_by:
        if channel.risk_hold_amount is not None and row.total >= channel.risk_hold_amount:
            return _Verdict(
                OrderState.HELD,
                HoldReason.RISK,
                f"total {row.total} {row.currency} is at or above {channel.risk_hold_amount}",
            )
        limit = channel.new_customer_hold_amount
        if limit is not None and row.total >= limit and not _customer_known(row):
            return _Verdict(
                OrderState.HELD,
                HoldReason.RISK,
                f"new customer, total {row.total} {row.currency} is at or above {limit}",
            )
    return _Verdict(OrderState.READY)


def _customer_known(row: ChannelOrder) -> bool:
    """A customer the hub already bound to an Odoo partner (so not a new customer)."""
    return Binding.objects.filter(
        channel_id=row.channel_id, kind=Binding.Kind.CUSTOMER, external_id=_customer_key(row)
    ).exists()


def _evaluate(*, row: ChannelOrder, channel: Channel, actor: str) -> None:
    """Decide held / ready / cancelled for a pre-Odoo order (inside the intake transaction)."""
    verdict = _judge(row=row, channel=channel)
    same = verdict.state == row.state and verdict.hold_reason == row.hold_reason
    if same and verdict.detail == row.hold_detail:
        return
    was_held = row.state == OrderState.HELD
    left_sku_hold = was_held and row.hold_reason == HoldReason.UNKNOWN_SKU
    moved = order_transition(
        order=row,
        to=verdict.state,
        actor=actor,
        reason=verdict.detail or "ready to push",
        hold_reason=verdict.hold_reason,
        hold_detail=verdict.detail[:500],
        next_attempt_at=None,
        # A failed order keeps its last error until it reaches Odoo: the bind then clears
        # its inbox item (see _push_batch).
    )
    if not moved:
        return
    code = channel.code
    if left_sku_hold and verdict.hold_reason != HoldReason.UNKNOWN_SKU:
        transaction.on_commit(lambda: inbox_clear(row=row))
    if verdict.state == OrderState.HELD:
        if not was_held:
            metrics.ORDERS.labels(code, "held").inc()
        for sku in verdict.missing_skus:
            error = MappingMissing(
                f"SKU {sku} of channel {code} is not mapped to an Odoo product",
                sku=sku,
                channel=code,
            )
            inbox_report(
                error=error,
                key=f"sku:{sku}@{code}",
                row=row,
                channel_code=code,
                order_number=row.number,
                sku=sku,
                replay_task="orders.release_for_sku",
                replay_kwargs={"channel_code": code, "sku": sku},
            )
    elif verdict.state == OrderState.READY:
        push_due_ring()
    elif verdict.state == OrderState.CANCELLED:
        metrics.ORDERS.labels(code, "cancelled").inc()


def orders_release_for_sku(*, channel_code: str, sku: str, actor: str = "mapping") -> int:
    """Re-judge every order held for `sku` on the channel (called when the SKU gets mapped).

    Orders still missing another SKU stay held (with the new detail); the rest become ready
    and ring the push. Returns how many orders became ready.
    """
    released = 0
    ids = list(
        ChannelOrder.objects.filter(
            channel__code=channel_code,
            state=OrderState.HELD,
            hold_reason=HoldReason.UNKNOWN_SKU,
            lines__sku=sku,
        )
        .values_list("id", flat=True)
        .distinct()
    )
    for order_id in ids:
        with transaction.atomic():
            row = (
                ChannelOrder.objects.select_for_update()
                .select_related("channel")
                .filter(pk=order_id, state=OrderState.HELD)
                .first()
            )
            if row is None:
                continue
            _evaluate(row=row, channel=row.channel, actor=actor)
            released += row.state == OrderState.READY
    logger.info(
        "sku %s@%s mapped: %d of %d held orders released", sku, channel_code, released, len(ids)
    )
    return released


def order_release_hold(*, order_id: int, actor: str, reason: str = "") -> ChannelOrder:
    """An Approver releases a credit or risk hold (admin action, permission orders.release_hold)."""
    with transaction.atomic():
        row = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order_id)
        if row.state != OrderState.HELD or row.hold_reason not in (
            HoldReason.CREDIT,
            HoldReason.RISK,
        ):
            raise TransitionRefused(
                f"order {row.odoo_ref} is not on a credit or risk hold", order=row.odoo_ref
            )
        order_transition(
            order=row,
            to=OrderState.READY,
            actor=actor,
            reason=reason or f"{row.hold_reason} hold released",
            hold_reason="",
            hold_detail="",
            hold_approved_by=actor[:200],
        )
        transaction.on_commit(lambda: inbox_clear(row=row))
        push_due_ring()
    return row


EDIT_TASK = "orders.push_edit"


def _edit_after_push(*, row: ChannelOrder, data: dict[str, Any]) -> None:
    """Keep the edit; before shipping orders.push_edit applies it in Odoo (apps.orders.edits),
    after shipping a person decides (inbox)."""
    row.edit_payload = data
    row.save(update_fields=["edit_payload", "updated_at"])
    if row.state in (OrderState.IN_ODOO, OrderState.PUSHING):
        # A pushing row is edited once the push bound it (see _push_batch).
        if row.state == OrderState.IN_ODOO:
            order_id = row.pk
            transaction.on_commit(lambda: _send(EDIT_TASK, order_id=order_id))
        return
    if row.state == OrderState.CANCEL_REQUESTED:
        return  # being cancelled: nothing to edit
    edit_after_shipment(row=row)


def edit_after_shipment(*, row: ChannelOrder, why: str = "") -> None:
    inbox_report(
        error=DataConflict(
            f"order {row.number or row.external_id} changed on the channel after it reached "
            f"Odoo ({row.odoo_name or row.state}); the change was not applied"
            + (f": {why}" if why else " because the order has shipped"),
            order=row.odoo_ref,
        ),
        key=f"order_edit_after_push:{row.odoo_ref}",
        row=row,
        channel_code=row.channel.code,
        order_number=row.number,
    )


def _cancel_after_push(*, row: ChannelOrder, actor: str) -> None:
    if row.state == OrderState.PUSHING:
        # The pusher holds the lease; it sees cancel_wanted when it binds the Odoo id.
        return
    if row.state in (OrderState.IN_ODOO, OrderState.PARTIALLY_SHIPPED):
        if order_transition(
            order=row, to=OrderState.CANCEL_REQUESTED, actor=actor, reason="cancelled on channel"
        ):
            order_id = row.pk
            transaction.on_commit(lambda: _send("orders.cancel", order_id=order_id))
        return
    if row.state == OrderState.SHIPPED:
        _cancel_after_shipment(row=row)


def _cancel_after_shipment(*, row: ChannelOrder) -> None:
    inbox_report(
        error=DataConflict(
            f"order {row.number or row.external_id} was cancelled on the channel after "
            f"shipment; create a return in Odoo ({row.odoo_name}) and refund on the channel",
            order=row.odoo_ref,
        ),
        key=f"cancel_after_shipment:{row.odoo_ref}",
        row=row,
        channel_code=row.channel.code,
        order_number=row.number,
    )


def order_cancel(*, order_id: int, actor: str = "orders.cancel") -> str:
    """Cancel a cancel_requested order in Odoo when nothing was delivered; else inbox."""
    from apps.odoo.gateway import get_gateway

    row = ChannelOrder.objects.select_related("channel").get(pk=order_id)
    if row.state != OrderState.CANCEL_REQUESTED:
        return row.state
    if row.channel.state == Channel.State.SHADOW or row.odoo_id is None:
        order_transition(order=row, to=OrderState.CANCELLED, actor=actor, reason="no Odoo order")
        return row.state
    gateway = get_gateway()
    # A split order is cancelled as a whole: all its sale orders, or none once one shipped.
    odoo_ids = [int(p["id"]) for p in row.odoo_parts or () if p.get("id")] or [row.odoo_id]
    infos = gateway.sale_orders_read(order_ids=odoo_ids)
    delivered = any(i.get("delivery_status") in ("partial", "full") for i in infos.values())
    if delivered:
        order_transition(
            order=row, to=OrderState.SHIPPED, actor=actor, reason="cancel after shipment"
        )
        _cancel_after_shipment(row=row)
        return row.state
    open_ids = [oid for oid, i in infos.items() if i["state"] != "cancel"]
    if open_ids:
        gateway.sale_orders_cancel(order_ids=open_ids)
    order_transition(order=row, to=OrderState.CANCELLED, actor=actor, reason="cancelled in Odoo")
    metrics.ORDERS.labels(row.channel.code, "cancelled").inc()
    return row.state


# --- push ----------------------------------------------------------------------------------------


def _send(task_name: str, countdown: float | None = None, **kwargs: Any) -> None:
    """Ring a task. A broker outage only delays the work: the rows are the truth and
    orders.push_sweep rings again, so the caller (an API request, a webhook) must not fail."""
    from celery import current_app
    from kombu.exceptions import OperationalError as BrokerError

    try:
        current_app.send_task(task_name, kwargs=kwargs, countdown=countdown)
    except BrokerError as exc:
        cache.delete(ENQUEUE_KEY)
        logger.warning("could not enqueue %s (%s); the sweep will ring it", task_name, exc)


def push_due_ring(*, countdown: float | None = None) -> None:
    """Enqueue `orders.push_due` after the current transaction commits.

    Coalesced: while a ring is pending (the key lives until a push_due starts), more ready
    orders add nothing; the push that starts claims them all. An idle hub therefore pushes a
    single order at once, and a busy one forms batches by itself.
    """

    def ring() -> None:
        if countdown is None and not cache.add(ENQUEUE_KEY, "1", timeout=10):
            return
        _send(PUSH_TASK, countdown=countdown)

    transaction.on_commit(ring)


def _claim(*, limit: int, token: str, now: dt.datetime) -> list[int]:
    lease = dt.timedelta(seconds=int(_setting("HUB_ORDER_PUSH_LEASE_SECONDS", 300)))
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


def _due_now(now: dt.datetime) -> Any:
    return ChannelOrder.objects.filter(
        Q(state=OrderState.READY) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    )


def order_push_due(*, limit: int | None = None) -> int:
    """Claim up to `limit` due orders and push them to Odoo together. Returns orders claimed."""
    cache.delete(ENQUEUE_KEY)  # from now on, new ready orders need a new ring
    limit = int(limit or _setting("HUB_ORDER_PUSH_BATCH", 100))
    token = uuid.uuid4().hex
    now = timezone.now()
    ids = _claim(limit=limit, token=token, now=now)
    if not ids:
        # SKIP LOCKED passes over a ready row that another transaction holds at this instant
        # (a duplicate delivery upserting it). That transaction may not ring again, so look
        # once more without skipping and ring shortly if a due row is still waiting.
        if _due_now(now).exists():
            push_due_ring(countdown=1)
        return 0
    if len(ids) >= limit:
        # A full batch: more may be waiting. Ring now, not after the push, so another worker
        # process claims the next batch while this one talks to Odoo (the claims never overlap).
        push_due_ring(countdown=0)
    rows = list(
        ChannelOrder.objects.filter(pk__in=ids, lease_token=token)
        .select_related("channel")
        .prefetch_related("lines")
        .order_by("id")
    )
    metrics.PUSH_BATCH_SIZE.observe(len(rows))
    logger.info("push batch %s: %d orders", token[:8], len(rows))
    shadow = [r for r in rows if r.channel.state == Channel.State.SHADOW]
    live = [r for r in rows if r.channel.state != Channel.State.SHADOW]
    if shadow:
        _push_shadow(rows=shadow, token=token)
    if live:
        _push_group(rows=live, token=token)
    if len(ids) < limit and _due_now(timezone.now()).exists():
        # Rows skipped while locked (see above) are still due: ring for them.
        push_due_ring(countdown=1)
    return len(ids)


def _push_group(*, rows: list[ChannelOrder], token: str) -> None:
    from apps.odoo.gateway import get_gateway

    # Rows failed on their own (a missing mapping) are out of the batch already.
    rows = [r for r in rows if r.state == OrderState.PUSHING]
    if not rows:
        return
    try:
        _push_batch(gateway=get_gateway(), rows=rows, token=token)
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
        _push_group(rows=rows[:half], token=token)
        _push_group(rows=rows[half:], token=token)


def _push_retry_later(
    *, rows: Sequence[ChannelOrder], token: str, error: Exception, long_wait: bool = False
) -> None:
    """Give the rows back as READY with a due time (stored in the DB, not in a countdown)."""
    base = float(_setting("HUB_ORDER_RETRY_BASE_SECONDS", 5.0))
    cap = float(_setting("HUB_ORDER_RETRY_MAX_SECONDS", 600.0))
    retry_after = getattr(error, "retry_after", None)
    attempts = max(r.attempts for r in rows)
    delay = (
        cap if long_wait else max(retry_after or 0.0, backoff_delay(attempts, base=base, cap=cap))
    )
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
    if delay <= float(_setting("HUB_MAX_COUNTDOWN", 300)):
        push_due_ring(countdown=delay)


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
        _evaluate(row=row, channel=row.channel, actor=actor)
    return row


# --- building the Odoo payloads ------------------------------------------------------------------


@dataclass
class _Context:
    """Per-batch lookups, each done once for the whole batch."""

    gateway: Any
    shipping_products: dict[tuple[int, str], int] = field(default_factory=dict)
    taxes: dict[int, dict[str, int]] = field(default_factory=dict)
    warehouses: dict[int, int | None] = field(default_factory=dict)
    order_warehouse: dict[int, int] = field(default_factory=dict)


_PRODUCT_CACHE: dict[tuple[str, str], int] = {}


def _product_by_sku(ctx: _Context, sku: str) -> int:
    key = (str(_setting("ODOO_URL", "")) + "/" + str(_setting("ODOO_DB", "")), sku)
    if key not in _PRODUCT_CACHE:
        found = ctx.gateway.products_ids(skus=[sku]).ids
        if sku not in found:
            raise MappingMissing(f"Odoo has no product with code {sku!r}", sku=sku)
        _PRODUCT_CACHE[key] = found[sku]
    return _PRODUCT_CACHE[key]


def _shipping_product(ctx: _Context, channel: Channel, ship: dict[str, Any]) -> int:
    """The delivery product for a shipping line: carrier value map (by carrier, code or title;
    the value is a product id or a product code), else HUB_ORDER_SHIPPING_SKU ("SHIP")."""
    values = tuple(v for v in (ship.get("carrier"), ship.get("code"), ship.get("title")) if v)
    cache_key = (channel.pk, "|".join(values))
    if cache_key not in ctx.shipping_products:
        maps = {
            vm.channel_value: vm.odoo_value
            for vm in ValueMap.objects.filter(
                channel=channel, kind=ValueMap.Kind.CARRIER, channel_value__in=values
            )
        }
        target = next((maps[v] for v in values if v in maps), None)
        if target is None:
            pid = _product_by_sku(ctx, str(_setting("HUB_ORDER_SHIPPING_SKU", "SHIP")))
        else:
            pid = int(target) if target.isdigit() else _product_by_sku(ctx, target)
        ctx.shipping_products[cache_key] = pid
    return ctx.shipping_products[cache_key]


def _tax_ids(ctx: _Context, channel: Channel, taxes: list[dict[str, str]]) -> list[int] | None:
    """Channel tax lines -> Odoo tax ids through the tax value map (keyed by rate or title).

    None when the channel maps no taxes at all: Odoo's product taxes apply, and the amount check
    after the push reports any difference.
    """
    if channel.pk not in ctx.taxes:
        ctx.taxes[channel.pk] = {
            vm.channel_value: int(vm.odoo_value)
            for vm in ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.TAX)
            if vm.odoo_value.isdigit()
        }
    table = ctx.taxes[channel.pk]
    if not table:
        return None
    out: list[int] = []
    for tax in taxes:
        rate, title = tax.get("rate") or "", tax.get("title") or ""
        keys = [str(Decimal(rate).normalize()) if rate else "", rate, title]
        found = next((table[k] for k in keys if k and k in table), None)
        if found is None:
            raise MappingMissing(
                f"no Odoo tax mapped for channel {channel.code} tax {title or rate}",
                channel=channel.code,
                tax=title or rate,
            )
        out.append(found)
    return out


def _warehouse(ctx: _Context, channel: Channel) -> int | None:
    if channel.pk not in ctx.warehouses:
        first = channel.warehouses.order_by("priority", "odoo_warehouse_id").first()
        ctx.warehouses[channel.pk] = first.odoo_warehouse_id if first else None
    return ctx.warehouses[channel.pk]


def _line_price(*, unit: Decimal, qty: int, subtotal: Decimal, discount: Decimal) -> dict[str, Any]:
    """Channel discount on a line -> Odoo discount % when it reproduces the net to the cent,
    else a reduced unit price (so the per-product margin stays right either way)."""
    if not discount:
        return {"price_unit": unit}
    net = (subtotal - discount).quantize(CENT, ROUND_HALF_UP)
    if subtotal:
        pct = (discount / subtotal * 100).quantize(CENT, ROUND_HALF_UP)
        gross = (unit * qty).quantize(CENT, ROUND_HALF_UP)
        if (gross * (1 - pct / 100)).quantize(CENT, ROUND_HALF_UP) == net:
            return {"price_unit": unit, "discount": pct}
    return {"price_unit": (net / qty).quantize(Decimal("0.000001"), ROUND_HALF_UP)}


def _allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split an order-level discount over the lines by weight, to the cent, summing exactly."""
    total = sum(weights, Decimal("0"))
    if not amount or not total:
        return [Decimal("0")] * len(weights)
    parts = [(amount * w / total).quantize(CENT, ROUND_HALF_UP) for w in weights]
    parts[-1] += amount - sum(parts, Decimal("0"))
    return parts


def _sale_order_vals(
    ctx: _Context,
    row: ChannelOrder,
    partner: _PartnerIds,
    *,
    data: dict[str, Any] | None = None,
    product_ids: list[int | None] | None = None,
) -> dict[str, Any]:
    """The Odoo order for `row` (or for an edited version `data` with its lines' products)."""
    data = row.payload if data is None else data
    channel = row.channel
    if product_ids is None:
        products = {ln.position: ln.product_id for ln in row.lines.all()}
    else:
        products = dict(enumerate(product_ids))
    lines_json = data["lines"]
    nets = [Decimal(ln["subtotal"]) - Decimal(ln["discount"]) for ln in lines_json]
    extra = _allocate(Decimal(data.get("order_discount") or "0"), nets)
    lines: list[dict[str, Any]] = []
    for i, ln in enumerate(lines_json):
        product_id = products.get(i)
        if product_id is None:
            raise MappingMissing(f"SKU {ln['sku']} is not mapped", sku=ln["sku"])
        vals: dict[str, Any] = {
            "product_id": product_id,
            "qty": ln["qty"],
            "name": ln["name"] or ln["sku"],
            **_line_price(
                unit=Decimal(ln["unit_price"]),
                qty=int(ln["qty"]),
                subtotal=Decimal(ln["subtotal"]),
                discount=Decimal(ln["discount"]) + extra[i],
            ),
        }
        taxes = _tax_ids(ctx, channel, ln["taxes"] if Decimal(ln["tax"]) else [])
        if taxes is not None:
            vals["tax_id"] = [[6, 0, taxes]]
        lines.append(vals)
    for ship in data.get("shipping", ()):
        price = Decimal(ship["price"]) - Decimal(ship["discount"])
        ship_vals: dict[str, Any] = {
            "product_id": _shipping_product(ctx, channel, ship),
            "qty": 1,
            "price_unit": price,
            "name": ship["title"] or "Shipping",
        }
        taxes = _tax_ids(ctx, channel, ship["taxes"])
        if taxes is not None:
            ship_vals["tax_id"] = [[6, 0, taxes]]
        lines.append(ship_vals)
    vals = {
        "ref": row.odoo_ref,
        "partner_id": partner.id,
        "client_order_ref": row.po_number or row.number,
        "note": data.get("note") or "",
        "warehouse_id": ctx.order_warehouse.get(row.pk) or _warehouse(ctx, channel),
        # Decimals: the gateway sends numbers as JSON floats itself.
        "lines": lines,
    }
    if partner.delivery_id:
        vals["partner_shipping_id"] = partner.delivery_id
    if partner.invoice_id:
        vals["partner_invoice_id"] = partner.invoice_id
    return vals


# --- customers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PartnerIds:
    id: int
    delivery_id: int | None = None
    invoice_id: int | None = None


def _customer_key(row: ChannelOrder) -> str:
    """The customer binding's external id: the channel's customer id, else the e-mail."""
    if row.customer_external_id:
        return row.customer_external_id
    return (
        f"email:{row.customer_email.strip().lower()}"
        if row.customer_email
        else (f"guest:{row.external_id}")
    )


def _partner_ref(row: ChannelOrder) -> str:
    return f"{row.channel.code}:customer:{_customer_key(row)}"


def _address_dict(addr: dict[str, Any] | None) -> dict[str, Any] | None:
    if not addr:
        return None
    name = " ".join(p for p in (addr.get("first_name"), addr.get("last_name")) if p)
    return {
        "name": name or addr.get("company") or "",
        "street": addr.get("line1") or "",
        "street2": addr.get("line2") or "",
        "city": addr.get("city") or "",
        "zip": addr.get("postal_code") or "",
        "phone": addr.get("phone") or "",
        "email": addr.get("email") or "",
        "country_code": addr.get("country_code") or "",
    }


def _partner_vals(row: ChannelOrder) -> dict[str, Any]:
    data = row.payload
    cust = data.get("customer") or {}
    bill = data.get("billing_address") or {}
    ship = data.get("shipping_address") or {}
    main = _address_dict(bill or ship or None) or {}
    person = " ".join(p for p in (cust.get("first_name"), cust.get("last_name")) if p)
    company = cust.get("company") or ""
    name = person or company or main.get("name") or row.customer_email or row.odoo_ref
    vals: dict[str, Any] = {
        "name": name,
        "ref": _partner_ref(row),
        "email": row.customer_email,
        "phone": cust.get("phone") or "",
        "is_company": bool(company and not person),
    }
    vals.update({k: v for k, v in main.items() if k not in ("name", "email") and v})
    delivery, invoice = _address_dict(ship or None), _address_dict(bill or None)
    # A B2B account's ship-to addresses are children with their own refs (_b2b_ship_to).
    if delivery and row.channel.kind != Channel.Kind.B2B_API:
        vals["delivery"] = delivery
    if invoice:
        vals["invoice"] = invoice
    return vals


def _resolve_partners(ctx: _Context, rows: list[ChannelOrder]) -> dict[int, _PartnerIds]:
    """Order id -> partner: binding, else Odoo by ref/e-mail (ONE search), else create.

    A created partner carries a deterministic ref, so a create whose response was lost is found
    by the next attempt's search instead of being created again.
    """
    out: dict[int, _PartnerIds] = {}
    pending: list[ChannelOrder] = []
    for row in rows:
        if row.odoo_partner_id:
            out[row.pk] = _PartnerIds(row.odoo_partner_id)
        else:
            pending.append(row)
    if not pending:
        return out
    keys = {(r.channel_id, _customer_key(r)) for r in pending}
    bindings = {
        (b.channel_id, b.external_id): b.odoo_id
        for b in Binding.objects.filter(
            kind=Binding.Kind.CUSTOMER,
            channel_id__in={k[0] for k in keys},
            external_id__in={k[1] for k in keys},
        )
    }
    unbound = [r for r in pending if (r.channel_id, _customer_key(r)) not in bindings]
    lookup = None
    if unbound:
        # B2B customers are Odoo companies known by their ref (e.g. "ACME").
        refs = [_partner_ref(r) for r in unbound] + [
            r.customer_external_id for r in unbound if r.customer_external_id
        ]
        emails = [r.customer_email for r in unbound if r.customer_email]
        lookup = ctx.gateway.partners_find(refs=refs, emails=emails)
    created: dict[str, _PartnerIds] = {}
    for row in pending:
        key = (row.channel_id, _customer_key(row))
        if key in bindings:
            out[row.pk] = _PartnerIds(bindings[key])
            continue
        assert lookup is not None
        pid = (
            lookup.by_ref.get(_partner_ref(row))
            or lookup.by_ref.get(row.customer_external_id)
            or lookup.by_email.get(row.customer_email.strip().lower())
        )
        if pid:
            out[row.pk] = _PartnerIds(pid)
        else:
            ref = _partner_ref(row)
            if ref not in created:
                ids = ctx.gateway.partner_create(partner=_partner_vals(row))
                created[ref] = _PartnerIds(ids.id, ids.delivery_id, ids.invoice_id)
            out[row.pk] = created[ref]
        if not row.payload.get("customer", {}) or row.payload["customer"].get("is_guest"):
            continue
        Binding.objects.get_or_create(
            channel_id=row.channel_id,
            kind=Binding.Kind.CUSTOMER,
            external_id=key[1],
            defaults={
                "external_code": row.customer_email,
                "odoo_model": "res.partner",
                "odoo_id": out[row.pk].id,
            },
        )
        bindings[key] = out[row.pk].id
    return out


def _b2b_ship_to(ctx: _Context, rows: list[ChannelOrder], partners: dict[int, _PartnerIds]) -> None:
    """A B2B order stays on the account's company partner; its ship-to becomes a delivery child.

    The child carries a deterministic ref (channel, company, address), found by ONE search for
    the batch before anything is created: the same store shipped to twice reuses its address,
    and a create whose response was lost is found on the retry. Credit and invoicing stay with
    the company; the PO number travels as the client reference.
    """
    wanted: dict[int, tuple[str, dict[str, Any], int]] = {}
    for row in rows:
        ids = partners.get(row.pk)
        if row.channel.kind != Channel.Kind.B2B_API or ids is None:
            continue
        if ids.delivery_id and ids.delivery_id != ids.id:
            continue  # a delivery address is already chosen (a binding's or a new partner's)
        address = _address_dict(row.payload.get("shipping_address") or None)
        if not address or not (address["street"] or address["city"]):
            continue
        key = json.dumps([ids.id, sorted(address.items())], sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        wanted[row.pk] = (f"{row.channel.code}:ship-to:{digest}", address, ids.id)
    if not wanted:
        return
    found = dict(ctx.gateway.partners_find(refs=sorted({w[0] for w in wanted.values()})).by_ref)
    for pk, (ref, address, parent) in wanted.items():
        if ref not in found:
            found[ref] = ctx.gateway.partner_address_create(
                parent_id=parent, address=address, kind="delivery", ref=ref
            )
        partners[pk] = _PartnerIds(parent, found[ref], partners[pk].invoice_id)


# --- the batch -----------------------------------------------------------------------------------


def _build(
    ctx: _Context, rows: list[ChannelOrder], token: str
) -> list[tuple[ChannelOrder, list[dict[str, Any]]]]:
    """Per order, its sale order(s): one, or one per warehouse of a split plan."""
    partners = _resolve_partners(ctx, rows)
    _b2b_ship_to(ctx, rows, partners)
    over = _credit_exceeded(ctx, rows, partners)
    ctx.order_warehouse = _choose_warehouses(ctx, [r for r in rows if r.pk not in over])
    built: list[tuple[ChannelOrder, list[dict[str, Any]]]] = []
    for row in rows:
        if row.pk in over:
            _hold_for_credit(row=row, token=token, detail=over[row.pk])
            continue
        try:
            vals = _sale_order_vals(ctx, row, partners[row.pk])
        except (MappingMissing, OrderRejected) as exc:
            _push_failed(row=row, token=token, error=exc)
            continue
        parts = row.odoo_parts or []
        if len(parts) > 1:
            built.append((row, _split_vals(vals, parts, len(row.payload["lines"]))))
        else:
            built.append((row, [vals]))
    return built


def _credit_exceeded(
    ctx: _Context, rows: list[ChannelOrder], partners: dict[int, _PartnerIds]
) -> dict[int, str]:
    """B2B orders whose partner would go over its Odoo credit limit -> why.

    Open receivables (Odoo's `credit`) plus the orders of this batch, in claim order, plus this
    order must stay within `credit_limit` when the partner uses a limit. ONE read per batch.
    Orders an Approver released are not checked again.
    """
    b2b = [r for r in rows if r.channel.kind == Channel.Kind.B2B_API and not r.hold_approved_by]
    if not b2b:
        return {}
    pids = sorted({partners[r.pk].id for r in b2b})
    info = ctx.gateway.partners_credit(partner_ids=pids)
    exposure: dict[int, Decimal] = {}
    out: dict[int, str] = {}
    for row in b2b:
        pid = partners[row.pk].id
        p = info.get(pid) or {}
        limit = Decimal(str(p.get("credit_limit") or 0))
        if not p.get("use_partner_credit_limit") or limit <= 0:
            continue
        base = exposure.get(pid, Decimal(str(p.get("credit") or 0)))
        if base + row.total > limit:
            out[row.pk] = (
                f"open receivables {base} + this order {row.total} {row.currency} exceed the "
                f"credit limit {limit}"
            )
        else:
            exposure[pid] = base + row.total
    return out


def _hold_for_credit(*, row: ChannelOrder, token: str, detail: str) -> None:
    if order_transition(
        order=row,
        to=OrderState.HELD,
        actor=PUSH_TASK,
        reason=detail,
        lease_token=token,
        lease_until=None,
        hold_reason=HoldReason.CREDIT,
        hold_detail=detail[:500],
    ):
        metrics.ORDERS.labels(row.channel.code, "held").inc()
        inbox_report(
            error=DataConflict(f"order {row.number}: {detail}; an Approver must release it"),
            key=f"credit:{row.odoo_ref}",
            row=row,
            channel_code=row.channel.code,
            order_number=row.number,
            customer=row.customer_email or row.customer_external_id,
        )


def _choose_warehouses(ctx: _Context, rows: list[ChannelOrder]) -> dict[int, int]:
    """Order id -> the first of its channel's warehouses (by priority) whose free stock fills
    the whole order, else the preferred one (Odoo backorders there).

    One stock read per warehouse for the whole batch, and the batch's own orders consume the
    free stock they are given, so two orders do not both count on the last units.
    Channels with a single warehouse need no read.
    """
    by_channel: dict[int, list[ChannelOrder]] = {}
    for row in rows:
        by_channel.setdefault(row.channel_id, []).append(row)
    out: dict[int, int] = {}
    for group in by_channel.values():
        whs = list(
            group[0]
            .channel.warehouses.order_by("priority", "odoo_warehouse_id")
            .values_list("odoo_warehouse_id", flat=True)
        )
        if len(whs) < 2:
            continue
        needs: dict[int, dict[int, int]] = {}
        for row in group:
            need = needs.setdefault(row.pk, {})
            for ln in row.lines.all():
                if ln.product_id:
                    need[ln.product_id] = need.get(ln.product_id, 0) + ln.quantity
        pids = sorted({p for need in needs.values() for p in need})
        levels = ctx.gateway.stock_levels(product_ids=pids, warehouse_ids=whs)
        free = {wh: {p: lvl.free_qty for p, lvl in levels.get(wh, {}).items()} for wh in whs}
        split = _split_allowed(group[0].channel)
        plans: list[ChannelOrder] = []
        for row in group:
            need = needs[row.pk]
            if row.odoo_parts:
                # Decided by an earlier attempt: keep it, the references must not change.
                alloc = {
                    int(part["warehouse_id"]): {int(p): q for p, q in part["qty"].items()}
                    for part in row.odoo_parts
                }
            else:
                chosen = next(
                    (wh for wh in whs if all(free[wh].get(p, 0.0) >= q for p, q in need.items())),
                    None,
                )
                if chosen is None and split:
                    alloc = _split_allocation(need, whs, free)
                else:
                    alloc = {chosen or whs[0]: dict(need)}
                if split:
                    row.odoo_parts = [
                        {
                            "ref": row.odoo_ref if len(alloc) == 1 else f"{row.odoo_ref}-W{wh}",
                            "warehouse_id": wh,
                            "qty": {str(p): q for p, q in qty.items()},
                        }
                        for wh, qty in alloc.items()
                    ]
                    plans.append(row)
            for wh, qty in alloc.items():
                for p, q in qty.items():
                    free[wh][p] = free[wh].get(p, 0.0) - q
            out[row.pk] = next(iter(alloc))
        if plans:
            # Stored before any Odoo write (see ChannelOrder.odoo_parts).
            ChannelOrder.objects.bulk_update(plans, ["odoo_parts"])
    return out


def _split_allowed(channel: Channel) -> bool:
    """Channels that may split an order over warehouses (HUB_ORDER_SPLIT_CHANNELS, codes)."""
    return channel.code in set(_setting("HUB_ORDER_SPLIT_CHANNELS", ()) or ())


def _split_allocation(
    need: dict[int, int], whs: list[int], free: dict[int, dict[int, float]]
) -> dict[int, dict[int, int]]:
    """Each product from the warehouses in priority order, as far as their free stock goes;
    what nobody has is backordered in the preferred warehouse. Warehouses in priority order."""
    alloc: dict[int, dict[int, int]] = {}
    for p, q in need.items():
        left = q
        for wh in whs:
            take = min(left, max(0, int(free[wh].get(p, 0.0))))
            if take:
                alloc.setdefault(wh, {})[p] = alloc.get(wh, {}).get(p, 0) + take
                left -= take
            if not left:
                break
        if left:
            alloc.setdefault(whs[0], {})[p] = alloc.get(whs[0], {}).get(p, 0) + left
    return {wh: alloc[wh] for wh in whs if wh in alloc}


def _split_vals(
    vals: dict[str, Any], parts: list[dict[str, Any]], n_goods: int
) -> list[dict[str, Any]]:
    """One sale order per planned warehouse: each goods line divided by the plan's quantities,
    the shipping lines on the first part."""
    remaining = [{int(p): int(q) for p, q in part["qty"].items()} for part in parts]
    per_part: list[list[dict[str, Any]]] = [[] for _ in parts]
    for line in vals["lines"][:n_goods]:
        left = int(line["qty"])
        for i, rem in enumerate(remaining):
            take = min(left, rem.get(line["product_id"], 0))
            if take:
                per_part[i].append({**line, "qty": take})
                rem[line["product_id"]] -= take
                left -= take
        if left:  # not in the plan (cannot happen for a plan made from these lines)
            per_part[0].append({**line, "qty": left})
    per_part[0] += vals["lines"][n_goods:]
    return [
        {**vals, "ref": part["ref"], "warehouse_id": part["warehouse_id"], "lines": lines}
        for part, lines in zip(parts, per_part, strict=True)
        if lines
    ]


class _RpcCounter:
    """The gateway's client, counting the RPCs one push batch makes (hub_order_push_rpcs_*)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = 0

    def call(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._client.call(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _push_batch(*, gateway: Any, rows: list[ChannelOrder], token: str) -> None:
    from apps.odoo.client import OdooClient
    from apps.odoo.gateway import OdooGateway

    counter = _RpcCounter(gateway.client)
    gateway = OdooGateway(cast(OdooClient, counter))
    ctx = _Context(gateway=gateway)
    built = _build(ctx, rows, token)
    if not built:
        return
    # One search for all references, one create for the missing ones, one confirm for all.
    ids = gateway.sale_orders_ensure(orders=[v for _, parts in built for v in parts], confirm=True)
    # ONE read for the whole batch: the names to bind and amount_total to reconcile.
    info = gateway.sale_orders_totals(order_ids=list(ids.values()))
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
        metrics.PUSH_RPCS_PER_ORDER.observe(counter.calls / len(bound))
    for row, amount in bound:
        code = row.channel.code
        metrics.PUSH_RPCS.labels(code).inc(counter.calls / len(bound))
        metrics.PUSH_ORDERS.labels(code).inc()
        metrics.ORDERS.labels(code, "pushed").inc()
        metrics.ORDER_TO_ODOO_SECONDS.labels(code).observe((now - row.received_at).total_seconds())
        _amount_check(row=row, odoo_total=amount)
    # An edit that arrived while we were pushing (intake could only keep it).
    for order_id in ChannelOrder.objects.filter(
        pk__in=[r.pk for r, _ in bound], edit_payload__isnull=False, cancel_wanted=False
    ).values_list("pk", flat=True):
        _send(EDIT_TASK, order_id=order_id)
    # A cancellation that arrived while we were pushing (intake could only flag it).
    for row in ChannelOrder.objects.filter(
        pk__in=[r.pk for r, _ in bound], cancel_wanted=True
    ).select_related("channel"):
        with transaction.atomic():
            _cancel_after_push(row=row, actor="channel")


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


def _push_shadow(*, rows: list[ChannelOrder], token: str) -> None:
    """Shadow channels: build and record the Odoo payload; nothing is written to Odoo.

    Reads still happen (product lookups), so the recorded payload is what a live push would
    send, apart from the partner of a customer Odoo does not know yet (recorded as None).
    """
    from apps.odoo.gateway import get_gateway

    ctx = _Context(gateway=get_gateway())
    for row in rows:
        bound = Binding.objects.filter(
            channel=row.channel, kind=Binding.Kind.CUSTOMER, external_id=_customer_key(row)
        ).first()
        partner = _PartnerIds(row.odoo_partner_id or (bound.odoo_id if bound else 0))
        try:
            result: dict[str, Any] = {"sale_order": _jsonable(_sale_order_vals(ctx, row, partner))}
            if not partner.id:
                result["sale_order"]["partner_id"] = None
                result["partner_to_create"] = _partner_vals(row)
        except (PermanentError, TransientError) as exc:
            result = {"error": str(exc)}
        with transaction.atomic():
            if order_transition(
                order=row,
                to=OrderState.IN_ODOO,
                actor=PUSH_TASK,
                reason="shadow mode: Odoo payload recorded, nothing sent",
                lease_token=token,
                shadow_payload=result,
                lease_until=None,
            ):
                # Records what the channel would be told; nothing is sent (acknowledge.py).
                order_ack_ring(row=row)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


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
        _send(PUSH_TASK)
    return due
