"""Finding done deliveries in Odoo: the poll (the guarantee) and Odoo's hints (the speed).

**The poll** (`shipments_poll`, beat job `fulfillment.poll_odoo`, every
`HUB_SHIPMENT_POLL_SECONDS`) pages through done outgoing pickings with the gateway's cursor
(`"<write_date second>|<id>"`, pages cut at whole seconds or by id inside one second, see
`OdooGateway.pickings_done_since`). Each poll starts `HUB_SHIPMENT_POLL_OVERLAP_SECONDS` before
the stored cursor: Odoo stamps `write_date` with the transaction's START and sends it truncated
to the second, so a long transaction can commit a picking "in the past", behind a cursor that
already passed (EXTERNAL_API §14). What the overlap reads again is deduplicated on
(picking id, write_date) by `record.pickings_record`. The first poll starts one overlap before
now: deliveries done before the hub was installed are not sent to the channels.

**The hint** (`POST /webhooks/odoo/<token>/pickings/`, an Odoo automation when a delivery is
validated): the receiver only records the picking ids it names (`PickingHint`, a work row) and
rings `fulfillment.read_pickings`; the task reads those pickings from Odoo (three RPCs however
many) and records them like the poll does. The body is never trusted for anything else.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core import workrow
from apps.core.errors import HubError, TransientError
from apps.odoo.cursors import server_cursor
from apps.odoo.gateway import get_gateway

from .models import PickingHint, ShipmentCursor
from .record import pickings_record

logger = logging.getLogger(__name__)

# The base of the per-server key (apps.odoo.cursors): the cursor of the configured Odoo is
# cursor_key().
CURSOR_KEY = "odoo.pickings"
ODOO_STAMP = "%Y-%m-%d %H:%M:%S"
PAGE = 200
MAX_PAGES = 50
HINT_TASK = "fulfillment.read_pickings"
HINT_BATCH = 100


def _overlap() -> int:
    return int(getattr(settings, "HUB_SHIPMENT_POLL_OVERLAP_SECONDS", 300))


def _shift(second: str, seconds: float) -> str:
    stamp = dt.datetime.strptime(second[:19], ODOO_STAMP) + dt.timedelta(seconds=seconds)
    return stamp.strftime(ODOO_STAMP)


def _key(cursor: str) -> tuple[str, int]:
    second, _, last = cursor.partition("|")
    return second[:19], int(last or 0)


def cursor_key() -> str:
    """The done-pickings cursor's key for the configured Odoo server and database."""
    return server_cursor(CURSOR_KEY)[0]


def _cursor() -> ShipmentCursor:
    """This Odoo server's cursor; a server's first poll starts at now (minus the overlap when
    reading), whatever another server's cursor says: its ids and seconds are not this one's."""
    key, label = server_cursor(CURSOR_KEY)
    row = ShipmentCursor.objects.filter(key=key).first()
    if row is None:
        now = dt.datetime.now(dt.UTC).strftime(ODOO_STAMP)
        row, _ = ShipmentCursor.objects.get_or_create(
            key=key, defaults={"value": f"{now}|0", "server": label}
        )
    return row


def shipments_poll(*, overlap_seconds: int | None = None) -> dict[str, int]:
    """Read done deliveries since the cursor (minus the overlap) and record them.

    Three RPCs per page of up to 200 pickings, plus one empty read that says the end is
    reached. Returns the counts by outcome (see `pickings_record`) and `pages`.
    """
    overlap = _overlap() if overlap_seconds is None else overlap_seconds
    cursor = _cursor()
    second, _ = _key(cursor.value)
    since = f"{_shift(second, -overlap)}|0"
    gateway = get_gateway()
    totals: dict[str, int] = {"pages": 0}
    for _ in range(MAX_PAGES):
        page = gateway.pickings_done_since(cursor=since, limit=PAGE)
        if not page.pickings:
            break
        totals["pages"] += 1
        for outcome, n in pickings_record(page.pickings, source="poll").items():
            totals[outcome] = totals.get(outcome, 0) + n
        nxt = page.next_cursor
        if not nxt or nxt == since:
            break
        if _key(nxt) > _key(cursor.value):
            # Recorded first, then the cursor: a crash in between re-reads, never skips.
            ShipmentCursor.objects.filter(key=cursor.key).update(value=nxt)
            cursor.value = nxt
        since = nxt
    summary = ", ".join(f"{k} {v}" for k, v in sorted(totals.items()))
    ShipmentCursor.objects.filter(key=cursor.key).update(
        polled_at=timezone.now(), summary=summary[:300]
    )
    return totals


# --- hints -----------------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def hint_picking_ids(body: Any) -> list[int]:
    """Picking ids named by a "Send Webhook Notification" body (or a list of bodies).

    `stock.picking` bodies are the picking (`id` / `_id`); `stock.move` bodies name theirs in
    `picking_id`. A body that says the picking is not done (`state`) names nothing.
    """
    items: Iterable[Any] = body if isinstance(body, list) else [body]
    out: set[int] = set()
    for item in items:
        if not isinstance(item, Mapping):
            continue
        model = str(item.get("_model") or "stock.picking")
        if "state" in item and item.get("state") != "done":
            continue
        if model == "stock.picking":
            pid = _id(item.get("id")) or _id(item.get("_id"))
        elif model == "stock.move":
            pid = _id(item.get("picking_id"))
        else:
            pid = None
        if pid:
            out.add(pid)
    return sorted(out)


def picking_hint_receive(*, body: Any) -> int:
    """Record the hint and ring its reading after commit. Returns how many pickings it names."""
    from apps.ledger.services import work_ring

    ids = hint_picking_ids(body)
    if not ids:
        return 0
    hint = PickingHint.objects.create(picking_ids=ids[:1000], rung_at=timezone.now())
    pk = hint.pk
    transaction.on_commit(lambda: work_ring(model=PickingHint, pk=pk))
    return len(ids)


def picking_hints_process(*, hint_id: int) -> str:
    """Read the pickings of every due hint (this one and any waiting) and record them.

    One read for a burst of hints. Odoo down: the hints go back with a due time (the ledger's
    sweeper rings them; the poll finds the pickings anyway). Returns what happened.
    """
    from apps.ledger.services import work_ring

    rows = workrow.claim_due(PickingHint, limit=HINT_BATCH)
    if not rows:
        return "nothing due"
    ids = sorted({int(i) for r in rows for i in r.picking_ids})
    try:
        pickings = get_gateway().pickings_read(picking_ids=ids)
        counts = pickings_record(pickings, source="hint")
    except TransientError as exc:
        for r in rows:
            outcome, delay = workrow.fail_transient(r, error=exc)
            if outcome == "retry" and delay <= float(settings.HUB_MAX_COUNTDOWN) / 10:
                workrow.mark_rung(PickingHint, pks=[r.pk])
                work_ring(model=PickingHint, pk=r.pk, countdown=delay)
        return f"retry: {exc.message}"
    except HubError as exc:
        # Not worth retrying (a picking id Odoo refuses to read...): the poll covers it.
        for r in rows:
            workrow.fail_permanent(r, error=exc.as_dict())
        logger.warning("picking hints %s failed: %s", [r.pk for r in rows], exc)
        return f"failed: {exc.message}"
    for r in rows:
        workrow.complete(r, effects=[counts])
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v) or "nothing"
