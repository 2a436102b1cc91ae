"""Telling the channel: one `ShipmentSync` row at a time, through the channel's adapter.

`shipment_sync_run(sync_id)` (task `fulfillment.sync`, queue `channel_io`):

1. claims the row (a work row: lease, attempts, due time; per-entity order on
   `shipment:<id>`, so a tracking update or carrier event waits until the shipment's create is
   finished);
2. builds `ShipmentToSend` from the shipment as it is NOW (a create that waited sends the
   tracking number added meanwhile; a tracking update that finds it already sent is skipped);
3. shadow channels: records what would be sent and completes; nothing goes out;
4. calls `adapter_for(channel)`: `fulfil`, `update_tracking` or `report_event`. Adapters read
   before they write (no platform has an idempotency key here), so a retry after a lost answer
   finds the fulfillment instead of making a second one;
5. stores what was sent (`request["sent"]`) and the channel's record (`result`, e.g. its
   fulfillment id) and completes, in one transaction with clearing the row's inbox items. The
   shipment keeps them too (`channel_sent`, `channel_result`, `channel_synced_at`): finished
   sync rows are purged after the retention period, a tracking change may come later.

Failures, classified at the adapter: `RateLimited` waits (no attempt spent), `TransientError`
is retried with due times (short waits ride a Celery countdown, longer ones the ledger's
sweeper), `PermanentError` and anything unclassified fail the row at once with an inbox item
naming the channel, order number, Odoo picking and tracking number (Retry re-runs this row).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core import workrow
from apps.core.context import correlation, log_context
from apps.core.errors import (
    INFRASTRUCTURE_ERRORS,
    HubError,
    LockContention,
    RateLimited,
    TransientError,
)
from apps.core.workrow import WorkState
from apps.sales_channels.models import Channel

from . import metrics
from .adapters import ChannelResult, FulfilmentAdapter, ShipLine, ShipmentToSend, adapter_for
from .errors import ShipmentSyncFailed
from .models import Shipment, ShipmentSync
from .progress import fully_shipped, shipped_by_product

logger = logging.getLogger(__name__)

SYNC_TASK = "fulfillment.sync"
# The channel kinds the hub tells (adapter_for has an adapter); a B2B partner reads the API.
TOLD_KINDS = (
    Channel.Kind.SHOPIFY,
    Channel.Kind.WOOCOMMERCE,
    Channel.Kind.BIGCOMMERCE,
    Channel.Kind.MAGENTO,
)
PAUSED_RETRY_SECONDS = 60.0
ACTION_TEXT: dict[str, str] = {
    ShipmentSync.Action.CREATE: "the fulfillment",
    ShipmentSync.Action.TRACKING: "the tracking update",
    ShipmentSync.Action.EVENT: "the carrier event",
}


class UnclassifiedSyncError(HubError):
    category = "unknown"


def channel_is_told(channel: Channel) -> bool:
    return channel.kind in TOLD_KINDS


# --- ringing ---------------------------------------------------------------------------------


def sync_ring(pk: int, *, countdown: float | None = None) -> None:
    """Ring `fulfillment.sync` for row `pk`; a broker outage is left to the ledger's sweeper."""
    from apps.ledger.services import work_ring

    work_ring(model=ShipmentSync, pk=pk, countdown=countdown)


def sync_ring_after_commit(pk: int) -> None:
    transaction.on_commit(lambda: sync_ring(pk))


