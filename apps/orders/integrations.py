"""Guarded bridges to apps that land after this one (inbox, ledger).

The order flow must work before they exist: without the inbox an issue is logged (and the order
still shows its hold and last error in the admin and the API); without the ledger no webhook
reaches the handlers, but the B2B API and the services work.
"""

from __future__ import annotations

import logging
from typing import Any

from apps.core.errors import HubError

logger = logging.getLogger(__name__)


def inbox_report(
    *,
    error: HubError,
    key: str,
    row: Any,
    channel_code: str = "",
    order_number: str = "",
    sku: str = "",
    customer: str = "",
    replay_task: str = "",
    replay_kwargs: dict[str, Any] | None = None,
) -> None:
    """Upsert an inbox item by fingerprint `key` (or log it while the inbox is absent)."""
    if not _inbox_installed():
        logger.warning(
            "inbox item %s for %s (order %s): %s", key, channel_code, order_number, error
        )
        return
    from apps.inbox.services import issue_report

    issue_report(
        error=error,
        key=key,
        row=row,
        channel_code=channel_code,
        order_number=order_number,
        sku=sku,
        customer=customer,
        replay_task=replay_task,
        replay_kwargs=replay_kwargs or {},
    )


def order_inbox_report(
    *,
    error: HubError,
    key: str,
    row: Any,
    replay_task: str = "",
    replay_kwargs: dict[str, Any] | None = None,
) -> None:
    """inbox_report for one order, with its business context (channel, number, customer)."""
    inbox_report(
        error=error,
        key=key,
        row=row,
        channel_code=row.channel.code,
        order_number=row.number,
        customer=row.customer_email or row.customer_external_id,
        replay_task=replay_task,
        replay_kwargs=replay_kwargs,
    )


def inbox_clear(*, row: Any) -> None:
    """The row went through: its inbox items clear themselves."""
    if not _inbox_installed():
        return
    from apps.inbox.services import issue_row_succeeded

    issue_row_succeeded(row=row)


def _inbox_installed() -> bool:
    from django.apps import apps

    return apps.is_installed("apps.inbox")
