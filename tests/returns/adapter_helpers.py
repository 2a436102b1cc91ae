"""Helpers for the channel-refund adapter tests (the stand-ins over real HTTP).

Import the fixtures into a test module (``from tests.returns.adapter_helpers import
fresh_cache``) and list them in ``__all__`` so linters keep the import.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from apps.returns.adapters import RefundLineData, RefundToSend
from tests.fulfillment.adapter_helpers import drop_answer_of, fresh_cache, standin_channel, writes

__all__ = ["drop_answer_of", "fresh_cache", "refund_request", "standin_channel", "writes"]


def refund_request(
    order_id: object,
    lines: list[tuple[str, int, str, str]],
    amount: str,
    *,
    key: str = "hub-key-0001",
    channel: str = "chan",
    currency: str = "USD",
    reason: str = "RMA 2025-0042",
    notify: bool = False,
) -> RefundToSend:
    """``lines``: (sku, quantity, amount tax excluded, tax)."""
    return RefundToSend(
        channel_code=channel,
        order_external_id=str(order_id),
        order_number=f"#{order_id}",
        currency=currency,
        amount=Decimal(amount),
        lines=tuple(
            RefundLineData(sku=s, quantity=q, amount=Decimal(a), tax=Decimal(t))
            for s, q, a, t in lines
        ),
        idempotency_key=key,
        reason=reason,
        notify_customer=notify,
        not_before=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
    )