def _ring_next(row: ShipmentSync) -> None:
    """Per-entity order: the next row of this shipment waited for this one; ring it now."""
    nxt = (
        ShipmentSync.objects.filter(entity_key=row.entity_key, state=WorkState.PENDING)
        .exclude(pk=row.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if nxt is not None:
        sync_ring(nxt)


# --- what is sent ----------------------------------------------------------------------------


def shipment_to_send(
    shipment: Shipment, *, previous_result: dict[str, Any], retry: bool = False
) -> ShipmentToSend:
    order = shipment.order
    channel = shipment.channel
    order_lines = list(order.lines.all())
    final = fully_shipped(order_lines, shipped_by_product(order, up_to_shipment=shipment.pk))
    return ShipmentToSend(
        channel_code=channel.code,
        order_external_id=order.external_id,
        order_number=order.number or order.external_id,
        odoo_picking_name=shipment.odoo_picking_name,
        lines=tuple(
            ShipLine(sku=ln.sku, quantity=int(ln.quantity), external_line_id=ln.external_line_id)
            for ln in shipment.lines.all()
        ),
        carrier=shipment.carrier,
        tracking_numbers=tuple(shipment.tracking_numbers),
        tracking_url=shipment.tracking_url,
        shipped_at=shipment.shipped_at.isoformat(),
        notify_customer=bool(channel.notify_customer_on_shipment),
        final=final,
        previous_result=dict(previous_result or {}),
        retry=retry,
    )


def _sent(ship: ShipmentToSend) -> dict[str, Any]:
    data = dataclasses.asdict(ship)
    data.pop("previous_result", None)
    data.pop("retry", None)
    return data


def _tracking_already_sent(shipment: Shipment, ship: ShipmentToSend) -> bool:
    sent = shipment.channel_sent or {}
    return (
        list(sent.get("tracking_numbers") or []) == list(ship.tracking_numbers)
        and (sent.get("tracking_url") or "") == ship.tracking_url
        and (sent.get("carrier") or "") == ship.carrier
    )


def _call(adapter: FulfilmentAdapter, row: ShipmentSync, ship: ShipmentToSend) -> ChannelResult:
    if row.action == ShipmentSync.Action.CREATE:
        return adapter.fulfil(ship)
    if row.action == ShipmentSync.Action.TRACKING:
        return adapter.update_tracking(ship)
    req = row.request or {}
    return adapter.report_event(
        ship,
        status=str(req.get("status") or ""),
        happened_at=str(req.get("happened_at") or ""),
        message=str(req.get("message") or ""),
    )


# --- the run ---------------------------------------------------------------------------------


def _claim(sync_id: int) -> ShipmentSync | None:
    claimed = workrow.claim_one(ShipmentSync, pk=sync_id)
    if claimed is None:
        return None
    return (
        ShipmentSync.objects.select_related("shipment__order__channel", "shipment__channel")
        .filter(pk=claimed.pk, lease_token=claimed.lease_token)
        .first()
    )


def shipment_sync_run(*, sync_id: int) -> str:
    """Run one sync row. Safe to call any number of times: only the claimer works."""
    row = _claim(sync_id)
    if row is None:
        return "not-claimable"
    shipment = row.shipment
    channel = shipment.channel
    with (
        correlation(row.correlation_id or None),
        log_context(channel=channel.code, shipment=shipment.pk, sync=row.pk),
    ):
        outcome = _run(row, shipment, channel)
    metrics.SYNCS.labels(channel.code, row.action, outcome).inc()
    if row.state in (WorkState.DONE, WorkState.FAILED, WorkState.IGNORED):
        _ring_next(row)
    return outcome


def _limit() -> int:
    from apps.ledger.registry import work_kind_for

    kind = work_kind_for(ShipmentSync)
    return (kind.max_attempts if kind else None) or workrow.max_attempts_default()


def _run(row: ShipmentSync, shipment: Shipment, channel: Channel) -> str:
    if row.attempts >= _limit():
        crashed = UnclassifiedSyncError(
            f"worker lost mid-sync {row.attempts} times (killed, or over the time limit)"
        )
        return _fail(row, crashed)
    if not channel_is_told(channel) or not channel.fulfillment_enabled:
        workrow.ignore(row, note=f"channel {channel.code} is not told about shipments")
        return "ignored"
    if channel.state == Channel.State.PAUSED:
        wait = LockContention(f"channel {channel.code} is paused", retry_after=PAUSED_RETRY_SECONDS)
        workrow.fail_transient(row, error=wait)
        return "paused"
    previous: dict[str, Any] = dict(row.result or {})
    if row.action != ShipmentSync.Action.CREATE:
        if shipment.channel_synced_at is None:
            # The create failed or was skipped: when it is retried it sends the current
            # tracking; a carrier event has no fulfillment to go to.
            workrow.ignore(row, note="the channel has no fulfillment of this shipment yet")
            return "ignored"
        previous = dict(shipment.channel_result or {})
    # Tried before (a failed attempt, a crash, a Retry from the inbox): the adapter reads first.
    tried = bool(row.attempts) or bool(row.history)
    ship = shipment_to_send(shipment, previous_result=previous, retry=tried)
    tracking = row.action == ShipmentSync.Action.TRACKING
    if tracking and _tracking_already_sent(shipment, ship):
        skipped = ChannelResult(skipped="already sent with the fulfillment")
        return _done(row, shipment, ship, skipped)
    if channel.state == Channel.State.SHADOW:
        request = {**(row.request or {}), "would_send": _sent(ship)}
        _finish(
            row,
            request=request,
            result={"shadow": True},
            effects=[{"shadow": True}],
            told=(_sent(ship), {"shadow": True}),
        )
        return "shadow"
    try:
        adapter = adapter_for(channel)
        if adapter is None:
            workrow.ignore(row, note=f"no shipment adapter for {channel.kind}")
            return "ignored"
        result = _call(adapter, row, ship)
    except RateLimited as exc:
        # Being told to wait says nothing about the shipment: no attempt is spent.
        wait = LockContention(
            f"rate limited by {channel.code}: {exc.message}", retry_after=exc.retry_after or 1.0
        )
        return _retry(row, wait)
    except TransientError as exc:
        return _retry(row, exc)
    except INFRASTRUCTURE_ERRORS as exc:
        return _retry(row, TransientError(f"{type(exc).__name__}: {exc}"))
    except HubError as exc:
        return _fail(row, exc)
    except Exception as exc:
        logger.exception("shipment sync %s crashed", row.pk)
        return _fail(row, UnclassifiedSyncError(f"{type(exc).__name__}: {exc}"))
    return _done(row, shipment, ship, result)


def _done(row: ShipmentSync, shipment: Shipment, ship: ShipmentToSend, res: ChannelResult) -> str:
    result = dict(res.ref)
    if res.found_existing:
        result["found_existing"] = True
    if res.skipped:
        result["skipped"] = res.skipped
    effect = {
        "at": timezone.now().isoformat(),
        "calls": res.calls,
        "found_existing": res.found_existing,
        "skipped": res.skipped,
    }
    request = {**(row.request or {}), "sent": _sent(ship)}
    told = None
    if row.action == ShipmentSync.Action.CREATE and not res.skipped:
        told = (_sent(ship), dict(res.ref))
    elif row.action == ShipmentSync.Action.TRACKING and not res.skipped:
        told = (_sent(ship), {**(shipment.channel_result or {}), **res.ref})
    if not _finish(row, request=request, result=result, effects=[effect], told=told):
        return "lost"
    if res.calls:
        metrics.CHANNEL_CALLS.labels(shipment.channel.code).inc(res.calls)
    if row.action == ShipmentSync.Action.CREATE and not res.skipped:
        age = (timezone.now() - shipment.shipped_at).total_seconds()
        metrics.TO_CHANNEL_SECONDS.labels(shipment.channel.code).observe(max(0.0, age))
    if res.skipped:
        return "skipped"
    return "found_existing" if res.found_existing else "done"


def _finish(
    row: ShipmentSync,
    *,
    request: dict[str, Any],
    result: dict[str, Any],
    effects: list[Any],
    told: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> bool:
    """Record the outcome. `told` = (what the channel now holds, its record of it), kept on the
    shipment for later tracking updates and carrier events (sync rows are purged in time)."""
    from apps.inbox.services import issue_row_succeeded

    # The channel's record, the done state and the clearing of the row's inbox items commit
    # together; every write is keyed on our lease (a newer owner's result is never overwritten).
    with transaction.atomic():
        mine = ShipmentSync.objects.filter(
            pk=row.pk, lease_token=row.lease_token, state=WorkState.RUNNING
        ).update(request=request, result=result)
        if not mine or not workrow.complete(row, effects=effects):
            return False
        row.request, row.result = request, result
        if told is not None:
            sent, ref = told
            Shipment.objects.filter(pk=row.shipment_id).update(
                channel_sent=sent, channel_result=ref, channel_synced_at=timezone.now()
            )
        issue_row_succeeded(row=row)
    return True


def _retry(row: ShipmentSync, error: TransientError) -> str:
    from apps.ledger.registry import work_kind_for

    kind = work_kind_for(ShipmentSync)
    with transaction.atomic():
        outcome, delay = workrow.fail_transient(
            row,
            error=error,
            max_attempts=_limit(),
            base_seconds=kind.base_seconds if kind else None,
            cap_seconds=kind.cap_seconds if kind else None,
        )
        if outcome == "failed":
            _report(row, error)
    if outcome == "retry" and delay <= float(settings.HUB_MAX_COUNTDOWN) / 10:
        # Short waits ride a Celery countdown; longer ones stay a due time for the sweeper.
        workrow.mark_rung(ShipmentSync, pks=[row.pk])
        sync_ring(row.pk, countdown=delay)
    return outcome


def _fail(row: ShipmentSync, error: HubError) -> str:
    # The failed state and its inbox item become visible together or not at all.
    with transaction.atomic():
        failed = workrow.fail_permanent(row, error=error.as_dict())
        if failed:
            _report(row, error)
    return "failed" if failed else "lost"


def _report(row: ShipmentSync, error: HubError) -> None:
    from apps.inbox.models import Issue
    from apps.inbox.services import issue_report

    shipment = row.shipment
    order = shipment.order
    channel = shipment.channel
    tracking = ", ".join(shipment.tracking_numbers) or "none"
    number = order.number or order.external_id
    failed = ShipmentSyncFailed(
        f"{channel.code}: {ACTION_TEXT.get(row.action, row.action)} of "
        f"{shipment.odoo_picking_name} (order {number}, tracking {tracking}) failed: "
        f"{error.message}",
        category=str(getattr(error, "category", "unknown")),
        context=dict(error.context),
        picking=shipment.odoo_picking_name,
        tracking=tracking,
        action=row.action,
        cause=error.as_dict()["class"],
    )
    issue = issue_report(
        error=failed,
        key=f"shipment:{shipment.odoo_picking_name}@{channel.code}",
        row=row,
        channel_code=channel.code,
        order_number=number,
        customer=order.customer_email or order.customer_external_id,
        replay_task=SYNC_TASK,
        replay_kwargs={"sync_id": row.pk},
    )
    hint = _suggestion(shipment, failed)
    if hint:
        Issue.objects.filter(pk=issue.pk).update(suggested_action=hint)


def _suggestion(shipment: Shipment, error: ShipmentSyncFailed) -> str:
    channel = shipment.channel.code
    if error.category == "mapping_missing" and shipment.odoo_carrier and not shipment.carrier:
        return (
            f"Map the Odoo carrier “{shipment.odoo_carrier}” to {channel}'s name for it: "
            f"Mappings → Value maps, kind “Tracking company”, channel value = the carrier as "
            f"{channel} writes it (Shopify: exactly as in its carrier list), Odoo value = "
            f"“{shipment.odoo_carrier}” or its delivery.carrier id; then Retry"
        )
    if error.category == "channel_auth":
        return f"Renew the API credentials of channel {channel}, then Retry"
    if error.category in ("validation", "data_conflict"):
        return (
            f"Open the order on {channel} and the delivery {shipment.odoo_picking_name} in "
            f"Odoo: if the channel already shows this shipment, Ignore; otherwise fix what the "
            f"error names (the line, the quantity, the carrier), then Retry"
        )
    return ""
