"""Migration contract: the dual-run diff and the adoption against Odoo's own sale orders.

The same test runs on the sandbox and, with ODOO_URL set (``-m live_odoo``), on a real Odoo 17.
The "legacy connector" is the test itself: it creates and confirms sale orders over JSON-RPC
with the channel's order number in ``client_order_ref`` and its own name in ``origin``, as a
connector the hub replaces would. The hub's side is real: orders taken in through intake on a
shadow channel, recorded by the push in shadow, then compared (``migration diff``) and adopted
(``orders adopt``) through the gateway, whose calls the live run records as transcript 45.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from apps.mappings.models import Binding, ValueMap
from apps.migration.models import Adoption, ShadowDiff
from apps.migration.services import diff_report, diff_run, orders_adopt
from apps.odoo.gateway import OdooGateway
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators import order_from_shopify
from tests.orders.conftest import shopify_payload

from .conftest import OdooTarget, Recorder
from .helpers import seed

pytestmark = pytest.mark.django_db

T = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _legacy_order(
    gateway: OdooGateway,
    *,
    tag: str,
    number: str,
    partner: int,
    products: list[int],
    tax: int,
    warehouse: int,
    tshirt_price: float = 25.0,
) -> int:
    """The fixture's Shopify order as a legacy connector would have put it into Odoo."""
    tshirt, mug, ship = products
    taxes = gateway.client.adapter.sale_line_tax_field  # tax_id up to 18, tax_ids from 19
    line = {"discount": 10.0, taxes: [[6, 0, [tax]]]}
    so = int(
        gateway.client.call(
            "sale.order",
            "create",
            [
                {
                    "partner_id": partner,
                    "client_order_ref": number,
                    "origin": f"LEGACY-{tag}",
                    "warehouse_id": warehouse,
                    "date_order": T.strftime("%Y-%m-%d %H:%M:%S"),
                    "order_line": [
                        [0, 0, {"product_id": tshirt, "product_uom_qty": 2, **line}],
                        [0, 0, {"product_id": mug, "product_uom_qty": 1, **line}],
                        [
                            0,
                            0,
                            {
                                "product_id": ship,
                                "product_uom_qty": 1,
                                "price_unit": 5.99,
                                taxes: [[6, 0, []]],
                            },
                        ],
                    ],
                }
            ],
        )
    )
    lines = gateway.client.call("sale.order.line", "search", [[["order_id", "=", so]]])
    # The price the connector wrote (a product's list price would otherwise apply).
    prices = {tshirt: tshirt_price, mug: 12.5}
    for row in gateway.client.call("sale.order.line", "read", [lines, ["product_id"]]):
        pid = row["product_id"][0]
        if pid in prices:
            gateway.client.call(
                "sale.order.line", "write", [[row["id"]], {"price_unit": prices[pid]}]
            )
    gateway.client.call("sale.order", "action_confirm", [[so]])
    return so


