"""Stripe payouts and balance transactions (LIFECYCLE.md §3.2): the gateway account behind a
WooCommerce store (WooCommerce Stripe Gateway, WooPayments) or a BigCommerce store.

- A small client on ``requests``: Bearer secret key, ``Stripe-Version`` (setting
  ``HUB_STRIPE_API_VERSION``), timeouts, no retries of its own: 429 -> RateLimited, 5xx and
  connection errors -> TransientError (the work row retries with its backoff), 401/403 ->
  ChannelAuthError, other 4xx -> PermanentError with Stripe's ``error.message`` / ``code``.
- Lists page with ``starting_after`` (the last id of the page) while ``has_more``, 100 a page.
- Payouts: the cursor is ``"<created>:<payout id>"`` of the last payout passed over; a call
  lists ``created[gte]=<created>`` and orders by (created, id) itself. ``paid`` is returned,
  ``failed`` / ``canceled`` are passed over, ``pending`` / ``in_transit`` (or anything unknown)
  stop the page. ``date`` is the ``arrival_date`` (UTC).
- Balance transactions: ``GET /v1/balance_transactions?payout=po_…&expand[]=data.source``. The
  ``payout`` filter works for automatic payouts only (Stripe answers 400 for a manual one: a
  PermanentError here). Amounts are integer minor units, scaled by the currency's exponent.
- Category from ``reporting_category`` (Stripe: use it for accounting, not ``type``), else from
  ``type``, else ``"other"``.
- Link to the order: the WooCommerce Stripe Gateway puts ``metadata.order_id`` = the order
  NUMBER (not necessarily the id) on the charge -> ``source_order_number``. Woo's
  ``transaction_id`` holds a charge id or a payment intent id depending on the gateway version
  (UNCONFIRMED, LIFECYCLE.md §7): ``source_transaction_id`` is the charge id (``ch_…``/``py_…``)
  and ``raw["payment_intent"]`` / ``raw["charge"]`` keep both reachable. A refund or dispute
  points at its charge. The metadata of a refund may lack ``order_id`` (then "").
- WooPayments' own REST routes (deposits) are not used: units and ids UNCONFIRMED (§3.2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings

from apps.core import shapes
from apps.core.errors import ChannelAuthError, PermanentError, RateLimited, TransientError

from .base import ProviderPayout, ProviderTransaction, decimal, field, parse_datetime, text

DEFAULT_BASE = "https://api.stripe.com"
DEFAULT_VERSION = "2024-06-20"
TIMEOUT = (5.0, 30.0)
PAGE = 100
MAX_PAGES = 10_000
PAID = "paid"
NEVER_PAID = ("failed", "canceled")

# Stripe's zero- and three-decimal currencies (docs.stripe.com/currencies); all others: 2.
# ISK, HUF, TWD and UGX are special cases in Stripe's charge API (UNCONFIRMED for balance
# transactions); they follow the lists below.
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])

REPORTING = {
    "charge": "charge",
    "refund": "refund",
    "refund_failure": "refund",
    "dispute": "chargeback",
    "dispute_reversal": "chargeback",
    "fee": "fee",
    "tax": "fee",
    "payout": "transfer",
    "risk_reserved_funds": "reserve",
    "risk_released_funds": "reserve",
    "other_adjustment": "adjustment",
}
TYPES = {
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
    "payment_refund": "refund",
    "payment_failure_refund": "refund",
    "adjustment": "adjustment",
    "stripe_fee": "fee",
    "application_fee": "fee",
    "tax_fee": "fee",
    "stripe_fx_fee": "fee",
    "payout": "transfer",
    "reserve_transaction": "reserve",
    "reserved_funds": "reserve",
}
CHARGE_PREFIXES = ("ch_", "py_")


def exponent(currency: str) -> int:
    cur = currency.upper()
    return 0 if cur in ZERO_DECIMAL else 3 if cur in THREE_DECIMAL else 2


def from_minor(value: Any, currency: str, name: str, what: str, **context: Any) -> Decimal:
    """Stripe's integer minor units as a Decimal amount: USD 1234 -> 12.34, JPY 1234 -> 1234."""
    amount = decimal(value, name, what, **context)
    if amount != amount.to_integral_value():
        raise PermanentError(
            f"{what}: {name!r} is not in minor units ({value!r})", field=name, **context
        )
    return amount.scaleb(-exponent(currency))


