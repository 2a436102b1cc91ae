"""The differential test: the engine's price equals Odoo's ``get_contextual_price`` on the
sandbox, to the currency's rounding, for 1,000+ generated cases (every rule kind, variants with
``price_extra``, categories with parents, quantity breaks, date ranges). The same generator runs
against a real Odoo 17 in tests/odoo/test_pricing_contract.py, which proves the sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.odoo.gateway import OdooGateway
from apps.pricing.rules import odoo_float_to_decimal
from apps.pricing.services import prices_for

from .generate import build, cases

# The first word of each applied rule ("fixed", "10%", "formula", "list"): the cases must not all
# fall through to one kind.
APPLIED: set[str] = set()

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def compare(
    gateway: OdooGateway, all_cases: list[tuple[int | None, int, Decimal, dt.datetime]]
) -> tuple[int, list[str], set[str]]:
    """(cases compared, mismatches described, engine sources seen)."""
    groups: dict[tuple[int | None, Decimal, dt.datetime], list[int]] = {}
    for pl, pid, qty, moment in all_cases:
        groups.setdefault((pl, qty, moment), []).append(pid)
    mismatches: list[str] = []
    sources: set[str] = set()
    APPLIED.clear()
    n = 0
    for (pl, qty, moment), pids in groups.items():
        quotes = prices_for(pricelist_id=pl, product_ids=pids, quantity=qty, date=moment)
        odoo = gateway.contextual_prices(
            pricelist_id=pl, product_ids=pids, quantity=qty, date=moment
        )
        for pid in pids:
            n += 1
            quote = quotes[pid]
            sources.add(quote.source)
            APPLIED.add(quote.rule.split(": ", 1)[-1].split(" ", 2)[0])
            rounding = Decimal("0.01")
            expected = odoo_float_to_decimal(odoo[pid], rounding)
            if quote.unit_price != expected:
                mismatches.append(
                    f"pricelist {pl} product {pid} qty {qty} at {moment}: engine "
                    f"{quote.unit_price} ({quote.rule}), Odoo {odoo[pid]!r}"
                )
    return n, mismatches, sources


def test_engine_equals_odoo_on_1000_generated_cases(gateway: OdooGateway) -> None:
    world = build(gateway.client, "diff", seed=16, live=False, n_templates=8)
    assert len(world.variants) >= 12
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
    all_cases = cases(world)
    assert len(all_cases) >= 1000
    n, mismatches, sources = compare(gateway, all_cases)
    assert n == len(all_cases)
    assert sources == {"engine"}, "every case is evaluated locally, none falls back"
    assert {"fixed", "formula", "list"} <= APPLIED and any(a.endswith("%") for a in APPLIED)
    assert not mismatches, f"{len(mismatches)} of {n} differ:\n" + "\n".join(mismatches[:40])


def test_second_seed_also_matches(gateway: OdooGateway) -> None:
    world = build(gateway.client, "diff2", seed=1701, live=False, n_templates=6)
    n, mismatches, _ = compare(gateway, cases(world, quantities=(Decimal(1), Decimal(10))))
    assert n >= 300
    assert not mismatches, "\n".join(mismatches[:40])
