"""What a done Odoo delivery means for the hub: exactly one `Shipment` per picking.

`pickings_record(pickings)` takes pickings as the gateway returns them (poll or hint, any number
of times each) and, per picking of a hub order, in ONE transaction:

- a new picking → a `Shipment` with its lines (the channel's SKU and line id when the product
  is on the order, the quantity the moves shipped), carrier (mapped to the channel's name) and
  tracking; the order moves on (`in_odoo → partially_shipped → shipped`, a history entry per
  shipment); a `ShipmentSync(create)` for channels the hub tells; `shipment.dispatched`;
- a known picking seen with a new `write_date` whose tracking (numbers, URL or carrier) changed
  → the row is updated, a history entry, and ONE `ShipmentSync(tracking)` (a pending one is
  reused, not doubled);
- a known picking with the same `write_date` → nothing (the overlap of the poll, a hint after a
  poll, a duplicate hint: dedupe on (picking id, write_date)).

Exactly once rests on the database: `Shipment.odoo_picking_id` is unique, and the order row is
locked first, so two workers recording the same picking (a poll and a hint at once) run one
after the other and the second finds the first's row.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.context import get_correlation_id
from apps.core.workrow import WorkState
from apps.orders.models import ChannelOrder
from apps.orders.services import order_note, order_shipment_recorded

from . import metrics
from .business_events import shipment_dispatched
from .carriers import channel_carrier, tracking_numbers
from .models import Shipment, ShipmentLine, ShipmentSync
from .progress import Allocated, Move, allocate, fully_shipped, shipped_by_product
from .sync import channel_is_told, sync_ring_after_commit

logger = logging.getLogger(__name__)

ACTOR = "fulfillment.detect"
ODOO_STAMP = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class PickingFacts:
    """The parts of a gateway picking the hub records (see apps.odoo.gateway.pickings)."""

    id: int
    name: str
    write_date: str
    sale_id: int | None
    origin: str
    odoo_carrier: str
    odoo_carrier_id: int | None
    tracking_numbers: tuple[str, ...]
    tracking_url: str
    shipped_at: dt.datetime
    backorder_of: int | None
    dropship: bool
    moves: tuple[Move, ...]


def _m2o(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value or None


def _odoo_time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.strptime(str(value)[:19], ODOO_STAMP).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def picking_facts(p: Mapping[str, Any]) -> PickingFacts | None:
    """None for what is not a delivery that left: not done, a return, another picking type."""
    if p.get("state") != "done" or p.get("return_of"):
        return None
    code = p.get("picking_type_code")
    dropship = bool(p.get("dropship")) or code == "dropship"
    if code and code not in ("outgoing", "dropship") and not dropship:
        return None  # receipts, internal transfers (a drop-ship of Odoo 16 is a receipt type)
    moves: dict[int, Move] = {}
    for m in p.get("moves") or []:
        if m.get("state") != "done":
            continue  # cancelled moves, and moves that went to the backorder, shipped nothing
        qty = round(float(m.get("done") or m.get("quantity") or 0))
        pid = int(m.get("product_id") or 0)
        if qty <= 0 or not pid:
            continue
        had = moves.get(pid)
        moves[pid] = Move(pid, str(m.get("sku") or ""), qty + (had.quantity if had else 0))
    carrier = p.get("carrier")
    carrier_id = _m2o(p.get("carrier_id"))
    if not carrier and isinstance(p.get("carrier_id"), list | tuple) and len(p["carrier_id"]) > 1:
        carrier = p["carrier_id"][1]
    write_date = str(p.get("write_date") or "")[:19]
    return PickingFacts(
        id=int(p["id"]),
        name=str(p.get("name") or p["id"]),
        write_date=write_date,
        sale_id=_m2o(p.get("sale_id")),
        origin=str(p.get("origin") or ""),
        odoo_carrier=str(carrier or ""),
        odoo_carrier_id=carrier_id,
        tracking_numbers=tuple(tracking_numbers(p.get("tracking_ref"))),
        tracking_url=str(p.get("tracking_url") or p.get("carrier_tracking_url") or ""),
        shipped_at=_odoo_time(p.get("date_done")) or _odoo_time(write_date) or timezone.now(),
        backorder_of=_m2o(p.get("backorder_of")),
        dropship=dropship,
        moves=tuple(moves.values()),
    )


# --- which order -----------------------------------------------------------------------------


def _names(order: ChannelOrder) -> set[str]:
    names = {n.strip() for n in (order.odoo_name or "").split(",") if n.strip()}
    for part in order.odoo_parts or []:
        if isinstance(part, dict) and part.get("name"):
            names.add(str(part["name"]))
    return names


def _part_ids(order: ChannelOrder) -> set[int]:
    ids = {order.odoo_id} if order.odoo_id else set()
    for part in order.odoo_parts or []:
        if isinstance(part, dict) and isinstance(part.get("id"), int):
            ids.add(part["id"])
    return ids


def orders_for(facts: Sequence[PickingFacts]) -> dict[int, int]:
    """Picking id → hub order id, for the pickings of hub orders.

    By `sale_id` = the order's Odoo id (or the id of one of its warehouse parts), else by
    `origin` = the sale order's name. Two queries for a page, whatever its size.
    """
    out: dict[int, int] = {}
    sale_ids = {f.sale_id for f in facts if f.sale_id}
    by_sale = dict(ChannelOrder.objects.filter(odoo_id__in=sale_ids).values_list("odoo_id", "id"))
    rest: list[PickingFacts] = []
    for f in facts:
        if f.sale_id and f.sale_id in by_sale:
            out[f.id] = by_sale[f.sale_id]
        elif f.origin or f.sale_id:
            rest.append(f)
    origins = {f.origin for f in rest if f.origin}
    if not origins:
        return out
    cond = Q()
    for name in origins:
        cond |= Q(odoo_name__contains=name)
    candidates = list(ChannelOrder.objects.filter(cond).exclude(odoo_name=""))
    for f in rest:
        for order in candidates:
            if (f.sale_id and f.sale_id in _part_ids(order)) or f.origin in _names(order):
                out[f.id] = order.pk
                break
    return out


# --- recording -------------------------------------------------------------------------------


def pickings_record(pickings: Sequence[Mapping[str, Any]], *, source: str) -> dict[str, int]:
    """Record every picking of a hub order that is new or changed. Returns counts by outcome:
    new, tracking, unchanged, seen (same write_date), not_hub, skipped (not a delivery)."""
    counts: Counter[str] = Counter()
    facts: list[PickingFacts] = []
    for p in pickings:
        f = picking_facts(p)
        if f is None:
            counts["skipped"] += 1
        else:
            facts.append(f)
    fields = ("order_id", "odoo_write_date", "tracking_numbers", "tracking_url", "odoo_carrier")
    rows = Shipment.objects.filter(odoo_picking_id__in=[f.id for f in facts])
    known: dict[int, tuple[int, tuple[str, list[str], str, str]]] = {}
    for pid, order_id, wd, numbers, url, carrier in rows.values_list("odoo_picking_id", *fields):
        known[pid] = (order_id, (wd, list(numbers or []), url, carrier))
    # Dedupe on (picking id, write_date); write_date comes in whole seconds, so a change made
    # within the second of the last read keeps it: what the hub records is compared too.
    fresh = [f for f in facts if f.id not in known or known[f.id][1] != _seen_as(f)]
    if len(facts) > len(fresh):
        counts["seen"] += len(facts) - len(fresh)
    owners = {pid: order_id for pid, (order_id, _) in known.items()}
    owners.update(orders_for([f for f in fresh if f.id not in known]))
    for f in fresh:
        order_id = owners.get(f.id)
        if order_id is None:
            counts["not_hub"] += 1
            continue
        counts[picking_record(f, order_id=order_id)] += 1
    for outcome, n in counts.items():
        metrics.POLL_PICKINGS.labels(source, outcome).inc(n)
    return dict(counts)


def _seen_as(f: PickingFacts) -> tuple[str, list[str], str, str]:
    return f.write_date, list(f.tracking_numbers), f.tracking_url, f.odoo_carrier


def picking_record(facts: PickingFacts, *, order_id: int) -> str:
    """One picking of one hub order, in one transaction. Returns new, tracking or unchanged."""
    with transaction.atomic():
        order = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order_id)
        shipment = Shipment.objects.select_for_update().filter(odoo_picking_id=facts.id).first()
        if shipment is None:
            return _create(facts, order)
        return _update(shipment, facts, order)


def _describe(lines: Sequence[Allocated], numbers: Sequence[str], carrier: str) -> str:
    text = ", ".join(f"{ln.quantity} x {ln.sku}" for ln in lines) or "no lines"
    if numbers:
        text += f"; tracking {', '.join(numbers)}"
    if carrier:
        text += f" ({carrier})"
    return text


def _new_sync(shipment: Shipment, action: str, request: dict[str, Any]) -> ShipmentSync:
    row = ShipmentSync.objects.create(
        shipment=shipment,
        action=action,
        request=request,
        entity_key=f"shipment:{shipment.pk}",
        correlation_id=(get_correlation_id() or "")[:128],
        rung_at=timezone.now(),
    )
    sync_ring_after_commit(row.pk)
    return row


def _create(facts: PickingFacts, order: ChannelOrder) -> str:
    channel = order.channel
    order_lines = list(order.lines.all())
    before = shipped_by_product(order)
    lines = allocate(facts.moves, order_lines, before)
    after = dict(before)
    for ln in lines:
        after[ln.product_id] = after.get(ln.product_id, 0) + ln.quantity
    full = fully_shipped(order_lines, after)
    carrier = channel_carrier(
        channel, odoo_carrier_id=facts.odoo_carrier_id, odoo_carrier=facts.odoo_carrier
    )
    shipment = Shipment.objects.create(
        order=order,
        channel=channel,
        odoo_picking_id=facts.id,
        odoo_picking_name=facts.name[:64],
        odoo_write_date=facts.write_date,
        backorder_of=facts.backorder_of,
        dropship=facts.dropship,
        odoo_carrier=facts.odoo_carrier[:200],
        carrier=carrier[:200],
        tracking_numbers=list(facts.tracking_numbers),
        tracking_url=facts.tracking_url[:1000],
        shipped_at=facts.shipped_at,
    )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(
            shipment=shipment,
            sku=ln.sku[:255],
            quantity=ln.quantity,
            odoo_product_id=ln.product_id,
            external_line_id=ln.external_line_id,
        )
        for ln in lines
    )
    kind = "drop-ship" if facts.dropship else "shipment"
    reason = f"{kind} {facts.name}: {_describe(lines, facts.tracking_numbers, carrier)}"
    order_shipment_recorded(order=order, fully_shipped=full, actor=ACTOR, reason=reason)
    if channel_is_told(channel):
        _new_sync(shipment, ShipmentSync.Action.CREATE, {})
    shipment_dispatched(shipment=shipment, order=order, partial=not full)
    metrics.SHIPMENTS.labels(channel.code, "recorded").inc()
    logger.info("shipment %s of order %s recorded (%s)", facts.name, order.odoo_ref, reason)
    return "new"


def _update(shipment: Shipment, facts: PickingFacts, order: ChannelOrder) -> str:
    numbers = list(facts.tracking_numbers)
    changed = (
        numbers != list(shipment.tracking_numbers)
        or facts.tracking_url != shipment.tracking_url
        or facts.odoo_carrier != shipment.odoo_carrier
    )
    shipment.odoo_write_date = facts.write_date
    if not changed:
        shipment.save(update_fields=["odoo_write_date", "updated_at"])
        return "unchanged"
    previous = {
        "tracking_numbers": list(shipment.tracking_numbers),
        "tracking_url": shipment.tracking_url,
        "carrier": shipment.carrier,
    }
    shipment.tracking_numbers = numbers
    shipment.tracking_url = facts.tracking_url[:1000]
    if facts.odoo_carrier != shipment.odoo_carrier:
        shipment.odoo_carrier = facts.odoo_carrier[:200]
        shipment.carrier = channel_carrier(
            order.channel, odoo_carrier_id=facts.odoo_carrier_id, odoo_carrier=facts.odoo_carrier
        )[:200]
    shipment.save()
    old = ", ".join(previous["tracking_numbers"]) or "none"
    new = ", ".join(numbers) or "none"
    order_note(
        order=order, actor=ACTOR, reason=f"tracking of {shipment.odoo_picking_name}: {old} → {new}"
    )
    if channel_is_told(order.channel):
        request = {
            "tracking_numbers": numbers,
            "tracking_url": shipment.tracking_url,
            "carrier": shipment.carrier,
            "previous": previous,
        }
        waiting = ShipmentSync.objects.filter(
            shipment=shipment, action=ShipmentSync.Action.TRACKING, state=WorkState.PENDING
        ).first()
        # A tracking update not claimed yet sends the shipment's current tracking when it runs:
        # one update, not two (conditional: a worker may claim it meanwhile).
        reused = waiting is not None and bool(
            ShipmentSync.objects.filter(pk=waiting.pk, state=WorkState.PENDING).update(
                request={**request, "previous": waiting.request.get("previous", previous)}
            )
        )
        if not reused:
            _new_sync(shipment, ShipmentSync.Action.TRACKING, request)
    metrics.SHIPMENTS.labels(order.channel.code, "tracking_changed").inc()
    return "tracking"
