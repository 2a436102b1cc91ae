"""Stripe API stand-in (``/v1/...``), served next to any platform (LIFECYCLE.md §3.2): the
gateway account of a WooCommerce (Stripe Gateway, WooPayments) or BigCommerce store.

- Auth ``Authorization: Bearer sk_test_…`` (``DEFAULT_SECRET_KEY``; ``GET
  /__standin__/stripe/credentials``); errors are Stripe's ``{"error": {type, message, code?,
  param?}}``; unknown query parameters are refused like Stripe does (``parameter_unknown``).
- ``GET /v1/payouts`` (``limit`` 1..100, default 10; ``starting_after``, ``ending_before``,
  ``created[gte|gt|lte|lt]``, ``arrival_date[...]``, ``status``) and ``GET /v1/payouts/<id>``.
- ``GET /v1/balance_transactions`` (``payout``, ``type``, ``source``, ``currency``,
  ``created[...]``, paging as above, ``expand[]=data.source``). The ``payout`` filter works for
  automatic payouts only (a manual one is a 400, as on Stripe) and lists the payout's own
  balance transaction (type ``payout``) too.
- Lists are ``{object: "list", data, has_more, url}``, newest first (``created``, then id).
  Amounts are integer minor units, currencies lower case.

Seeding (``POST /__standin__/stripe/payouts``): ``{id?, status?, arrival_date? (YYYY-MM-DD or
unix), created?, currency?, amount?, automatic?, transactions: [{id?, type, amount, fee?, net?,
reporting_category?, created?, currency?, description?, source?}]}``. A charge's ``source`` is
``{id?, metadata?, payment_intent?}`` and becomes a charge object (``ch_…``); a refund's or
dispute's ``{id?, charge?, payment_intent?, metadata?}``; a string is kept as the source id.
Posting an existing ``id`` with only ``status`` changes that payout's status.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

from .base import Request, Response, int_or_none
from .store import Store

DEFAULT_SECRET_KEY = "sk_test_standin_51Hub0000000000000000"
API_VERSION = "2024-06-20"
MAX_LIMIT = 100
PAYOUT_STATUSES = ("paid", "pending", "in_transit", "canceled", "failed")
# Stripe's reporting_category for the types the stand-in knows (others: "other_adjustment").
REPORTING = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "adjustment": "dispute",
    "stripe_fee": "fee",
    "payout": "payout",
    "reserve_transaction": "risk_reserved_funds",
}
PREFIX = {"charge": "ch", "payment": "py", "refund": "re", "payment_refund": "pyr"}
RANGE_RE = re.compile(r"^(created|arrival_date)\[(gte|gt|lte|lt)\]$")
LIST_PARAMS = {"limit", "starting_after", "ending_before", "expand[]"}
PAYOUT_PARAMS = LIST_PARAMS | {"status", "destination"}
BT_PARAMS = LIST_PARAMS | {"payout", "type", "source", "currency"}


def stripe_error(
    status: int, message: str, *, code: str = "", param: str = "", kind: str = ""
) -> Response:
    err: dict[str, Any] = {"type": kind or "invalid_request_error", "message": message}
    if code:
        err["code"] = code
    if param:
        err["param"] = param
    return Response(status, {"error": err})


def _ts(value: Any, default: float) -> int:
    if value in (None, ""):
        return int(default)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    day = dt.date.fromisoformat(str(value))  # ValueError -> 400
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer amount in minor units")
    return int(value)


class Stripe:
    """One Stripe account; its state lives in ``store.extra["stripe"]`` (reset with the store)."""

    def __init__(self, store: Store, secret_key: str = DEFAULT_SECRET_KEY) -> None:
        self.store = store
        self.secret_key = secret_key

    def credentials(self) -> dict[str, str]:
        return {"secret_key": self.secret_key, "api_version": API_VERSION}

    # -- state (the store lock is held) ---------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.store.extra.setdefault(
            "stripe", {"payouts": {}, "txns": {}, "seq": 0}
        )
        return state

    def _id(self, prefix: str) -> str:
        state = self._state()
        state["seq"] += 1
        return f"{prefix}_SI{state['seq']:010d}"

    # -- control --------------------------------------------------------------------------------
    def seed(self, data: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock:
            state = self._state()
            status = str(data.get("status") or "paid")
            if status not in PAYOUT_STATUSES:
                raise ValueError(f"status must be one of {PAYOUT_STATUSES}")
            pid = str(data.get("id") or "")
            if pid and pid in state["payouts"]:
                payout = state["payouts"][pid]
                payout["status"] = status
                payout["reconciliation_status"] = "completed" if status == "paid" else "in_progress"
                return dict(payout)
            pid = pid or self._id("po")
            now = time.time()
            created = _ts(data.get("created"), now)
            currency = str(data.get("currency") or "usd").lower()
            rows = [
                self._seed_txn(pid, currency, created, t) for t in data.get("transactions") or []
            ]
            amount = (
                _int(data["amount"], "amount")
                if data.get("amount") is not None
                else sum(r["net"] for r in rows)
            )
            automatic = bool(data.get("automatic", True))
            transfer = self._seed_txn(
                pid,
                currency,
                created,
                {"type": "payout", "amount": -amount, "fee": 0, "source": pid},
            )
            payout = {
                "id": pid,
                "object": "payout",
                "amount": amount,
                "arrival_date": _ts(data.get("arrival_date"), created + 2 * 86400),
                "automatic": automatic,
                "balance_transaction": transfer["id"],
                "created": created,
                "currency": currency,
                "description": "STRIPE PAYOUT",
                "destination": "ba_SIstandinbank",
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": dict(data.get("metadata") or {}),
                "method": "standard",
                "reconciliation_status": "completed" if status == "paid" else "in_progress",
                "source_type": "card",
                "statement_descriptor": None,
                "status": status,
                "type": "bank_account",
            }
            state["payouts"][pid] = payout
            for row in [*rows, transfer]:
                row["_payout"] = pid if automatic else None
                state["txns"][row["id"]] = row
            return {**payout, "transactions": [self._txn_json(r, False) for r in rows]}

    def _seed_txn(self, pid: str, currency: str, created: int, t: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(t, dict) or not t.get("type"):
            raise ValueError("every transaction needs a 'type'")
        kind = str(t["type"])
        amount, fee = _int(t.get("amount", 0), "amount"), _int(t.get("fee", 0), "fee")
        net = _int(t["net"], "net") if t.get("net") is not None else amount - fee
        cur = str(t.get("currency") or currency).lower()
        when = _ts(t.get("created"), created - 86400)
        return {
            "id": str(t.get("id") or self._id("txn")),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": when + 2 * 86400,
            "created": when,
            "currency": cur,
            "description": t.get("description"),
            "exchange_rate": None,
            "fee": fee,
            "fee_details": (
                [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": cur,
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ]
                if fee
                else []
            ),
            "net": net,
            "reporting_category": str(
                t.get("reporting_category") or REPORTING.get(kind, "other_adjustment")
            ),
            "source": self._source(kind, amount, cur, when, t.get("source")),
            "status": "available",
            "type": kind,
        }

    def _source(self, kind: str, amount: int, currency: str, created: int, given: Any) -> Any:
        """The expandable source: an object for charges, refunds and disputes, else the id."""
        if given is None or isinstance(given, str):
            return given
        if not isinstance(given, dict):
            raise ValueError("source must be an id or an object")
        meta = {str(k): str(v) for k, v in (given.get("metadata") or {}).items()}
        if kind in ("charge", "payment"):
            return {
                "id": str(given.get("id") or self._id(PREFIX[kind])),
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "captured": True,
                "created": created,
                "currency": currency,
                "metadata": meta,
                "paid": True,
                "payment_intent": given.get("payment_intent") or self._id("pi"),
                "status": "succeeded",
            }
        obj = "dispute" if kind == "adjustment" else "refund"
        return {
            "id": str(given.get("id") or self._id("dp" if obj == "dispute" else "re")),
            "object": obj,
            "amount": abs(amount),
            "charge": given.get("charge"),
            "created": created,
            "currency": currency,
            "metadata": meta,
            "payment_intent": given.get("payment_intent"),
            "status": "succeeded" if obj == "refund" else "lost",
        }

    @staticmethod
    def _txn_json(row: dict[str, Any], expand: bool) -> dict[str, Any]:
        out = {k: v for k, v in row.items() if not k.startswith("_")}
        src = out.get("source")
        if isinstance(src, dict) and not expand:
            out["source"] = src["id"]
        return out

    # -- HTTP -----------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        resp = self._handle(req)
        resp.headers.setdefault("Request-Id", f"req_{uuid.uuid4().hex[:14]}")
        resp.headers.setdefault(
            "Stripe-Version", str(req.headers.get("Stripe-Version") or API_VERSION)
        )
        resp.op = resp.op or f"stripe {req.method} {req.path}"
        return resp

    def _handle(self, req: Request) -> Response:
        auth = str(req.headers.get("Authorization") or "")
        if not auth:
            return stripe_error(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth "
                "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        key = auth[len("Bearer ") :] if auth.startswith("Bearer ") else ""
        if key != self.secret_key:
            shown = f"{key[:8]}{'*' * 12}{key[-4:]}" if len(key) > 12 else "****"
            return stripe_error(401, f"Invalid API Key provided: {shown}")
        parts = req.path.strip("/").split("/")
        if req.method != "GET":
            return stripe_error(
                404,
                f"Unrecognized request URL ({req.method}: {req.path}).",
                kind="invalid_request_error",
            )
        if parts == ["v1", "payouts"]:
            return self._list(req, "payouts", PAYOUT_PARAMS)
        if len(parts) == 3 and parts[:2] == ["v1", "payouts"]:
            with self.store.lock:
                payout = self._state()["payouts"].get(parts[2])
                if payout is None:
                    return stripe_error(
                        404, f"No such payout: '{parts[2]}'", code="resource_missing", param="id"
                    )
                return Response(200, dict(payout), op="stripe GET /v1/payouts/{id}")
        if parts == ["v1", "balance_transactions"]:
            return self._list(req, "balance_transactions", BT_PARAMS)
        return stripe_error(404, f"Unrecognized request URL (GET: {req.path}).")

    def _list(self, req: Request, what: str, allowed: set[str]) -> Response:
        for name in req.query:
            if name not in allowed and not RANGE_RE.match(name):
                return stripe_error(
                    400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
                )
            m = RANGE_RE.match(name)
            if m and m.group(1) == "arrival_date" and what != "payouts":
                return stripe_error(
                    400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name
                )
        limit = int_or_none(req.arg("limit", "10"))
        if limit is None or not 1 <= limit <= MAX_LIMIT:
            return stripe_error(
                400,
                "Invalid integer: limit must be between 1 and 100",
                code="parameter_invalid_integer",
                param="limit",
            )
        expand = req.query.get("expand[]", [])
        if any(e != "data.source" for e in expand) or (expand and what == "payouts"):
            return stripe_error(
                400, f"This property cannot be expanded ({', '.join(expand)}).", param="expand"
            )
        try:
            return self._page(req, what, limit, bool(expand))
        except ValueError as exc:
            return stripe_error(400, str(exc), code="parameter_invalid_integer")

    def _page(self, req: Request, what: str, limit: int, expand: bool) -> Response:
        with self.store.lock:
            state = self._state()
            if what == "payouts":
                rows = self._filter(req, list(state["payouts"].values()), ("status",))
                noun = "payout"
            else:
                payout = req.arg("payout")
                if payout:
                    found = state["payouts"].get(payout)
                    if found is None:
                        return stripe_error(
                            400,
                            f"No such payout: '{payout}'",
                            code="resource_missing",
                            param="payout",
                        )
                    if not found["automatic"]:
                        return stripe_error(
                            400,
                            "Balance transaction history can only be filtered on automatic "
                            "transfers, not manual.",
                            param="payout",
                        )
                rows = [r for r in state["txns"].values() if not payout or r["_payout"] == payout]
                rows = self._filter(req, rows, ("type", "currency"))
                if req.arg("source"):
                    rows = [r for r in rows if _source_id(r) == req.arg("source")]
                noun = "balance transaction"
            rows.sort(key=lambda r: (r["created"], r["id"]), reverse=True)
            ids = [r["id"] for r in rows]
            after, before = req.arg("starting_after"), req.arg("ending_before")
            if after and before:
                return stripe_error(
                    400,
                    "You may only specify one of these parameters: ending_before, starting_after.",
                )
            cursor = after or before
            if cursor and cursor not in ids:
                param = "starting_after" if after else "ending_before"
                return stripe_error(
                    400, f"No such {noun}: '{cursor}'", code="resource_missing", param=param
                )
            if after:
                rest = rows[ids.index(after) + 1 :]
                chunk, more = rest[:limit], len(rest) > limit
            elif before:
                rest = rows[: ids.index(before)]
                chunk, more = rest[-limit:], len(rest) > limit
            else:
                chunk, more = rows[:limit], len(rows) > limit
            data = [dict(r) if what == "payouts" else self._txn_json(r, expand) for r in chunk]
        body = {"object": "list", "data": data, "has_more": more, "url": f"/v1/{what}"}
        return Response(200, body, op=f"stripe GET /v1/{what}")

    @staticmethod
    def _filter(
        req: Request, rows: list[dict[str, Any]], exact: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        for name in exact:
            value = req.arg(name)
            if value:
                rows = [r for r in rows if str(r.get(name)) == value]
        for name, values in req.query.items():
            m = RANGE_RE.match(name)
            if not m:
                continue
            bound = int_or_none(values[-1])
            if bound is None:
                raise ValueError(f"Invalid integer: {name}")
            field, op = m.group(1), m.group(2)
            rows = [r for r in rows if _compare(int(r[field]), op, bound)]
        return rows


def _compare(value: int, op: str, bound: int) -> bool:
    return {
        "gte": value >= bound,
        "gt": value > bound,
        "lte": value <= bound,
        "lt": value < bound,
    }[op]


def _source_id(row: dict[str, Any]) -> Any:
    src = row.get("source")
    return src["id"] if isinstance(src, dict) else src
