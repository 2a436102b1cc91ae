"""What every return work row does when it finishes: find its order, store its result."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.core import workrow
from apps.core.workrow import WorkState
from apps.orders.models import ChannelOrder

from .models import ReturnSync


def row_order(row: ReturnSync) -> ChannelOrder:
    owner = row.ret or row.refund or row.request_row
    assert owner is not None
    return owner.order


def row_complete(row: ReturnSync, result: dict[str, Any], outcome: str) -> str:
    from apps.inbox.services import issue_row_succeeded

    with transaction.atomic():
        ReturnSync.objects.filter(
            pk=row.pk, lease_token=row.lease_token, state=WorkState.RUNNING
        ).update(result=result)
        if not workrow.complete(row, effects=[{"outcome": outcome, **result}]):
            return "lost"
        issue_row_succeeded(row=row)
    return outcome
