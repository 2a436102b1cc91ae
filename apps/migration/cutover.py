"""Cutover and rollback of a channel at a watermark (`manage.py channel cutover`).

Cutover (shadow → active, `Channel.cutover_at` = the watermark):

- orders created on the channel at or after the watermark are the hub's. One recorded in
  shadow already is taken over: bound to the legacy connector's sale order if the legacy
  connector made it anyway (adopt.py, no duplicate), else queued for the push (in_odoo → ready,
  its shadow payload kept as history, its acknowledgement still to send);
- orders created before it stay with the legacy connector: the push records them like shadow
  orders and never sends them (apps.orders.push), until they are adopted.

Rollback (active → shadow, the watermark cleared): the hub stops pushing at once (new and
waiting orders are recorded in shadow again). Nothing the hub pushed is deleted: the report
lists every Odoo order the hub created for the channel, so the legacy connector can skip them.

Both print, and store in `Cutover.report`, the orders in flight around the watermark (created
from `window` before it, not shipped or cancelled) and who owns each; a dry run prints the
same and changes nothing. Both moves are audited (`channel.cutover`, `channel.rollback`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.audit import audit_record
from apps.core.errors import PermanentError
from apps.orders.doorbells import push_due_ring
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.models import OrderTransition as History
from apps.sales_channels.models import Channel

from .adopt import order_adopt
from .models import Cutover
from .rules import MatchRule

ACTOR = "channel cutover"
DEFAULT_WINDOW = dt.timedelta(hours=24)
FINAL = (OrderState.SHIPPED, OrderState.CANCELLED)


def _in_flight(channel: Channel, since: dt.datetime) -> list[ChannelOrder]:
    return list(
        ChannelOrder.objects.filter(channel=channel, channel_created_at__gte=since)
        .exclude(state__in=FINAL)
        .select_related("channel")
        .order_by("channel_created_at", "id")
    )


def _shadowed(row: ChannelOrder) -> bool:
    return row.state == OrderState.IN_ODOO and row.odoo_id is None


def _legacy_orders(channel: Channel, rows: list[ChannelOrder]) -> dict[int, dict[str, Any]]:
    """Hub order id -> the legacy connector's open sale order for it (one search, no details)."""
    from apps.odoo.gateway import get_gateway

    rule = MatchRule.of(channel)
    keys = {r.pk: rule.key(r) for r in rows if r.odoo_id is None}
    keys = {pk: k for pk, k in keys.items() if k}
    if not keys:
        return {}
    found = get_gateway().legacy_orders_find(
        field=rule.field, values=list(keys.values()), domain=rule.domain, details=False
    )
    out: dict[int, dict[str, Any]] = {}
    for pk, key in keys.items():
        live = [o for o in found.get(key, ()) if o["state"] != "cancel"]
        if live:
            out[pk] = live[0]
    return out


def _line(row: ChannelOrder, owner: str, action: str) -> dict[str, Any]:
    return {
        "reference": row.odoo_ref,
        "number": row.number or row.external_id,
        "created_at": row.channel_created_at.isoformat(),
        "state": row.state,
        "owner": owner,
        "action": action,
    }


def cutover_plan(
    *, channel: Channel, at: dt.datetime, window: dt.timedelta = DEFAULT_WINDOW
) -> list[dict[str, Any]]:
    """The orders in flight around watermark `at`, who will own each, and what happens to it."""
    rows = _in_flight(channel, at - window)
    legacy = _legacy_orders(channel, rows)
    plan: list[dict[str, Any]] = []
    for row in rows:
        found = legacy.get(row.pk)
        if row.channel_created_at < at:
            if row.odoo_id:
                action = f"adopted: the hub's already (Odoo {row.odoo_name})"
                plan.append(_line(row, "hub", action))
                continue
            where = f"in Odoo as {found['name']}" if found else "not in Odoo yet"
            plan.append(_line(row, "legacy", f"left to the legacy connector ({where})"))
        elif row.odoo_id:
            plan.append(_line(row, "hub", f"already in Odoo as {row.odoo_name}"))
        elif found is not None and row.state != OrderState.PUSHING:
            plan.append(
                _line(row, "hub", f"adopt {found['name']}: the legacy connector made it already")
            )
        elif _shadowed(row):
            plan.append(_line(row, "hub", "push: recorded in shadow, queued for the push"))
        else:
            plan.append(_line(row, "hub", f"push when ready ({row.state})"))
    return plan


