"""Intake: validation, the upsert of a channel order, and what an update means.

- (channel, external_id) is unique: concurrent deliveries of one order end on ONE row. Intake
  locks that row (SELECT ... FOR UPDATE; SQLite serialises writers anyway) for the whole
  upsert, so create/update/cancel of one order apply one after the other (per-entity order).
- An older version of an order (channel updated_at) never overwrites a newer one, so an update
  that arrives before its create works and the late create is ignored.
- A new or changed pre-Odoo order is judged (holds.py); a cancellation or an edit of an order
  already in Odoo goes to cancel.py or edits.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction

from apps.core.canonical import Order
from apps.core.context import get_correlation_id
from apps.core.errors import ConfigurationError
from apps.sales_channels.models import Channel

from . import metrics
from .business_events import order_accepted
from .cancel import cancel_after_push
from .codec import content_fingerprint, order_to_json, payload_hash
from .edits import edit_after_push
from .errors import OrderRejected
from .holds import evaluate
from .models import PRE_ODOO_STATES, ChannelOrder, OrderLine, OrderState, OrderTransition
from .transitions import odoo_reference
from .validation import currency_check

logger = logging.getLogger(__name__)


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
                order_accepted(row)
                evaluate(row=row, channel=channel, actor=actor)
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
        in_odoo = maybe_in_odoo(row)
        _row_update(row=row, order=order, data=data, digest=digest, in_odoo=in_odoo)
        if not in_odoo:
            evaluate(row=row, channel=channel, actor=actor)
        elif _is_cancelled(order):
            cancel_after_push(row=row, actor=actor)
        elif _content_changed(before, data):
            # A payment or fulfilment status update is not an edit; lines or addresses are.
            edit_after_push(row=row, data=data)
        elif row.edit_payload is not None:
            # Edited back to what Odoo has: the pending edit is void.
            row.edit_payload = None
            row.save(update_fields=["edit_payload", "updated_at"])
    return row, False


def maybe_in_odoo(row: ChannelOrder) -> bool:
    """Whether Odoo may hold this order: it is past the push, or a push attempt failed after it
    may have created the sale order (an answer lost after the commit) and the order waits for
    the retry, which will find it by reference. A cancellation or an edit of such an order waits
    for the push to bind it, as for a push in flight; applied to the row alone it would leave a
    sale order the hub no longer knows about (found by the chaos run, docs/reliability.md)."""
    return row.state not in PRE_ODOO_STATES or (row.state == OrderState.READY and row.attempts > 0)


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


def _row_update(
    *, row: ChannelOrder, order: Order, data: dict[str, Any], digest: str, in_odoo: bool
) -> None:
    fields = _order_fields(order, data, digest)
    if in_odoo:
        # The Odoo order exists (or may): keep what it was built from (edits are separate).
        fields = {
            k: fields[k]
            for k in ("financial_status", "source_status", "source_version", "cancel_wanted")
        }
    for key, value in fields.items():
        setattr(row, key, value)
    row.save(update_fields=[*fields, "updated_at"])
    if not in_odoo:
        _lines_replace(row, order)
