"""The dual-run diff of a channel: each hub order in shadow against the legacy connector's.

1. The hub orders of the window (created on the channel in [since, until)) that the hub did not
   push itself: the shadow orders (their `shadow_payload`), and the held or failed ones (not
   compared: the hub would not have sent them).
2. In batches of `HUB_MIGRATION_DIFF_BATCH` (200): ONE `sale.order.search_read` on the match
   rule's values, then lines, partners and SKUs for the whole batch (3 calls, fewer once SKUs
   and countries are known): `OdooGateway.legacy_orders_find`.
3. Each order compared field by field (compare.py) and stored: one `ShadowDiff` per hub order,
   replaced by the next run, with its classified `ShadowDifference`s.
4. The legacy orders of the window that name no hub order: `extra` (paged by id, one search per
   1,000; orders carrying a hub reference in `origin` are the hub's own and are left out).
5. The window's report (reports.py); a class over the channel's threshold on at least
   `HUB_MIGRATION_REPEAT_MIN` orders opens ONE inbox item (key `migration_diff:<code>:<class>`)
   with examples; a class back under it resolves that item.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.orders.models import ChannelOrder, OrderState
from apps.sales_channels.models import Channel

from .compare import Difference, compare, hub_sale_order
from .models import DiffClass, DiffRun, ShadowDiff, ShadowDifference
from .odoo import RpcCounter, odoo_time, parse_odoo_time
from .rules import MatchRule

logger = logging.getLogger(__name__)


def _batch_size() -> int:
    return int(getattr(settings, "HUB_MIGRATION_DIFF_BATCH", 200))


def window_orders(channel: Channel, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    """The hub orders a diff compares: not pushed by the hub, recorded in shadow (or held)."""
    rows = ChannelOrder.objects.filter(channel=channel, odoo_id__isnull=True).exclude(
        state=OrderState.CANCELLED
    )
    if since is not None:
        rows = rows.filter(channel_created_at__gte=since)
    if until is not None:
        rows = rows.filter(channel_created_at__lt=until)
    return rows.filter(
        Q(shadow_payload__isnull=False) | Q(state__in=(OrderState.HELD, OrderState.FAILED))
    ).order_by("id")


def diff_run(
    *,
    channel: Channel,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    actor: str = "migration diff",
    gateway: Any = None,
) -> DiffRun:
    """Compare the channel's window with Odoo, store every comparison, report. Read-only on
    Odoo; safe to run again (each order's comparison is replaced)."""
    from apps.odoo.gateway import OdooGateway, get_gateway

    from .reports import diff_report, inbox_update

    rule = MatchRule.of(channel)
    base = gateway or get_gateway()
    counter = RpcCounter(base.client)
    gw = OdooGateway(cast(Any, counter))
    run = DiffRun.objects.create(channel=channel, since=since, until=until, actor=actor[:200])
    known_keys: set[str] = set()
    ids = list(window_orders(channel, since, until).values_list("id", flat=True))
    size = _batch_size()
    for start in range(0, len(ids), size):
        rows = list(
            ChannelOrder.objects.filter(pk__in=ids[start : start + size])
            .select_related("channel")
            .order_by("id")
        )
        known_keys |= _compare_batch(gw, rule, channel, rows, run)
        run.batches += 1
    # An order compared before that left the diff's scope (pushed, adopted, cancelled since).
    gone = ShadowDiff.objects.filter(channel=channel, order__isnull=False).exclude(run=run)
    if since is not None:
        gone = gone.filter(created_at__gte=since)
    if until is not None:
        gone = gone.filter(created_at__lt=until)
    gone.delete()
    run.extra = _extras(gw, rule, channel, run, since, until, known_keys)
    run.rpcs = counter.calls
    run.finished_at = timezone.now()
    report = diff_report(channel=channel, since=since, until=until)
    run.summary = report
    run.is_clean = bool(report["clean"])
    run.save()
    inbox_update(channel=channel, run=run, report=report)
    logger.info(
        "diff of %s: %d compared, %d different, %d missing, %d extra, %d RPCs",
        channel.code,
        run.compared,
        run.different,
        run.missing,
        run.extra,
        run.rpcs,
    )
    return run


def _compare_batch(
    gw: Any, rule: MatchRule, channel: Channel, rows: list[ChannelOrder], run: DiffRun
) -> set[str]:
    keys = {r.pk: rule.key(r) for r in rows}
    comparable = [r for r in rows if hub_sale_order(r) is not None and keys[r.pk]]
    found = (
        gw.legacy_orders_find(
            field=rule.field, values=[keys[r.pk] for r in comparable], domain=rule.domain
        )
        if comparable
        else {}
    )
    skus = {ln["product_id"]: ln["sku"] for os in found.values() for o in os for ln in o["lines"]}
    skus.update(_hub_skus(rows))
    now = timezone.now()
    for row in rows:
        key = keys[row.pk]
        so = hub_sale_order(row)
        odoo: dict[str, Any] | None = None
        diffs: list[Difference] = []
        detail = ""
        if so is None or not key:
            outcome = ShadowDiff.Outcome.NOT_COMPARED
            detail = _why_not(row, key)
        else:
            candidates = found.get(key) or []
            live = [o for o in candidates if o["state"] != "cancel"]
            if not live:
                outcome = ShadowDiff.Outcome.MISSING
                diffs = [Difference(DiffClass.MISSING, "order", key, "")]
                if candidates:
                    detail = f"only cancelled orders in Odoo: {_names(candidates)}"
            else:
                odoo = live[0]
                diffs = compare(row, odoo, skus)
                if len(live) > 1:
                    diffs.append(
                        Difference(
                            DiffClass.EXTRA,
                            "order.duplicate",
                            key,
                            _names(live[1:]),
                            detail="the legacy connector made this order more than once",
                        )
                    )
                outcome = ShadowDiff.Outcome.DIFFERENT if diffs else ShadowDiff.Outcome.MATCH
        _store(
            channel=channel,
            run=run,
            order=row,
            key=key,
            number=row.number or row.external_id,
            odoo=odoo,
            outcome=outcome,
            diffs=diffs,
            detail=detail,
            created_at=row.channel_created_at,
            now=now,
        )
        _count(run, outcome)
    return {k for k in keys.values() if k}


def _hub_skus(rows: Sequence[ChannelOrder]) -> dict[int, str]:
    from apps.orders.models import OrderLine

    return {
        int(pid or 0): sku
        for pid, sku in OrderLine.objects.filter(
            order__in=list(rows), product_id__isnull=False
        ).values_list("product_id", "sku")
    }


def _why_not(row: ChannelOrder, key: str) -> str:
    if not key:
        return "the order lacks what the match pattern needs"
    if row.state == OrderState.HELD:
        return f"held ({row.hold_reason}): the hub would not have sent it yet"
    if row.state == OrderState.FAILED:
        return f"failed in the hub: {row.last_error[:300]}"
    error = (row.shadow_payload or {}).get("error")
    return f"the hub could not build it: {str(error)[:300]}" if error else "no shadow payload"


def _names(orders: Sequence[dict[str, Any]]) -> str:
    return ", ".join(str(o.get("name") or o["id"]) for o in orders)


def _count(run: DiffRun, outcome: str) -> None:
    if outcome == ShadowDiff.Outcome.NOT_COMPARED:
        run.not_compared += 1
        return
    run.compared += 1
    if outcome == ShadowDiff.Outcome.MATCH:
        run.matched += 1
    elif outcome == ShadowDiff.Outcome.DIFFERENT:
        run.different += 1
    elif outcome == ShadowDiff.Outcome.MISSING:
        run.missing += 1


def _store(
    *,
    channel: Channel,
    run: DiffRun,
    order: ChannelOrder | None,
    key: str,
    number: str,
    odoo: dict[str, Any] | None,
    outcome: str,
    diffs: list[Difference],
    detail: str,
    created_at: dt.datetime,
    now: dt.datetime,
) -> ShadowDiff:
    values = {
        "run": run,
        "key": key[:255],
        "number": number[:255],
        "odoo_id": odoo["id"] if odoo else None,
        "odoo_name": (odoo or {}).get("name", "")[:64],
        "outcome": outcome,
        "classes": sorted({d.klass for d in diffs}),
        "detail": detail[:500],
        "created_at": created_at,
        "compared_at": now,
    }
    with transaction.atomic():
        if order is not None:
            diff, _ = ShadowDiff.objects.update_or_create(
                channel=channel, order=order, defaults=values
            )
        else:
            assert odoo is not None
            diff, _ = ShadowDiff.objects.update_or_create(
                channel=channel, order=None, odoo_id=odoo["id"], defaults=values
            )
        ShadowDifference.objects.filter(diff=diff).delete()
        ShadowDifference.objects.bulk_create(
            ShadowDifference(
                diff=diff,
                klass=d.klass,
                field=d.field[:64],
                hub=d.hub[:500],
                odoo=d.odoo[:500],
                sku=d.sku[:255],
                detail=d.detail[:500],
            )
            for d in diffs
        )
    return diff


def _extras(
    gw: Any,
    rule: MatchRule,
    channel: Channel,
    run: DiffRun,
    since: dt.datetime | None,
    until: dt.datetime | None,
    known: set[str],
) -> int:
    """Legacy orders of the window that name no hub order of the channel."""
    hub_prefix = f"{channel.code}:"
    after, count, now = 0, 0, timezone.now()
    seen_ids: list[int] = []
    while True:
        page = gw.legacy_orders_search(
            field=rule.field,
            like=rule.like(),
            domain=rule.domain,
            since=odoo_time(since) if since else None,
            until=odoo_time(until) if until else None,
            after_id=after,
        )
        if not page:
            break
        after = page[-1]["id"]
        fresh = [
            o
            for o in page
            if o["state"] != "cancel"
            and str(o["match"] or "") not in known
            and not str(o.get("origin") or "").startswith(hub_prefix)
        ]
        hub = rule.hub_orders(channel, [str(o["match"]) for o in fresh if o["match"]])
        for o in fresh:
            if str(o["match"] or "") in hub:
                continue  # the hub has it, outside the window or not in shadow: not an extra
            _store(
                channel=channel,
                run=run,
                order=None,
                key=str(o["match"] or ""),
                number=str((rule.parse(str(o["match"] or "")) or {}).get("number", "")),
                odoo=o,
                outcome=ShadowDiff.Outcome.EXTRA,
                diffs=[Difference(DiffClass.EXTRA, "order", "", str(o["name"]))],
                detail="the hub never received this order from the channel",
                created_at=parse_odoo_time(o["date_order"]) or now,
                now=now,
            )
            seen_ids.append(o["id"])
            count += 1
        if len(page) < 1000:
            break
    # An extra that the hub has received since, or that left the window, is no longer one.
    stale = ShadowDiff.objects.filter(channel=channel, order__isnull=True).exclude(
        odoo_id__in=seen_ids
    )
    if since is not None:
        stale = stale.filter(created_at__gte=since)
    if until is not None:
        stale = stale.filter(created_at__lt=until)
    stale.delete()
    return count
