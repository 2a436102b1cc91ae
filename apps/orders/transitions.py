"""The order state machine: the deterministic Odoo reference and the conditional transition.

Every state change is a conditional UPDATE on the expected state (and, for pushing rows, on
the lease token): if the row count is 0 someone else moved the order and we do nothing. The
history row is written in the same transaction.
"""

from __future__ import annotations

from typing import Any

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
