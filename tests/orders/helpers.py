"""Reading what the sandbox Odoo holds, for assertions."""

from __future__ import annotations

from typing import Any


def sale_orders(sandbox: Any, ref: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sandbox.execute(
        "sale.order",
        "search_read",
        [["origin", "=", ref]],
        fields=[
            "name",
            "state",
            "partner_id",
            "partner_shipping_id",
            "partner_invoice_id",
            "client_order_ref",
            "order_line",
            "amount_total",
            "origin",
            "warehouse_id",
        ],
    )
    return rows


def order_lines(sandbox: Any, line_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = sandbox.execute(
        "sale.order.line",
        "read",
        line_ids,
        ["product_id", "product_uom_qty", "price_unit", "discount", "tax_id", "name"],
    )
    return sorted(rows, key=lambda r: r["id"])


def line_rows(sandbox: Any, sale_order: dict[str, Any]) -> list[tuple[int, float, float, float]]:
    """The sale order's lines as (product id, quantity, unit price, discount %), in order."""
    return [
        (ln["product_id"][0], ln["product_uom_qty"], ln["price_unit"], ln["discount"])
        for ln in order_lines(sandbox, sale_order["order_line"])
    ]


def count_orders_with_prefix(sandbox: Any, prefix: str) -> int:
    n: int = sandbox.execute("sale.order", "search_count", [["origin", "=like", f"{prefix}%"]])
    return n
