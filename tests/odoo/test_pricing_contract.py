"""Contract: what the price engine reads from Odoo, and its prices against Odoo's own.

``[sandbox]`` and ``[live]`` (a real Odoo 17, ``-m live_odoo``). The live run proves the sandbox's
pricelist evaluation: the same generated rules (every kind: variant, template, category with
parents, global; fixed, percentage, formula on list price, cost and another pricelist; discount,
rounding, surcharge, margins; quantity breaks, date ranges; variants with ``price_extra``) priced
by the engine and by ``get_contextual_price`` agree to the cent.

With ODOO_RECORD_TRANSCRIPTS=<dir> the live run records the gateway test's exchanges as transcript
46_hub_pricelists.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.odoo.gateway import OdooGateway
from apps.pricing import services
from apps.pricing.rules import odoo_float_to_decimal
from tests.pricing.generate import MOMENTS, archive, build, cases

from .conftest import OdooTarget, Recorder

pytestmark = pytest.mark.django_db(transaction=True)


def test_pricing_reads(
    odoo: OdooTarget, gateway: OdooGateway, unique: str, recorder: Recorder
) -> None:
    recorder.start(
        "46_hub_pricelists",
        "Hub: the price engine's reads (pricelist headers and every rule with its formula fields, "
        "rule stamps, variants' list_price/price_extra/standard_price, the category tree, "
        "currencies, a partner's pricelist) and get_contextual_price with pricelist, quantity "
        "and date in the context, one id per call",
    )
    # one variant per template: the sandbox, which replays this transcript, has no attribute lines
    world = build(
        gateway.client, unique, seed=46, live=odoo.live, n_templates=3, with_variants=False
    )
    try:
        pl = world.pricelists[1]
        headers = gateway.pricelists_read(ids=[pl])
        assert headers[0]["id"] == pl and headers[0]["currency_id"]
        items = gateway.pricelist_items_read(pricelist_ids=[pl])
        assert {i["compute_price"] for i in items} >= {"fixed", "percentage", "formula"}
        assert any(
            i["base"] == "pricelist" and i["base_pricelist_id"] == world.pricelists[0]
            for i in items
        )
        assert any(i["date_start"] and i["date_end"] for i in items)
        stamps = gateway.pricelist_items_stamps(pricelist_ids=[pl])
        assert set(stamps[pl]) == {str(i["id"]) for i in items}
        products = {p["id"]: p for p in gateway.price_products_read(ids=world.variants)}
        assert set(products) == set(world.variants)
        assert all(float(p["price_extra"]) == 0.0 for p in products.values()), products
        tmpl_of = {p["id"]: p["tmpl_id"] for p in products.values()}
        assert tmpl_of == world.variant_tmpl
        cats = {c["id"]: c for c in gateway.categories_read()}
        grand = world.categories["grand"]
        assert cats[cats[grand]["parent_id"]]["parent_id"] == world.categories["root"]
        assert cats[grand]["complete_name"].endswith("B / C")
        currency = gateway.company_currency_id()
        assert currency and gateway.currencies_read(ids=[currency])[0]["rounding"] == 0.01
        partner = int(
            gateway.client.call(
                "res.partner",
                "create",
                [{"name": f"PRC {unique}", "property_product_pricelist": pl}],
            )
        )
        assert gateway.partner_pricelists(partner_ids=[partner]) == {partner: pl}
        pid = world.variants[0]
        no_list = gateway.contextual_prices(
            pricelist_id=None, product_ids=[pid], quantity=Decimal(1)
        )
        assert no_list[pid] == pytest.approx(
            float(products[pid]["list_price"]) + float(products[pid]["price_extra"])
        )
        got = gateway.contextual_prices(
            pricelist_id=pl, product_ids=world.variants[:2], quantity=Decimal(10), date=MOMENTS[0]
        )
        assert set(got) == set(world.variants[:2])
    finally:
        archive(gateway.client, world)


def test_engine_equals_odoo(odoo: OdooTarget, gateway: OdooGateway, unique: str) -> None:
    """Every rule kind, priced by the engine and by Odoo: equal to the cent."""
    services.forget()
    world = build(gateway.client, unique, seed=17, live=odoo.live, n_templates=4)
    try:
        assert {
            "fixed",
            "percentage",
            "formula:list_price",
            "formula:standard_price",
            "formula:pricelist",
            "0_product_variant",
            "1_product",
            "2_product_category",
            "3_global",
            "min_quantity",
            "dates",
            "price_extra",
        } <= world.kinds
        all_cases = cases(
            world,
            quantities=(Decimal(1), Decimal(5), Decimal(10), Decimal(25)),
            moments=MOMENTS[:2],
        )
        groups: dict[tuple[int | None, Decimal, dt.datetime], list[int]] = {}
        for pl, pid, qty, moment in all_cases:
            groups.setdefault((pl, qty, moment), []).append(pid)
        mismatches: list[str] = []
        rules: set[str] = set()
        for (pl, qty, moment), pids in groups.items():
            quotes = services.prices_for(
                pricelist_id=pl, product_ids=pids, quantity=qty, date=moment, gateway=gateway
            )
            odoo_prices = gateway.contextual_prices(
                pricelist_id=pl, product_ids=pids, quantity=qty, date=moment
            )
            for pid in pids:
                quote = quotes[pid]
                assert quote.source == "engine", quote.rule
                rules.add(quote.rule.split(": ", 1)[-1].split(" ", 1)[0])
                expected = odoo_float_to_decimal(odoo_prices[pid], Decimal("0.01"))
                if quote.unit_price != expected:
                    mismatches.append(
                        f"pl {pl} product {pid} qty {qty} at {moment}: engine {quote.unit_price} "
                        f"({quote.rule}), Odoo {odoo_prices[pid]!r}"
                    )
        assert len(all_cases) >= 150
        assert {"fixed", "formula", "list"} <= rules
        assert not mismatches, f"{len(mismatches)} of {len(all_cases)}:\n" + "\n".join(
            mismatches[:40]
        )
    finally:
        archive(gateway.client, world)