def category(row: dict[str, Any]) -> str:
    reporting = str(row.get("reporting_category") or "").lower()
    if reporting in REPORTING:
        return REPORTING[reporting]
    return TYPES.get(str(row.get("type") or "").lower(), "other")


def _id(value: Any) -> str:
    """An id, or the id of an expanded object."""
    if isinstance(value, dict):
        return text(value.get("id"))
    return text(value)


class StripeSource:
    def __init__(
        self,
        *,
        api_base_url: str,
        secret_key: str,
        label: str = "stripe",
        session: requests.Session | None = None,
    ) -> None:
        self.base = (api_base_url or DEFAULT_BASE).rstrip("/")
        self.label = label
        self.session = session or requests.Session()
        version = str(getattr(settings, "HUB_STRIPE_API_VERSION", "") or DEFAULT_VERSION)
        self.headers = {
            "Authorization": f"Bearer {secret_key}",
            "Stripe-Version": version,
            "Accept": "application/json",
        }
        if not secret_key:
            raise ChannelAuthError(f"{label}: the Stripe account has no secret key", channel=label)

    # -- transport ------------------------------------------------------------------------------
    def _get(self, path: str, params: list[tuple[str, Any]]) -> dict[str, Any]:
        url = f"{self.base}{path}"
        where = f"{self.label}: Stripe GET {path}"
        try:
            resp = self.session.get(url, params=params, headers=self.headers, timeout=TIMEOUT)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(f"{where}: {type(exc).__name__}", channel=self.label) from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 400:
            err = body.get("error") if isinstance(body, dict) else None
            err = err if isinstance(err, dict) else {}
            detail = str(err.get("message") or resp.text[:300])
            ctx: dict[str, Any] = {"channel": self.label, "stripe_code": str(err.get("code") or "")}
            if resp.status_code == 429:
                retry = resp.headers.get("Retry-After")
                raise RateLimited(
                    f"{where} rate limited: {detail}",
                    retry_after=float(retry)
                    if retry and retry.replace(".", "", 1).isdigit()
                    else None,
                    **ctx,
                )
            if resp.status_code >= 500:
                raise TransientError(f"{where} answered {resp.status_code}: {detail}", **ctx)
            if resp.status_code in (401, 403):
                raise ChannelAuthError(f"{where} refused the secret key: {detail}", **ctx)
            raise PermanentError(f"{where} answered {resp.status_code}: {detail}", **ctx)
        answer: dict[str, Any] = shapes.decode(
            resp, dict, partner=self.label, operation=f"finance.stripe {path}", channel=self.label
        )
        return answer

    def _list(self, path: str, params: list[tuple[str, Any]]) -> Iterator[dict[str, Any]]:
        after: str | None = None
        what = f"{self.label}: Stripe {path}"
        for _ in range(MAX_PAGES):
            query = [*params, ("limit", PAGE)] + ([("starting_after", after)] if after else [])
            body = shapes.expect(
                self._get(path, query),
                {"data": [dict]},
                partner=self.label,
                operation=f"finance.stripe {path}",
                channel=self.label,
            )
            rows = body["data"]
            yield from rows
            if not body.get("has_more") or not rows:
                return
            after = text(field(rows[-1], "id", what, channel=self.label))
        raise PermanentError(f"{what}: more than {MAX_PAGES} pages", channel=self.label)

    # -- payouts --------------------------------------------------------------------------------
    @staticmethod
    def _key(cursor: str | None) -> tuple[int, str] | None:
        if not cursor:
            return None
        created, _, pid = cursor.partition(":")
        return (int(created), pid) if created.isdigit() else None

    def payouts_since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[list[ProviderPayout], str | None]:
        after = self._key(cursor)
        params: list[tuple[str, Any]] = [("created[gte]", after[0])] if after else []
        what = f"{self.label}: Stripe payout"
        keyed = []
        for row in self._list("/v1/payouts", params):
            created = decimal(field(row, "created", what, channel=self.label), "created", what)
            keyed.append(((int(created), text(field(row, "id", what, channel=self.label))), row))
        keyed.sort(key=lambda kr: kr[0])
        out: list[ProviderPayout] = []
        moved: tuple[int, str] | None = None
        for key, row in keyed:
            if after is not None and key <= after:
                continue
            status = str(row.get("status") or "").lower()
            if status == PAID:
                if len(out) >= limit:
                    break
                out.append(self._payout(row))
            elif status not in NEVER_PAID:
                break  # pending / in transit: may still be paid, the cursor stays before it
            moved = key
        return out, (f"{moved[0]}:{moved[1]}" if moved else None)

    def _payout(self, row: dict[str, Any]) -> ProviderPayout:
        pid = text(row["id"])
        what = f"{self.label}: Stripe payout {pid}"
        ctx: dict[str, Any] = {"channel": self.label, "payout": pid}
        currency = str(field(row, "currency", what, **ctx)).upper()
        arrival = parse_datetime(row.get("arrival_date")) or parse_datetime(row.get("created"))
        if arrival is None:
            raise PermanentError(
                f"{what}: the answer has no 'arrival_date'", field="arrival_date", **ctx
            )
        summary = {
            k: row.get(k)
            for k in ("automatic", "method", "type", "reconciliation_status", "balance_transaction")
            if k in row
        }
        return ProviderPayout(
            external_id=pid,
            status=str(row.get("status") or ""),
            date=arrival.astimezone(dt.UTC).date(),
            currency=currency,
            amount=from_minor(field(row, "amount", what, **ctx), currency, "amount", what, **ctx),
            summary=summary,
            raw=dict(row),
        )

    # -- balance transactions -------------------------------------------------------------------
    def transactions(self, payout: ProviderPayout) -> Iterator[ProviderTransaction]:
        params: list[tuple[str, Any]] = [
            ("payout", payout.external_id),
            ("expand[]", "data.source"),
        ]
        for row in self._list("/v1/balance_transactions", params):
            yield self._transaction(row, payout)

    def _transaction(self, row: dict[str, Any], payout: ProviderPayout) -> ProviderTransaction:
        tid = text(row.get("id"))
        what = f"{self.label}: Stripe balance transaction {tid or '?'}"
        ctx: dict[str, Any] = {"channel": self.label, "payout": payout.external_id}
        field(row, "id", what, **ctx)
        currency = str(row.get("currency") or payout.currency).upper()
        source = row.get("source")
        charge, intent, number = "", "", ""
        if isinstance(source, dict):
            obj = str(source.get("object") or "")
            meta = source.get("metadata")
            meta = meta if isinstance(meta, dict) else {}
            number = text(meta.get("order_id"))
            intent = _id(source.get("payment_intent"))
            charge = _id(source.get("id")) if obj == "charge" else _id(source.get("charge"))
        elif isinstance(source, str) and source.startswith(CHARGE_PREFIXES):
            charge = source
        elif isinstance(source, str) and source.startswith("pi_"):
            intent = source
        raw = {**row, "charge": charge, "payment_intent": intent}
        return ProviderTransaction(
            external_id=tid,
            payout_id=payout.external_id,
            type=str(field(row, "type", what, **ctx)),
            category=category(row),
            amount=from_minor(field(row, "amount", what, **ctx), currency, "amount", what, **ctx),
            fee=from_minor(row.get("fee") or 0, currency, "fee", what, **ctx),
            net=from_minor(field(row, "net", what, **ctx), currency, "net", what, **ctx),
            currency=currency,
            processed_at=parse_datetime(row.get("created")),
            source_order_id="",  # Stripe knows the order NUMBER only (metadata.order_id)
            source_order_number=number,
            source_transaction_id=charge or intent,
            raw=raw,
        )
