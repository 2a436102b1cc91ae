"""Adopting the legacy connector's sale orders: bind them to hub orders, write nothing to Odoo.

`orders_adopt` pages through the channel's confirmed, open legacy orders since a date (one
`sale.order.search_read` per 1,000, the match rule's `=like`), finds the hub order each names
(the rule's placeholders, one query per page) and binds it: `odoo_id`, `odoo_name`, the partner
and the total, an `Adoption` row (unique per hub order and per Odoo order) and a history entry.
A hub order that was not in Odoo yet (received, held, ready, failed) moves to `in_odoo`, so the
push never makes a second sale order for it. Lines without an Odoo product get the one on the
Odoo order's line of the same SKU, so a shipment's moves fall on them (apps.fulfillment).

From then on the order is the hub's like any other: edits and cancellations go to Odoo by
`odoo_id`, and a delivery of that sale order is recognised as the hub's (`sale_id` = `odoo_id`).

Idempotent: an order already bound to that sale order is counted as `already`. What it cannot
match is reported both ways: legacy orders naming no hub order, hub orders of the window with
no legacy order, and conflicts (bound elsewhere, cancelled on the channel, being pushed).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.orders.models import PRE_ODOO_STATES, ChannelOrder, OrderLine, OrderState
from apps.orders.models import OrderTransition as History
from apps.sales_channels.models import Channel

from .models import Adoption
from .odoo import odoo_time
from .rules import MatchRule

logger = logging.getLogger(__name__)

ACTOR = "migration adopt"


@dataclass
class AdoptReport:
    adopted: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)
    # Legacy orders the hub could not take: no hub order, a quotation, a conflict.
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    # Hub orders of the window that Odoo has no open legacy order for.
    hub_only: list[dict[str, Any]] = field(default_factory=list)
    rpcs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "adopted": self.adopted,
            "already": self.already,
            "unmatched": self.unmatched,
            "hub_only": self.hub_only,
            "rpcs": self.rpcs,
        }


def _entry(
    order: ChannelOrder | None, odoo: dict[str, Any] | None, why: str = ""
) -> dict[str, Any]:
    return {
        "order": (order.number or order.external_id) if order else "",
        "reference": order.odoo_ref if order else "",
        "odoo_id": odoo["id"] if odoo else None,
        "odoo_name": odoo["name"] if odoo else "",
        "match": str(odoo.get("match") or "") if odoo else "",
        "why": why,
    }


def orders_adopt(
    *,
    channel: Channel,
    since: dt.datetime,
    until: dt.datetime | None = None,
    dry_run: bool = False,
    actor: str = ACTOR,
    gateway: Any = None,
) -> AdoptReport:
    from apps.odoo.gateway import OdooGateway, get_gateway

    from .odoo import RpcCounter

    rule = MatchRule.of(channel)
    counter = RpcCounter((gateway or get_gateway()).client)
    gw = OdooGateway(counter)  # type: ignore[arg-type]
    report = AdoptReport()
    seen: set[int] = set()
    after = 0
    while True:
        page = gw.legacy_orders_search(
            field=rule.field,
            like=rule.like(),
            domain=rule.domain,
            since=odoo_time(since),
            until=odoo_time(until) if until else None,
            open_only=True,
            after_id=after,
        )
        if not page:
            break
        after = page[-1]["id"]
        mine = [o for o in page if not str(o.get("origin") or "").startswith(f"{channel.code}:")]
        hub = rule.hub_orders(channel, [str(o["match"]) for o in mine if o["match"]])
        needs_products = [
            o
            for o in mine
            if (row := hub.get(str(o["match"] or ""))) is not None
            and row.lines.filter(product_id__isnull=True).exists()
        ]
        if needs_products:
            gw.legacy_orders_details(orders=needs_products)
        for odoo in mine:
            row = hub.get(str(odoo["match"] or ""))
            if row is None:
                report.unmatched.append(
                    _entry(None, odoo, "no hub order: the hub never received it from the channel")
                )
                continue
            if row.pk in seen:
                report.unmatched.append(
                    _entry(row, odoo, "a second legacy order for the same channel order")
                )
                continue
            seen.add(row.pk)
            if odoo["state"] != "sale":
                report.unmatched.append(_entry(row, odoo, "a quotation, not a confirmed order"))
                continue
            outcome, why = order_adopt(row=row, odoo=odoo, rule=rule, actor=actor, dry_run=dry_run)
            target = {"adopted": report.adopted, "already": report.already}.get(
                outcome, report.unmatched
            )
            target.append(_entry(row, odoo, why))
        if len(page) < 1000:
            break
    hub_only = (
        ChannelOrder.objects.filter(
            channel=channel, channel_created_at__gte=since, odoo_id__isnull=True
        )
        .exclude(state=OrderState.CANCELLED)
        .exclude(pk__in=seen)
        .order_by("channel_created_at", "id")
    )
    if until is not None:
        hub_only = hub_only.filter(channel_created_at__lt=until)
    for row in hub_only[:1000]:
        report.hub_only.append(_entry(row, None, f"no open legacy order ({row.state})"))
    report.rpcs = counter.calls
    logger.info(
        "adopt %s: %d adopted, %d already, %d unmatched, %d hub orders without a legacy order",
        channel.code,
        len(report.adopted),
        len(report.already),
        len(report.unmatched),
        len(report.hub_only),
    )
    return report


def order_adopt(
    *,
    row: ChannelOrder,
    odoo: dict[str, Any],
    rule: MatchRule,
    actor: str = ACTOR,
    dry_run: bool = False,
) -> tuple[str, str]:
    """Bind hub order `row` to the legacy sale order `odoo`. Returns (outcome, why): adopted,
    already, or conflict with the reason."""
    now = timezone.now()
    with transaction.atomic():
        locked = ChannelOrder.objects.select_for_update().filter(pk=row.pk).first()
        if locked is None:
            return "conflict", "the hub order is gone"
        if locked.odoo_id == odoo["id"]:
            return "already", ""
        if locked.odoo_id:
            return (
                "conflict",
                f"the hub order is bound to Odoo {locked.odoo_name or locked.odoo_id}",
            )
        other = Adoption.objects.filter(odoo_id=odoo["id"]).exclude(order=locked).first()
        if other is not None:
            return "conflict", f"Odoo {odoo['name']} is adopted by another hub order"
        if locked.state == OrderState.PUSHING:
            return "conflict", "the hub is pushing this order right now: adopt again later"
        if locked.state == OrderState.CANCELLED:
            return "conflict", "cancelled on the channel but open in Odoo: cancel it in Odoo"
        if dry_run:
            return "adopted", "dry run"
        to = OrderState.IN_ODOO if locked.state in PRE_ODOO_STATES else locked.state
        total = odoo.get("amount_total")
        ChannelOrder.objects.filter(pk=locked.pk, state=locked.state).update(
            state=to,
            odoo_id=odoo["id"],
            odoo_name=str(odoo.get("name") or "")[:64],
            odoo_partner_id=odoo.get("partner_id"),
            odoo_amount_total=Decimal(str(total)).quantize(Decimal("0.01"))
            if total is not None
            else None,
            next_attempt_at=None,
            lease_until=None,
            updated_at=now,
        )
        History.objects.create(
            order=locked,
            from_state=locked.state,
            to_state=to,
            actor=actor[:200],
            reason=f"adopted Odoo {odoo.get('name')} made by the legacy connector "
            f"({rule.field} = {odoo.get('match')}); nothing written to Odoo",
        )
        Adoption.objects.create(
            channel=locked.channel,
            order=locked,
            odoo_id=odoo["id"],
            odoo_name=str(odoo.get("name") or "")[:64],
            key=str(odoo.get("match") or "")[:255],
            actor=actor[:200],
        )
        _fill_products(locked, odoo)
    return "adopted", ""


def _fill_products(row: ChannelOrder, odoo: dict[str, Any]) -> None:
    """Lines with no Odoo product take the product of the Odoo line with the same SKU."""
    by_sku = {ln["sku"]: ln["product_id"] for ln in odoo.get("lines") or () if ln.get("sku")}
    for line in OrderLine.objects.filter(order=row, product_id__isnull=True):
        pid = by_sku.get(line.sku)
        if pid:
            OrderLine.objects.filter(pk=line.pk).update(product_id=pid)
