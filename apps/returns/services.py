"""B2B returns: the portal asks, Odoo decides (docs/returns.md).

`b2b_return_request(channel, order, lines)` checks each line against what Odoo shipped minus
what is already returned or expected back, and in ONE transaction records the `ChannelReturn`
(source b2b, external id `b2b-<hex>`), an `ODOO_RETURN` row (Odoo makes the return picking,
origin `<channel>:return:<id>`) and `return.requested`. Receiving it in Odoo makes the credit
note (receipts.py), posted as the channel's `post_credit_notes` says.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from apps.core.errors import PermanentError
from apps.orders.models import ChannelOrder, OrderState

from .business_events import return_requested
from .intake import new_sync, returnable_by_sku, shipped_by_sku
from .models import ChannelReturn, ReturnLine, ReturnSync


class ReturnRefused(PermanentError):
    """A return that cannot be asked for (422): `field` names the offending input."""

    category = "validation"


def b2b_return_request(*, order: ChannelOrder, lines: Sequence[dict[str, Any]]) -> ChannelReturn:
    with transaction.atomic():
        order = ChannelOrder.objects.select_for_update().select_related("channel").get(pk=order.pk)
        if order.state == OrderState.CANCELLED:
            raise ReturnRefused("the order is cancelled", field="order_id")
        left = returnable_by_sku(order)
        shipped = shipped_by_sku(order)
        asked: Counter[str] = Counter()
        for i, ln in enumerate(lines):
            sku, qty = str(ln["sku"]), int(ln["quantity"])
            if not shipped.get(sku):
                raise ReturnRefused(f"{sku} was not shipped on this order", field=f"lines[{i}].sku")
            asked[sku] += qty
            if asked[sku] > left.get(sku, 0):
                raise ReturnRefused(
                    f"{asked[sku]} x {sku} asked, {left.get(sku, 0)} left to return "
                    f"(shipped {shipped[sku]})",
                    field=f"lines[{i}].quantity",
                )
        ret = ChannelReturn.objects.create(
            channel=order.channel,
            order=order,
            external_id=f"b2b-{uuid.uuid4().hex[:16]}",
            source=ChannelReturn.Source.B2B,
            state=ChannelReturn.State.APPROVED,
            reason="; ".join(sorted({str(ln.get("reason") or "") for ln in lines} - {""}))[:500],
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(
                ret=ret,
                sku=str(ln["sku"])[:255],
                quantity=int(ln["quantity"]),
                reason=str(ln.get("reason") or "")[:255],
            )
            for ln in lines
        )
        return_requested(ret=ret)
        new_sync(ReturnSync.Action.ODOO_RETURN, order=order, ret=ret)
    return ret
