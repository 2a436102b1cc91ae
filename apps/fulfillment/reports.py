"""Carrier and 3PL status reports: `POST /api/v1/shipments/{id}/events/`.

`shipment_report_record` records one report in one transaction with everything it causes:

- a `ShipmentReport` row (with an `Idempotency-Key`, unique per shipment: a repeat finds the
  first report and records nothing; the same key with a different report is a conflict);
- the shipment's status: the status of its latest report by `happened_at` (a late report of an
  earlier scan does not move it back);
- the first `delivered` sets `delivered_at` and publishes `delivery.confirmed`;
- a `ShipmentSync(event)` for the channels the hub tells (Shopify adds a fulfillment event; the
  others have no place for it and skip).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.errors import PermanentError

from .business_events import delivery_confirmed
from .models import Shipment, ShipmentReport, ShipmentSync
from .sync import channel_is_told, sync_ring_after_commit


class IdempotencyKeyReused(PermanentError):
    """The same Idempotency-Key came with a different report."""


@dataclass(frozen=True)
class Recorded:
    report: ShipmentReport
    created: bool


def _same(
    report: ShipmentReport, *, status: str, happened_at: dt.datetime, message: str, location: str
) -> bool:
    return (
        report.status == status
        and report.happened_at == happened_at
        and report.message == message
        and report.location == location
    )


def shipment_report_record(
    *,
    shipment: Shipment,
    status: str,
    happened_at: dt.datetime,
    message: str = "",
    location: str = "",
    reported_by: str = "",
    idempotency_key: str = "",
) -> Recorded:
    if status not in ShipmentReport.Status.values:
        raise PermanentError(f"unknown status {status!r}", field="status")
    try:
        with transaction.atomic():
            return _record(
                shipment=shipment,
                status=status,
                happened_at=happened_at,
                message=message,
                location=location,
                reported_by=reported_by,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        # Two requests with one key at once: the other one won; answer with its report.
        first = ShipmentReport.objects.get(shipment=shipment, idempotency_key=idempotency_key)
        if not _same(
            first, status=status, happened_at=happened_at, message=message, location=location
        ):
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different report", field="Idempotency-Key"
            )
        return Recorded(first, False)


def _record(
    *,
    shipment: Shipment,
    status: str,
    happened_at: dt.datetime,
    message: str,
    location: str,
    reported_by: str,
    idempotency_key: str,
) -> Recorded:
    locked = (
        Shipment.objects.select_for_update()
        .select_related("order__channel", "channel")
        .get(pk=shipment.pk)
    )
    if idempotency_key:
        first = ShipmentReport.objects.filter(
            shipment=locked, idempotency_key=idempotency_key
        ).first()
        if first is not None:
            if not _same(
                first, status=status, happened_at=happened_at, message=message, location=location
            ):
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used for a different report",
                    field="Idempotency-Key",
                )
            return Recorded(first, False)
    latest = locked.reports.order_by("-happened_at", "-id").first()
    report = ShipmentReport.objects.create(
        shipment=locked,
        status=status,
        happened_at=happened_at,
        message=message[:500],
        location=location[:200],
        reported_by=reported_by[:200],
        idempotency_key=idempotency_key[:255],
    )
    fields = ["updated_at"]
    if latest is None or happened_at >= latest.happened_at:
        locked.status = status
        fields.append("status")
    first_delivery = status == ShipmentReport.Status.DELIVERED and locked.delivered_at is None
    if first_delivery:
        locked.delivered_at = happened_at
        fields.append("delivered_at")
    locked.save(update_fields=fields)
    if first_delivery:
        delivery_confirmed(shipment=locked, order=locked.order)
    if channel_is_told(locked.channel):
        sync = ShipmentSync.objects.create(
            shipment=locked,
            action=ShipmentSync.Action.EVENT,
            entity_key=f"shipment:{locked.pk}",
            rung_at=timezone.now(),
            request={
                "report": report.pk,
                "status": status,
                "happened_at": happened_at.isoformat(),
                "message": report.message,
                "location": report.location,
            },
        )
        sync_ring_after_commit(sync.pk)
    shipment.status, shipment.delivered_at = locked.status, locked.delivered_at
    return Recorded(report, True)
