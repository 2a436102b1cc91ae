"""The client calls the hostile-partner tests feed broken answers to, one per parse site family.

Each ``Case`` names the stand-in kind, which call of the client gets the hostile answer (the
``fail_next`` matcher) and how to run the hub's real client code against a channel on that
stand-in. ``empty_ok``: an empty 200 body is a legitimate "none" there (BigCommerce v2 lists).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from tests.fixtures.channel_standins import ChannelStandin


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # shopify | woocommerce | bigcommerce
    match: dict[str, Any]  # fail_next keys: path_contains, method, body_contains
    run: Callable[[Any, ChannelStandin, dict[str, str]], Any]
    empty_ok: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # more fail_next keys (after: true)

    def __str__(self) -> str:
        return self.name


SINCE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _targets(ids: dict[str, str], qty: int = 4) -> list[Any]:
    from apps.inventory.publishers import StockTarget

    return [StockTarget(sku, ext, qty) for sku, ext in ids.items()]


def _publish(channel: Any, _: ChannelStandin, ids: dict[str, str]) -> Any:
    from apps.inventory.publishers import publisher_for

    return publisher_for(channel).publish(_targets(ids))


def _levels(channel: Any, _: ChannelStandin, ids: dict[str, str]) -> Any:
    from apps.inventory.publishers import publisher_for

    return publisher_for(channel).read_levels(list(ids.values()))


def _catalog(channel: Any, *_: Any) -> Any:
    from apps.sales_channels.clients import channel_catalog

    return channel_catalog(channel=channel)


def _orders(channel: Any, *_: Any) -> Any:
    from apps.sales_channels import clients

    read = {
        "shopify": clients.shopify_orders_updated,
        "woocommerce": clients.woocommerce_orders_updated,
        "bigcommerce": clients.bigcommerce_orders_updated,
    }[channel.kind]
    return list(read(channel=channel, since=SINCE))


def _hooks(channel: Any, *_: Any) -> Any:
    from apps.sales_channels.clients import webhook_subscriptions_list

    return webhook_subscriptions_list(channel=channel)


def _find_skus(channel: Any, _: ChannelStandin, ids: dict[str, str]) -> Any:
    from apps.catalog.publishers import catalog_publisher_for

    return catalog_publisher_for(channel).find_skus(sorted(ids))


def _refunds(channel: Any, *_: Any) -> Any:
    from apps.returns.adapters import refund_adapter_for

    return refund_adapter_for(channel).refunds_read("1001")


def _fulfil(channel: Any, *_: Any) -> Any:
    from apps.fulfillment.adapters import ShipLine, ShipmentToSend, adapter_for

    ship = ShipmentToSend(
        channel_code=channel.code,
        order_external_id="1001",
        order_number="#1001",
        odoo_picking_name="WH/OUT/00001",
        lines=(ShipLine("P-0000", 1),),
        carrier="UPS",
        tracking_numbers=("1Z999",),
        tracking_url="",
        shipped_at="2025-01-02T10:00:00Z",
        notify_customer=False,
        final=True,
    )
    return adapter_for(channel).fulfil(ship)


def _companies(channel: Any, *_: Any) -> Any:
    from apps.customers.channel_io import ShopifyCompanies

    return ShopifyCompanies(channel).company_find("odoo-partner-7")


def _customers(channel: Any, *_: Any) -> Any:
    from apps.customers.channel_io import BigCommerceCustomers

    return BigCommerceCustomers(channel).customers_by_email(["ann@example.com"])


def _order_fetch(channel: Any, standin: ChannelStandin, _: dict[str, str]) -> Any:
    from apps.orders.bigcommerce import bigcommerce_order_fetch

    standin.seed_order(id=100, line_items=[{"sku": "P-0000", "quantity": 1}])
    return bigcommerce_order_fetch(channel=channel, order_id=100)


def _captures(channel: Any, *_: Any) -> Any:
    from apps.finance.providers import captured_payments

    return captured_payments(channel, {}, "1001")


def _payouts(channel: Any, *_: Any) -> Any:
    from apps.finance.providers import payout_source

    account = SimpleNamespace(
        provider="shopify_payments", channel=channel, api_base_url="", secret_key=""
    )
    return payout_source(account).payouts_since(None)


def _stripe(channel: Any, standin: ChannelStandin, _: dict[str, str]) -> Any:
    from apps.finance.providers import payout_source
    from sandbox.channels.stripe import DEFAULT_SECRET_KEY

    account = SimpleNamespace(
        provider="stripe",
        channel=SimpleNamespace(code=channel.code),
        api_base_url=standin.url,
        secret_key=DEFAULT_SECRET_KEY,
    )
    return payout_source(account).payouts_since(None)


def gql(name: str) -> dict[str, Any]:
    return {"path_contains": "graphql.json", "body_contains": name}


CASES = [
    # Shopify: GraphQL Admin API (one shape per query) and REST
    Case("shopify inventory.locations", "shopify", gql("HubLocations"), _publish),
    Case("shopify inventory.resolve_items", "shopify", gql("HubVariantItems"), _publish),
    Case("shopify inventory.set_quantities", "shopify", gql("HubSetStock"), _publish),
    Case(
        "shopify inventory.set_quantities answered after the write",
        "shopify",
        gql("HubSetStock"),
        _publish,
        extra={"after": True},
    ),
    Case("shopify inventory.read_levels", "shopify", gql("HubLevels"), _levels),
    Case("shopify catalog.read", "shopify", gql("query Variants"), _catalog),
    Case("shopify catalog.find_skus", "shopify", gql("HubVariantsBySku"), _find_skus),
    Case("shopify orders.poll", "shopify", {"path_contains": "orders.json"}, _orders),
    Case("shopify webhooks.list", "shopify", {"path_contains": "webhooks.json"}, _hooks),
    Case("shopify fulfillment.read_order", "shopify", gql("HubFulfilmentState"), _fulfil),
    Case("shopify returns.read_order", "shopify", gql("HubRefunds"), _refunds),
    Case("shopify customers.company_find", "shopify", gql("companies("), _companies),
    Case("shopify finance.captures", "shopify", {"path_contains": "graphql.json"}, _captures),
    Case("shopify finance.payouts", "shopify", {"path_contains": "payouts.json"}, _payouts),
    # WooCommerce: REST v3
    Case("woocommerce inventory.publish", "woocommerce", {"path_contains": "/batch"}, _publish),
    Case(
        "woocommerce inventory.read_levels",
        "woocommerce",
        {"path_contains": "/products", "method": "GET"},
        _levels,
    ),
    Case("woocommerce catalog.read", "woocommerce", {"path_contains": "/products"}, _catalog),
    Case("woocommerce orders.poll", "woocommerce", {"path_contains": "/orders"}, _orders),
    Case("woocommerce webhooks.list", "woocommerce", {"path_contains": "/webhooks"}, _hooks),
    Case("woocommerce returns.read", "woocommerce", {"path_contains": "/refunds"}, _refunds),
    Case("woocommerce fulfillment", "woocommerce", {"path_contains": "/wp-json/"}, _fulfil),
    Case("woocommerce stripe payouts", "woocommerce", {"path_contains": "/v1/payouts"}, _stripe),
    # BigCommerce: v3 envelopes and v2 lists (an empty v2 body is "none")
    Case(
        "bigcommerce inventory.read_items",
        "bigcommerce",
        {"path_contains": "inventory/items"},
        _publish,
    ),
    Case(
        "bigcommerce inventory.publish",
        "bigcommerce",
        {"path_contains": "adjustments/absolute"},
        _publish,
    ),
    Case(
        "bigcommerce catalog.read", "bigcommerce", {"path_contains": "catalog/products"}, _catalog
    ),
    Case(
        "bigcommerce catalog.find_skus",
        "bigcommerce",
        {"path_contains": "catalog/variants"},
        _find_skus,
    ),
    Case(
        "bigcommerce orders.poll",
        "bigcommerce",
        {"path_contains": "/v2/orders"},
        _orders,
        empty_ok=True,
    ),
    Case("bigcommerce webhooks.list", "bigcommerce", {"path_contains": "/v3/hooks"}, _hooks),
    Case(
        "bigcommerce orders.fetch",
        "bigcommerce",
        {"path_contains": "/v2/orders/100"},
        _order_fetch,
    ),
    Case(
        "bigcommerce orders.fetch products",
        "bigcommerce",
        {"path_contains": "/v2/orders/100/products"},
        _order_fetch,
        empty_ok=True,
    ),
    Case("bigcommerce returns.read", "bigcommerce", {"path_contains": "/refunds"}, _refunds),
    Case(
        "bigcommerce fulfillment.read_order",
        "bigcommerce",
        {"path_contains": "/products"},
        _fulfil,
        empty_ok=True,
    ),
    Case("bigcommerce customers.find", "bigcommerce", {"path_contains": "customers"}, _customers),
    Case(
        "bigcommerce finance.captures",
        "bigcommerce",
        {"path_contains": "transactions"},
        _captures,
    ),
]
