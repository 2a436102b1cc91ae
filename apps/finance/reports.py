"""The payout report (gross, fees, refunds, adjustments, net, matched %), its CSV export and the
reconciliation metrics."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.utils import timezone

from . import metrics
from .models import ZERO, PaymentAccount, Payout, PayoutLine

SUMMARY_COLUMNS = (
    "account",
    "payout",
    "date",
    "currency",
    "gross",
    "refunds",
    "fees",
    "adjustments",
    "net",
    "difference",
    "lines",
    "matched",
    "matched_pct",
    "state",
    "odoo_entry",
)
LINE_COLUMNS = (
    "payout",
    "line",
    "type",
    "category",
    "currency",
    "amount",
    "fee",
    "net",
    "order",
    "transaction",
    "match",
    "reason",
    "suggestions",
)


def payout_summary(p: Payout) -> dict[str, Any]:
    return {
        "account": p.account.code,
        "payout": p.external_id,
        "date": p.date.isoformat(),
        "currency": p.currency,
        "gross": f"{p.gross:.2f}",
        "refunds": f"{p.refunds:.2f}",
        "fees": f"{p.fees:.2f}",
        "adjustments": f"{p.adjustments:.2f}",
        "net": f"{p.amount:.2f}",
        "difference": f"{p.difference:.2f}",
        "lines": p.line_count,
        "matched": p.matched_count,
        "matched_pct": f"{p.matched_pct:.1f}",
        "state": p.state,
        "odoo_entry": p.odoo_entry_name,
    }


def line_rows(payout: Payout) -> Iterator[dict[str, Any]]:
    for ln in payout.lines.select_related("order").order_by("pk").iterator(chunk_size=2000):
        yield {
            "payout": payout.external_id,
            "line": ln.external_id,
            "type": ln.type,
            "category": ln.category,
            "currency": ln.currency,
            "amount": f"{ln.amount:.2f}",
            "fee": f"{ln.fee:.2f}",
            "net": f"{ln.net:.2f}",
            "order": (ln.order.number or ln.order.external_id) if ln.order else "",
            "transaction": ln.source_transaction_id,
            "match": ln.match,
            "reason": ln.reason,
            "suggestions": "; ".join(ln.suggestions or []),
        }


def csv_text(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def payouts_csv(payouts: Iterable[Payout]) -> str:
    """One row per payout, then one per line of each (two tables, blank line between)."""
    chosen = list(payouts)
    summary = csv_text((payout_summary(p) for p in chosen), SUMMARY_COLUMNS)
    lines = csv_text((r for p in chosen for r in line_rows(p)), LINE_COLUMNS)
    return summary + "\n" + lines


def metrics_refresh() -> None:
    """Unreconciled net per account and currency; the age of the oldest unposted payout."""
    now = timezone.now()
    amounts: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    oldest: dict[str, float] = {}
    for account in PaymentAccount.objects.all():
        oldest[account.code] = 0.0
    open_ = Payout.objects.exclude(state=Payout.State.POSTED).select_related("account")
    for p in open_.only("amount", "currency", "imported_at", "account__code"):
        amounts[(p.account.code, p.currency)] += p.amount
        age = (now - p.imported_at).total_seconds()
        oldest[p.account.code] = max(oldest.get(p.account.code, 0.0), age)
    for (code, currency), amount in amounts.items():
        metrics.UNRECONCILED_AMOUNT.labels(code, currency).set(float(amount))
    for code, age in oldest.items():
        metrics.OLDEST_UNRECONCILED.labels(code).set(age)


def unexplained(payout: Payout) -> list[PayoutLine]:
    return list(payout.lines.filter(match=PayoutLine.Match.UNEXPLAINED).order_by("pk"))