def test_diff_and_adoption_of_legacy_orders(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "45_hub_migration_diff_adopt",
        "Hub: the dual-run diff finds a legacy order with another price and a missing one "
        "(one search per batch), an extra one; adoption binds the confirmed legacy orders "
        "without writing to Odoo, and a second run adopts nothing",
    )
    s = seed(gateway, unique, n_products=3)
    products = list(s.products.values())
    tax = int(
        gateway.client.call(
            "account.tax",
            "create",
            [{"name": f"Hub test 8% {unique}", "amount": 8.0, "type_tax_use": "sale"}],
        )
    )
    partner = gateway.partner_ensure(
        partner={
            "name": "Maria Lopez",
            "ref": f"LEGACY-{unique}",
            "email": "maria.lopez@example.com",
            "street": "350 Fifth Avenue",
            "city": "New York",
            "zip": "10118",
            "country_code": "US",
        }
    )
    # the hub's channel, in shadow, with its SKUs, shipping and tax mapped to the same records
    code = f"mig{unique}"
    channel, _ = channel_create(
        code=code,
        kind="shopify",
        state=Channel.State.SHADOW,
        warehouse_ids=[s.warehouse_id],
        legacy_match_domain=[["origin", "=", f"LEGACY-{unique}"]],
    )
    for sku, pid in zip(("TSHIRT-BLU-M", "MUG-WHT-11OZ"), products, strict=False):
        Binding.objects.create(
            channel=channel,
            kind=Binding.Kind.PRODUCT,
            external_id=f"v-{sku}",
            external_code=sku,
            odoo_model="product.product",
            odoo_id=pid,
        )
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.CARRIER,
        channel_value="Standard",
        odoo_model="product.product",
        odoo_value=str(products[2]),
    )
    ValueMap.objects.create(
        channel=channel,
        kind=ValueMap.Kind.TAX,
        channel_value="0.08",
        odoo_model="account.tax",
        odoo_value=str(tax),
    )
    base = int(unique[:7], 16) * 10
    numbers = [f"#{unique}-{n}" for n in range(4)]
    for n in range(3):
        payload = shopify_payload(
            base + n,
            name=numbers[n],
            order_number=base + n,
            created_at=T.isoformat(),
            updated_at=(T + dt.timedelta(seconds=1)).isoformat(),
        )
        order_ingest(order=order_from_shopify(payload, channel=code))
    order_push_due()
    rows = list(ChannelOrder.objects.filter(channel=channel).order_by("id"))
    assert [r.state for r in rows] == [OrderState.IN_ODOO] * 3
    assert all(r.odoo_id is None and "sale_order" in (r.shadow_payload or {}) for r in rows)
    # the legacy connector: the first as the hub would, the second at 27, never the third,
    # and a fourth the hub never received
    args: dict[str, Any] = {
        "tag": unique,
        "partner": partner.id,
        "products": products,
        "tax": tax,
        "warehouse": s.warehouse_id,
    }
    so1 = _legacy_order(gateway, number=numbers[0], **args)
    so2 = _legacy_order(gateway, number=numbers[1], tshirt_price=27.0, **args)
    so4 = _legacy_order(gateway, number=numbers[3], **args)

    # when the diff runs
    since = T - dt.timedelta(days=1)
    run = diff_run(channel=channel, since=since, gateway=gateway)
    recorder.note(f"diff: {run.rpcs} RPCs for {run.compared} hub orders in {run.batches} batch")
    # then: one the same, one with another price, one missing, one extra
    found = {d.number or d.odoo_name: d for d in ShadowDiff.objects.filter(channel=channel)}
    assert found[numbers[0]].outcome == "match", list(found[numbers[0]].items.values())
    assert found[numbers[0]].odoo_id == so1
    assert found[numbers[1]].classes == ["price"] and found[numbers[1]].odoo_id == so2
    assert found[numbers[2]].outcome == "missing"
    extra = [d for d in found.values() if d.outcome == "extra"]
    assert [d.odoo_id for d in extra] == [so4]
    report = diff_report(channel=channel, since=since)
    assert report["orders"] == 4
    assert report["classes"]["price"]["rate_pct"] == "25.00"
    assert report["clean"] is False
    # one search for the batch, lines, partners, SKUs, countries; one search for the extras
    assert run.rpcs <= 8, run.rpcs

    # when the legacy orders are adopted, twice
    first = orders_adopt(channel=channel, since=since, gateway=gateway)
    second = orders_adopt(channel=channel, since=since, gateway=gateway)
    recorder.note(f"adopt: {first.rpcs} RPCs, then {second.rpcs} on the second run")
    # then the two the hub knows are bound once, the fourth is reported, nothing written
    assert sorted(r["odoo_id"] for r in first.adopted) == sorted([so1, so2])
    assert [r["odoo_id"] for r in first.unmatched] == [so4]
    assert [r["order"] for r in first.hub_only] == [numbers[2]]
    assert second.adopted == [] and len(second.already) == 2
    assert Adoption.objects.filter(channel=channel).count() == 2
    bound = {r.number: r.odoo_id for r in ChannelOrder.objects.filter(channel=channel)}
    assert bound == {numbers[0]: so1, numbers[1]: so2, numbers[2]: None}
    hub_made = gateway.client.call(
        "sale.order", "search_count", [[["origin", "=like", f"{code}:%"]]]
    )
    assert hub_made == 0
