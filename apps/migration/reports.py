"""The dual-run report of a channel over a window: mismatch rates per class and per field, the
orders behind each class, the verdict against the channel's threshold, the CSV export, and the
inbox items of differences that repeat.

Rates are over the orders of the window that took part: the hub orders compared (same,
different, missing) plus the legacy orders the hub never received (extra). An order counts once
per class (and once per field) however many of its lines differ. Orders that could not be
compared (held, failed, unbuildable) have their own rate, and the run is clean only when every
class, and that rate, is under `Channel.dual_run_threshold_pct`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.query import QuerySet

from apps.core.errors import DataConflict
from apps.sales_channels.models import Channel

from .models import DiffClass, DiffRun, ShadowDiff, ShadowDifference

EXAMPLES = 5
NOT_COMPARED = "not_compared"


def window_diffs(
    *, channel: Channel, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[ShadowDiff]:
    rows = ShadowDiff.objects.filter(channel=channel)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows


def _pct(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def diff_report(
    *, channel: Channel, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[str, Any]:
    """The window's figures (JSON-safe: rates as strings, in percent)."""
    diffs = window_diffs(channel=channel, since=since, until=until)
    outcomes = dict(
        diffs.order_by().values("outcome").annotate(n=Count("id")).values_list("outcome", "n")
    )
    took_part = sum(n for o, n in outcomes.items() if o != ShadowDiff.Outcome.NOT_COMPARED)
    not_compared = outcomes.get(ShadowDiff.Outcome.NOT_COMPARED, 0)
    items = ShadowDifference.objects.filter(diff__in=diffs)
    per_class = dict(
        items.order_by()
        .values("klass")
        .annotate(n=Count("diff", distinct=True))
        .values_list("klass", "n")
    )
    per_field = list(
        items.order_by()
        .values("klass", "field")
        .annotate(n=Count("diff", distinct=True))
        .order_by("-n", "field")
    )
    threshold = Decimal(channel.dual_run_threshold_pct)
    classes: dict[str, Any] = {}
    for klass in DiffClass:
        n = per_class.get(klass.value, 0)
        rate = _pct(n, took_part)
        examples = list(
            diffs.filter(items__klass=klass.value)
            .distinct()
            .order_by("created_at", "id")
            .values_list("number", "odoo_name")[:EXAMPLES]
        )
        classes[klass.value] = {
            "label": klass.label,
            "orders": n,
            "rate_pct": str(rate),
            "over": n > 0 and rate >= threshold,
            "examples": [num or name for num, name in examples],
        }
    nc_rate = _pct(not_compared, took_part + not_compared)
    over = [k for k, v in classes.items() if v["over"]]
    if not_compared and nc_rate >= threshold:
        over.append(NOT_COMPARED)
    clean = took_part > 0 and not over
    return {
        "channel": channel.code,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
        "orders": took_part,
        "matched": outcomes.get(ShadowDiff.Outcome.MATCH, 0),
        "different": outcomes.get(ShadowDiff.Outcome.DIFFERENT, 0),
        "missing": outcomes.get(ShadowDiff.Outcome.MISSING, 0),
        "extra": outcomes.get(ShadowDiff.Outcome.EXTRA, 0),
        "not_compared": not_compared,
        "not_compared_pct": str(nc_rate),
        "threshold_pct": str(threshold),
        "classes": classes,
        "fields": [
            {
                "field": f["field"],
                "class": f["klass"],
                "orders": f["n"],
                "rate_pct": str(_pct(f["n"], took_part)),
            }
            for f in per_field
        ],
        "over": over,
        "clean": clean,
        "verdict": (
            "no orders compared yet"
            if not took_part
            else "clean"
            if clean
            else "not clean: " + ", ".join(over) + f" at or over {threshold}%"
        ),
    }


