"""B2B orders: the account's company partner, a delivery child per ship-to, the PO number kept."""

from __future__ import annotations

from typing import Any

import pytest

from apps.orders.models import OrderState
from apps.orders.services import order_ingest, order_push_due
from apps.sales_channels.translators import order_from_b2b

from .conftest import b2b_payload
from .helpers import sale_orders

pytestmark = pytest.mark.django_db


def acme_order(po: str, street: str, city: str = "Philadelphia") -> dict[str, Any]:
    return b2b_payload(
        po,
        customer={"external_id": "ACME", "email": "orders@acme.example.com", "company": "Acme"},
        lines=[{"sku": "TSHIRT-BLU-M", "quantity": 2, "unit_price": "25.00"}],
        shipping={},
        shipping_address={
            "company": f"Acme store {street}",
            "line1": street,
            "city": city,
            "postal_code": "19106",
            "country_code": "US",
        },
        totals={"total": "50.00"},
    )


@pytest.fixture
def portal(sandbox_settings: Any, b2b: Any, bind_all: Any) -> Any:
    channel, _ = b2b
    bind_all(channel)
    return channel


def _m2o(value: Any) -> int:
    return int(value[0]) if isinstance(value, list) else int(value)


def test_ship_to_is_a_delivery_child_of_the_company_reused_per_address(
    portal: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    acme = sb.execute("res.partner", "search_read", [["ref", "=", "ACME"]], fields=["id"])[0]["id"]
    # given three orders of the same account: two to one store, one to another
    for po, street in (("PO-1", "500 Market St"), ("PO-2", "9 Pier Rd"), ("PO-3", "500 Market St")):
        order_ingest(order=order_from_b2b(acme_order(po, street), channel="portal"))
    # when they are pushed in one batch
    order_push_due()
    shipped_to: dict[str, int] = {}
    for po in ("PO-1", "PO-2", "PO-3"):
        (so,) = sale_orders(sb, f"portal:{po}")
        # then each sale order is the company's, with the PO number as client reference
        assert _m2o(so["partner_id"]) == acme
        assert so["client_order_ref"] == po
        shipped_to[po] = _m2o(so["partner_shipping_id"])
    # and ships to a delivery child of the company at the order's address, one per address
    assert shipped_to["PO-1"] == shipped_to["PO-3"] != shipped_to["PO-2"]
    children = sb.execute(
        "res.partner",
        "read",
        sorted(set(shipped_to.values())),
        fields=["parent_id", "type", "street", "city"],
    )
    assert {c["street"] for c in children} == {"500 Market St", "9 Pier Rd"}
    assert all(_m2o(c["parent_id"]) == acme and c["type"] == "delivery" for c in children)


def test_a_later_order_to_a_known_store_creates_no_second_address(
    portal: Any, sandbox_settings: Any
) -> None:
    sb = sandbox_settings
    order_ingest(order=order_from_b2b(acme_order("PO-10", "77 Dock St"), channel="portal"))
    order_push_due()
    before = sb.execute("res.partner", "search_count", [["street", "=", "77 Dock St"]])
    # when the same store orders again in a later batch
    row = order_ingest(order=order_from_b2b(acme_order("PO-11", "77 Dock St"), channel="portal"))
    order_push_due()
    row.refresh_from_db()
    # then the existing delivery address is found by its reference, not created again
    assert row.state == OrderState.IN_ODOO
    assert sb.execute("res.partner", "search_count", [["street", "=", "77 Dock St"]]) == before == 1
    (first,) = sale_orders(sb, "portal:PO-10")
    (second,) = sale_orders(sb, "portal:PO-11")
    assert _m2o(first["partner_shipping_id"]) == _m2o(second["partner_shipping_id"])
