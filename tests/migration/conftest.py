"""Fixtures for the migration: a shadow channel on the sandbox, hub orders recorded in shadow,
and "legacy" sale orders created directly over JSON-RPC, as another connector would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from apps.orders.models import ChannelOrder
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.models import Channel
from apps.sales_channels.translators import order_from_shopify
from tests.orders.conftest import (  # noqa: F401  fixtures
    bind_all,
    make_channel,
    product_ids,
    sandbox_settings,
    shopify_payload,
    tax_map,
)

CODE = "legacy"
T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
# The legacy connector writes its name in origin: the channel's match domain picks its orders.
LEGACY_DOMAIN = [["origin", "=like", "LEGACY%"]]


class Legacy:
    """What the sandbox holds for the tests, and a legacy connector writing to it."""

    def __init__(self, sb: Any) -> None:
        self.sb = sb
        ids = product_ids(sb, ["SKU-001", "SKU-003", "SHIP"])
        self.tshirt, self.mug, self.ship = ids["SKU-001"], ids["SKU-003"], ids["SHIP"]
        self.warehouse = sb.execute("stock.warehouse", "search", [], limit=1, order="id")[0]
        self.tax8 = sb.execute("account.tax", "create", {"name": "NY 8%", "amount": 8.0})
        self.tax10 = sb.execute("account.tax", "create", {"name": "Other 10%", "amount": 10.0})
        us = sb.execute("res.country", "search", [["code", "=", "US"]])[0]
        self.partner = sb.execute(
            "res.partner",
            "create",
            {
                "name": "Maria Lopez",
                "email": "maria.lopez@example.com",
                "street": "350 Fifth Avenue",
                "city": "New York",
                "zip": "10118",
                "country_id": us,
            },
        )

    def order(
        self,
        number: str,
        *,
        tshirt_price: float = 25.0,
        tax: int | None = None,
        confirm: bool = True,
        at: dt.datetime = T0,
    ) -> int:
        """The fixture's Shopify order as the legacy connector put it into Odoo."""
        taxes = [[6, 0, [tax or self.tax8]]]
        so: int = self.sb.execute(
            "sale.order",
            "create",
            {
                "partner_id": self.partner,
                "client_order_ref": number,
                "origin": "LEGACY-CONNECTOR",
                "warehouse_id": self.warehouse,
                "date_order": at.strftime("%Y-%m-%d %H:%M:%S"),
                "order_line": [
                    [
                        0,
                        0,
                        {
                            "product_id": self.tshirt,
                            "product_uom_qty": 2,
                            "price_unit": tshirt_price,
                            "discount": 10.0,
                            "tax_id": taxes,
                        },
                    ],
                    [
                        0,
                        0,
                        {
                            "product_id": self.mug,
                            "product_uom_qty": 1,
                            "price_unit": 12.5,
                            "discount": 10.0,
                            "tax_id": taxes,
                        },
                    ],
                    [
                        0,
                        0,
                        {
                            "product_id": self.ship,
                            "product_uom_qty": 1,
                            "price_unit": 5.99,
                            "tax_id": [[6, 0, []]],
                        },
                    ],
                ],
            },
        )
        if confirm:
            self.sb.execute("sale.order", "action_confirm", [so])
        return so


@pytest.fixture
def legacy(sandbox_settings: Any) -> Legacy:  # noqa: F811
    return Legacy(sandbox_settings)


@pytest.fixture
def shop(
    sandbox_settings: Any,  # noqa: F811
    make_channel: Any,  # noqa: F811
    bind_all: Any,  # noqa: F811
    legacy: Legacy,
) -> Channel:
    channel = make_channel(
        code=CODE,
        state=Channel.State.SHADOW,
        warehouse_ids=[legacy.warehouse],
        legacy_match_domain=LEGACY_DOMAIN,
    )
    bind_all(channel)
    tax_map(channel, "0.08", legacy.tax8)
    return channel


Ingest = Callable[..., ChannelOrder]


@pytest.fixture
def ingest(shop: Channel) -> Ingest:
    """Record a channel order (created at `at`) through intake; `push` runs the push after."""

    def do(n: int, *, at: dt.datetime = T0, push: bool = True, **changes: Any) -> ChannelOrder:
        payload = shopify_payload(
            n,
            name=f"#{n}",
            order_number=n,
            created_at=at.isoformat(),
            updated_at=(at + dt.timedelta(seconds=2)).isoformat(),
            **changes,
        )
        row = order_ingest(order=order_from_shopify(payload, channel=shop.code))
        if push:
            order_push_due()
        row.refresh_from_db()
        return row

    return do
