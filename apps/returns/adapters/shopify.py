"""Shopify refunds: ``refundCreate`` with ``@idempotent``, read back through ``order.refunds``.

- **Read** (one query): the order's line items (SKU mapping), its transactions (the parent of a
  refund must be a successful SALE or CAPTURE) and its refunds with lines, restock type, money
  and transactions. Amounts are the presentment money (what the customer paid and gets back),
  as Decimal to the cent.
- **Never twice**: Shopify refunds carry no metadata, so the hub's key travels twice: in the
  ``@idempotent(key:)`` directive (mandatory from 2026-04; the same key with the same variables
  answers the original refund, LIFECYCLE.md §2.1) and at the end of the ``note`` as
  ``[hub:<key>]``, which is how a read recognises our refund. The read comes first (it is needed
  anyway for the parent transaction): a refund carrying the key is returned as found, no
  mutation. Should a refund made under a lost answer not be visible yet, the retry's mutation
  has the same key and the same variables (the input is built deterministically from the
  request and the order's state *before* our refund: parent = the oldest payment with enough
  left), so Shopify answers the original refund instead of paying again.
- **Write**: ``refundCreate(input: {orderId, note, notify, refundLineItems [{lineItemId,
  quantity, restockType: NO_RESTOCK}], transactions [{orderId, parentId, gateway, kind: REFUND,
  amount}], currency?})``. Always ``NO_RESTOCK``: Odoo owns stock (LIFECYCLE.md §2.4).
  ``currency`` only when the order's presentment currency differs from the shop's.
- Errors: ``userErrors`` -> PermanentError (over-refund, quantity, parent); GraphQL errors ->
  PermanentError except INTERNAL_SERVER_ERROR; THROTTLED / 429 through the shared budget.
- **API version**: ``@idempotent`` exists from 2026-01 (optional) and is mandatory from
  2026-04; refund calls therefore use ``max(HUB_SHOPIFY_API_VERSION, 2026-01)``.
- ``returns_read``: the order's returns with their lines (fulfillment line -> order line, SKU).

Calls: refund 2 (read + refundCreate; the platform minimum, since the parent transaction must
be read); found after a lost answer 1; refunds_read 1; returns_read 1.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import requests

from apps.core.errors import HubError, PermanentError
from apps.core.shapes import NUMBER
from apps.fulfillment.adapters._http import ChannelHttp, first_error
from apps.inventory.publishers.shopify import ShopifyPublisher, mutation_shape
from apps.sales_channels.models import Channel

from . import RefundAdapter, RefundData, RefundLineData, RefundResult, RefundToSend, ReturnData

CENT = Decimal("0.01")
MIN_REFUND_API_VERSION = "2026-01"  # @idempotent exists from here (mandatory from 2026-04)
MUTATION_COST = 10.0
REFUNDS_PAGE = 10
REFUND_LINES_PAGE = 20
KEY_RE = re.compile(r"\s*\[hub:([^\]]+)\]\s*$")
RESTOCK = {"RETURN": "return", "CANCEL": "cancel", "NO_RESTOCK": "no_restock"}
RETURN_STATUS = {
    "REQUESTED": "requested",
    "OPEN": "open",
    "DECLINED": "declined",
    "CANCELED": "canceled",
    "CLOSED": "closed",
}

_MONEY = "presentmentMoney { amount currencyCode }"
READ_QUERY = f"""
query HubRefunds($id: ID!) {{
  order(id: $id) {{
    id name currencyCode presentmentCurrencyCode
    lineItems(first: 100) {{ nodes {{ id sku quantity }} }}
    transactions(first: 20) {{
      id kind status gateway amountSet {{ {_MONEY} }} parentTransaction {{ id }}
    }}
    refunds(first: {REFUNDS_PAGE}) {{
      id createdAt note
      totalRefundedSet {{ {_MONEY} }}
      refundLineItems(first: {REFUND_LINES_PAGE}) {{
        nodes {{
          quantity restockType lineItem {{ id sku }}
          subtotalSet {{ {_MONEY} }} totalTaxSet {{ {_MONEY} }}
        }}
      }}
      transactions(first: 5) {{ nodes {{ id kind status gateway amountSet {{ {_MONEY} }} }} }}
    }}
  }}
}}
"""
READ_COST = 2 + 100 * 2 + 20 * 3 + REFUNDS_PAGE * (3 + 2 + REFUND_LINES_PAGE * 5 + 2 + 5 * 3)

RETURNS_QUERY = """
query HubReturns($id: ID!) {
  order(id: $id) {
    id
    returns(first: 10) {
      nodes {
        id name status
        returnLineItems(first: 20) {
          nodes {
            ... on ReturnLineItem {
              id quantity returnReason returnReasonNote
              fulfillmentLineItem { lineItem { id sku } }
            }
          }
        }
      }
    }
  }
}
"""
RETURNS_COST = 2 + 10 * (3 + 2 + 20 * 4)

REFUND_MUTATION = """
mutation HubRefund($input: RefundInput!) {
  refundCreate(input: $input) @idempotent(key: %s) {
    refund {
      id createdAt note
      totalRefundedSet { presentmentMoney { amount currencyCode } }
      refundLineItems(first: 50) {
        nodes {
          quantity restockType lineItem { id sku }
          subtotalSet { presentmentMoney { amount currencyCode } }
          totalTaxSet { presentmentMoney { amount currencyCode } }
        }
      }
      transactions(first: 5) {
        nodes { id kind status gateway amountSet { presentmentMoney { amount currencyCode } } }
      }
    }
    userErrors { field message }
  }
}
"""


# What each call reads of the answer's ``data`` (apps.core.shapes). ``refunds`` is required:
# reading "none" from a broken answer would refund a second time.
_MONEY_SHAPE = (
    {"presentmentMoney": ({"amount": NUMBER, "currencyCode?": (str, None)}, None)},
    None,
)
_LINE = {
    "quantity?": (int, None),
    "lineItem?": ({"id?": (str, None), "sku?": (str, None)}, None),
    "subtotalSet?": _MONEY_SHAPE,
    "totalTaxSet?": _MONEY_SHAPE,
}
_TRANSACTION = {
    "id": str,
    "amountSet?": _MONEY_SHAPE,
    "parentTransaction?": ({"id?": (str, None)}, None),
}
REFUND_SHAPE = {
    "id": str,
    "note?": (str, None),
    "totalRefundedSet?": _MONEY_SHAPE,
    "refundLineItems?": ({"nodes": [_LINE]}, None),
}
READ_SHAPE = {
    "order": (
        {
            "refunds": [REFUND_SHAPE],
            "lineItems": {"nodes": [{"id": str, "quantity?": (int, None)}]},
            "transactions": [_TRANSACTION],
        },
        None,
    )
}
RETURNS_SHAPE = {
    "order": (
        {
            "returns": {
                "nodes": [
                    {
                        "id": str,
                        "returnLineItems?": (
                            {
                                "nodes": [
                                    {
                                        "quantity?": (int, None),
                                        "fulfillmentLineItem?": (
                                            {"lineItem?": (dict, None)},
                                            None,
                                        ),
                                    }
                                ]
                            },
                            None,
                        ),
                    }
                ]
            }
        },
        None,
    )
}
REFUND_CREATE_SHAPE = mutation_shape("refundCreate", refund=REFUND_SHAPE)


def cents(value: Any) -> Decimal:
    """A platform amount (string or number) as Decimal to the cent."""
    try:
        return Decimal(str(value if value not in (None, "") else "0")).quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise PermanentError(f"not an amount: {value!r}") from exc


def order_gid(external_id: str) -> str:
    value = external_id.strip()
    return value if value.startswith("gid://") else f"gid://shopify/Order/{value}"


def _tail(gid: str) -> str:
    return gid.rsplit("/", 1)[-1].split("?")[0]


def _money(bag: Any) -> tuple[Decimal, str]:
    m = (bag or {}).get("presentmentMoney") or {}
    return cents(m.get("amount")), str(m.get("currencyCode") or "")


def _when(value: Any) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.now(dt.UTC)


def split_key(note: Any) -> tuple[str, str]:
    """(note without the hub marker, hub key)."""
    text = str(note or "")
    m = KEY_RE.search(text)
    return (text[: m.start()], m.group(1)) if m else (text, "")


@contextmanager
def refund_operation(
    http: ChannelHttp, req: RefundToSend | None, order_id: str, what: str
) -> Iterator[Callable[[], int]]:
    """Counts the calls of one operation; a classified error carries the inbox context."""
    start = http.calls
    try:
        yield lambda: http.calls - start
    except HubError as exc:
        ctx = exc.context
        ctx.setdefault("channel", http.channel.code)
        ctx.setdefault("order_external_id", order_id)
        ctx.setdefault("operation", what)
        if req is not None:
            ctx.setdefault("order_number", req.order_number)
            ctx.setdefault("amount", str(req.amount))
            ctx.setdefault("currency", req.currency)
            ctx.setdefault("idempotency_key", req.idempotency_key)
            ctx.setdefault("skus", ", ".join(ln.sku for ln in req.lines if ln.sku))
        ctx["channel_calls"] = http.calls - start
        raise


class ShopifyRefunds(RefundAdapter):
    def __init__(self, channel: Channel, *, session: requests.Session | None = None) -> None:
        super().__init__(channel)
        self.pub = ShopifyPublisher(channel, session=session)
        self.http = ChannelHttp(self.pub)
        version = max(str(self.pub.version), MIN_REFUND_API_VERSION)
        self.url = f"{channel.api_base_url.rstrip('/')}/admin/api/{version}/graphql.json"

    # -- transport ------------------------------------------------------------------------------
    def graphql(
        self, query: str, variables: dict[str, Any], *, cost: float, shape: Any, operation: str
    ) -> dict[str, Any]:
        return self.http.graphql(
            self.url,
            self.pub.headers,
            query,
            variables,
            cost=cost,
            shape=shape,
            operation=operation,
        )

    def _read(self, order_id: str) -> dict[str, Any]:
        data = self.graphql(
            READ_QUERY,
            {"id": order_id},
            cost=min(READ_COST, 1000),
            shape=READ_SHAPE,
            operation="returns.read_order",
        )
        order: dict[str, Any] | None = data.get("order")
        if not order:
            raise PermanentError(
                f"{self.channel.code}: Shopify has no order {order_id}", channel=self.channel.code
            )
        return order

    # -- normalising ----------------------------------------------------------------------------
    @staticmethod
    def to_refund(r: dict[str, Any]) -> RefundData:
        amount, currency = _money(r.get("totalRefundedSet"))
        lines = []
        for n in (r.get("refundLineItems") or {}).get("nodes") or []:
            li = n.get("lineItem") or {}
            lines.append(
                RefundLineData(
                    sku=str(li.get("sku") or ""),
                    quantity=int(n.get("quantity") or 0),
                    amount=_money(n.get("subtotalSet"))[0],
                    tax=_money(n.get("totalTaxSet"))[0],
                    restock=RESTOCK.get(str(n.get("restockType") or ""), "return"),
                    external_line_id=str(li.get("id") or ""),
                )
            )
        reason, key = split_key(r.get("note"))
        tax = sum((ln.tax for ln in lines), Decimal("0.00"))
        goods = sum((ln.amount for ln in lines), Decimal("0.00"))
        # Shipping is not read separately (refundShippingLines: UNCONFIRMED field names); what
        # the transactions paid beyond the lines is reported as shipping / adjustment.
        rest = amount - goods - tax
        return RefundData(
            external_id=str(r.get("id") or ""),
            currency=currency,
            amount=amount,
            refunded_at=_when(r.get("createdAt")),
            lines=tuple(lines),
            shipping_amount=rest if lines and rest > 0 else Decimal("0.00"),
            tax_amount=tax,
            reason=reason,
            hub_key=key,
            raw=r,
        )

    # -- interface ------------------------------------------------------------------------------
    def refunds_read(self, order_external_id: str) -> list[RefundData]:
        order_id = order_gid(order_external_id)
        with refund_operation(self.http, None, order_id, "refunds_read"):
            order = self._read(order_id)
            return [self.to_refund(r) for r in order.get("refunds") or []]

    def returns_read(self, order_external_id: str) -> list[ReturnData]:
        order_id = order_gid(order_external_id)
        with refund_operation(self.http, None, order_id, "returns_read"):
            data = self.graphql(
                RETURNS_QUERY,
                {"id": order_id},
                cost=min(RETURNS_COST, 1000),
                shape=RETURNS_SHAPE,
                operation="returns.read_returns",
            )
            order = data.get("order")
            if not order:
                raise PermanentError(
                    f"{self.channel.code}: Shopify has no order {order_id}",
                    channel=self.channel.code,
                )
            out = []
            for r in (order.get("returns") or {}).get("nodes") or []:
                lines = []
                reasons = []
                for x in (r.get("returnLineItems") or {}).get("nodes") or []:
                    li = (x.get("fulfillmentLineItem") or {}).get("lineItem") or {}
                    lines.append(
                        RefundLineData(
                            sku=str(li.get("sku") or ""),
                            quantity=int(x.get("quantity") or 0),
                            amount=Decimal("0.00"),
                            restock="return",
                            external_line_id=str(li.get("id") or ""),
                        )
                    )
                    if x.get("returnReason"):
                        reasons.append(str(x["returnReason"]).lower())
                out.append(
                    ReturnData(
                        external_id=str(r.get("id") or ""),
                        name=str(r.get("name") or ""),
                        status=RETURN_STATUS.get(str(r.get("status") or ""), "requested"),
                        lines=tuple(lines),
                        reason=", ".join(dict.fromkeys(reasons)),
                        raw=r,
                    )
                )
            return out

    def refund(self, req: RefundToSend) -> RefundResult:
        order_id = order_gid(req.order_external_id)
        with refund_operation(self.http, req, order_id, "refund") as calls:
            order = self._read(order_id)
            for r in order.get("refunds") or []:
                if split_key(r.get("note"))[1] == req.idempotency_key:
                    return RefundResult(self.to_refund(r), found_existing=True, calls=calls())
            variables = {"input": self._input(req, order, order_id)}
            # The key is a GraphQL string literal: json.dumps quotes and escapes it.
            query = REFUND_MUTATION % json.dumps(req.idempotency_key)
            data = self.graphql(
                query,
                variables,
                cost=MUTATION_COST,
                shape=REFUND_CREATE_SHAPE,
                operation="returns.refund_create",
            )
            payload = data["refundCreate"]
            errors = payload["userErrors"]
            if errors or not payload.get("refund"):
                raise PermanentError(
                    f"{self.channel.code}: Shopify refused refundCreate for order "
                    f"{req.order_number} ({req.amount} {req.currency}): "
                    f"{first_error(errors) or 'no refund returned'}"[:500],
                    channel=self.channel.code,
                    user_errors=errors,
                )
            return RefundResult(self.to_refund(payload["refund"]), calls=calls())

    def _input(self, req: RefundToSend, order: dict[str, Any], order_id: str) -> dict[str, Any]:
        note = f"{req.reason.strip()} [hub:{req.idempotency_key}]".strip()
        body: dict[str, Any] = {"orderId": order_id, "note": note, "notify": req.notify_customer}
        lines = self._lines(req, order)
        if lines:
            body["refundLineItems"] = lines
        if req.amount > 0:
            body["transactions"] = self._transactions(req, order, order_id)
        presentment = str(order.get("presentmentCurrencyCode") or "")
        if presentment and presentment != str(order.get("currencyCode") or presentment):
            body["currency"] = presentment
        return body

    def _lines(self, req: RefundToSend, order: dict[str, Any]) -> list[dict[str, Any]]:
        """Request lines -> order line items: by channel line id, else by SKU (spread over the
        lines with that SKU by their quantity). Unknown -> PermanentError, nothing sent."""
        items = [
            (str(n.get("id") or ""), str(n.get("sku") or ""), int(n.get("quantity") or 0))
            for n in (order.get("lineItems") or {}).get("nodes") or []
        ]
        used: dict[str, int] = {}
        out: list[dict[str, Any]] = []
        for ln in req.lines:
            if ln.quantity <= 0:
                continue
            if ln.external_line_id:
                matching = [it for it in items if _tail(it[0]) == _tail(ln.external_line_id)]
            else:
                matching = [it for it in items if it[1] == ln.sku]
            if not matching:
                raise PermanentError(
                    f"{self.channel.code}: order {req.order_number} has no line "
                    f"{ln.external_line_id or ln.sku} on Shopify",
                    channel=self.channel.code,
                    reason="line_not_found",
                )
            need = ln.quantity
            for gid, _, qty in matching:
                take = min(need, qty - used.get(gid, 0))
                if len(matching) == 1:
                    take = need  # the platform judges what is left to refund
                if take > 0:
                    used[gid] = used.get(gid, 0) + take
                    out.append({"lineItemId": gid, "quantity": take, "restockType": "NO_RESTOCK"})
                    need -= take
                if not need:
                    break
            if need:
                out.append(
                    {"lineItemId": matching[-1][0], "quantity": need, "restockType": "NO_RESTOCK"}
                )
        return out

    def _transactions(
        self, req: RefundToSend, order: dict[str, Any], order_id: str
    ) -> list[dict[str, Any]]:
        """REFUND transactions against the order's successful SALE / CAPTURE payments, oldest
        first, each up to what is left of it; Shopify refuses more than was paid."""
        txs = order.get("transactions") or []
        refunded: dict[str, Decimal] = {}
        for t in txs:
            parent = (t.get("parentTransaction") or {}).get("id")
            if t.get("kind") == "REFUND" and t.get("status") == "SUCCESS" and parent:
                refunded[parent] = (
                    refunded.get(parent, Decimal("0.00")) + _money(t.get("amountSet"))[0]
                )
        payments = [
            t for t in txs if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS"
        ]
        if not payments:
            raise PermanentError(
                f"{self.channel.code}: order {req.order_number} has no successful payment on "
                "Shopify to refund against",
                channel=self.channel.code,
                reason="no_parent_transaction",
            )
        left_to_pay = req.amount
        out = []
        for t in payments:
            available = _money(t.get("amountSet"))[0] - refunded.get(str(t["id"]), Decimal("0"))
            take = min(left_to_pay, available)
            if take <= 0:
                continue
            out.append(
                {
                    "orderId": order_id,
                    "parentId": t["id"],
                    "gateway": t.get("gateway"),
                    "kind": "REFUND",
                    "amount": str(take),
                }
            )
            left_to_pay -= take
            if not left_to_pay:
                break
        if left_to_pay > 0:
            # More than was paid: let Shopify say so (userErrors) against the first payment,
            # rather than guessing; nothing is paid then.
            if out:
                out[-1]["amount"] = str(cents(out[-1]["amount"]) + left_to_pay)
            else:
                out.append(
                    {
                        "orderId": order_id,
                        "parentId": payments[0]["id"],
                        "gateway": payments[0].get("gateway"),
                        "kind": "REFUND",
                        "amount": str(left_to_pay),
                    }
                )
        return out
