"""Adobe Commerce / Magento 2 refunds: credit memos (``POST /V1/order/{id}/refund``).

- **Read**: ``GET /V1/creditmemos`` filtered on ``order_id`` (``searchCriteria`` paging). Amounts
  are Decimal to the cent (the client decodes Magento's JSON numbers as Decimal). A configurable
  product appears twice in a credit memo (the parent row with the price, the child row at 0 with
  the same SKU): the child row is dropped. A line's ``amount`` is its row total less its
  discount (tax excluded), ``tax`` its tax. Comments come with the list; where they do not
  (UNCONFIRMED whether Magento's list loads them) ``GET /V1/creditmemo/{id}/comments``.
- **Never twice**: Magento has no idempotency key. The hub's key goes at the end of the credit
  memo's comment as ``[hub:<key>]`` (kept off the customer's e-mail: ``appendComment: false``,
  ``is_visible_on_front: 0``), and every refund first reads the order's credit memos: one
  carrying our key is returned as found and nothing is sent. A lost answer therefore costs a
  read on the retry, never a second credit memo. Two refunds of one order never run at once for
  the same request (the work row is claimed); different requests may, which Magento allows.
- **Write**: ``GET /V1/orders/{id}`` for the items; each line maps by its channel line id (a
  child item's id stands for its parent) or by SKU on the top-level items. Magento computes the
  credit memo itself (price x qty, tax and discount prorated by quantity, to the cent); the hub
  computes the same from the order first. When it differs from the request by at most a cent
  per line (the hub's own proration rounding), the difference goes into ``adjustment_positive``
  / ``adjustment_negative`` so the credit memo is the request's amount to the cent; a larger
  difference is a PermanentError with both amounts, nothing sent. ``arguments.shipping_amount``
  is always sent as 0 (Magento would otherwise refund the remaining shipping with the first
  credit memo) and ``return_to_stock_items`` as ``[]``: Odoo owns stock, the channel never
  restocks (a store whose "Automatically Return Credit Memo Item to Stock" setting is on
  restocks anyway: verify on the store). Then ``GET /V1/creditmemo/{id}`` for the record.
- **Offline**: ``POST /V1/order/{id}/refund`` records the credit memo without moving money; an
  online refund through the payment gateway (``POST /V1/invoice/{id}/refund``) is not made by the
  hub: the merchant refunds the payment (or configures an offline method) as for any offline
  credit memo.

Calls: refund 4 (credit memos read + order + refund + credit memo read; +1 per listed credit
memo without comments); found 1. refunds_read 1 per page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import requests

from apps.core.errors import PermanentError
from apps.core.shapes import ID
from apps.fulfillment.adapters.magento import MagentoHttp, top_items
from apps.inventory.publishers.magento import NUMBER, MagentoPublisher
from apps.sales_channels.models import Channel

from . import RefundAdapter, RefundData, RefundLineData, RefundResult, RefundToSend
from .shopify import cents, refund_operation, split_key

CENT = Decimal("0.01")
MEMO_ITEM = {"order_item_id?": (ID, None), "sku?": (str, None), "qty?": (NUMBER, None)}
MEMO = {"entity_id": ID, "order_id": ID, "grand_total": NUMBER, "items?": [MEMO_ITEM]}
ITEM = {"item_id": ID, "qty_ordered": NUMBER, "price?": (NUMBER, None)}
ORDER = {"entity_id": ID, "items": [ITEM]}


def _when(value: Any) -> dt.datetime:
    """Magento's ``YYYY-MM-DD HH:MM:SS`` (UTC, no zone)."""
    try:
        return dt.datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.now(dt.UTC)


def _dec(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else 0))


def expected_total(order: dict[str, Any], items: dict[int, int]) -> Decimal:
    """What Magento will refund for ``items`` (item id -> qty), shipping and adjustments 0."""
    total = Decimal(0)
    for item in top_items(order):
        qty = items.get(int(item["item_id"]), 0)
        if qty <= 0:
            continue
        ordered = _dec(item["qty_ordered"]) or Decimal(1)
        tax = cents(_dec(item.get("tax_amount")) * qty / ordered)
        discount = cents(_dec(item.get("discount_amount")) * qty / ordered)
        total += _dec(item.get("price")) * qty + tax - discount
    return cents(total)


