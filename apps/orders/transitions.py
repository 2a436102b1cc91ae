"""The order state machine: the deterministic Odoo reference and the conditional transition.

Every state change is a conditional UPDATE on the expected state (and, for pushing rows, on
the lease token): if the row count is 0 someone else moved the order and we do nothing. The
history row is written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .business_events import order_moved
from .errors import TransitionRefused
from .models import TRANSITIONS, ChannelOrder, OrderTransition


def odoo_reference(*, channel_code: str, external_id: str) -> str:
    """The deterministic reference the hub writes to sale.order.origin (docs/odoo.md)."""
    return f"{channel_code}:{external_id}"


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
    old_hold_reason = order.hold_reason
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
        # The business event commits with the move, or not at all (apps.events).
        order_moved(row=order, frm=frm, old_hold_reason=old_hold_reason, actor=actor, reason=reason)
    return True


def order_note(*, order: ChannelOrder, actor: str, reason: str) -> None:
    """A history entry that does not move the order (from = to = its current state)."""
    OrderTransition.objects.create(
        order=order, from_state=order.state, to_state=order.state, actor=actor, reason=reason[:1000]
    )


def order_shipment_recorded(
    *, order: ChannelOrder, fully_shipped: bool, actor: str, reason: str
) -> str:
    """A delivery of `order` left the warehouse: move it on and write the history entry.

    in_odoo → partially_shipped → shipped (cancel_requested → shipped once everything left:
    the goods are gone, the cancellation has nothing to cancel). A state that cannot move on
    (already shipped, a second partial delivery) gets a history entry only. The caller holds
    the order row locked (select_for_update) and passes the fresh row. Returns the new state.
    """
    moves = TRANSITIONS.get(order.state, frozenset())
    want = "shipped" if fully_shipped else "partially_shipped"
    if want in moves and order_transition(order=order, to=want, actor=actor, reason=reason):
        return order.state
    order_note(order=order, actor=actor, reason=reason)
    return order.state


def order_lease(*, order: ChannelOrder) -> str | None:
    """Lease an order that is already in Odoo for one follow-up (its cancellation, its edit),
    so that a duplicate message or the sweep never runs it twice at once. Returns the lease
    token, or None while another worker holds the order. The push leases only ready and pushing
    rows, so the two never meet; a worker that dies leaves a lease that simply expires."""
    token = uuid.uuid4().hex
    now = timezone.now()
    seconds = int(getattr(settings, "HUB_ORDER_PUSH_LEASE_SECONDS", 300))
    won = (
        ChannelOrder.objects.filter(pk=order.pk, state=order.state)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_token=token, lease_until=now + dt.timedelta(seconds=seconds))
    )
    return token if won else None


def order_lease_release(*, order_id: int, token: str) -> None:
    ChannelOrder.objects.filter(pk=order_id, lease_token=token).update(lease_until=None)


def followups_due(*, state: str, now: dt.datetime | None = None) -> Any:
    """Orders in `state` whose follow-up should have run by now: not leased, and untouched for
    the ring grace (a message lost with a broker or a killed worker). See orders_followup_sweep."""
    now = now or timezone.now()
    grace = dt.timedelta(seconds=int(getattr(settings, "HUB_LEDGER_RING_GRACE_SECONDS", 30)))
    return ChannelOrder.objects.filter(state=state, updated_at__lt=now - grace).filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    )
