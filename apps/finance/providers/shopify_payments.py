"""Shopify Payments payouts and balance transactions through the shop's Admin REST API
(LIFECYCLE.md §3.1): ``shopify_payments/payouts.json`` and
``shopify_payments/balance/transactions.json?payout_id=``.

REST, not GraphQL: the per-payout filter of GraphQL ``balanceTransactions`` (``query:
"payments_transfer_id:…"``) is UNCONFIRMED (LIFECYCLE.md §7), the REST ``payout_id`` filter is
documented. REST is legacy on Shopify; when it goes, this module moves to GraphQL.

- Calls go through the channel's shared rate budget (``ChannelHttp`` over the inventory
  publisher), so payouts, stock and fulfilment of one shop spend one budget; 429 is waited out.
- Lists follow the ``Link`` header's ``rel="next"`` URL verbatim (``page_info``), 250 a page.
- The cursor is the last payout id passed over; ``since_id`` asks for newer ones. The order of
  the list is not relied on (sorted here by id). Payout statuses: ``paid`` is returned;
  ``failed`` / ``canceled`` are passed over (never paid); anything else (``scheduled``,
  ``in_transit``, an unknown status) stops the page, so it is read again later.
- Types are an open enum (``SHOPIFY_COLLECTIVE_DEBIT_REVERSAL``, ``seller_protection_credit_
  reversal``): kept as given, unknown ones categorised ``"other"``. ``payout_failure`` and
  ``payout_cancellation`` are ``"other"`` (money back from a payout that did not reach the
  bank), not ``"transfer"``: a caller that drops transfers must not drop them.
- ``source_order_id`` / ``source_order_transaction_id`` as given; an adjustment without them
  takes the order and transaction of its single ``adjustment_order_transactions`` entry (more
  than one: left empty, all kept in ``raw``); ``source_order_number`` is that entry's order name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from apps.core.errors import PermanentError
from apps.fulfillment.adapters._http import ChannelHttp
from apps.inventory.publishers.shopify import ShopifyPublisher

from .base import (
    ProviderPayout,
    ProviderTransaction,
    decimal,
    field,
    parse_datetime,
    text,
)

PAGE = 250
MAX_PAGES = 10_000
PAID = "paid"
NEVER_PAID = ("failed", "canceled", "cancelled")

CATEGORY = {
    "charge": "charge",
    "capture": "charge",
    "sale": "charge",
    "refund": "refund",
    "refund_failure": "refund",
    "dispute": "chargeback",
    "chargeback": "chargeback",
    "chargeback_fee": "fee",
    "chargeback_fee_refund": "fee",
    "reserve": "reserve",
    "reserved_funds": "reserve",
    "adjustment": "adjustment",
    "adjustment_reversal": "adjustment",
    "credit": "adjustment",
    "debit": "adjustment",
    "payout": "transfer",
    "transfer": "transfer",
}


def category(kind: str) -> str:
    return CATEGORY.get(kind.strip().lower(), "other")


class ShopifyPaymentsSource:
    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.pub = ShopifyPublisher(channel)
        self.http = ChannelHttp(self.pub)
        version = str(getattr(settings, "HUB_SHOPIFY_API_VERSION", "2025-01"))
        self.base = f"{channel.api_base_url.rstrip('/')}/admin/api/{version}/shopify_payments"
        self.headers = {
            "X-Shopify-Access-Token": channel.access_token,
            "Accept": "application/json",
        }

    @property
    def code(self) -> str:
        return str(getattr(self.channel, "code", "") or "shopify")

    # -- transport ------------------------------------------------------------------------------
    def _pages(self, path: str, key: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        url: str | None = f"{self.base}/{path}"
        query: dict[str, Any] | None = {**params, "limit": PAGE}
        what = f"{self.code}: Shopify Payments {path}"
        for _ in range(MAX_PAGES):
            if url is None:
                return
            resp = self.http.request("GET", url, params=query, headers=self.headers)
            rows: list[dict[str, Any]] = self.http.answer(
                resp, {key: [dict]}, f"finance.payments_{key}"
            )[key]
            yield rows
            nxt = resp.links.get("next", {}).get("url")
            url, query = (str(nxt), None) if nxt and rows else (None, None)
        raise PermanentError(f"{what}: more than {MAX_PAGES} pages", channel=self.code)

    # -- payouts --------------------------------------------------------------------------------
    def payouts_since(
        self, cursor: str | None, *, limit: int = 100
    ) -> tuple[list[ProviderPayout], str | None]:
        params: dict[str, Any] = {}
        if cursor:
            params["since_id"] = cursor
        rows = [r for page in self._pages("payouts.json", "payouts", params) for r in page]
        after = int(cursor) if cursor and cursor.isdigit() else None
        ordered = sorted((self._payout_id(r), r) for r in rows)
        out: list[ProviderPayout] = []
        moved: int | None = None
        for pid, row in ordered:
            if after is not None and pid <= after:
                continue  # a server that ignores since_id must not repeat old payouts
            status = str(row.get("status") or "").lower()
            if status == PAID:
                if len(out) >= limit:
                    break
                out.append(self._payout(row))
            elif status not in NEVER_PAID:
                break  # may still be paid: the cursor stays before it
            moved = pid
        return out, (str(moved) if moved is not None else None)

    def _payout_id(self, row: dict[str, Any]) -> int:
        value = field(row, "id", f"{self.code}: Shopify Payments payout", channel=self.code)
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise PermanentError(
                f"{self.code}: Shopify Payments payout id {value!r} is not a number",
                field="id",
                channel=self.code,
            ) from exc

    def _payout(self, row: dict[str, Any]) -> ProviderPayout:
        pid = str(row["id"])
        what = f"{self.code}: Shopify Payments payout {pid}"
        ctx: dict[str, Any] = {"channel": self.code, "payout": pid}
        day = field(row, "date", what, **ctx)
        try:
            date = dt.date.fromisoformat(str(day)[:10])
        except ValueError as exc:
            raise PermanentError(
                f"{what}: 'date' is not a date ({day!r})", field="date", **ctx
            ) from exc
        summary = row.get("summary")
        return ProviderPayout(
            external_id=pid,
            status=str(row.get("status") or ""),
            date=date,
            currency=str(field(row, "currency", what, **ctx)).upper(),
            amount=decimal(field(row, "amount", what, **ctx), "amount", what, **ctx),
            summary=dict(summary) if isinstance(summary, dict) else {},
            raw=dict(row),
        )

    # -- balance transactions -------------------------------------------------------------------
    def transactions(self, payout: ProviderPayout) -> Iterator[ProviderTransaction]:
        params = {"payout_id": payout.external_id}
        for page in self._pages("balance/transactions.json", "transactions", params):
            for row in page:
                if text(row.get("payout_id")) not in ("", payout.external_id):
                    continue  # another payout's row: not ours to report
                yield self._transaction(row, payout)

    def _transaction(self, row: dict[str, Any], payout: ProviderPayout) -> ProviderTransaction:
        tid = text(row.get("id"))
        what = f"{self.code}: Shopify Payments balance transaction {tid or '?'}"
        ctx: dict[str, Any] = {"channel": self.code, "payout": payout.external_id}
        field(row, "id", what, **ctx)
        kind = str(field(row, "type", what, **ctx))
        order_id = text(row.get("source_order_id"))
        order_tx = text(row.get("source_order_transaction_id"))
        order_name = ""
        adjustments = row.get("adjustment_order_transactions")
        if (
            isinstance(adjustments, list)
            and len(adjustments) == 1
            and isinstance(adjustments[0], dict)
        ):
            adj = adjustments[0]
            order = adj.get("order")
            order = order if isinstance(order, dict) else {}
            order_id = order_id or text(order.get("id"))
            order_tx = order_tx or text(adj.get("id"))
            order_name = text(order.get("name"))
        return ProviderTransaction(
            external_id=tid,
            payout_id=payout.external_id,
            type=kind,
            category=category(kind),
            amount=decimal(field(row, "amount", what, **ctx), "amount", what, **ctx),
            fee=decimal(row.get("fee") if row.get("fee") is not None else "0", "fee", what, **ctx),
            net=decimal(field(row, "net", what, **ctx), "net", what, **ctx),
            currency=str(row.get("currency") or payout.currency).upper(),
            processed_at=parse_datetime(row.get("processed_at")),
            source_order_id=order_id,
            source_order_number=order_name,
            source_transaction_id=order_tx,
            raw=dict(row),
        )
