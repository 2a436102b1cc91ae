"""Helpers for the inventory core tests: channels on the stand-ins bound to sandbox products,
stock changes made in the sandbox Odoo, and orders waiting for the push."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.mappings.models import Binding
from apps.orders.models import ChannelOrder, OrderLine
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.fixtures.channel_standins import ChannelStandin

# Sandbox products used by the tests (free stock split over WH and WH2, see docs/sandbox.md).
PRODUCTS = ("WIDGET-RED", "SKU-001", "SKU-003")


def standin_channel(standin: ChannelStandin, code: str, **options: Any) -> Channel:
    creds: dict[str, Any] = {"api_base_url": standin.base_url}
    if standin.kind == "woocommerce":
        creds.update(consumer_key=standin.consumer_key, consumer_secret=standin.consumer_secret)
    else:
        creds.update(access_token=standin.access_token or standin.auth_token)
    channel, _ = channel_create(code=code, kind=standin.kind, **creds, **options)
    return channel


def odoo_products(sandbox: Any, codes: tuple[str, ...] = PRODUCTS) -> dict[str, int]:
    rows = sandbox.execute(
        "product.product",
        "search_read",
        [["default_code", "in", list(codes)]],
        fields=["default_code"],
    )
    return {r["default_code"]: r["id"] for r in rows}


def warehouse(sandbox: Any, code: str = "WH") -> dict[str, Any]:
    rows = sandbox.execute(
        "stock.warehouse", "search_read", [["code", "=", code]], fields=["id", "lot_stock_id"]
    )
    return {"id": rows[0]["id"], "stock": rows[0]["lot_stock_id"][0]}


def bind_catalog(
    channel: Channel, standin: ChannelStandin, skus_to_products: dict[str, int], stock: int = 0
) -> dict[str, str]:
    """Create the SKUs on the stand-in and bind each to its Odoo product; SKU -> external id."""
    rows = standin.add_products([{"sku": s, "stock": stock} for s in skus_to_products])
    ext = {r["sku"]: str(r.get("variant_id") or r["id"]) for r in rows}
    Binding.objects.bulk_create(
        [
            Binding(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=ext[sku],
                external_code=sku,
                odoo_model="product.product",
                odoo_id=pid,
            )
            for sku, pid in skus_to_products.items()
        ]
    )
    return ext


def free_qty(sandbox: Any, product_id: int, warehouse_ids: list[int]) -> Decimal:
    """What Odoo says is free, read independently of the hub (one read per warehouse)."""
    total = Decimal(0)
    for wh in warehouse_ids:
        rows = sandbox.execute(
            "product.product", "read", [product_id], ["free_qty"], context={"warehouse": wh}
        )
        total += Decimal(str(rows[0]["free_qty"]))
    return total


def set_on_hand(sandbox: Any, product_id: int, location_id: int, qty: float) -> None:
    """An inventory adjustment in Odoo (transcript 03): counted quantity, then apply."""
    quant = sandbox.execute(
        "stock.quant",
        "create",
        {"product_id": product_id, "location_id": location_id, "inventory_quantity": qty},
        context={"inventory_mode": True},
    )
    sandbox.execute(
        "stock.quant", "action_apply_inventory", [quant], context={"inventory_mode": True}
    )


def pending_order(
    channel: Channel, external_id: str, lines: dict[str, int], state: str
) -> ChannelOrder:
    now = timezone.now()
    order = ChannelOrder.objects.create(
        channel=channel,
        external_id=external_id,
        number=external_id,
        state=state,
        currency="USD",
        total=Decimal("10"),
        source_version=now,
        channel_created_at=now - dt.timedelta(minutes=1),
        odoo_ref=f"{channel.code}:{external_id}",
    )
    OrderLine.objects.bulk_create(
        OrderLine(order=order, position=i, sku=sku, quantity=qty, unit_price=Decimal("1"))
        for i, (sku, qty) in enumerate(lines.items())
    )
    return order
