"""Helpers for the Magento outbound tests (stock, shipments, credit memos, comments, catalog,
subscription health): channels on the Magento stand-in and searchCriteria reads over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from apps.orders.models import ChannelOrder
from apps.orders.services import order_ingest
from apps.sales_channels.models import Channel
from apps.sales_channels.services import channel_create
from apps.sales_channels.translators.magento import order_from_magento
from tests.fixtures.channel_standins import ChannelStandin

T = TypeVar("T")


def magento_channel(standin: ChannelStandin, code: str = "mg", **options: Any) -> Channel:
    """A Magento channel on the stand-in (bearer token, store ``default``)."""
    channel, _ = channel_create(
        code=code,
        kind="magento",
        api_base_url=standin.url,
        access_token=standin.access_token,
        **options,
    )
    return channel


def magento_adapter(
    standin: ChannelStandin, adapter_for: Callable[[Channel], Any], kind: type[T]
) -> T:
    """The adapter the registry gives a Magento channel on the stand-in, of the expected kind."""
    found = adapter_for(magento_channel(standin))
    assert isinstance(found, kind)
    return found


def tshirts_and_mug_ingested(
    standin: ChannelStandin, channel: Channel, **line: Any
) -> tuple[int, ChannelOrder]:
    """2 x TSHIRT-BLU-M at 25.00 and 1 x MUG-WHT-11OZ at 12.50 (each line with ``line``'s
    fields, e.g. ``tax_percent``) placed on the stand-in, read back over REST and ingested by
    the hub: (the Magento order id, the hub's order)."""
    standin.add_products([{"sku": "TSHIRT-BLU-M", "stock": 9}, {"sku": "MUG-WHT-11OZ"}])
    oid = int(
        standin.seed_order(
            lines=[
                {"sku": "TSHIRT-BLU-M", "qty": 2, "price": "25.00", **line},
                {"sku": "MUG-WHT-11OZ", "qty": 1, "price": "12.50", **line},
            ]
        )["entity_id"]
    )
    payload = standin.api("GET", f"orders/{oid}").body
    return oid, order_ingest(order=order_from_magento(payload, channel=channel.code))


def search(standin: ChannelStandin, path: str, **equals: Any) -> list[dict[str, Any]]:
    """Every row of a Magento search whose fields equal the given values."""
    params = "&".join(
        f"searchCriteria[filter_groups][{n}][filters][0][field]={field}"
        f"&searchCriteria[filter_groups][{n}][filters][0][value]={value}"
        for n, (field, value) in enumerate(equals.items())
    )
    answer = standin.api("GET", f"{path}?{params or 'searchCriteria='}")
    assert answer.status == 200, answer.body
    rows: list[dict[str, Any]] = answer.body["items"]
    return rows


def source_levels(standin: ChannelStandin) -> dict[tuple[str, str], Any]:
    """(sku, source) -> quantity, as Magento's source items say."""
    return {
        (r["sku"], r["source_code"]): r["quantity"]
        for r in search(standin, "inventory/source-items")
    }


def source_item_writes(standin: ChannelStandin) -> list[dict[str, Any]]:
    return [
        w
        for w in standin.received()
        if w["path"].endswith("/V1/inventory/source-items") and w["method"] == "POST"
    ]
