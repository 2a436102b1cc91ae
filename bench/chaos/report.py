"""The chaos run's report: the plan, the fault schedule as planned and as applied, the deliveries,
the accounting table, time to consistency, restarts, and every inbox item left with its cause."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .accounting import Accounting
from .faults import Applied
from .observe import InboxItem

# What an inbox item's key says about its cause (apps/*: the keys the flows report under).
KEY_CAUSES = {
    "order_ack:": "the status sent back to the channel failed (acknowledgement)",
    "amount_mismatch:": "Odoo's total differs from the channel's",
    "order_edit:": "an edit could not be applied in Odoo",
    "order_edit_after_push:": "an edit arrived after the order shipped or was split",
    "cancel_after_shipment:": "a cancellation arrived after shipment",
    "sku:": "an order line's SKU is not mapped",
    "anomaly:slo:": "the faults held orders back past the service level: the alarm is right",
    "anomaly:spike:": "the faults and the backlog they left raised a measure: the alarm is right",
    "anomaly:unusual:": (
        "an order far outside its customer's earlier totals: the run draws every order's lines "
        "and quantities at random (and edits raise them), so about 2 in 1,000 are outliers by "
        "the unusual-order check's own rule; the check is right to ask"
    ),
    "anomaly:silence:": (
        "the polling backstop read order versions no webhook announced: the stand-in's own "
        "change (the acknowledgement's tag) fires no orders/updated, and no delivery was lost"
    ),
}
GRACE_SECONDS = 120.0  # an item first seen this long after a fault ended is still its echo


def table(rows: list[tuple[str, str, str]], head: tuple[str, str, str]) -> list[str]:
    out = [f"| {head[0]} | {head[1]} | {head[2]} |", "|---|---:|---:|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return out


def fault_lines(applied: list[Applied]) -> list[str]:
    rows = []
    for a in applied:
        f = a.fault
        actual = f"{a.began:.0f} to {a.ended:.0f} s" if f.seconds else f"{a.began:.0f} s"
        note = a.error or a.note
        rows.append(f"| {f.at:.0f} s | {actual} | {f.describe()} | {note} |")
    return ["| planned | applied | fault | note |", "|---:|---:|---|---|", *rows]


def cause(item: InboxItem, applied: list[Applied], start_wall: float) -> str:
    """The fault whose window (plus a grace) holds the item's first sighting, and what its
    key says."""
    seen = item.first_seen.timestamp() - start_wall
    during = [
        a.fault.describe()
        for a in applied
        if a.began - 5 <= seen <= a.ended + GRACE_SECONDS and a.fault.kind != "kill"
    ] + [
        f"kill of {a.fault.target}"
        for a in applied
        if a.fault.kind == "kill" and a.began - 5 <= seen <= a.began + GRACE_SECONDS
    ]
    by_key = next((why for prefix, why in KEY_CAUSES.items() if item.key.startswith(prefix)), "")
    parts = [p for p in (by_key, "during: " + "; ".join(during) if during else "") if p]
    return " — ".join(parts) or "no fault active when first seen"


def unexplained(items: list[InboxItem], applied: list[Applied], start_wall: float) -> list[str]:
    """Items no fault and no known key explains, and failures nobody classified (category
    unknown): each is a defect to fix, so each fails the run."""
    return [
        f"{i.key} ({i.category}): {i.title[:120]}"
        for i in items
        if i.category == "unknown" or cause(i, applied, start_wall).startswith("no fault")
    ]


def inbox_lines(items: list[InboxItem], applied: list[Applied], start_wall: float) -> list[str]:
    if not items:
        return ["Inbox: no item left open."]
    out = [
        f"Inbox: {len(items)} item(s) not resolved:",
        "| first seen | key | category | status | rows (open) | title | cause |",
        "|---:|---|---|---|---:|---|---|",
    ]
    for i in items:
        at = i.first_seen.timestamp() - start_wall
        out.append(
            f"| {at:.0f} s | {i.key} | {i.category} | {i.status} | {i.rows} ({i.open_rows}) | "
            f"{i.title[:90]} | {cause(i, applied, start_wall)} |"
        )
    return out


def render(
    *,
    args: dict[str, Any],
    counts: dict[str, int],
    applied: list[Applied],
    sent: dict[str, Any],
    acc: Accounting,
    consistency: dict[str, Any],
    restarts: dict[str, int],
    inbox: list[InboxItem],
    start_wall: float,
    extra: list[tuple[str, str, str]],
    verdict: list[str],
) -> str:
    lines = [
        f"# Chaos run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "Command: " + args["command"],
        "Plan: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        "",
        "## Fault schedule (seconds after the first send)",
        *fault_lines(applied),
        "",
        "## Deliveries",
        ", ".join(f"{k}: {v}" for k, v in sent.items()),
        "",
        "## Accounting",
        *table(acc.rows() + extra, ("measure", "value", "must be")),
        "",
        "Expected final states: " + ", ".join(f"{k} {v}" for k, v in sorted(acc.by_state.items())),
        "",
        "## Consistency",
        ", ".join(f"{k}: {v}" for k, v in consistency.items()),
        "",
        "Restarts by the supervisor: " + ", ".join(f"{k} {v}" for k, v in restarts.items() if v),
        "",
        *inbox_lines(inbox, applied, start_wall),
        "",
    ]
    for title, items in (
        ("Duplicates", acc.duplicates),
        ("Lost", acc.lost),
        ("Wrong final state", acc.wrong),
        ("Phantoms", acc.phantoms),
    ):
        if items:
            lines += [f"{title} ({len(items)}, first 20):", *(f"  - {x}" for x in items[:20]), ""]
    lines += ["## Verdict", *(verdict or ["PASS: every check holds"])]
    return "\n".join(lines)
