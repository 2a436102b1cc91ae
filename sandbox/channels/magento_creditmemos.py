"""Magento stand-in: ``POST order/{id}/refund`` (an offline credit memo), see ``magento_ops``.

Magento's own arithmetic, per line: the price times the quantity, tax and discount prorated by
quantity over the ordered quantity (to the cent); shipping as given, else what is left of it
(Magento refunds the remaining shipping when ``shipping_amount`` is absent), with its tax
prorated; the adjustments; the total never above what was paid and not refunded yet.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .base import Response, int_or_none
from .magento import cents, dec, error, mdate, num

if TYPE_CHECKING:
    from .magento_ops import Ops

MEMO_ERR = "Creditmemo Document Validation Error(s):\n%1"
ERR_MONEY = "The most money available to refund is %1."


def refund(ops: Ops, order: dict[str, Any], body: dict[str, Any]) -> Response:
    """``POST order/{id}/refund``: one credit memo, computed as Magento does (see magento_ops)."""
    paid, refunded = dec(order.get("total_paid")), dec(order.get("total_refunded"))
    if order["state"] in ("canceled", "closed") or paid <= refunded:
        return error(
            400,
            MEMO_ERR,
            ["The order does not allow a creditmemo to be created."],
            op="refund_refused",
        )
    args = body.get("arguments") or {}
    top = {ln["item_id"]: ln for ln in ops._top(order)}
    lines: list[tuple[dict[str, Any], Decimal]] = []
    for row in body.get("items") or []:
        iid, qty = int_or_none(row.get("order_item_id")), dec(row.get("qty"))
        line = top.get(iid) if iid is not None else None
        if line is None:
            return error(
                400,
                MEMO_ERR,
                [f"The creditmemo item {row.get('order_item_id')} is not an item of the order."],
                op="refund_refused",
            )
        if qty <= 0 or qty > dec(line["qty_ordered"]) - dec(line.get("qty_refunded")):
            return error(
                400,
                MEMO_ERR,
                [
                    "The quantity to creditmemo must not be greater than the unrefunded quantity "
                    f'for product SKU "{line["sku"]}".'
                ],
                op="refund_refused",
            )
        lines.append((line, qty))
    ship_total, ship_done = (
        dec(order.get("shipping_amount")),
        dec(order.get("_shipping_refunded")),
    )
    shipping = dec(args["shipping_amount"]) if "shipping_amount" in args else ship_total - ship_done
    if shipping < 0 or shipping > ship_total - ship_done:
        return error(
            400,
            "Maximum shipping amount allowed to refund is: %1",
            [num(ship_total - ship_done)],
            op="refund_refused",
        )
    ship_tax = (
        cents(dec(order.get("shipping_tax_amount")) * shipping / ship_total)
        if ship_total
        else Decimal(0)
    )
    subtotal = tax = discount = Decimal(0)
    memo_id = ops._next("creditmemo", 0)
    items = []
    for line, qty in lines:
        ordered = dec(line["qty_ordered"])
        row_tax = cents(dec(line.get("tax_amount")) * qty / ordered)
        row_disc = cents(dec(line.get("discount_amount")) * qty / ordered)
        row = dec(line["price"]) * qty
        subtotal, tax, discount = subtotal + row, tax + row_tax, discount + row_disc
        items.append(
            {
                "entity_id": ops._next("creditmemo_item", 0),
                "parent_id": memo_id,
                "order_item_id": line["item_id"],
                "sku": line["sku"],
                "name": line["name"],
                "product_id": line["product_id"],
                "qty": num(qty),
                "price": line["price"],
                "row_total": num(row),
                "tax_amount": num(row_tax),
                "discount_amount": num(row_disc),
            }
        )
        # A configurable's child line gets its own row at 0, as in Magento.
        items.extend(
            {
                "entity_id": ops._next("creditmemo_item", 0),
                "parent_id": memo_id,
                "order_item_id": child["item_id"],
                "sku": child["sku"],
                "name": child["name"],
                "product_id": child["product_id"],
                "qty": num(qty),
                "price": 0,
                "row_total": 0,
                "tax_amount": 0,
                "discount_amount": 0,
            }
            for child in ops._children(order, line["item_id"])
        )
    adj_pos, adj_neg = (
        dec(args.get("adjustment_positive")),
        dec(args.get("adjustment_negative")),
    )
    grand = subtotal + tax - discount + shipping + ship_tax + adj_pos - adj_neg
    if grand > paid - refunded:
        return error(
            400,
            ERR_MONEY,
            [f"{order['order_currency_code']}{cents(paid - refunded)}"],
            op="refund_refused",
        )
    if grand <= 0:
        return error(
            400, MEMO_ERR, ["The credit memo's total must be positive."], op="refund_refused"
        )
    for line, qty in lines:
        for ln in [line, *ops._children(order, line["item_id"])]:
            ln["qty_refunded"] = num(dec(ln.get("qty_refunded")) + qty)
    back = {
        int(i) for i in (args.get("extension_attributes") or {}).get("return_to_stock_items") or []
    }
    for line, qty in lines:
        if line["item_id"] in back and line["sku"] in ops.store.items:
            item = ops.store.items[line["sku"]]
            ops._set_source(item.sku, "default", item.stock + qty, 1)
    now, notify = mdate(time.time()), bool(body.get("notify"))
    memo = {
        "entity_id": memo_id,
        "increment_id": f"{memo_id:09d}",
        "order_id": order["entity_id"],
        "invoice_id": None,
        "state": 2,
        "created_at": now,
        "updated_at": now,
        "order_currency_code": order["order_currency_code"],
        "base_currency_code": order["base_currency_code"],
        "subtotal": num(subtotal),
        "tax_amount": num(tax + ship_tax),
        "discount_amount": num(-discount),
        "shipping_amount": num(shipping),
        "shipping_tax_amount": num(ship_tax),
        "adjustment_positive": num(adj_pos),
        "adjustment_negative": num(adj_neg),
        "adjustment": num(adj_pos - adj_neg),
        "grand_total": num(grand),
        "base_grand_total": num(grand),
        "email_sent": int(notify),
        "items": items,
        "comments": ops._comment(memo_id, body.get("comment"), notify, "creditmemo"),
    }
    order["_creditmemos"].append(memo)
    order["_shipping_refunded"] = num(ship_done + shipping)
    total = refunded + grand
    state = "closed" if total >= paid else order["state"]
    ops.platform.touch_order(
        order,
        state=state,
        status=state,
        total_refunded=num(total),
        base_total_refunded=num(total),
    )
    return Response(200, memo_id, op="refund")
