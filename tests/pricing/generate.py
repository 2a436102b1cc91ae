"""Generated pricelists, products and cases for the differential price test.

``build(client, tag, seed, ...)`` creates, in the Odoo behind ``client`` (the sandbox or a real
Odoo 17), a category tree (a root, a child, a grandchild, a sibling), product templates with
variants whose attribute values carry ``price_extra``, and pricelists whose rules cover every
kind: applied on a variant, a template, a category (parent and child) and all products; fixed,
percentage and formula (base list price, cost and another pricelist; discount, rounding,
surcharge, minimum and maximum margin); ``min_quantity`` breaks and date ranges. ``cases``
crosses them with quantities and moments.

A real Odoo makes variants from attribute lines (``product.attribute`` with values, a template
with ``attribute_line_ids``, then ``price_extra`` written on ``product.template.attribute.value``);
the sandbox takes the variants and their values directly. Products are written with the client's
version adapter (``storable_vals``), so the same world builds on 17, 18 and 19.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MOMENTS = (
    dt.datetime(2026, 1, 15, 12, 0, 0),  # inside the January rules
    dt.datetime(2026, 6, 15, 9, 30, 0),
    dt.datetime(2027, 3, 1, 0, 0, 0),  # after every dated rule
    dt.datetime(2025, 12, 31, 23, 59, 59),  # the second before January
)
QUANTITIES = (Decimal(1), Decimal(5), Decimal(10), Decimal(25))
MARGINS = ((0.0, 0.0), (1.5, 40.0), (0.0, 3.0), (-5.0, 0.0), (0.5, 0.75))
ROUNDINGS = (0.0, 0.05, 0.1, 1.0, 5.0, 0.01)
DISCOUNTS = (0.0, 7.5, 10.0, 12.0, 33.33, 15.0, -20.0)
SURCHARGES = (0.0, -0.01, 0.99, 2.5)


@dataclass
class World:
    categories: dict[str, int] = field(default_factory=dict)
    templates: list[int] = field(default_factory=list)
    variants: list[int] = field(default_factory=list)
    variant_tmpl: dict[int, int] = field(default_factory=dict)
    variant_categ: dict[int, str] = field(default_factory=dict)
    pricelists: list[int] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)


def _money(rng: random.Random, low: int, high: int) -> float:
    return rng.randint(low * 100, high * 100) / 100


def _categories(client: Any, tag: str) -> dict[str, int]:
    root = int(client.call("product.category", "create", [{"name": f"PRC {tag}"}]))
    child = int(client.call("product.category", "create", [{"name": "B", "parent_id": root}]))
    grand = int(client.call("product.category", "create", [{"name": "C", "parent_id": child}]))
    sibling = int(client.call("product.category", "create", [{"name": "D", "parent_id": root}]))
    return {"root": root, "child": child, "grand": grand, "sibling": sibling}


def _template(
    client: Any, live: bool, name: str, vals: dict[str, Any], extras: list[float]
) -> tuple[int, list[int]]:
    """A template with len(extras) variants, the i-th value carrying extras[i]."""
    if live and (len(extras) > 1 or any(extras)):
        attr = int(
            client.call(
                "product.attribute",
                "create",
                [
                    {
                        "name": f"Size {name}",
                        "create_variant": "always",
                        "value_ids": [[0, 0, {"name": f"V{i}"}] for i in range(len(extras))],
                    }
                ],
            )
        )
        values = client.call(
            "product.attribute.value",
            "search_read",
            [[["attribute_id", "=", attr]]],
            {"fields": ["name"], "order": "id"},
        )
        tmpl = int(
            client.call(
                "product.template",
                "create",
                [
                    {
                        **vals,
                        "name": name,
                        "attribute_line_ids": [
                            [
                                0,
                                0,
                                {
                                    "attribute_id": attr,
                                    "value_ids": [[6, 0, [v["id"] for v in values]]],
                                },
                            ]
                        ],
                    }
                ],
            )
        )
        ptavs = client.call(
            "product.template.attribute.value",
            "search_read",
            [[["product_tmpl_id", "=", tmpl]]],
            {"fields": ["product_attribute_value_id"], "order": "id"},
        )
        by_value = {p["product_attribute_value_id"][0]: p["id"] for p in ptavs}
        variants = []
        for value, extra in zip(values, extras, strict=True):
            ptav = by_value[value["id"]]
            if extra:
                client.call(
                    "product.template.attribute.value", "write", [[ptav], {"price_extra": extra}]
                )
            found = client.call(
                "product.product",
                "search",
                [
                    [
                        ["product_tmpl_id", "=", tmpl],
                        ["product_template_attribute_value_ids", "in", [ptav]],
                    ]
                ],
            )
            variants.append(int(found[0]))
        return tmpl, variants
    tmpl = int(client.call("product.template", "create", [{**vals, "name": name}]))
    first = client.call("product.product", "search", [[["product_tmpl_id", "=", tmpl]]])
    variants = [int(first[0])]
    for _ in extras[1:]:
        variants.append(
            int(
                client.call(
                    "product.product",
                    "create",
                    [{**vals, "name": name, "product_tmpl_id": tmpl}],
                )
            )
        )
    if len(extras) > 1 or extras[0]:
        for i, (pid, extra) in enumerate(zip(variants, extras, strict=True)):
            ptav = int(
                client.call(
                    "product.template.attribute.value",
                    "create",
                    [{"name": f"V{i}", "product_tmpl_id": tmpl, "price_extra": extra}],
                )
            )
            client.call(
                "product.product",
                "write",
                [[pid], {"product_template_attribute_value_ids": [[6, 0, [ptav]]]}],
            )
    return tmpl, variants


def _rule(kind: str, rng: random.Random, **target: Any) -> dict[str, Any]:
    if kind == "fixed":
        return {**target, "compute_price": "fixed", "fixed_price": _money(rng, 3, 150)}
    if kind == "percentage":
        pct = rng.choice((5.0, 10.0, 12.5, 20.0, 33.33, -10.0, 15.0))
        return {**target, "compute_price": "percentage", "percent_price": pct}
    base = kind.split(":", 1)[1]
    low, high = rng.choice(MARGINS)
    vals = {
        **target,
        "compute_price": "formula",
        "base": base,
        "price_discount": rng.choice(DISCOUNTS),
        "price_round": rng.choice(ROUNDINGS),
        "price_surcharge": rng.choice(SURCHARGES),
        "price_min_margin": low,
        "price_max_margin": high,
    }
    return vals


def build(
    client: Any,
    tag: str,
    seed: int,
    *,
    live: bool,
    n_templates: int = 8,
    with_variants: bool = True,
) -> World:
    """``with_variants=False``: one variant per template and no ``price_extra`` (no attributes)."""
    rng = random.Random(seed)
    world = World(categories=_categories(client, tag))
    placement = ["root", "child", "grand", "sibling"]
    for n in range(n_templates):
        categ = placement[n % len(placement)]
        extras = rng.choice(([0.0], [0.0, 2.5], [0.0, 7.25, 1.1], [3.0]))
        if not with_variants:
            extras = [0.0]
        if any(extras):
            world.kinds.add("price_extra")
        vals = {
            "list_price": _money(rng, 5, 200),
            "categ_id": world.categories[categ],
            # the version's product type fields (17: detailed_type; 18+: type and is_storable)
            **client.adapter.product_storable_vals(),
            "taxes_id": [[6, 0, []]],
        }
        tmpl, variants = _template(client, live, f"PRC {tag} T{n}", vals, extras)
        for pid in variants:
            client.call(
                "product.product", "write", [[pid], {"standard_price": _money(rng, 1, 120)}]
            )
        world.templates.append(tmpl)
        world.variants += variants
        for pid in variants:
            world.variant_tmpl[pid] = tmpl
            world.variant_categ[pid] = categ

    kinds = ["fixed", "percentage", "formula:list_price", "formula:standard_price"]
    base_pl = int(
        client.call(
            "product.pricelist",
            "create",
            [
                {
                    "name": f"PRC {tag} base",
                    "item_ids": [
                        [0, 0, _rule("percentage", rng, applied_on="3_global")],
                        [
                            0,
                            0,
                            _rule(
                                "formula:list_price",
                                rng,
                                applied_on="2_product_category",
                                categ_id=world.categories["child"],
                            ),
                        ],
                    ],
                }
            ],
        )
    )
    world.pricelists.append(base_pl)
    for p in range(3):
        items: list[dict[str, Any]] = []
        variant = rng.choice(world.variants)
        items.append(
            _rule(rng.choice(kinds), rng, applied_on="0_product_variant", product_id=variant)
        )
        items.append(
            {
                **_rule("fixed", rng, applied_on="0_product_variant", product_id=variant),
                "min_quantity": 10,
            }
        )
        tmpl = rng.choice(world.templates)
        items.append(_rule(rng.choice(kinds), rng, applied_on="1_product", product_tmpl_id=tmpl))
        items.append(
            {
                **_rule("percentage", rng, applied_on="1_product", product_tmpl_id=tmpl),
                "min_quantity": 5,
            }
        )
        items.append(
            {
                **_rule(
                    "fixed",
                    rng,
                    applied_on="1_product",
                    product_tmpl_id=rng.choice(world.templates),
                ),
                "date_start": "2026-01-01 00:00:00",
                "date_end": "2026-01-31 23:59:59",
            }
        )
        for categ in ("root", "child", "grand"):
            items.append(
                _rule(
                    rng.choice(kinds),
                    rng,
                    applied_on="2_product_category",
                    categ_id=world.categories[categ],
                )
            )
        items.append(
            {
                **_rule(
                    "formula:list_price",
                    rng,
                    applied_on="2_product_category",
                    categ_id=world.categories["sibling"],
                ),
                "min_quantity": 25,
            }
        )
        items.append(
            {
                **_rule(
                    "percentage",
                    rng,
                    applied_on="2_product_category",
                    categ_id=world.categories["root"],
                ),
                "date_start": "2026-06-01 00:00:00",
                "date_end": "2026-06-30 23:59:59",
                "min_quantity": 5,
            }
        )
        items.append(
            {
                "applied_on": "3_global",
                "compute_price": "formula",
                "base": "pricelist",
                "base_pricelist_id": base_pl,
                "price_discount": rng.choice(DISCOUNTS),
                "price_round": rng.choice(ROUNDINGS),
                "price_surcharge": rng.choice(SURCHARGES),
                "min_quantity": rng.choice((0, 5)),
            }
        )
        items.append(_rule(rng.choice(kinds[1:]), rng, applied_on="3_global"))
        rng.shuffle(items)  # ids in another order than Odoo's evaluation order
        pl = int(
            client.call(
                "product.pricelist",
                "create",
                [{"name": f"PRC {tag} P{p}", "item_ids": [[0, 0, i] for i in items]}],
            )
        )
        world.pricelists.append(pl)
        for i in items:
            kind = str(i["compute_price"])
            if kind == "formula":
                kind += ":" + str(i.get("base") or "list_price")
            world.kinds |= {kind, str(i["applied_on"])}
            if i.get("min_quantity"):
                world.kinds.add("min_quantity")
            if i.get("date_start"):
                world.kinds.add("dates")
    return world


def cases(
    world: World,
    *,
    pricelists: list[int | None] | None = None,
    quantities: tuple[Decimal, ...] = QUANTITIES,
    moments: tuple[dt.datetime, ...] = MOMENTS,
) -> list[tuple[int | None, int, Decimal, dt.datetime]]:
    lists: list[int | None] = pricelists if pricelists is not None else [None, *world.pricelists]
    return [
        (pl, pid, qty, moment)
        for pl in lists
        for pid in world.variants
        for qty in quantities
        for moment in moments
    ]


def archive(client: Any, world: World) -> None:
    """Archive the generated pricelists so they never become a partner's default."""
    client.call("product.pricelist", "write", [world.pricelists, {"active": False}])