class MagentoRefunds(RefundAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = MagentoPublisher(channel, session=session)
        self.http = MagentoHttp(self.pub)

    # -- reading --------------------------------------------------------------------------------
    def _memos(self, order_id: str) -> list[dict[str, Any]]:
        return [
            memo
            for rows in self.pub.pages(
                "creditmemos",
                [("order_id", order_id, "eq")],
                operation="returns.creditmemos_read",
                item=MEMO,
            )
            for memo in rows
        ]

    def _comments(self, memo: dict[str, Any]) -> list[str]:
        return self.pub.comments("creditmemo", memo, "returns.creditmemo_comments")

    def to_refund(
        self, memo: dict[str, Any], comments: list[str], currency: str = ""
    ) -> RefundData:
        rows = [i for i in memo.get("items") or [] if isinstance(i, dict)]
        priced = {str(i.get("sku") or "") for i in rows if _dec(i.get("price")) != 0}
        lines = []
        for it in rows:
            sku, qty = str(it.get("sku") or ""), int(_dec(it.get("qty")))
            if qty <= 0 or (_dec(it.get("price")) == 0 and sku in priced):
                continue  # a configurable's child row: its parent carries the money
            lines.append(
                RefundLineData(
                    sku=sku,
                    quantity=qty,
                    amount=cents(_dec(it.get("row_total")) - abs(_dec(it.get("discount_amount")))),
                    tax=cents(it.get("tax_amount")),
                    restock="no_restock",
                    external_line_id=str(it.get("order_item_id") or ""),
                )
            )
        reason, key = "", ""
        for text in comments:
            said, found = split_key(text)
            reason, key = (reason or said.strip()), (key or found)
        return RefundData(
            external_id=str(memo["entity_id"]),
            currency=str(memo.get("order_currency_code") or currency),
            amount=cents(memo.get("grand_total")),
            refunded_at=_when(memo.get("created_at")),
            lines=tuple(lines),
            shipping_amount=cents(memo.get("shipping_amount")),
            tax_amount=cents(memo.get("tax_amount")),
            reason=reason,
            hub_key=key,
            raw=memo,
        )

    # -- interface ------------------------------------------------------------------------------
    def refunds_read(self, order_external_id: str) -> list[RefundData]:
        order_id = order_external_id.strip()
        with refund_operation(self.http, None, order_id, "refunds_read"):
            return [self.to_refund(m, self._comments(m)) for m in self._memos(order_id)]

    def refund(self, req: RefundToSend) -> RefundResult:
        order_id = req.order_external_id.strip()
        with refund_operation(self.http, req, order_id, "refund") as calls:
            for memo in self._memos(order_id):
                comments = self._comments(memo)
                if any(split_key(c)[1] == req.idempotency_key for c in comments):
                    found = self.to_refund(memo, comments, req.currency)
                    return RefundResult(found, found_existing=True, calls=calls())
            order = self.pub.api("GET", f"orders/{order_id}", operation="returns.order", spec=ORDER)
            items = self._items(req, order)
            predicted = expected_total(order, items)
            diff = req.amount - predicted
            if abs(diff) > CENT * len(items):
                raise PermanentError(
                    f"{self.channel.code}: Magento would refund {predicted} for the lines of "
                    f"order {req.order_number}, the hub asks {req.amount} {req.currency}: not "
                    "refunded",
                    channel=self.channel.code,
                    reason="amount_mismatch",
                    expected=str(predicted),
                    requested=str(req.amount),
                )
            reason = req.reason.strip()
            body = {
                "items": [{"order_item_id": k, "qty": q} for k, q in sorted(items.items())],
                "notify": bool(req.notify_customer),
                "appendComment": False,
                "comment": {
                    "comment": f"{reason} [hub:{req.idempotency_key}]".strip(),
                    "is_visible_on_front": 0,
                },
                "arguments": {
                    "shipping_amount": Decimal("0.00"),
                    "adjustment_positive": max(diff, Decimal("0.00")),
                    "adjustment_negative": max(-diff, Decimal("0.00")),
                    "extension_attributes": {"return_to_stock_items": []},
                },
            }
            memo_id = self.pub.api(
                "POST", f"order/{order_id}/refund", operation="returns.refund", json=body, spec=ID
            )
            memo = self.pub.api(
                "GET", f"creditmemo/{memo_id}", operation="returns.creditmemo", spec=MEMO
            )
            made = self.to_refund(memo, self._comments(memo), req.currency)
            return RefundResult(made, calls=calls())

    def _items(self, req: RefundToSend, order: dict[str, Any]) -> dict[int, int]:
        """order item id -> quantity; child item ids stand for their parent."""
        top = top_items(order)
        parents = {str(i["item_id"]): str(i.get("parent_item_id") or "") for i in order["items"]}
        out: dict[int, int] = {}
        for ln in req.lines:
            if ln.quantity <= 0:
                continue
            if ln.external_line_id:
                wanted = parents.get(ln.external_line_id) or ln.external_line_id
                match = next((i for i in top if str(i["item_id"]) == wanted), None)
            else:
                match = next((i for i in top if str(i.get("sku") or "") == ln.sku), None)
            if match is None:
                raise PermanentError(
                    f"{self.channel.code}: order {req.order_number} has no "
                    f"{'item ' + ln.external_line_id if ln.external_line_id else 'SKU ' + ln.sku}"
                    " on Magento",
                    channel=self.channel.code,
                    reason="line_not_found",
                )
            iid = int(match["item_id"])
            out[iid] = out.get(iid, 0) + int(ln.quantity)
        if not out:
            raise PermanentError(
                f"{self.channel.code}: the refund of order {req.order_number} has no lines: "
                "Magento credit memos refund items",
                channel=self.channel.code,
            )
        return out