def channel_cutover(
    *,
    channel: Channel,
    at: dt.datetime,
    dry_run: bool = False,
    window: dt.timedelta = DEFAULT_WINDOW,
    actor: str = ACTOR,
    reason: str = "",
) -> dict[str, Any]:
    """Switch a shadow channel to active at watermark `at` (see the module docstring)."""
    if channel.state != Channel.State.SHADOW:
        raise PermanentError(
            f"channel {channel.code} is {channel.state}, not in shadow: only a shadow channel is "
            "cut over (a rollback puts it back in shadow)",
            channel=channel.code,
        )
    plan = cutover_plan(channel=channel, at=at, window=window)
    result: dict[str, Any] = {"channel": channel.code, "watermark": at.isoformat(), "orders": plan}
    if dry_run:
        return {**result, "dry_run": True}
    rule = MatchRule.of(channel)
    hub_rows = [
        r
        for r in _in_flight(channel, at)
        if r.channel_created_at >= at and _shadowed(r) and r.odoo_id is None
    ]
    legacy = _legacy_orders(channel, hub_rows)
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        if locked.state != Channel.State.SHADOW:
            raise PermanentError(
                f"channel {channel.code} changed state meanwhile", channel=channel.code
            )
        before = {"state": locked.state, "cutover_at": None}
        locked.state, locked.cutover_at = Channel.State.ACTIVE, at
        locked.save(update_fields=["state", "cutover_at", "updated_at"])
        adopted, queued = [], []
        for row in hub_rows:
            found = legacy.get(row.pk)
            if found is not None:
                outcome, _ = order_adopt(row=row, odoo=found, rule=rule, actor=actor)
                if outcome == "adopted":
                    adopted.append(row.odoo_ref)
                continue
            if _requeue(row, actor):
                queued.append(row.odoo_ref)
        result.update(adopted=adopted, queued=queued)
        audit_record(
            user=None,
            action="channel.cutover",
            obj=locked,
            before=before,
            after={"state": locked.state, "cutover_at": at.isoformat()},
            reason=reason or f"manage.py channel cutover --at {at.isoformat()}",
        )
        Cutover.objects.create(
            channel=locked,
            action=Cutover.Action.CUTOVER,
            watermark=at,
            actor=actor[:200],
            reason=reason[:1000],
            report=result,
        )
        if queued:
            push_due_ring()
    channel.state, channel.cutover_at = Channel.State.ACTIVE, at
    return result


def _requeue(row: ChannelOrder, actor: str) -> bool:
    """A shadow-recorded order after the watermark: the hub's now, so back to the push."""
    moved = ChannelOrder.objects.filter(
        pk=row.pk, state=OrderState.IN_ODOO, odoo_id__isnull=True
    ).update(
        state=OrderState.READY,
        attempts=0,
        next_attempt_at=None,
        lease_until=None,
        lease_token="",
        ack_state="",
        ack_at=None,
        ack_sent=None,
        updated_at=timezone.now(),
    )
    if moved:
        History.objects.create(
            order=row,
            from_state=OrderState.IN_ODOO,
            to_state=OrderState.READY,
            actor=actor[:200],
            reason="cutover: created after the watermark, the hub's order; queued for the push "
            "(was recorded in shadow)",
        )
    return bool(moved)


def hub_created(channel: Channel) -> list[dict[str, Any]]:
    """Every Odoo sale order the hub created for the channel (not the adopted ones)."""
    rows = ChannelOrder.objects.filter(
        channel=channel, pushed_at__isnull=False, odoo_id__isnull=False
    ).order_by("pushed_at", "id")
    out = []
    for row in rows:
        parts = [p for p in row.odoo_parts or () if isinstance(p, dict) and p.get("id")]
        ids = [int(p["id"]) for p in parts] or [int(row.odoo_id or 0)]
        out.append(
            {
                "reference": row.odoo_ref,
                "number": row.number or row.external_id,
                "odoo_ids": ids,
                "odoo_name": row.odoo_name,
                "pushed_at": row.pushed_at.isoformat() if row.pushed_at else None,
                "state": row.state,
            }
        )
    return out


def channel_rollback(
    *,
    channel: Channel,
    dry_run: bool = False,
    window: dt.timedelta = DEFAULT_WINDOW,
    actor: str = ACTOR,
    reason: str = "",
) -> dict[str, Any]:
    """Put a cut-over channel back in shadow; list what is in flight and what the hub created."""
    if channel.state != Channel.State.ACTIVE or channel.cutover_at is None:
        raise PermanentError(
            f"channel {channel.code} was not cut over (state {channel.state}, no watermark): "
            "nothing to roll back",
            channel=channel.code,
        )
    watermark = channel.cutover_at
    plan = []
    for row in _in_flight(channel, watermark - window):
        if row.state == OrderState.PUSHING:
            action = "being pushed now: may still reach Odoo; it would be listed below"
        elif row.odoo_id and row.pushed_at:
            action = f"created by the hub in Odoo ({row.odoo_name}): stays, the hub follows it"
        elif row.odoo_id:
            action = f"adopted ({row.odoo_name}): stays bound to the hub"
        else:
            action = "not pushed: recorded in shadow from now on, the legacy connector's"
        owner = "hub" if row.odoo_id else "legacy"
        plan.append(_line(row, owner, action))
    result: dict[str, Any] = {
        "channel": channel.code,
        "watermark": watermark.isoformat(),
        "orders": plan,
        "hub_created": hub_created(channel),
    }
    if dry_run:
        return {**result, "dry_run": True}
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        before = {"state": locked.state, "cutover_at": watermark.isoformat()}
        locked.state, locked.cutover_at = Channel.State.SHADOW, None
        locked.save(update_fields=["state", "cutover_at", "updated_at"])
        audit_record(
            user=None,
            action="channel.rollback",
            obj=locked,
            before=before,
            after={"state": locked.state, "cutover_at": None},
            reason=reason or "manage.py channel cutover --rollback",
        )
        Cutover.objects.create(
            channel=locked,
            action=Cutover.Action.ROLLBACK,
            watermark=watermark,
            actor=actor[:200],
            reason=reason[:1000],
            report=result,
        )
    channel.state, channel.cutover_at = Channel.State.SHADOW, None
    # Orders pushed while the rollback committed are listed again after it.
    result["hub_created"] = hub_created(channel)
    return result
