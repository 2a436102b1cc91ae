"""The Magento catalog reader for auto-mapping and reconciliation.

``GET /V1/products`` with ``searchCriteria`` paging (300 a page, the most Magento's input limits
allow; the page count comes from ``total_count``), trimmed with ``fields`` to what is read. The
sellable unit is a product that is not a configurable parent: a simple product of its own, or a
configurable product's child (its parent's id is the item's ``product_external_id``). Children
come from the parents' ``extension_attributes.configurable_product_links``; a linked child the
listing did not return (a store-scoped listing can leave out products not visible there) is read
with ``GET /V1/configurable-products/{sku}/children``, so every child is included. The external
id is the Magento product id; the SKU is Magento's (bindings keep it as ``external_code``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from apps.core import shapes

from .clients import CatalogItem
from .magento import magento_client
from .models import Channel

PAGE = 300
FIELDS = "items[id,sku,name,type_id,extension_attributes[configurable_product_links]],total_count"
PRODUCT = {
    "id": shapes.ID,
    "sku": (str, None),
    "name?": (str, None),
    "type_id?": (str, None),
    "extension_attributes?": (dict, None),
}


def _links(product: dict[str, Any]) -> list[str]:
    ext = product.get("extension_attributes") or {}
    return [str(i) for i in ext.get("configurable_product_links") or []]


def magento_catalog(
    *, channel: Channel, session: requests.Session | None = None
) -> list[CatalogItem]:
    """Every sellable product with its SKU, configurable children included."""
    client = magento_client(channel, session)

    def checked(rows: Any, operation: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = shapes.expect(
            rows, [PRODUCT], partner=channel.code, operation=operation
        )
        return found

    products: dict[str, dict[str, Any]] = {}
    for rows in client.search_pages("products", (), PAGE, params={"fields": FIELDS}):
        for product in checked(rows, "catalog.read"):
            products[str(product["id"])] = product
    parents = [p for p in products.values() if p.get("type_id") == "configurable"]
    parent_of = {child: str(p["id"]) for p in parents for child in _links(p)}
    for parent in parents:
        if all(child in products for child in _links(parent)):
            continue
        sku = str(parent.get("sku") or "")
        children = client.request("GET", f"configurable-products/{quote(sku, safe='')}/children")
        for child in checked(children, "catalog.configurable_children"):
            products.setdefault(str(child["id"]), child)
            parent_of.setdefault(str(child["id"]), str(parent["id"]))
    return [
        CatalogItem(
            external_id=pid,
            sku=str(p.get("sku") or "").strip(),
            name=str(p.get("name") or ""),
            product_external_id=parent_of.get(pid, pid),
        )
        for pid, p in sorted(products.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0)
        if p.get("type_id") != "configurable"
    ]
