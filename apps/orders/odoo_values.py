"""The Odoo sale order built from a channel order: lines, prices, discounts, taxes, shipping."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from apps.core.errors import MappingMissing
from apps.mappings.models import ValueMap
from apps.odoo.errors import OdooAuthError, OdooConfigurationError
from apps.sales_channels.models import Channel

from .batch import BatchContext
from .conf import setting
from .customers import OrderPartner
from .models import ChannelOrder
from .warehouses import default_warehouse

CENT = Decimal("0.01")


_PRODUCT_CACHE: dict[tuple[str, str], int] = {}
CARRIER_MODEL = "delivery.carrier"


def _product_by_sku(ctx: BatchContext, sku: str) -> int:
    key = (str(setting("ODOO_URL", "")) + "/" + str(setting("ODOO_DB", "")), sku)
    if key not in _PRODUCT_CACHE:
        found = ctx.gateway.products_ids(skus=[sku]).ids
        if sku not in found:
            raise MappingMissing(f"Odoo has no product with code {sku!r}", sku=sku)
        _PRODUCT_CACHE[key] = found[sku]
    return _PRODUCT_CACHE[key]


def _carriers(ctx: BatchContext, channel: Channel, method: str) -> dict[int, dict[str, Any]]:
    """Every delivery.carrier a carrier value map names, read in ONE call per batch."""
    if ctx.carriers is None:
        ids = sorted(
            {
                int(v)
                for v in ValueMap.objects.filter(
                    kind=ValueMap.Kind.CARRIER, odoo_model=CARRIER_MODEL
                ).values_list("odoo_value", flat=True)
                if v.strip().isdigit()
            }
        )
        try:
            ctx.carriers = ctx.gateway.carriers_read(carrier_ids=ids) if ids else {}
        except OdooConfigurationError as exc:
            if isinstance(exc, OdooAuthError) or "doesn't exist" not in str(exc):
                raise
            # "Object delivery.carrier doesn't exist": the stock_delivery module is missing.
            raise MappingMissing(
                f"Odoo has no shipping methods (install its stock_delivery module), but channel "
                f"{channel.code} maps the shipping method {method!r} to a delivery.carrier",
                channel=channel.code,
                shipping_method=method,
                missing="carrier_module",
                odoo_error=str(exc),
            ) from exc
    return ctx.carriers


def _shipping_product(
    ctx: BatchContext, channel: Channel, ship: dict[str, Any]
) -> tuple[int, int | None]:
    """(product id, delivery.carrier id or None) for a channel shipping line.

    The carrier value map (keyed by the channel's carrier, code or title, in that order):
    - ``odoo_model = "delivery.carrier"``: ``odoo_value`` is the carrier id; the line takes the
      carrier's own product, and the order carries the carrier (its picking inherits it);
    - otherwise (older maps) ``odoo_value`` is a product id or code, with no carrier.
    Unmapped: the product ``HUB_ORDER_SHIPPING_SKU`` ("SHIP"), with no carrier.
    A missing carrier or product raises MappingMissing with what the inbox suggestion needs:
    ``channel``, ``shipping_method``, ``missing`` (shipping_product, carrier, carrier_module),
    and ``sku`` + ``setting`` or ``carrier_id``.
    """
    values = tuple(v for v in (ship.get("carrier"), ship.get("code"), ship.get("title")) if v)
    method = str(ship.get("title") or ship.get("code") or ship.get("carrier") or "")
    cache_key = (channel.pk, "|".join(values))
    if cache_key not in ctx.shipping_products:
        maps = {
            vm.channel_value: vm
            for vm in ValueMap.objects.filter(
                channel=channel, kind=ValueMap.Kind.CARRIER, channel_value__in=values
            )
        }
        vm = next((maps[v] for v in values if v in maps), None)
        where: dict[str, Any] = {"channel": channel.code, "shipping_method": method}
        if vm is None:
            sku = str(setting("HUB_ORDER_SHIPPING_SKU", "SHIP"))
            pid = _shipping_product_by_code(ctx, channel, method, sku, fallback=True)
            ctx.shipping_products[cache_key] = (pid, None)
        elif vm.odoo_model == CARRIER_MODEL:
            value = vm.odoo_value.strip()
            carrier = _carriers(ctx, channel, method).get(int(value)) if value.isdigit() else None
            if carrier is None or not carrier.get("active") or not carrier.get("product_id"):
                state = "is archived" if carrier else "does not exist"
                raise MappingMissing(
                    f"Channel {channel.code} maps the shipping method {method!r} to "
                    f"delivery.carrier {value!r}, which {state} in Odoo",
                    **where,
                    missing="carrier",
                    carrier_id=value,
                )
            ctx.shipping_products[cache_key] = (int(carrier["product_id"]), int(value))
        else:
            target = vm.odoo_value.strip()
            pid = (
                int(target)
                if target.isdigit()
                else _shipping_product_by_code(ctx, channel, method, target, fallback=False)
            )
            ctx.shipping_products[cache_key] = (pid, None)
    return ctx.shipping_products[cache_key]


def _shipping_product_by_code(
    ctx: BatchContext, channel: Channel, method: str, sku: str, *, fallback: bool
) -> int:
    context: dict[str, Any] = {
        "channel": channel.code,
        "shipping_method": method,
        "missing": "shipping_product",
    }
    if fallback:
        context["setting"] = "HUB_ORDER_SHIPPING_SKU"
    try:
        return _product_by_sku(ctx, sku)
    except MappingMissing as exc:
        why = "no carrier mapping" if fallback else "a product mapping"
        raise MappingMissing(
            f"Odoo has no product with code {sku!r} for the shipping method {method!r} of "
            f"channel {channel.code} ({why})",
            sku=sku,
            **context,
        ) from exc


def _tax_ids(ctx: BatchContext, channel: Channel, taxes: list[dict[str, str]]) -> list[int] | None:
    """Channel tax lines -> Odoo tax ids through the tax value map (keyed by rate or title).

    None when the channel maps no taxes at all: Odoo's product taxes apply, and the amount check
    after the push reports any difference.
    """
    if channel.pk not in ctx.taxes:
        ctx.taxes[channel.pk] = {
            vm.channel_value: int(vm.odoo_value)
            for vm in ValueMap.objects.filter(channel=channel, kind=ValueMap.Kind.TAX)
            if vm.odoo_value.isdigit()
        }
    table = ctx.taxes[channel.pk]
    if not table:
        return None
    out: list[int] = []
    for tax in taxes:
        rate, title = tax.get("rate") or "", tax.get("title") or ""
        keys = [str(Decimal(rate).normalize()) if rate else "", rate, title]
        found = next((table[k] for k in keys if k and k in table), None)
        if found is None:
            raise MappingMissing(
                f"no Odoo tax mapped for channel {channel.code} tax {title or rate}",
                channel=channel.code,
                tax=title or rate,
            )
        out.append(found)
    return out


def _line_price(*, unit: Decimal, qty: int, subtotal: Decimal, discount: Decimal) -> dict[str, Any]:
    """Channel discount on a line -> Odoo discount % when it reproduces the net to the cent,
    else a reduced unit price (so the per-product margin stays right either way)."""
    if not discount:
        return {"price_unit": unit}
    net = (subtotal - discount).quantize(CENT, ROUND_HALF_UP)
    if subtotal:
        pct = (discount / subtotal * 100).quantize(CENT, ROUND_HALF_UP)
        gross = (unit * qty).quantize(CENT, ROUND_HALF_UP)
        if (gross * (1 - pct / 100)).quantize(CENT, ROUND_HALF_UP) == net:
            return {"price_unit": unit, "discount": pct}
    return {"price_unit": (net / qty).quantize(Decimal("0.000001"), ROUND_HALF_UP)}


def _allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split an order-level discount over the lines by weight, to the cent, summing exactly."""
    total = sum(weights, Decimal("0"))
    if not amount or not total:
        return [Decimal("0")] * len(weights)
    parts = [(amount * w / total).quantize(CENT, ROUND_HALF_UP) for w in weights]
    parts[-1] += amount - sum(parts, Decimal("0"))
    return parts


def sale_order_vals(
    ctx: BatchContext,
    row: ChannelOrder,
    partner: OrderPartner,
    *,
    data: dict[str, Any] | None = None,
    product_ids: list[int | None] | None = None,
) -> dict[str, Any]:
    """The Odoo order for `row` (or for an edited version `data` with its lines' products)."""
    data = row.payload if data is None else data
    channel = row.channel
    if product_ids is None:
        products = {ln.position: ln.product_id for ln in row.lines.all()}
    else:
        products = dict(enumerate(product_ids))
    lines_json = data["lines"]
    nets = [Decimal(ln["subtotal"]) - Decimal(ln["discount"]) for ln in lines_json]
    extra = _allocate(Decimal(data.get("order_discount") or "0"), nets)
    lines: list[dict[str, Any]] = []
    for i, ln in enumerate(lines_json):
        product_id = products.get(i)
        if product_id is None:
            raise MappingMissing(f"SKU {ln['sku']} is not mapped", sku=ln["sku"])
        vals: dict[str, Any] = {
            "product_id": product_id,
            "qty": ln["qty"],
            "name": ln["name"] or ln["sku"],
            **_line_price(
                unit=Decimal(ln["unit_price"]),
                qty=int(ln["qty"]),
                subtotal=Decimal(ln["subtotal"]),
                discount=Decimal(ln["discount"]) + extra[i],
            ),
        }
        taxes = _tax_ids(ctx, channel, ln["taxes"] if Decimal(ln["tax"]) else [])
        if taxes is not None:
            vals["tax_id"] = [[6, 0, taxes]]
        lines.append(vals)
    carrier_id: int | None = None
    for ship in data.get("shipping", ()):
        price = Decimal(ship["price"]) - Decimal(ship["discount"])
        product_id, ship_carrier = _shipping_product(ctx, channel, ship)
        ship_vals: dict[str, Any] = {
            "product_id": product_id,
            "qty": 1,
            "price_unit": price,
            "name": ship["title"] or "Shipping",
        }
        if ship_carrier:
            # The order's delivery line, at the channel's price (Odoo adds none for carrier_id
            # on create, transcript 13; is_delivery keeps "Update prices" off it).
            ship_vals["is_delivery"] = True
            carrier_id = carrier_id or ship_carrier
        taxes = _tax_ids(ctx, channel, ship["taxes"])
        if taxes is not None:
            ship_vals["tax_id"] = [[6, 0, taxes]]
        lines.append(ship_vals)
    vals = {
        "ref": row.odoo_ref,
        "partner_id": partner.id,
        "client_order_ref": row.po_number or row.number,
        "note": data.get("note") or "",
        "warehouse_id": ctx.order_warehouse.get(row.pk) or default_warehouse(ctx, channel),
        # Decimals: the gateway sends numbers as JSON floats itself.
        "lines": lines,
    }
    if carrier_id:
        vals["carrier_id"] = carrier_id  # the delivery picking inherits it (transcript 13)
    if partner.delivery_id:
        vals["partner_shipping_id"] = partner.delivery_id
    if partner.invoice_id:
        vals["partner_invoice_id"] = partner.invoice_id
    return vals


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
