"""What the channels need from Odoo, for the preflight (`manage.py odoo check`, /readyz).

apps.odoo is an edge and must not import the order flow, so the flow hands it this provider
(registered in OrdersConfig.ready): per channel, its warehouses, the shipping methods mapped or
seen in its recent orders, and the taxes mapped or seen but unmapped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.mappings.models import ValueMap
from apps.sales_channels.models import Channel

from .models import ChannelOrder
from .odoo_values import CARRIER_MODEL

SETUP_RECENT_ORDERS = 500  # per channel: the orders whose shipping methods and taxes are checked


def _tax_label(tax: dict[str, Any]) -> str:
    rate, title = tax.get("rate") or "", tax.get("title") or ""
    return f"{title} ({rate})" if title and rate else title or rate


def odoo_setup_needs() -> list[Any]:
    """Per channel, what its orders need from Odoo: warehouses, shipping methods (mapped or
    seen in its recent orders) and taxes (mapped, and seen but unmapped), matched the way
    ``sale_order_vals`` matches them."""
    from apps.odoo.preflight import ChannelNeeds, ShippingNeed

    out: list[Any] = []
    for channel in Channel.objects.order_by("code"):
        carrier_maps = {
            vm.channel_value: vm
            for vm in ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.CARRIER)
        }
        tax_maps = {
            vm.channel_value: int(vm.odoo_value)
            for vm in ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.TAX)
            if vm.odoo_value.isdigit()
        }
        tax_ids = sorted(set(tax_maps.values()))
        unmapped_methods: list[str] = []
        unmapped_taxes: list[str] = []
        payloads = ChannelOrder.objects.filter(channel=channel).order_by("-id")
        for data in payloads.values_list("payload", flat=True)[:SETUP_RECENT_ORDERS]:
            taxes: list[dict[str, Any]] = []
            for ln in (data or {}).get("lines") or ():
                if Decimal(str(ln.get("tax") or "0")):
                    taxes += ln.get("taxes") or []
            for ship in (data or {}).get("shipping") or ():
                taxes += ship.get("taxes") or []
                values = [
                    v for v in (ship.get("carrier"), ship.get("code"), ship.get("title")) if v
                ]
                if not any(v in carrier_maps for v in values):
                    method = str(ship.get("title") or ship.get("code") or ship.get("carrier") or "")
                    if method and method not in unmapped_methods:
                        unmapped_methods.append(method)
            for tax in taxes:
                rate, title = tax.get("rate") or "", tax.get("title") or ""
                keys = [str(Decimal(rate).normalize()) if rate else "", rate, title]
                label = _tax_label(tax)
                if not any(k and k in tax_maps for k in keys) and label not in unmapped_taxes:
                    unmapped_taxes.append(label)
        shipping: list[ShippingNeed] = []
        for value, vm in sorted(carrier_maps.items()):
            target = vm.odoo_value.strip()
            if vm.odoo_model == CARRIER_MODEL:
                if target.isdigit():
                    shipping.append(ShippingNeed(value, carrier_id=int(target)))
                else:
                    shipping.append(ShippingNeed(value, mapped_to=target))
            else:
                shipping.append(ShippingNeed(value, product=target))
        shipping += [ShippingNeed(m) for m in unmapped_methods]
        out.append(
            ChannelNeeds(
                code=channel.code,
                warehouse_ids=tuple(
                    channel.warehouses.order_by("priority", "odoo_warehouse_id").values_list(
                        "odoo_warehouse_id", flat=True
                    )
                ),
                shipping=tuple(shipping),
                tax_ids=tuple(tax_ids),
                taxes_unmapped=tuple(unmapped_taxes),
            )
        )
    return out