def orders_of_class(
    *,
    channel: Channel,
    klass: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[ShadowDiff]:
    """The comparisons behind one class (or `not_compared`), oldest order first."""
    diffs = window_diffs(channel=channel, since=since, until=until)
    if klass == NOT_COMPARED:
        rows = diffs.filter(outcome=ShadowDiff.Outcome.NOT_COMPARED)
    else:
        rows = diffs.filter(items__klass=klass).distinct()
    return rows.order_by("created_at", "id")


CSV_HEADER = [
    "channel",
    "order_number",
    "hub_reference",
    "created_at",
    "odoo_order",
    "outcome",
    "class",
    "field",
    "sku",
    "hub",
    "odoo",
    "detail",
]


def diff_csv(
    *,
    channel: Channel,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    klass: str = "",
) -> str:
    """One line per difference, and one per order without any (same, or not compared)."""
    diffs = (
        orders_of_class(channel=channel, klass=klass, since=since, until=until)
        if klass
        else window_diffs(channel=channel, since=since, until=until).order_by("created_at", "id")
    )
    return diffs_csv(diffs, klass=klass)


def diffs_csv(diffs: QuerySet[ShadowDiff], *, klass: str = "") -> str:
    """The CSV of any set of comparisons (the admin exports its selection with it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for diff in diffs.select_related("order", "channel").prefetch_related("items"):
        head = [
            diff.channel.code,
            diff.number,
            diff.order.odoo_ref if diff.order else "",
            diff.created_at.isoformat(),
            diff.odoo_name,
            diff.outcome,
        ]
        items = [i for i in diff.items.all() if not klass or i.klass == klass]
        if not items:
            writer.writerow([*head, "", "", "", "", "", diff.detail])
        for item in items:
            writer.writerow(
                [*head, item.klass, item.field, item.sku, item.hub, item.odoo, item.detail]
            )
    return out.getvalue()


def inbox_update(*, channel: Channel, run: DiffRun, report: dict[str, Any]) -> None:
    """ONE inbox item per repeated class of differences, with examples; resolve the item of a
    class that is now under the threshold."""
    from apps.inbox.models import Issue, Status
    from apps.inbox.services import issue_report, issue_resolve

    minimum = int(getattr(settings, "HUB_MIGRATION_REPEAT_MIN", 3))
    for klass, figures in report["classes"].items():
        key = f"migration_diff:{channel.code}:{klass}"
        if figures["over"] and figures["orders"] >= minimum:
            examples = list(
                orders_of_class(
                    channel=channel,
                    klass=klass,
                    since=run.since,
                    until=run.until,
                ).prefetch_related("items")[:EXAMPLES]
            )
            error = DataConflict(
                f"Dual run of channel {channel.code}: {figures['label'].lower()} differs from the "
                f"legacy connector on {figures['orders']} of {report['orders']} orders "
                f"({figures['rate_pct']}%, threshold {report['threshold_pct']}%)",
                channel=channel.code,
                difference_class=klass,
                orders=figures["orders"],
                rate_pct=figures["rate_pct"],
                examples=[_example(d, klass) for d in examples],
            )
            for diff in examples:
                issue_report(
                    error=error,
                    key=key,
                    row=diff,
                    channel_code=channel.code,
                    order_number=examples[0].number,
                )
            continue
        for issue in Issue.objects.filter(key=key, status__in=(Status.OPEN, Status.SNOOZED)):
            issue_resolve(
                issue=issue,
                user=None,
                note=f"Dual run of {channel.code} on {run.started_at:%Y-%m-%d %H:%M}: "
                f"{klass} on {figures['rate_pct']}% of orders, under the threshold.",
            )


def _example(diff: ShadowDiff, klass: str) -> dict[str, Any]:
    items = [i for i in diff.items.all() if i.klass == klass][:3]
    return {
        "order": diff.number,
        "odoo": diff.odoo_name,
        "differences": [
            {"field": i.field, "sku": i.sku, "hub": i.hub, "odoo": i.odoo} for i in items
        ],
    }
