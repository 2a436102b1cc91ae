"""The engine's evaluation on hand-built catalogs: order, targets, formula, what it refuses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from apps.pricing.rules import (
    CannotEvaluate,
    Catalog,
    Category,
    Currency,
    Item,
    Product,
    describe,
    evaluate,
    odoo_float_to_decimal,
    round_to,
)

NOW = dt.datetime(2026, 6, 15, 12, 0)


def item(iid: int, pl: int = 1, **kw: object) -> Item:
    vals: dict[str, object] = {
        "applied_on": "3_global",
        "product_id": None,
        "tmpl_id": None,
        "categ_id": None,
        "min_quantity": D(0),
        "date_start": None,
        "date_end": None,
        "compute_price": "fixed",
    }
    vals.update(kw)
    return Item(id=iid, pricelist_id=pl, **vals)  # type: ignore[arg-type]


def catalog(*lists: tuple[int, list[Item]], currency: int = 1) -> Catalog:
    return Catalog.build(
        company_currency_id=1,
        pricelists={pl: (f"PL{pl}", currency if pl == 9 else 1, items) for pl, items in lists},
        products={
            10: Product(10, "A", 100, 3, D("100"), D("5"), D("40")),
            11: Product(11, "B", 101, 1, D("19.99"), D(0), D("12.34")),
        },
        categories={
            1: Category(1, None, "All"),
            2: Category(2, 1, "All / Saleable"),
            3: Category(3, 2, "All / Saleable / Tools"),
        },
        currencies={1: Currency(1, "USD", D("0.01")), 2: Currency(2, "EUR", D("0.01"))},
    )


def price(cat: Catalog, pl: int | None, pid: int, qty: str = "1", at: dt.datetime = NOW) -> D:
    r = evaluate(cat, pl, pid, D(qty), at)
    return round_to(r.price, D("0.01"))


def test_no_pricelist_is_list_price_plus_extra() -> None:
    assert price(catalog(), None, 10) == D("105.00")


def test_variant_before_template_before_category_before_global() -> None:
    items = [
        item(1, compute_price="fixed", fixed_price=D(1)),
        item(2, applied_on="2_product_category", categ_id=2, fixed_price=D(2)),
        item(3, applied_on="1_product", tmpl_id=100, fixed_price=D(3)),
        item(4, applied_on="0_product_variant", product_id=10, fixed_price=D(4)),
    ]
    cat = catalog((1, items))
    assert price(cat, 1, 10) == D(4)
    assert price(cat, 1, 11) == D(1)  # B is in All: only the global rule


def test_parent_category_applies_and_the_deeper_category_wins() -> None:
    items = [
        item(5, applied_on="2_product_category", categ_id=1, fixed_price=D(11)),
        item(6, applied_on="2_product_category", categ_id=2, fixed_price=D(22)),
    ]
    assert price(catalog((1, items)), 1, 10) == D(22)  # "All / Saleable" > "All" (desc)
    assert price(catalog((1, items[:1])), 1, 10) == D(11)  # a grandparent's rule


def test_min_quantity_and_dates() -> None:
    items = [
        item(1, applied_on="0_product_variant", product_id=10, fixed_price=D(90)),
        item(
            2, applied_on="0_product_variant", product_id=10, fixed_price=D(80), min_quantity=D(10)
        ),
        item(
            3,
            applied_on="0_product_variant",
            product_id=10,
            fixed_price=D(70),
            min_quantity=D(10),
            date_start=dt.datetime(2026, 7, 1),
            date_end=dt.datetime(2026, 7, 31, 23, 59, 59),
        ),
    ]
    cat = catalog((1, items))
    assert price(cat, 1, 10, "9.999") == D(90)
    assert price(cat, 1, 10, "10") == D(80)
    assert price(cat, 1, 10, "10", dt.datetime(2026, 7, 2)) == D(70)
    result = evaluate(cat, 1, 10, D(10), NOW)
    assert result.valid_until == dt.datetime(2026, 7, 1)  # the July rule starts then


def test_formula_discount_round_surcharge_margins() -> None:
    rule = item(
        1,
        compute_price="formula",
        base="list_price",
        price_discount=D(10),
        price_round=D(10),
        price_surcharge=D("-0.01"),
    )
    assert price(catalog((1, [rule])), 1, 10) == D("89.99")  # 105 - 10% = 94.5 -> 90 - 0.01
    capped = item(
        1,
        compute_price="formula",
        base="standard_price",
        price_discount=D(-100),
        price_min_margin=D(1),
        price_max_margin=D(25),
    )
    assert price(catalog((1, [capped])), 1, 10) == D(65)  # 80, held to 40 + 25
    floor = item(
        1,
        compute_price="formula",
        base="standard_price",
        price_discount=D(50),
        price_min_margin=D(3),
    )
    assert price(catalog((1, [floor])), 1, 11) == D("15.34")  # 6.17 raised to 12.34 + 3


def test_base_pricelist_chain_and_loop() -> None:
    base = (2, [item(7, pl=2, compute_price="percentage", percent_price=D(20))])
    top = (
        1,
        [
            item(
                8,
                compute_price="formula",
                base="pricelist",
                base_pricelist_id=2,
                price_discount=D(10),
            )
        ],
    )
    assert price(catalog(base, top), 1, 10) == D("75.60")  # 105 * 0.8 * 0.9
    loop_a = (1, [item(1, compute_price="formula", base="pricelist", base_pricelist_id=2)])
    loop_b = (2, [item(2, pl=2, compute_price="formula", base="pricelist", base_pricelist_id=1)])
    with pytest.raises(CannotEvaluate, match="loop"):
        evaluate(catalog(loop_a, loop_b), 1, 10, D(1), NOW)


def test_another_currency_is_not_guessed() -> None:
    cat = catalog((9, [item(1, pl=9, compute_price="percentage", percent_price=D(10))]), currency=2)
    with pytest.raises(CannotEvaluate, match="currency conversion USD to EUR"):
        evaluate(cat, 9, 10, D(1), NOW)
    fixed = catalog((9, [item(1, pl=9, fixed_price=D(7))]), currency=2)
    assert price(fixed, 9, 10) == D(7)  # a fixed price is in the pricelist's currency already


def test_unknown_product_or_category_is_not_guessed() -> None:
    with pytest.raises(CannotEvaluate):
        evaluate(catalog(), None, 999, D(1), NOW)


def test_rounding_is_half_away_from_zero_like_odoo() -> None:
    assert round_to(D("10.455"), D("0.01")) == D("10.46")
    assert round_to(D("-10.455"), D("0.01")) == D("-10.46")
    assert round_to(D("94.5"), D("10")) == D("90")
    assert round_to(D("12.375"), D("0.05")) == D("12.40")
    assert odoo_float_to_decimal(10.454999999999998, D("0.01")) == D("10.46")
    assert odoo_float_to_decimal(28.330499999999997, D("0.01")) == D("28.33")


def test_describe() -> None:
    cat = catalog(
        (
            3,
            [
                item(
                    17,
                    pl=3,
                    applied_on="2_product_category",
                    categ_id=2,
                    compute_price="percentage",
                    percent_price=D("10.0"),
                    min_quantity=D(5),
                )
            ],
        )
    )
    r = evaluate(cat, 3, 10, D(5), NOW)
    assert describe(cat, r) == "pricelist 3 item 17: 10% off category All / Saleable from 5 units"
    assert describe(cat, evaluate(cat, None, 10, D(1), NOW)) == "list price"
