"""BigCommerce refunds: a refund quote, then the refund for exactly a quoted amount, one at a
time per order (LIFECYCLE.md §2.3).

- **Read**: ``GET /v3/orders/{id}/payment_actions/refunds``; PRODUCT items map to SKUs through
  ``GET /v2/orders/{id}/products`` (read only when there are product items). Amounts are
  Decimal to the cent; BigCommerce never restocks through the API, so lines are
  ``no_restock``. A refund carries no currency: ``RefundData.currency`` is the request's on
  ``refund`` and ``""`` on ``refunds_read`` (the caller knows the order's currency).
- **One at a time**: "processing multiple concurrent refunds on the same order is not yet
  supported". A lock per order in the shared cache (``cache.add``, released by its token)
  covers read, quote and refund; a second caller waits up to ``LOCK_WAIT_SECONDS`` and then
  raises LockContention (retried quickly, attempts not spent).
- **Never twice**: no idempotency key. The hub's key goes at the end of the refund ``reason``
  as ``[hub:<key>]``; under the lock the order's refunds are read first and one carrying our
  key is returned as found (no quote, no payment).
- **Write**: ``POST …/refund_quotes {items}`` -> ``refund_methods`` (alternative payment
  combinations); the refund pays exactly one single-method combination: the original gateway
  (not store credit, not offline), store credit only when it is the only online choice;
  nothing else is guessed (PermanentError). The quote's total must equal the request's amount
  to the cent, else PermanentError with both amounts (nothing paid). Then ``POST …/refunds
  {items, payments: [{provider_id, amount, offline}], reason}`` with the quoted amount sent as
  the JSON number BigCommerce requires, built from the Decimal.
- Errors: 422 (over-refund, amount not quoted, store credit for a guest) -> PermanentError with
  BigCommerce's ``errors``; 409 (a refund already being processed) -> LockContention; 5xx and
  lost connections -> TransientError (the retry reads first). Payment is asynchronous
  (``is_declined`` on the payments): a declined payment is reported as PermanentError.

Calls: refund 4 (refunds read + products + quote + refund); 3 when every line names its order
product id (``external_line_id``); found 1 (+1 products when it has product items). Platform
minimum with the read-first: 3 (products needed for ids unless known). refunds_read 1 (+1).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import requests
from django.core.cache import cache

from apps.core.errors import LockContention, PermanentError
from apps.core.shapes import ANY, ID, NUMBER
from apps.fulfillment.adapters._http import ChannelHttp
from apps.inventory.publishers.bigcommerce import BigCommercePublisher
from apps.sales_channels.models import Channel

from . import RefundAdapter, RefundData, RefundLineData, RefundResult, RefundToSend
from .shopify import cents, refund_operation, split_key

PAGE = 250
LOCK_TTL_SECONDS = 180  # longer than read + quote + refund with their timeouts
LOCK_WAIT_SECONDS = 10.0
LOCK_POLL_SECONDS = 0.05
REASON_MAX = 255  # BigCommerce's limit on reason is UNCONFIRMED; the key is kept whole
# What each call reads of the answer (apps.core.shapes). The refunds list is required:
# reading "none" from a broken answer would refund a second time.
REFUND_SHAPE = {
    "id": ID,
    "reason?": (str, None),
    "items?": ([dict], None),
    "payments?": ([dict], None),
}
QUOTE_SHAPE = {
    "data": {
        "total_refund_amount": NUMBER,
        "refund_methods?": ([[{"provider_id?": ANY, "amount?": (NUMBER, None)}]], None),
    }
}


def _when(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class BigCommerceRefunds(RefundAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = BigCommercePublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)
        self.root = channel.api_base_url.rstrip("/")

    # -- one at a time per order -----------------------------------------------------------------
    def _lock_key(self, order_id: str) -> str:
        return f"returns:bigcommerce:refund-lock:{self.pub.budget.key}:{order_id}"

    @contextmanager
    def order_lock(self, order_id: str) -> Iterator[None]:
        key, token = self._lock_key(order_id), uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not cache.add(key, token, timeout=LOCK_TTL_SECONDS):
            if time.monotonic() >= deadline:
                raise LockContention(
                    f"{self.channel.code}: another refund of BigCommerce order {order_id} is "
                    "in progress",
                    channel=self.channel.code,
                )
            time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            if cache.get(key) == token:
                cache.delete(key)

    # -- reading --------------------------------------------------------------------------------
    def _v3(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.http.request(
            method, f"{self.root}/v3/{path}", headers=self.pub.headers, allow=(409, 422), **kw
        )

    def _refunds(self, order_id: str) -> list[dict[str, Any]]:
        resp = self._v3("GET", f"orders/{order_id}/payment_actions/refunds")
        self._raise_refused(resp, order_id, "")
        rows: list[dict[str, Any]] = self.http.answer(
            resp, {"data": [REFUND_SHAPE]}, "returns.read_refunds"
        )["data"]
        return rows

    def _products(self, order_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in range(1, 1000):
            resp = self.http.request(
                "GET",
                f"{self.root}/v2/orders/{order_id}/products",
                headers=self.pub.headers,
                params={"page": page, "limit": PAGE},
            )
            if resp.status_code == 204:
                break
            chunk = self.http.answer(resp, [dict], "returns.read_order", empty=[])
            rows.extend(chunk)
            if len(chunk) < PAGE:
                break
        return rows

    @staticmethod
    def to_refund(
        r: dict[str, Any], products: list[dict[str, Any]], currency: str = ""
    ) -> RefundData:
        skus = {str(p.get("id")): str(p.get("sku") or "") for p in products}
        lines = []
        shipping = Decimal("0.00")
        for it in r.get("items") or []:
            kind = str(it.get("item_type") or "")
            amount = cents(it.get("requested_amount"))
            if kind == "PRODUCT":
                lines.append(
                    RefundLineData(
                        sku=skus.get(str(it.get("item_id")), ""),
                        quantity=int(it.get("quantity") or 0),
                        # requested_amount: whether it includes tax is UNCONFIRMED
                        amount=amount,
                        restock="no_restock",
                        external_line_id=str(it.get("item_id") or ""),
                    )
                )
            elif kind in ("SHIPPING", "HANDLING"):
                shipping += amount
        reason, key = split_key(r.get("reason"))
        return RefundData(
            external_id=str(r.get("id") or ""),
            currency=currency,
            amount=cents(r.get("total_amount")),
            refunded_at=_when(r.get("created")),
            lines=tuple(lines),
            shipping_amount=shipping,
            tax_amount=cents(r.get("total_tax")),
            reason=reason,
            hub_key=key,
            raw=r,
        )

    def _with_products(
        self, order_id: str, rows: list[dict[str, Any]], currency: str = ""
    ) -> list[RefundData]:
        need = any(it.get("item_type") == "PRODUCT" for r in rows for it in r.get("items") or [])
        products = self._products(order_id) if need else []
        return [self.to_refund(r, products, currency) for r in rows]

    # -- interface ------------------------------------------------------------------------------
    def refunds_read(self, order_external_id: str) -> list[RefundData]:
        order_id = order_external_id.strip()
        with refund_operation(self.http, None, order_id, "refunds_read"):
            return self._with_products(order_id, self._refunds(order_id))

    def refund(self, req: RefundToSend) -> RefundResult:
        order_id = req.order_external_id.strip()
        with (
            refund_operation(self.http, req, order_id, "refund") as calls,
            self.order_lock(order_id),
        ):
            for r in self._refunds(order_id):
                if split_key(r.get("reason"))[1] == req.idempotency_key:
                    [found] = self._with_products(order_id, [r], req.currency)
                    return RefundResult(found, found_existing=True, calls=calls())
            products: list[dict[str, Any]] = []
            if any(not ln.external_line_id for ln in req.lines if ln.quantity > 0):
                products = self._products(order_id)
            items = self._items(req, products)
            resp = self._v3(
                "POST", f"orders/{order_id}/payment_actions/refund_quotes", json={"items": items}
            )
            self._raise_refused(resp, order_id, req.order_number)
            quote = self.http.answer(resp, QUOTE_SHAPE, "returns.refund_quote")["data"]
            total = cents(quote.get("total_refund_amount"))
            if total != req.amount:
                raise PermanentError(
                    f"{self.channel.code}: BigCommerce quotes {total} for the refund of order "
                    f"{req.order_number}, the hub asks {req.amount} {req.currency}: not paid",
                    channel=self.channel.code,
                    reason="quote_mismatch",
                    quoted=str(total),
                    requested=str(req.amount),
                )
            payment = self._choose(quote, req)
            reason = req.reason.strip()[: REASON_MAX - len(req.idempotency_key) - 8]
            body = {
                "items": items,
                "payments": [payment],
                "reason": f"{reason} [hub:{req.idempotency_key}]".strip(),
            }
            resp = self._v3("POST", f"orders/{order_id}/payment_actions/refunds", json=body)
            self._raise_refused(resp, order_id, req.order_number)
            made = self.http.answer(resp, {"data": REFUND_SHAPE}, "returns.refund_create")["data"]
            declined = [p for p in made.get("payments") or [] if p.get("is_declined")]
            if declined:
                raise PermanentError(
                    f"{self.channel.code}: the payment of BigCommerce refund {made.get('id')} "
                    f"(order {req.order_number}) was declined: "
                    f"{declined[0].get('declined_message') or ''}",
                    channel=self.channel.code,
                    refund_id=str(made.get("id")),
                )
            products_for_lines = products or (
                self._products(order_id) if any(ln.sku for ln in req.lines) else []
            )
            return RefundResult(
                self.to_refund(made, products_for_lines, req.currency), calls=calls()
            )

    def _raise_refused(self, resp: requests.Response, order_id: str, number: str) -> None:
        if resp.status_code not in (409, 422):
            return
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        detail = (
            f"{answer.get('title')}: {answer.get('errors')}" if isinstance(answer, dict) else ""
        )
        if resp.status_code == 409:
            raise LockContention(
                f"{self.channel.code}: BigCommerce is processing another refund of order "
                f"{number or order_id}: {detail}"[:500],
                channel=self.channel.code,
            )
        raise PermanentError(
            f"{self.channel.code}: BigCommerce refused the refund of order {number or order_id} "
            f"(422): {detail}"[:500],
            channel=self.channel.code,
            errors=answer.get("errors") if isinstance(answer, dict) else None,
        )

    def _items(self, req: RefundToSend, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for ln in req.lines:
            if ln.quantity <= 0:
                continue
            if ln.external_line_id:
                pid = ln.external_line_id
            else:
                match = next((p for p in products if str(p.get("sku") or "") == ln.sku), None)
                if match is None:
                    raise PermanentError(
                        f"{self.channel.code}: order {req.order_number} has no SKU {ln.sku} on "
                        "BigCommerce",
                        channel=self.channel.code,
                        reason="line_not_found",
                    )
                pid = str(match["id"])
            items.append({"item_type": "PRODUCT", "item_id": int(pid), "quantity": ln.quantity})
        if not items:
            raise PermanentError(
                f"{self.channel.code}: the refund of order {req.order_number} has no lines: "
                "BigCommerce refunds items",
                channel=self.channel.code,
            )
        return items

    def _choose(self, quote: dict[str, Any], req: RefundToSend) -> dict[str, Any]:
        """Exactly one of the quote's combinations, as a single payment: the original gateway,
        else store credit when it is the only online choice."""
        singles = [
            c[0] for c in quote.get("refund_methods") or [] if isinstance(c, list) and len(c) == 1
        ]
        gateway = [
            m for m in singles if not m.get("offline") and m.get("provider_id") != "storecredit"
        ]
        credit = [m for m in singles if m.get("provider_id") == "storecredit"]
        chosen = gateway[0] if gateway else (credit[0] if credit else None)
        if chosen is None:
            raise PermanentError(
                f"{self.channel.code}: BigCommerce offers no online refund for order "
                f"{req.order_number}: {[m.get('provider_id') for m in singles]}",
                channel=self.channel.code,
                reason="no_refund_method",
            )
        amount = cents(chosen.get("amount"))
        return {
            "provider_id": chosen.get("provider_id"),
            # The JSON number BigCommerce requires, from the Decimal (shortest repr, to the cent).
            "amount": float(amount),
            "offline": bool(chosen.get("offline")),
        }
