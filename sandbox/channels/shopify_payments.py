"""Shopify Payments REST stand-in (LIFECYCLE.md §3.1), reached through ``shopify.Shopify``:

- ``GET shopify_payments/payouts.json``: ``since_id``, ``last_id``, ``date_min``, ``date_max``,
  ``date``, ``status``; most recent first (by date, then id); ``limit`` 1..250 (default 50).
- ``GET shopify_payments/payouts/<id>.json``.
- ``GET shopify_payments/balance/transactions.json``: ``payout_id``, ``since_id``, ``last_id``,
  ``test``, ``payout_status``; most recent first (by id); ``limit`` 1..250 (default 50).

Lists page with the ``Link`` header (``page_info``), which, as on Shopify, may not be combined
with the filters it already carries. Money is a string in the payout's currency.

Seeding (``POST /__standin__/shopify/payouts``): one payout with its balance transactions,
``{id?, status?, date?, currency?, amount?, summary?, transfer?, transactions: [{id?, type,
amount, fee?, net?, source_order_id?, source_order_transaction_id?, source_type?, source_id?,
processed_at?, adjustment_order_transactions?, currency?, test?}]}``. ``net`` defaults to
amount - fee, the payout ``amount`` to the sum of the nets, the summary to per-bucket sums. The
transfer row (type ``payout``, minus the payout amount) is added unless ``transfer`` is false.
Posting an existing ``id`` again with only ``status`` changes that payout's status (and the
``payout_status`` of its transactions): how a scheduled payout becomes paid.

What the stand-in does not know: Shopify's summary spellings and currency conversion
(UNCONFIRMED, LIFECYCLE.md §7); types are kept exactly as seeded (open enum).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import Request, Response, int_or_none
from .store import Store

FIRST_PAYOUT_ID = 623_721_858
FIRST_TRANSACTION_ID = 699_519_475
MAX_LIMIT = 250
PAYOUT_STATUSES = ("scheduled", "in_transit", "paid", "failed", "canceled")
PAYOUT_RE = re.compile(r"^shopify_payments/payouts/(\d+)\.json$")
# type -> summary bucket of the payout (the stand-in's choice; Shopify's rules UNCONFIRMED)
BUCKETS = {
    "charge": "charges",
    "capture": "charges",
    "refund": "refunds",
    "adjustment": "adjustments",
    "dispute": "adjustments",
    "credit": "adjustments",
    "debit": "adjustments",
    "reserve": "reserved_funds",
    "payout_failure": "retried_payouts",
}


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else 0))
    except InvalidOperation as exc:
        raise ValueError(f"invalid money value {value!r}") from exc


def _cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


class ShopifyPayments:
    """Payouts and balance transactions of one shop, kept in ``store.extra``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- state (the store lock is held) ---------------------------------------------------------
    def _payouts(self) -> dict[int, dict[str, Any]]:
        payouts: dict[int, dict[str, Any]] = self.store.extra.setdefault("sp_payouts", {})
        return payouts

    def _transactions(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.store.extra.setdefault("sp_transactions", [])
        return rows

    def _next(self, key: str, first: int) -> int:
        value = int(self.store.extra.get(key, first - 1)) + 1
        self.store.extra[key] = value
        return value

    # -- control --------------------------------------------------------------------------------
    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            payouts = self._payouts()
            status = str(data.get("status") or "paid")
            if status not in PAYOUT_STATUSES:
                raise ValueError(f"status must be one of {PAYOUT_STATUSES}")
            pid = int_or_none(data.get("id"))
            if pid is not None and pid in payouts:
                return self._restatus(payouts[pid], status)
            pid = pid or self._next("sp_payout_seq", FIRST_PAYOUT_ID)
            currency = str(data.get("currency") or "USD").upper()
            day = str(data.get("date") or dt.date.today().isoformat())
            dt.date.fromisoformat(day)  # ValueError -> 400
            rows = [
                self._seed_row(pid, status, currency, day, t)
                for t in data.get("transactions") or []
            ]
            net = sum((_money(r["net"]) for r in rows), Decimal("0"))
            amount = _money(data["amount"]) if data.get("amount") is not None else net
            payout = {
                "id": pid,
                "status": status,
                "date": day,
                "currency": currency,
                "amount": _cents(amount),
                "summary": dict(data.get("summary") or self._summary(rows)),
            }
            if data.get("transfer", True):
                rows.append(
                    self._seed_row(
                        pid,
                        status,
                        currency,
                        day,
                        {
                            "type": "payout",
                            "amount": -amount,
                            "fee": 0,
                            "source_type": "payout",
                            "source_id": pid,
                        },
                    )
                )
            payouts[pid] = payout
            self._transactions().extend(rows)
            return {**payout, "transactions": [dict(r) for r in rows]}

    def _restatus(self, payout: dict[str, Any], status: str) -> dict[str, Any]:
        payout["status"] = status
        for row in self._transactions():
            if row["payout_id"] == payout["id"]:
                row["payout_status"] = status
        return dict(payout)

    def _seed_row(
        self, pid: int, status: str, currency: str, day: str, t: dict[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(t, dict) or not t.get("type"):
            raise ValueError("every transaction needs a 'type'")
        amount, fee = _money(t.get("amount")), _money(t.get("fee"))
        net = _money(t["net"]) if t.get("net") is not None else amount - fee
        tid = int_or_none(t.get("id")) or self._next("sp_transaction_seq", FIRST_TRANSACTION_ID)
        processed = t.get("processed_at") or f"{day}T12:00:00-05:00"
        return {
            "id": tid,
            "test": bool(t.get("test", False)),
            "payout_id": pid,
            "payout_status": status,
            "currency": str(t.get("currency") or currency).upper(),
            "amount": _cents(amount),
            "fee": _cents(fee),
            "net": _cents(net),
            "type": str(t["type"]),
            "source_id": t.get("source_id", tid + 1_000_000),
            "source_type": str(t.get("source_type") or t["type"]),
            "source_order_id": t.get("source_order_id"),
            "source_order_transaction_id": t.get("source_order_transaction_id"),
            "processed_at": str(processed),
            "adjustment_order_transactions": t.get("adjustment_order_transactions"),
            "adjustment_reason": t.get("adjustment_reason"),
        }

    @staticmethod
    def _summary(rows: list[dict[str, Any]]) -> dict[str, str]:
        sums = {
            f"{b}_{k}_amount": Decimal("0") for b in set(BUCKETS.values()) for k in ("gross", "fee")
        }
        for r in rows:
            bucket = BUCKETS.get(r["type"])
            if bucket:
                sums[f"{bucket}_gross_amount"] += _money(r["amount"])
                sums[f"{bucket}_fee_amount"] += _money(r["fee"])
        return {k: _cents(v) for k, v in sorted(sums.items())}

    def snapshot(self) -> dict[str, Any]:
        with self.store.lock:
            return {
                "payouts": [dict(p) for p in self._payouts().values()],
                "transactions": [dict(t) for t in self._transactions()],
            }

    # -- HTTP (called from Shopify._rest_route, after the REST bucket) -------------------------
    def route(self, req: Request, rest: str) -> Response | None:
        if req.method != "GET":
            return None
        if rest == "shopify_payments/payouts.json":
            return self._list(
                req,
                "payouts",
                self._payout_rows,
                ("since_id", "last_id", "date_min", "date_max", "date", "status"),
            )
        m = PAYOUT_RE.match(rest)
        if m:
            with self.store.lock:
                payout = self._payouts().get(int(m.group(1)))
                if payout is None:
                    return Response(404, {"errors": "Not Found"}, op="REST GET payouts/{id}")
                return Response(200, {"payout": dict(payout)}, op="REST GET payouts/{id}")
        if rest == "shopify_payments/balance/transactions.json":
            return self._list(
                req,
                "transactions",
                self._transaction_rows,
                ("payout_id", "since_id", "last_id", "test", "payout_status"),
            )
        return None

    def _payout_rows(self, f: dict[str, str]) -> list[dict[str, Any]]:
        rows = list(self._payouts().values())
        since, last = int_or_none(f.get("since_id")), int_or_none(f.get("last_id"))
        out = [
            p
            for p in rows
            if (since is None or p["id"] > since)
            and (last is None or p["id"] < last)
            and (not f.get("date_min") or p["date"] >= f["date_min"])
            and (not f.get("date_max") or p["date"] <= f["date_max"])
            and (not f.get("date") or p["date"] == f["date"])
            and (not f.get("status") or p["status"] == f["status"])
        ]
        return sorted(out, key=lambda p: (p["date"], p["id"]), reverse=True)

    def _transaction_rows(self, f: dict[str, str]) -> list[dict[str, Any]]:
        since, last = int_or_none(f.get("since_id")), int_or_none(f.get("last_id"))
        payout = int_or_none(f.get("payout_id"))
        test = f.get("test")
        out = [
            t
            for t in self._transactions()
            if (payout is None or t["payout_id"] == payout)
            and (since is None or t["id"] > since)
            and (last is None or t["id"] < last)
            and (test is None or t["test"] == (test == "true"))
            and (not f.get("payout_status") or t["payout_status"] == f["payout_status"])
        ]
        return sorted(out, key=lambda t: t["id"], reverse=True)

    def _list(
        self,
        req: Request,
        key: str,
        rows_for: Callable[[dict[str, str]], list[dict[str, Any]]],
        names: tuple[str, ...],
    ) -> Response:
        op = f"REST GET shopify_payments {key}"
        limit = int_or_none(req.arg("limit", "50"))
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            return Response(400, {"errors": {"limit": ["must be between 1 and 250"]}}, op=op)
        filters = {k: str(req.arg(k)) for k in names if req.arg(k)}
        for k in ("since_id", "last_id", "payout_id"):
            if k in filters and int_or_none(filters[k]) is None:
                return Response(400, {"errors": {k: ["is invalid"]}}, op=op)
        offset = 0
        page_info = req.arg("page_info")
        if page_info:
            if filters:
                return Response(
                    400,
                    {"errors": "page_info cannot be combined with other filter parameters"},
                    op=op,
                )
            try:
                cursor = json.loads(base64.urlsafe_b64decode(page_info.encode()))
                filters, offset = dict(cursor["filters"]), int(cursor["offset"])
            except (ValueError, KeyError, TypeError):
                return Response(400, {"errors": {"page_info": ["Invalid value."]}}, op=op)
        with self.store.lock:
            rows = rows_for(filters)
            chunk = [dict(r) for r in rows[offset : offset + limit]]
        headers: dict[str, str] = {}
        links = []
        base = f"http://{req.host}{req.path}?limit={limit}&page_info="
        if offset > 0:
            prev = {"filters": filters, "offset": max(0, offset - limit)}
            links.append(f'<{base}{_token(prev)}>; rel="previous"')
        if offset + limit < len(rows):
            nxt = {"filters": filters, "offset": offset + limit}
            links.append(f'<{base}{_token(nxt)}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return Response(200, {key: chunk}, headers, op=op)


def _token(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
