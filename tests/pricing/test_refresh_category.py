"""A category rule reaches products moved into the category (the catalog benchmark's report)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.odoo.gateway import OdooGateway
from apps.pricing import refresh
from apps.pricing.services import prices_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_products_moved_into_a_rule_category(gateway: OdooGateway, sandbox_settings: Any) -> None:
    sb = sandbox_settings
    ids = sb.execute(
        "product.product",
        "create",
        [{"name": f"Move {i}", "default_code": f"MV-{i}", "list_price": 100.0} for i in range(4)],
    )
    pl = sb.execute(
        "product.pricelist",
        "create",
        {
            "name": "Move PL",
            "item_ids": [
                [
                    0,
                    0,
                    {"applied_on": "3_global", "compute_price": "percentage", "percent_price": 5},
                ]
            ],
        },
    )
    before = prices_for(pricelist_id=pl, product_ids=ids)
    assert {q.unit_price for q in before.values()} == {Decimal("95.00")}
    refresh.refresh(gateway)  # the poll has run once: its cursors are set

    sale = sb.execute("product.category", "create", {"name": "Move sale"})
    sb.execute("product.product", "write", ids[:2], {"categ_id": sale})
    sb.execute(
        "product.pricelist.item",
        "create",
        {
            "pricelist_id": pl,
            "applied_on": "2_product_category",
            "categ_id": sale,
            "compute_price": "percentage",
            "percent_price": 15,
        },
    )
    refresh.refresh(gateway)
    after = prices_for(pricelist_id=pl, product_ids=ids)
    assert [after[i].unit_price for i in ids] == [Decimal("85.00")] * 2 + [Decimal("95.00")] * 2
    assert "15%" in after[ids[0]].rule
