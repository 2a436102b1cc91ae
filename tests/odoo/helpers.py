"""Test data the Odoo tests create for themselves (they assume no demo ids)."""

from __future__ import annotations

from dataclasses import dataclass

from apps.odoo.gateway import OdooGateway, PartnerIds, m2o_id


@dataclass
class Seed:
    partner: PartnerIds
    products: dict[str, int]  # sku -> id
    warehouse_id: int
    stock_location_id: int


def seed(gateway: OdooGateway, tag: str, *, n_products: int = 2, qty: float = 50) -> Seed:
    """A B2B customer, ``n_products`` storable products invoiced on delivery, stock in WH 1."""
    partner = gateway.partner_ensure(
        partner={
            "name": f"Test Customer {tag}",
            "is_company": True,
            "ref": f"HUBTEST-{tag}",
            "email": f"buyer-{tag}@example.com",
            "street": "1 Main St",
            "city": "Springfield",
            "zip": "12345",
            "country_code": "US",
            "delivery": {
                "name": "Dock",
                "street": "99 Dock Rd",
                "city": "Shelbyville",
                "zip": "54321",
                "country_code": "US",
            },
        }
    )
    products = gateway.products_ensure(
        products=[
            {
                "sku": f"T-{tag}-{i}",
                "name": f"Test product {tag} {i}",
                "list_price": 25,
                "invoice_policy": "delivery",
            }
            for i in range(n_products)
        ]
    )
    wh = gateway.client.call(
        "stock.warehouse",
        "search_read",
        [[]],
        {"fields": ["lot_stock_id"], "limit": 1, "order": "id"},
    )[0]
    location = m2o_id(wh["lot_stock_id"])
    assert location is not None
    # The public inventory-adjustment way (transcript 03), never a raw quant quantity write.
    gateway.client.call(
        "stock.quant",
        "create",
        [
            [
                {"product_id": pid, "location_id": location, "inventory_quantity_auto_apply": qty}
                for pid in products.values()
            ]
        ],
        context={"inventory_mode": True},
    )
    return Seed(partner, products, wh["id"], location)


def order(tag: str, s: Seed, n: int, lines: list[tuple[str, float]]) -> dict[str, object]:
    return {
        "ref": f"hubtest:{tag}:{n}",
        "partner_id": s.partner.id,
        "partner_shipping_id": s.partner.delivery_id,
        "warehouse_id": s.warehouse_id,
        "client_order_ref": f"PO-{tag}-{n}",
        "lines": [
            {"product_id": s.products[sku], "qty": qty, "price_unit": 24.5} for sku, qty in lines
        ],
    }
