"""Helpers for the catalog tests: Odoo products and variants made in the sandbox over HTTP,
bound to stand-in products, and the platforms' minimum call counts computed independently."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from apps.mappings.models import Binding
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from tests.fixtures.channel_standins import ChannelStandin

# The platforms' documented per-call limits (LIFECYCLE §4).
PRICE_LIMIT = {"shopify": 250, "woocommerce": 100, "bigcommerce": 50}


def standin_channel(standin: ChannelStandin, code: str, **options: Any) -> Channel:
    creds: dict[str, Any] = {"api_base_url": standin.base_url}
    if standin.kind == "woocommerce":
        creds.update(consumer_key=standin.consumer_key, consumer_secret=standin.consumer_secret)
    else:
        creds.update(access_token=standin.access_token or standin.auth_token)
    channel, _ = channel_create(code=code, kind=standin.kind, **creds, **options)
    return channel


def odoo_simple_products(sandbox: Any, n: int, prefix: str = "CAT") -> dict[str, int]:
    """n storable products with list prices 10.00, 10.25, ... -> {sku: product id}."""
    vals = [
        {
            "name": f"{prefix} product {i}",
            "default_code": f"{prefix}-{i:04d}",
            "list_price": 10 + i / 4,
        }
        for i in range(n)
    ]
    ids = sandbox.execute("product.product", "create", vals)
    return {v["default_code"]: pid for v, pid in zip(vals, ids, strict=True)}


def odoo_variants(
    sandbox: Any, name: str, sizes: dict[str, float], *, code: str, list_price: float = 20.0
) -> dict[str, Any]:
    """A template with one variant per size (attribute "Size", price extra per size), each
    with its own SKU, barcode and weight (transcript 18). Returns ids by size."""
    attr = sandbox.execute(
        "product.attribute",
        "create",
        {"name": f"Size {code}", "value_ids": [[0, 0, {"name": s}] for s in sizes]},
    )
    values = sandbox.execute(
        "product.attribute.value", "search_read", [["attribute_id", "=", attr]], fields=["name"]
    )
    tmpl = sandbox.execute(
        "product.template",
        "create",
        {"name": name, "list_price": list_price, "description_sale": f"{name}, organic cotton"},
    )
    first = sandbox.execute("product.product", "search", [["product_tmpl_id", "=", tmpl]])[0]
    out: dict[str, Any] = {"template": tmpl, "variants": {}, "ptav": {}}
    for n, value in enumerate(values):
        size = value["name"]
        ptav = sandbox.execute(
            "product.template.attribute.value",
            "create",
            {
                "product_tmpl_id": tmpl,
                "product_attribute_value_id": value["id"],
                "price_extra": sizes[size],
            },
        )
        variant_vals = {
            "default_code": f"{code}-{size}",
            "barcode": f"20{abs(hash(code)) % 10**9:09d}{n}",
            "weight": 0.2 + n / 20,
            "product_template_attribute_value_ids": [[6, 0, [ptav]]],
        }
        if n == 0:
            sandbox.execute("product.product", "write", [first], variant_vals)
            pid = first
        else:
            pid = sandbox.execute(
                "product.product",
                "create",
                {
                    **variant_vals,
                    "name": name,
                    "product_tmpl_id": tmpl,
                    "list_price": list_price,
                    # related to the template in Odoo; the sandbox copies it per variant
                    "description_sale": f"{name}, organic cotton",
                },
            )
        out["variants"][size] = pid
        out["ptav"][size] = ptav
    return out


def bind(
    channel: Channel,
    standin: ChannelStandin,
    skus_to_products: dict[str, int],
    *,
    group_size: int = 0,
    group: str = "",
) -> dict[str, str]:
    """The SKUs on the stand-in (``group_size`` variants per product, or all in ``group``) and
    their bindings to the Odoo products; SKU -> external id."""
    rows = []
    for n, sku in enumerate(skus_to_products):
        row: dict[str, Any] = {"sku": sku, "stock": 1, "price": "1.00"}
        if group:
            row["group"] = group
        elif group_size:
            row["group"] = f"G{n // group_size}"
        rows.append(row)
    made = standin.add_products(rows)
    ext = {r["sku"]: str(r.get("variant_id") or r["id"]) for r in made}
    Binding.objects.bulk_create(
        Binding(
            channel=channel,
            kind=Binding.Kind.PRODUCT,
            external_id=ext[sku],
            external_code=sku,
            odoo_model="product.product",
            odoo_id=pid,
        )
        for sku, pid in skus_to_products.items()
    )
    return ext


def minimum_price_calls(kind: str, changed_skus: list[str], group_of: dict[str, str]) -> int:
    """The fewest calls the platform allows for these price changes: Shopify one
    productVariantsBulkUpdate per product (250 variants each), WooCommerce 100 per
    products/batch (simple products) or per parent's variations/batch, BigCommerce 50 per
    variant batch."""
    limit = PRICE_LIMIT[kind]
    if kind == "bigcommerce":
        return math.ceil(len(changed_skus) / limit)
    per_product = Counter(group_of.get(s, "") for s in changed_skus)
    if kind == "shopify":  # an ungrouped SKU is a product of its own
        return sum(math.ceil(n / limit) if key else n for key, n in per_product.items())
    simple = per_product.pop("", 0)
    return math.ceil(simple / limit) + sum(math.ceil(n / limit) for n in per_product.values())


def price_writes(standin: ChannelStandin) -> dict[str, list[int]]:
    batches = standin.stats()["batches"]
    keys = {
        "shopify": ["productVariantsBulkUpdate"],
        "woocommerce": ["products/batch", "products/{id}/variations/batch"],
        "bigcommerce": ["PUT v3/catalog/variants"],
    }[standin.kind]
    return {k: list(batches.get(k, [])) for k in keys}


def channel_prices(standin: ChannelStandin) -> dict[str, str]:
    return {
        v["sku"]: v["price"]
        for p in standin._control("GET", "catalog")["products"]
        for v in p["variants"]
    }
