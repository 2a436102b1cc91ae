"""Holds: unknown SKU, awaiting payment, risk and credit, and their release.

A pre-Odoo order is judged on intake and again whenever its cause may have gone (a SKU gets
mapped, an Approver releases it). The credit check runs per push batch against Odoo's
receivables (push.py calls it before building the sale orders).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from apps.core.errors import DataConflict, MappingMissing
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from . import metrics
from .batch import BatchContext
from .customers import OrderPartner, customer_key
from .doorbells import PUSH_TASK, push_due_ring
from .errors import TransitionRefused
from .integrations import inbox_clear, inbox_report
from .models import ChannelOrder, HoldReason, OrderLine, OrderState
from .transitions import order_transition

logger = logging.getLogger(__name__)


@dataclass
class _Verdict:
    state: str
    hold_reason: str = ""
    detail: str = ""
    missing_skus: list[str] = field(default_factory=list)


def sku_bindings(channel: Channel, skus: Iterable[str]) -> dict[str, int]:
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
    products = sku_bindings(channel, (ln.sku for ln in lines))
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
        channel_id=row.channel_id, kind=Binding.Kind.CUSTOMER, external_id=customer_key(row)
    ).exists()


def evaluate(*, row: ChannelOrder, channel: Channel, actor: str) -> None:
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
            evaluate(row=row, channel=row.channel, actor=actor)
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


def credit_exceeded(
    ctx: BatchContext, rows: list[ChannelOrder], partners: dict[int, OrderPartner]
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


def hold_for_credit(*, row: ChannelOrder, token: str, detail: str) -> None:
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
