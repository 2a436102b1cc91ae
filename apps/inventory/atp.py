"""Available-to-promise per channel and SKU, computed from Odoo's free_qty.

ATP = floor(max(0, (sum of free_qty over the channel's warehouses - stock_buffer)
                   x allocation_share - accepted-not-pushed quantity))

free_qty already excludes what Odoo has reserved; the accepted-not-pushed quantity covers the
gap before Odoo reserves (orders the hub accepted but has not yet created in Odoo), which is
where overselling happens. One read per warehouse per 1,000 products (gateway.stock_levels).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from apps.mappings.models import Binding
from apps.odoo.gateway import get_gateway
from apps.orders.selectors import pending_quantities_by_sku
from apps.sales_channels.models import Channel

PRODUCT_MODEL = "product.product"


@dataclass(frozen=True)
class AtpResult:
    sku: str
    odoo_product_id: int
    external_id: str
    free_qty: Decimal
    buffer: int
    share: Decimal
    pending_orders: int
    atp: int
    computed_at: dt.datetime


@dataclass(frozen=True)
class BoundSku:
    sku: str
    odoo_product_id: int
    external_id: str


def bound_skus(channel: Channel, skus: Sequence[str] | None = None) -> dict[str, BoundSku]:
    """SKU -> the channel's product binding. The SKU is the binding's external_code (its
    external_id when no code is stored); the first binding of a SKU wins."""
    qs = Binding.objects.filter(
        channel=channel, kind=Binding.Kind.PRODUCT, odoo_model=PRODUCT_MODEL
    )
    if skus is not None:
        wanted = set(skus)
        qs = qs.filter(Q(external_code__in=wanted) | Q(external_id__in=wanted, external_code=""))
    out: dict[str, BoundSku] = {}
    for code, ext, oid in qs.order_by("id").values_list("external_code", "external_id", "odoo_id"):
        sku = code or ext
        out.setdefault(sku, BoundSku(sku, int(oid), ext))
    return out


def atp_formula(*, free_qty: Decimal, buffer: int, share: Decimal, pending: int) -> int:
    return max(0, math.floor((free_qty - buffer) * share - pending))


def compute_atp(channel: Channel, skus: Sequence[str] | None = None) -> dict[str, AtpResult]:
    """ATP of the channel's product-bound SKUs (all of them when ``skus`` is None).

    SKUs without a product binding are absent from the answer. Raises TransientError (from the
    gateway) while Odoo is unreachable: nothing is guessed.
    """
    bound = bound_skus(channel, skus)
    if not bound:
        return {}
    gateway = get_gateway()
    warehouses = list(channel.warehouses.values_list("odoo_warehouse_id", flat=True))
    if not warehouses:
        warehouses = gateway.warehouses_ids()
    levels = gateway.stock_levels(
        product_ids=[b.odoo_product_id for b in bound.values()], warehouse_ids=warehouses
    )
    pending = pending_quantities_by_sku(channel=channel, skus=list(bound))
    now = timezone.now()
    buffer = int(channel.stock_buffer)
    share = Decimal(channel.allocation_share)
    out: dict[str, AtpResult] = {}
    for sku, b in bound.items():
        free = sum(
            (
                Decimal(str(per_wh[b.odoo_product_id].free_qty))
                for per_wh in levels.values()
                if b.odoo_product_id in per_wh
            ),
            Decimal(0),
        )
        waiting = int(pending.get(sku, 0))
        out[sku] = AtpResult(
            sku=sku,
            odoo_product_id=b.odoo_product_id,
            external_id=b.external_id,
            free_qty=free,
            buffer=buffer,
            share=share,
            pending_orders=waiting,
            atp=atp_formula(free_qty=free, buffer=buffer, share=share, pending=waiting),
            computed_at=now,
        )
    return out
