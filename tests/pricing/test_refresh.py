"""The cache follows Odoo: a changed rule, a deleted rule, a price_extra change (which bumps no
product write_date) and a partner's new pricelist are picked up by the next poll; a poll with
nothing changed keeps the generation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from apps.mappings.models import Binding
from apps.odoo.gateway import OdooGateway
from apps.pricing import refresh
from apps.pricing.models import PricingState
from apps.pricing.services import prices_for
from apps.sales_channels.services import channel_create

pytestmark = pytest.mark.django_db(transaction=True)


def _gen() -> int:
    return int(PricingState.objects.get(pk=1).generation)


def test_poll_picks_up_changes(gateway: OdooGateway, sandbox_settings: Any) -> None:
    call = gateway.client.call
    tmpl = int(call("product.template", "create", [{"name": "Poll T", "list_price": 50.0}]))
    pid = int(call("product.product", "search", [[["product_tmpl_id", "=", tmpl]]])[0])
    ptav = int(
        call(
            "product.template.attribute.value",
            "create",
            [{"name": "L", "product_tmpl_id": tmpl, "price_extra": 0.0}],
        )
    )
    call(
        "product.product",
        "write",
        [[pid], {"product_template_attribute_value_ids": [[6, 0, [ptav]]]}],
    )
    pl = int(
        call(
            "product.pricelist",
            "create",
            [
                {
                    "name": "Poll PL",
                    "item_ids": [
                        [
                            0,
                            0,
                            {
                                "applied_on": "3_global",
                                "compute_price": "percentage",
                                "percent_price": 10.0,
                            },
                        ]
                    ],
                }
            ],
        )
    )
    channel, _ = channel_create(code="pollshop", kind="shopify", pricelist_id=pl)
    Binding.objects.create(
        channel=channel,
        kind=Binding.Kind.PRODUCT,
        external_id="p",
        external_code="POLL",
        odoo_model="product.product",
        odoo_id=pid,
    )
    partner = int(
        call("res.partner", "create", [{"name": "Poll Co", "property_product_pricelist": pl}])
    )

    refresh.refresh(gateway)
    assert prices_for(pricelist_id=pl, product_ids=[pid])[pid].unit_price == Decimal("45.00")
    assert prices_for(pricelist_id=None, product_ids=[pid], partner_id=partner)[
        pid
    ].unit_price == Decimal("45.00")
    gen = _gen()
    sandbox_settings.reset_stats()
    refresh.refresh(gateway)
    assert _gen() == gen, "nothing changed: the catalogs stay"

    item = int(call("product.pricelist.item", "search", [[["pricelist_id", "=", pl]]])[0])
    call("product.pricelist.item", "write", [[item], {"percent_price": 20.0}])
    call("product.template.attribute.value", "write", [[ptav], {"price_extra": 10.0}])
    refresh.refresh(gateway)
    assert _gen() > gen
    assert prices_for(pricelist_id=pl, product_ids=[pid])[pid].unit_price == Decimal(
        "48.00"
    )  # 60 - 20%

    call("product.pricelist.item", "unlink", [[item]])
    other = int(
        call(
            "product.pricelist",
            "create",
            [
                {
                    "name": "Poll PL2",
                    "item_ids": [
                        [
                            0,
                            0,
                            {
                                "applied_on": "3_global",
                                "compute_price": "fixed",
                                "fixed_price": 1.0,
                            },
                        ]
                    ],
                }
            ],
        )
    )
    call("res.partner", "write", [[partner], {"property_product_pricelist": other}])
    refresh.refresh(gateway)
    assert prices_for(pricelist_id=pl, product_ids=[pid])[pid].unit_price == Decimal("60.00")
    assert prices_for(pricelist_id=pl, product_ids=[pid], partner_id=partner)[
        pid
    ].unit_price == Decimal("1.00")


def test_other_currency_falls_back_to_odoo(gateway: OdooGateway, sandbox_settings: Any) -> None:
    call = gateway.client.call
    pid = int(call("product.product", "create", [{"name": "FX", "list_price": 100.0}]))
    eur = int(call("res.currency", "search", [[["name", "=", "EUR"]]])[0])
    pl = int(
        call(
            "product.pricelist",
            "create",
            [
                {
                    "name": "EUR PL",
                    "currency_id": eur,
                    "item_ids": [
                        [
                            0,
                            0,
                            {
                                "applied_on": "3_global",
                                "compute_price": "percentage",
                                "percent_price": 10.0,
                            },
                        ]
                    ],
                }
            ],
        )
    )
    sandbox_settings.reset_stats()
    quote = prices_for(pricelist_id=pl, product_ids=[pid], date=dt.date(2026, 6, 1))[pid]
    assert quote.source == "odoo" and "currency conversion" in quote.rule
    assert quote.currency == "EUR"
    assert sandbox_settings.stats()["calls"].get("product.product.get_contextual_price") == 1
    odoo = gateway.contextual_prices(
        pricelist_id=pl, product_ids=[pid], quantity=Decimal(1), date=dt.datetime(2026, 6, 1)
    )
    assert quote.unit_price == Decimal(str(round(odoo[pid], 2)))
