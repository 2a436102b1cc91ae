"""WooCommerce refunds: ``GET/POST /wc/v3/orders/<id>/refunds`` (LIFECYCLE.md §2.2).

- **Read**: the order (currency, line items with SKUs and tax rate ids) and its refunds. Refund
  lines carry negative quantities and totals and the original item id in the meta
  ``_refunded_item_id``; they map to SKUs through the order's line items. Amounts are Decimal
  to the cent. WooCommerce's REST refund does not say whether stock was restocked, so lines
  come back as ``no_restock`` (the channel's setting decides what Odoo expects).
- **Never twice**: WooCommerce has no idempotency (an identical second POST refunds again). The
  hub's key goes into the refund twice: ``meta_data`` ``_odoo_hub_refund_key`` and the end of
  ``reason`` as ``[hub:<key>]``. The order's own ``refunds[]`` (``{id, reason, total}``) is read
  first, in the call that is needed anyway for the line and tax rate ids: a refund whose reason
  carries our key is ours and is fetched (``GET …/refunds/<id>``) instead of posting again.
- **Write**: ``POST /orders/<id>/refunds`` with ``amount`` (string, tax included: it takes
  precedence over the lines), ``reason``, ``line_items [{id, quantity, refund_total (tax
  excluded), refund_tax [{id: tax rate id, refund_total}]}]``, and **always** ``api_refund``
  (the channel's ``refund_api_refund``) and ``api_restock: false`` (Odoo owns stock; both
  default to true on the platform). Money goes as strings built from Decimals.
- Errors: 500 ``woocommerce_rest_cannot_create_order_refund`` = WooCommerce refused (the
  gateway's refusal, after which it deletes the refund, or "Invalid refund amount." for an
  over-refund): PermanentError with the message; 400 ``woocommerce_rest_invalid_order_refund``
  and other 4xx: PermanentError; other 5xx / lost connections: TransientError.

Calls: refund 2 (order + POST: the platform minimum with the read-first); found 2 (order +
the refund); refunds_read 2 (refunds + order; +1 per further page of 100 refunds).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import requests

from apps.core.errors import PermanentError, TransientError
from apps.core.shapes import ID, NUMBER
from apps.fulfillment.adapters._http import ChannelHttp
from apps.inventory.publishers.woocommerce import WooCommercePublisher
from apps.sales_channels.models import Channel

from . import RefundAdapter, RefundData, RefundLineData, RefundResult, RefundToSend
from .shopify import cents, refund_operation, split_key

KEY_META = "_odoo_hub_refund_key"
PER_PAGE = 100
MAX_PAGES = 50
REFUSED = "woocommerce_rest_cannot_create_order_refund"


def _when(value: Any) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _meta(rows: Any, key: str) -> str:
    for m in rows or []:
        if isinstance(m, dict) and m.get("key") == key:
            return str(m.get("value") or "")
    return ""


# What each call reads of the answer (apps.core.shapes). The order's ``refunds`` is required:
# reading "none" from a broken answer would refund a second time.
ORDER_SHAPE = {
    "id": ID,
    "refunds": [{"id": ID, "reason?": (str, None)}],
    "line_items?": ([dict], None),
}
REFUND_SHAPE = {
    "id": ID,
    "amount?": (NUMBER, None),
    "line_items?": ([dict], None),
    "shipping_lines?": ([dict], None),
    "meta_data?": ([dict], None),
}


class WooCommerceRefunds(RefundAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = WooCommercePublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)
        self.base = channel.api_base_url.rstrip("/") + "/wp-json/wc/v3"

    # -- reading --------------------------------------------------------------------------------
    def _order(self, order_id: str) -> dict[str, Any]:
        resp = self.http.request("GET", f"{self.base}/orders/{order_id}")
        order: dict[str, Any] = self.http.answer(resp, ORDER_SHAPE, "returns.read_order")
        return order

    def _refunds(self, order_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            resp = self.http.request(
                "GET",
                f"{self.base}/orders/{order_id}/refunds",
                params={"page": page, "per_page": PER_PAGE},
            )
            chunk = self.http.answer(resp, [REFUND_SHAPE], "returns.read_refunds")
            rows.extend(chunk)
            if len(chunk) < PER_PAGE:
                break
        return rows

    @staticmethod
    def to_refund(r: dict[str, Any], order: dict[str, Any]) -> RefundData:
        skus = {str(li.get("id")): str(li.get("sku") or "") for li in order.get("line_items") or []}
        lines = []
        for li in r.get("line_items") or []:
            item_id = _meta(li.get("meta_data"), "_refunded_item_id")
            lines.append(
                RefundLineData(
                    sku=skus.get(item_id) or str(li.get("sku") or ""),
                    quantity=abs(int(li.get("quantity") or 0)),
                    amount=abs(cents(li.get("total"))),
                    tax=abs(cents(li.get("total_tax"))),
                    restock="no_restock",
                    external_line_id=item_id,
                )
            )
        shipping = sum(
            (abs(cents(s.get("total"))) for s in r.get("shipping_lines") or []), Decimal("0.00")
        )
        shipping_tax = sum(
            (abs(cents(s.get("total_tax"))) for s in r.get("shipping_lines") or []),
            Decimal("0.00"),
        )
        reason, marked = split_key(r.get("reason"))
        return RefundData(
            external_id=str(r.get("id") or ""),
            currency=str(order.get("currency") or ""),
            amount=abs(cents(r.get("amount"))),
            refunded_at=_when(r.get("date_created_gmt") or r.get("date_created")),
            lines=tuple(lines),
            shipping_amount=shipping,
            tax_amount=sum((ln.tax for ln in lines), Decimal("0.00")) + shipping_tax,
            reason=reason,
            hub_key=_meta(r.get("meta_data"), KEY_META) or marked,
            raw=r,
        )

    # -- interface ------------------------------------------------------------------------------
    def refunds_read(self, order_external_id: str) -> list[RefundData]:
        order_id = order_external_id.strip()
        with refund_operation(self.http, None, order_id, "refunds_read"):
            rows = self._refunds(order_id)
            order = self._order(order_id)
            return [self.to_refund(r, order) for r in rows]

    def refund(self, req: RefundToSend) -> RefundResult:
        order_id = req.order_external_id.strip()
        with refund_operation(self.http, req, order_id, "refund") as calls:
            order = self._order(order_id)
            for summary in order.get("refunds") or []:
                if split_key(summary.get("reason"))[1] == req.idempotency_key:
                    resp = self.http.request(
                        "GET", f"{self.base}/orders/{order_id}/refunds/{summary['id']}"
                    )
                    found = self.to_refund(
                        self.http.answer(resp, REFUND_SHAPE, "returns.read_refunds"), order
                    )
                    return RefundResult(found, found_existing=True, calls=calls())
            body = self._body(req, order)
            resp = self.http.request(
                "POST", f"{self.base}/orders/{order_id}/refunds", json=body, allow=(500,)
            )
            if resp.status_code == 500:
                self._refused(req, resp)
            made = self.to_refund(
                self.http.answer(resp, REFUND_SHAPE, "returns.refund_create"), order
            )
            return RefundResult(made, calls=calls())

    def _refused(self, req: RefundToSend, resp: requests.Response) -> None:
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        code = answer.get("code") if isinstance(answer, dict) else None
        if code == REFUSED:
            # The platform wrote nothing (a refused gateway's refund is deleted again).
            raise PermanentError(
                f"{self.channel.code}: WooCommerce refused the refund of {req.amount} "
                f"{req.currency} on order {req.order_number}: {answer.get('message')}",
                channel=self.channel.code,
                reason="refund_refused",
            )
        raise TransientError(
            f"{self.channel.code}: WooCommerce answered 500 to the refund of order "
            f"{req.order_number}",
            channel=self.channel.code,
        )

    def _body(self, req: RefundToSend, order: dict[str, Any]) -> dict[str, Any]:
        items = [li for li in order.get("line_items") or [] if isinstance(li, dict)]
        lines = []
        for ln in req.lines:
            if ln.quantity <= 0 and ln.amount <= 0 and ln.tax <= 0:
                continue
            if ln.external_line_id:
                item = next((i for i in items if str(i.get("id")) == ln.external_line_id), None)
            else:
                item = next((i for i in items if str(i.get("sku") or "") == ln.sku), None)
            if item is None:
                raise PermanentError(
                    f"{self.channel.code}: order {req.order_number} has no line "
                    f"{ln.external_line_id or ln.sku} on WooCommerce",
                    channel=self.channel.code,
                    reason="line_not_found",
                )
            line: dict[str, Any] = {
                "id": item["id"],
                "quantity": int(ln.quantity),
                "refund_total": str(ln.amount),
            }
            taxes = self._split_tax(ln.tax, item.get("taxes") or [])
            if taxes:
                line["refund_tax"] = taxes
            lines.append(line)
        reason = f"{req.reason.strip()} [hub:{req.idempotency_key}]".strip()
        return {
            "amount": str(req.amount),
            "reason": reason,
            "line_items": lines,
            # Both default to true on WooCommerce: always said explicitly (LIFECYCLE.md §2.2).
            "api_refund": bool(getattr(self.channel, "refund_api_refund", True)),
            "api_restock": False,
            "meta_data": [{"key": KEY_META, "value": req.idempotency_key}],
        }

    @staticmethod
    def _split_tax(tax: Decimal, rates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The line's tax over its tax rates, in proportion to what each rate charged on the
        line; the last rate takes the rounding remainder. No rates: none (``amount`` rules)."""
        if tax <= 0:
            return []
        rows = [(r.get("id"), abs(cents(r.get("total")))) for r in rates if r.get("id")]
        if not rows:
            return []
        whole = sum((t for _, t in rows), Decimal("0.00"))
        out = []
        left = tax
        for n, (rate_id, charged) in enumerate(rows):
            if n == len(rows) - 1:
                part = left
            else:
                share = (tax * charged / whole) if whole else Decimal("0")
                part = share.quantize(Decimal("0.01"), ROUND_HALF_UP)
            left -= part
            out.append({"id": rate_id, "refund_total": str(part)})
        return out
