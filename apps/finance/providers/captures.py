"""The captured payments of one order, per channel: what the hub registers in Odoo as the
customer's payment, keyed by the gateway transaction id a payout later names.

- Shopify: the order's transactions over the Admin GraphQL API; successful ``SALE`` and
  ``CAPTURE`` are kept. ``transaction_id`` is the numeric (legacy) id, taken from the gid: it is
  what balance transactions call ``source_order_transaction_id``. Amount and currency are the
  shop money (the settlement side).
- WooCommerce: no call; from the order payload: ``transaction_id``, ``payment_method``,
  ``date_paid_gmt`` (UTC without zone; ``date_paid`` as fallback), ``total``, ``currency``.
  Nothing when the order is not paid (no ``date_paid``). ``transaction_id`` may be a Stripe
  charge or payment intent id, or empty for offline methods (UNCONFIRMED, LIFECYCLE.md §7).
- BigCommerce: ``GET /v3/orders/<id>/transactions``; events ``purchase`` / ``capture`` with
  status ``ok``; ``transaction_id`` is ``gateway_transaction_id`` (the BigCommerce transaction
  id when the gateway gave none, e.g. offline payments).
- Other kinds (``b2b_api``, ``standard_webhooks``): none.

Calls go through the channel's shared rate budget (``ChannelHttp``). A 200 with the wrong
shape is a PermanentError naming what was missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from apps.core import shapes
from apps.core.errors import PermanentError

from .base import decimal, field, parse_datetime, text

MAX_PAGES = 1_000
BC_PAGE = 250

SHOPIFY_QUERY = """
query HubOrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions {
      id kind status gateway processedAt
      amountSet { shopMoney { amount currencyCode } }
    }
  }
}
"""
SHOPIFY_QUERY_COST = 5.0


@dataclass(frozen=True)
class CapturedPayment:
    transaction_id: str
    gateway: str
    amount: Decimal
    currency: str
    processed_at: dt.datetime
    kind: str  # "sale" | "capture"


def captured_payments(
    channel: Any, payload: Mapping[str, Any], external_id: str
) -> list[CapturedPayment]:
    kind = str(getattr(channel, "kind", "") or "")
    if kind == "shopify":
        return _shopify(channel, external_id)
    if kind == "woocommerce":
        return _woocommerce(channel, payload, external_id)
    if kind == "bigcommerce":
        return _bigcommerce(channel, external_id)
    return []


def _code(channel: Any) -> str:
    return str(getattr(channel, "code", "") or getattr(channel, "kind", ""))


def _when(value: Any, name: str, what: str, **ctx: Any) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise PermanentError(f"{what}: {name!r} is not a date ({value!r})", field=name, **ctx)
    return parsed


# -- Shopify ------------------------------------------------------------------------------------
def _shopify(channel: Any, external_id: str) -> list[CapturedPayment]:
    from apps.fulfillment.adapters._http import ChannelHttp
    from apps.inventory.publishers.shopify import ShopifyPublisher

    pub = ShopifyPublisher(channel)
    http = ChannelHttp(pub)
    code = _code(channel)
    ctx: dict[str, Any] = {"channel": code, "order_external_id": external_id}
    gid = external_id if external_id.startswith("gid://") else f"gid://shopify/Order/{external_id}"
    what = f"{code}: Shopify order {external_id} transactions"
    with shapes.about(order_external_id=external_id):
        data = http.graphql(
            pub.url,
            pub.headers,
            SHOPIFY_QUERY,
            {"id": gid},
            cost=SHOPIFY_QUERY_COST,
            shape={"order": ({"transactions": [dict]}, None)},
            operation="finance.captures",
        )
    order = data["order"]
    if order is None:
        raise PermanentError(f"{what}: the order does not exist", field="order", **ctx)
    out = []
    for tx in order["transactions"]:
        tx_kind = str(tx.get("kind") or "").upper()
        if tx_kind not in ("SALE", "CAPTURE") or str(tx.get("status") or "").upper() != "SUCCESS":
            continue
        money = (
            (tx.get("amountSet") or {}).get("shopMoney")
            if isinstance(tx.get("amountSet"), dict)
            else None
        )
        if not isinstance(money, dict):
            raise PermanentError(
                f"{what}: a transaction has no 'amountSet.shopMoney'", field="amountSet", **ctx
            )
        tid = text(field(tx, "id", what, **ctx))
        out.append(
            CapturedPayment(
                transaction_id=tid.rsplit("/", 1)[-1].split("?", 1)[0],
                gateway=text(tx.get("gateway")),
                amount=decimal(field(money, "amount", what, **ctx), "amount", what, **ctx),
                currency=str(field(money, "currencyCode", what, **ctx)).upper(),
                processed_at=_when(
                    field(tx, "processedAt", what, **ctx), "processedAt", what, **ctx
                ),
                kind=tx_kind.lower(),
            )
        )
    return out


# -- WooCommerce --------------------------------------------------------------------------------
def _woocommerce(
    channel: Any, payload: Mapping[str, Any], external_id: str
) -> list[CapturedPayment]:
    code = _code(channel)
    ctx: dict[str, Any] = {"channel": code, "order_external_id": external_id}
    what = f"{code}: WooCommerce order {external_id}"
    if not isinstance(payload, Mapping):
        raise PermanentError(f"{what}: the order payload is not an object", **ctx)
    paid = payload.get("date_paid_gmt") or payload.get("date_paid")
    if not paid:
        return []
    return [
        CapturedPayment(
            transaction_id=text(payload.get("transaction_id")),
            gateway=text(payload.get("payment_method")),
            amount=decimal(field(payload, "total", what, **ctx), "total", what, **ctx),
            currency=str(field(payload, "currency", what, **ctx)).upper(),
            processed_at=_when(paid, "date_paid_gmt", what, **ctx),
            kind="sale",
        )
    ]


# -- BigCommerce --------------------------------------------------------------------------------
BC_META = {"pagination?": ({"total_pages?": (int, None)}, None)}


def _bigcommerce(channel: Any, external_id: str) -> list[CapturedPayment]:
    from apps.fulfillment.adapters._http import ChannelHttp
    from apps.inventory.publishers.bigcommerce import BigCommercePublisher

    pub = BigCommercePublisher(channel)
    http = ChannelHttp(pub)
    code = _code(channel)
    ctx: dict[str, Any] = {"channel": code, "order_external_id": external_id}
    what = f"{code}: BigCommerce order {external_id} transactions"
    url = f"{pub.base}/v3/orders/{external_id}/transactions"
    out: list[CapturedPayment] = []
    for page in range(1, MAX_PAGES + 1):
        resp = http.request(
            "GET", url, params={"page": page, "limit": BC_PAGE}, headers=pub.headers, allow=(204,)
        )
        if resp.status_code == 204:
            return out
        body = http.answer(
            resp,
            {"data": [dict], "meta?": (BC_META, None)},
            "finance.captures",
            parse_float=Decimal,  # amounts are JSON numbers: no float detour
            order_external_id=external_id,
        )
        rows = body["data"]
        for row in rows:
            event = str(row.get("event") or "").lower()
            if event not in ("purchase", "capture") or str(row.get("status") or "").lower() != "ok":
                continue
            out.append(
                CapturedPayment(
                    transaction_id=text(row.get("gateway_transaction_id"))
                    or text(field(row, "id", what, **ctx)),
                    gateway=text(row.get("gateway")),
                    amount=decimal(field(row, "amount", what, **ctx), "amount", what, **ctx),
                    currency=str(field(row, "currency", what, **ctx)).upper(),
                    processed_at=_when(
                        field(row, "date_created", what, **ctx), "date_created", what, **ctx
                    ),
                    kind="sale" if event == "purchase" else "capture",
                )
            )
        total_pages = ((body.get("meta") or {}).get("pagination") or {}).get("total_pages")
        if not rows or not isinstance(total_pages, int) or page >= total_pages:
            return out
    raise PermanentError(f"{what}: more than {MAX_PAGES} pages", **ctx)
