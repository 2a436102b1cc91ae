"""A channel pointed at a running stand-in, with that stand-in's credentials."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.sales_channels.models import Channel
from tests.fixtures.channel_standins import ChannelStandin


def standin_channel(
    make_channel: Callable[..., Any], standin: ChannelStandin, code: str, **fields: Any
) -> Channel:
    credentials = {
        "shopify": {"access_token": standin.access_token},
        "woocommerce": {
            "consumer_key": standin.consumer_key,
            "consumer_secret": standin.consumer_secret,
        },
        "bigcommerce": {"access_token": standin.auth_token},
    }[standin.kind]
    channel: Channel = make_channel(
        code, standin.kind, api_base_url=standin.base_url, **credentials, **fields
    )
    return channel
