"""Edits after the push: an order changed on the channel while its Odoo order is not shipped.

Intake keeps the edited canonical order in `ChannelOrder.edit_payload` (only when its content
fingerprint differs, see codec.content_fingerprint) and rings `orders.push_edit`, which:

1. reads the Odoo order; delivered (partially or fully) → inbox item, nothing changes;
2. resolves the edited lines' SKUs through the bindings (an unknown SKU → inbox item);
3. an order Odoo lets us edit (not locked, not cancelled) is edited in ONE write: lines matched
   by product are updated (quantity, price, discount, taxes), new ones created, vanished ones
   set to quantity 0 (Odoo keeps confirmed lines); a changed shipping / billing address becomes
   a new delivery / invoice child of the customer;
4. otherwise (a locked order, or Odoo refusing the write) the order is recreated: the new one
   carries the reference `<ref>~e<first 8 hex of the edit's fingerprint>` — the same edit always
   gets the same reference, so a retry finds the order it created instead of making a second —
   it is confirmed, then the old one is unlocked and cancelled;
5. the row takes the edited payload and lines, the new Odoo id / name / reference, a history
   entry, and the channel is acknowledged again if the Odoo name changed.

Shadow channels: the edit is recorded under `shadow_payload["edits"]`, nothing is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.errors import DataConflict, MappingMissing, PermanentError
from apps.core.queues import sweep_may_ring
from apps.odoo.errors import OdooPermanentError
from apps.sales_channels.models import Channel

from .acknowledge import ACK_TASK, ACKABLE_STATES, ADAPTERS, order_ack_ring
from .batch import BatchContext
from .cancel import orders_cancel_sweep
from .codec import content_fingerprint, payload_hash
from .customers import OrderPartner, address_dict
from .doorbells import EDIT_TASK, ring_task
from .holds import sku_bindings
from .integrations import inbox_report, order_inbox_report
from .models import ChannelOrder, OrderLine, OrderState, OrderTransition
from .odoo_values import jsonable, sale_order_vals
from .transitions import followups_due, odoo_reference, order_lease, order_lease_release

logger = logging.getLogger(__name__)


def edit_reference(*, row: ChannelOrder, data: dict[str, Any]) -> str:
    """The deterministic reference of the order that replaces an uneditable one."""
    base = odoo_reference(channel_code=row.channel.code, external_id=row.external_id)
    return f"{base}~e{content_fingerprint(data)[:8]}"


def _addresses_changed(before: dict[str, Any], after: dict[str, Any], key: str) -> bool:
    one = content_fingerprint({key: before.get(key)})
    return one != content_fingerprint({key: after.get(key)})


def order_push_edit(*, order_id: int, actor: str = EDIT_TASK) -> str:
    """Apply the pending edit of an order in Odoo. Returns what happened. One run at a time per
    order (a lease): a duplicate message finds it busy and does nothing."""
    row = ChannelOrder.objects.select_related("channel").get(pk=order_id)
    if row.edit_payload is None or row.state != OrderState.IN_ODOO:
        return "nothing"
    token = order_lease(order=row)
    if token is None:
        return "busy"
    try:
        return _push_edit(row=row, data=row.edit_payload, actor=actor)
    finally:
        order_lease_release(order_id=row.pk, token=token)


def orders_edit_sweep(*, limit: int = 500) -> int:
    """Ring again the edits whose message was lost (a broker outage, a killed worker): orders
    in Odoo with a pending edit, nobody holding them, nothing moved for the ring grace."""
    if not sweep_may_ring(EDIT_TASK):
        return 0
    due = followups_due(state=OrderState.IN_ODOO).filter(edit_payload__isnull=False)
    ids = list(due.values_list("pk", flat=True)[:limit])
    for order_id in ids:
        ring_task(EDIT_TASK, order_id=order_id)
    return len(ids)


def orders_ack_sweep(*, limit: int = 500) -> int:
    """Ring again the acknowledgements whose message was lost: orders in Odoo the channel has
    not heard about, untouched for two ring graces (acknowledgements are rate limited, so a
    short backlog is normal; a second one is harmless, each adapter reads before it writes)."""
    if not sweep_may_ring(ACK_TASK):
        return 0
    now = timezone.now()
    grace = dt.timedelta(seconds=2 * int(getattr(settings, "HUB_LEDGER_RING_GRACE_SECONDS", 30)))
    due = ChannelOrder.objects.filter(
        state__in=ACKABLE_STATES,
        ack_state="",
        channel__kind__in=list(ADAPTERS),
        updated_at__lt=now - grace,
    )
    ids = list(due.values_list("pk", flat=True)[:limit])
    for order_id in ids:
        ring_task(ACK_TASK, order_id=order_id)
    return len(ids)


def orders_followup_sweep() -> int:
    """Cancellations, edits and acknowledgements of orders already in Odoo are rung once, after
    commit; this rings again those whose message was lost (orders.followup_sweep, every 30 s)."""
    return orders_cancel_sweep() + orders_edit_sweep() + orders_ack_sweep()


def _push_edit(*, row: ChannelOrder, data: dict[str, Any], actor: str) -> str:
    from apps.odoo.gateway import get_gateway

    channel = row.channel
    skus = [str(ln["sku"]) for ln in data["lines"]]
    products = sku_bindings(channel, skus)
    missing = sorted({s for s in skus if s not in products})
    if missing:
        _report(row, MappingMissing(f"the edit adds unmapped SKU {', '.join(missing)}"))
        return "unknown_sku"
    product_ids: list[int | None] = [products[s] for s in skus]
    if len(row.odoo_parts or ()) > 1:
        ChannelOrder.objects.filter(pk=row.pk).update(edit_payload=None)
        edit_after_shipment(row=row, why="the order is split over warehouses")
        return "split"
    gateway = get_gateway()
    ctx = BatchContext(gateway=gateway)
    if channel.state == Channel.State.SHADOW or row.odoo_id is None:
        vals = sale_order_vals(
            ctx, row, OrderPartner(row.odoo_partner_id or 0), data=data, product_ids=product_ids
        )
        shadow = dict(row.shadow_payload or {})
        shadow.setdefault("edits", []).append(jsonable(vals))
        _apply(
            row,
            data=data,
            product_ids=product_ids,
            actor=actor,
            reason="shadow mode: edit recorded, nothing sent",
            shadow_payload=shadow,
        )
        return "shadow"
    info = gateway.sale_orders_read(order_ids=[row.odoo_id]).get(row.odoo_id)
    # A recreate that cancelled the old order but crashed before recording: finish it.
    if (
        info is not None
        and info["state"] == "cancel"
        and gateway.sale_orders_find(refs=[edit_reference(row=row, data=data)])
    ):
        partner = OrderPartner(int(row.odoo_partner_id or 0))
        vals = sale_order_vals(ctx, row, partner, data=data, product_ids=product_ids)
        return _recreate(gateway, row, data, vals, product_ids, actor, old_state="cancel")
    if info is None or info["state"] == "cancel":
        _report(row, PermanentError(f"Odoo order {row.odoo_name} is gone or cancelled"))
        return "inbox"
    if info.get("delivery_status") in ("partial", "full"):
        ChannelOrder.objects.filter(pk=row.pk).update(edit_payload=None)
        edit_after_shipment(row=row)
        return "shipped"
    partner = _edit_partner(gateway, row, data)
    vals = sale_order_vals(ctx, row, partner, data=data, product_ids=product_ids)
    if not info.get("locked"):
        try:
            _edit_in_place(gateway, row, vals)
        except OdooPermanentError as exc:
            logger.info("order %s: Odoo refused the edit (%s); recreating it", row.odoo_ref, exc)
        else:
            _apply(
                row,
                data=data,
                product_ids=product_ids,
                actor=actor,
                reason=f"edit applied to Odoo {row.odoo_name}",
            )
            return "updated"
    state = "locked" if info.get("locked") else str(info["state"])
    return _recreate(gateway, row, data, vals, product_ids, actor, old_state=state)


def _edit_partner(gateway: Any, row: ChannelOrder, data: dict[str, Any]) -> OrderPartner:
    """The customer stays; a changed address becomes a new child address of it."""
    pid = int(row.odoo_partner_id or 0)
    delivery = invoice = None
    if _addresses_changed(row.payload, data, "shipping_address") and data.get("shipping_address"):
        addr = address_dict(data["shipping_address"]) or {}
        delivery = gateway.partner_address_create(parent_id=pid, address=addr, kind="delivery")
    if _addresses_changed(row.payload, data, "billing_address") and data.get("billing_address"):
        addr = address_dict(data["billing_address"]) or {}
        invoice = gateway.partner_address_create(parent_id=pid, address=addr, kind="invoice")
    return OrderPartner(pid, delivery, invoice)


def _edit_in_place(gateway: Any, row: ChannelOrder, vals: dict[str, Any]) -> None:
    assert row.odoo_id is not None
    existing = gateway.sale_order_lines_read(order_id=row.odoo_id)
    used: set[int] = set()
    update: dict[int, dict[str, Any]] = {}
    create: list[dict[str, Any]] = []
    for line in vals["lines"]:
        match = next(
            (
                e
                for e in sorted(existing, key=lambda e: (not e["qty"], e["id"]))
                if e["id"] not in used and e["product_id"] == line["product_id"]
            ),
            None,
        )
        if match is None:
            create.append(line)
        else:
            used.add(match["id"])
            update[match["id"]] = {k: v for k, v in line.items() if k != "product_id"}
    zero = [e["id"] for e in existing if e["id"] not in used and e["qty"]]
    gateway.sale_order_edit(
        order_id=row.odoo_id, header=vals, update=update, create=create, zero=zero
    )


def _recreate(
    gateway: Any,
    row: ChannelOrder,
    data: dict[str, Any],
    vals: dict[str, Any],
    product_ids: list[int | None],
    actor: str,
    *,
    old_state: str,
) -> str:
    assert row.odoo_id is not None
    new_ref = edit_reference(row=row, data=data)
    vals = {**vals, "ref": new_ref}
    # Create (or find, on a retry) the replacement first: if Odoo refuses it, the old order
    # is still there.
    new_id = gateway.sale_orders_ensure(orders=[vals], confirm=True)[new_ref]
    name = gateway.sale_orders_totals(order_ids=[new_id])[new_id]["name"]
    if old_state == "locked":
        gateway.sale_orders_unlock(order_ids=[row.odoo_id])
    old_name = row.odoo_name
    if old_state != "cancel":
        gateway.sale_orders_cancel(order_ids=[row.odoo_id])
    _apply(
        row,
        data=data,
        product_ids=product_ids,
        actor=actor,
        reason=f"edit: Odoo {old_name} cancelled and recreated as {name} ({new_ref})",
        odoo_id=new_id,
        odoo_name=name,
        odoo_ref=new_ref,
        ack_state="",
    )
    order_ack_ring(row=row)
    return "recreated"


def _apply(
    row: ChannelOrder,
    *,
    data: dict[str, Any],
    product_ids: list[int | None],
    actor: str,
    reason: str,
    **fields: Any,
) -> None:
    with transaction.atomic():
        pending = (
            ChannelOrder.objects.select_for_update()
            .values_list("edit_payload", flat=True)
            .get(pk=row.pk)
        )
        # A newer edit that arrived while this one was applied stays pending: its own ring found
        # the order leased, orders.followup_sweep rings it again.
        newer = pending if pending is not None and pending != data else None
        ChannelOrder.objects.filter(pk=row.pk).update(
            payload=data,
            payload_hash=payload_hash(data),
            total=Decimal(str(data.get("total") or row.total)).quantize(Decimal("0.01")),
            edit_payload=newer,
            updated_at=timezone.now(),
            **fields,
        )
        OrderLine.objects.filter(order=row).delete()
        OrderLine.objects.bulk_create(
            OrderLine(
                order=row,
                position=i,
                external_line_id=str(ln.get("line_id") or ""),
                sku=str(ln["sku"]),
                name=str(ln.get("name") or "")[:500],
                quantity=int(ln["qty"]),
                unit_price=ln["unit_price"],
                discount=ln["discount"],
                tax=ln["tax"],
                product_id=product_ids[i],
            )
            for i, ln in enumerate(data["lines"])
        )
        OrderTransition.objects.create(
            order=row, from_state=row.state, to_state=row.state, actor=actor, reason=reason[:1000]
        )
        for key, value in fields.items():
            setattr(row, key, value)
        row.payload, row.edit_payload = data, newer


def _report(row: ChannelOrder, error: PermanentError) -> None:
    order_inbox_report(
        error=error,
        key=f"order_edit:{row.odoo_ref}",
        row=row,
        replay_task=EDIT_TASK,
        replay_kwargs={"order_id": row.pk},
    )


# --- what intake does with an edit of an order already in Odoo -------------------------------


def edit_after_push(*, row: ChannelOrder, data: dict[str, Any]) -> None:
    """Keep the edit; before shipping orders.push_edit applies it in Odoo (apps.orders.edits),
    after shipping a person decides (inbox)."""
    row.edit_payload = data
    row.save(update_fields=["edit_payload", "updated_at"])
    if row.state in (OrderState.IN_ODOO, OrderState.PUSHING, OrderState.READY):
        # A pushing row, or a ready one whose push is to be retried (intake.maybe_in_odoo), is
        # edited once the push bound it (see _push_batch).
        if row.state == OrderState.IN_ODOO:
            order_id = row.pk
            transaction.on_commit(lambda: ring_task(EDIT_TASK, order_id=order_id))
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
