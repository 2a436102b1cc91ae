"""Helpers for the fulfilment adapter tests: channels on the stand-ins, shipments, cache.

Import the fixtures into a test module (``from tests.fulfillment.adapter_helpers import
fresh_cache``) and list them in ``__all__`` so linters keep the import.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from apps.fulfillment.adapters import ShipLine, ShipmentToSend
from tests.fixtures.channel_standins import ChannelStandin

GIDS = "gid://shopify/"


@pytest.fixture
def fresh_cache(db: None) -> None:
    """Budgets, attempt marks and the WooCommerce extension flag live in the shared cache."""
    from django.core.cache import cache

    cache.clear()


def standin_channel(make_channel: Callable[..., Any], standin: ChannelStandin, code: str) -> Any:
    creds: dict[str, Any] = {"api_base_url": standin.base_url}
    if standin.kind == "woocommerce":
        creds.update(consumer_key=standin.consumer_key, consumer_secret=standin.consumer_secret)
    elif standin.kind == "bigcommerce":
        creds.update(access_token=standin.auth_token)
    else:
        creds.update(access_token=standin.access_token)
    return make_channel(code, standin.kind, **creds)


def shipment(
    order_id: Any,
    lines: list[tuple[str, int] | tuple[str, int, str]],
    *,
    channel: str = "chan",
    picking: str = "WH/OUT/00001",
    carrier: str = "UPS",
    numbers: tuple[str, ...] = ("1Z999AA10123456784",),
    url: str = "https://carrier.example/track?n=1Z999AA10123456784",
    final: bool = False,
    notify: bool = True,
    previous: dict[str, Any] | None = None,
    retry: bool = False,
) -> ShipmentToSend:
    return ShipmentToSend(
        channel_code=channel,
        order_external_id=str(order_id),
        order_number=f"#{order_id}",
        odoo_picking_name=picking,
        lines=tuple(ShipLine(*ln) for ln in lines),
        carrier=carrier,
        tracking_numbers=numbers,
        tracking_url=url,
        shipped_at=dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC).isoformat(),
        notify_customer=notify,
        final=final,
        previous_result=previous or {},
        retry=retry,
    )


def writes(standin: ChannelStandin, contains: str = "", method: str = "") -> list[dict[str, Any]]:
    """Write requests the stand-in received (GraphQL mutations, POST/PUT/DELETE) whose path or
    body contains ``contains`` (e.g. a mutation's name), optionally of one HTTP method."""
    return [
        w
        for w in standin.received()
        if (contains in w["path"] or contains in json.dumps(w.get("body")))
        and (not method or w["method"] == method)
    ]


def drop_answer_of(
    standin: ChannelStandin, *, path: str = "", body: str = "", method: str = ""
) -> None:
    """The next matching call is carried out, but its answer never arrives (connection closed)."""
    standin.set_config(
        fail_next=[
            {
                "path_contains": path,
                "body_contains": body,
                "method": method,
                "after": True,
                "drop": True,
            }
        ]
    )
