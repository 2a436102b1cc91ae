"""The read of a paid order's captured payments waits HUB_FINANCE_CAPTURE_DELAY_SECONDS: it is
rung with that countdown on the channel queue, the sweeper leaves it alone meanwhile, and a row
the sweeper does ring (through finance.sync, on the Odoo queue) is handed to finance.capture."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from apps.core import workrow
from apps.finance import runs, tasks
from apps.finance.models import FinanceSync
from apps.sales_channels.models import Channel

from .conftest import run_finance, woo_payload
from .test_flows_sandbox import deliver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, float | None]]:
    got: list[tuple[int, float | None]] = []

    def ring(pk: int, countdown: float | None = None) -> None:
        got.append((pk, countdown))

    monkeypatch.setattr(runs, "ring_capture", ring)
    return got


def test_a_paid_order_is_read_after_the_delay_and_not_swept_before(
    woo: Channel, settings: Any, rings: list[tuple[int, float | None]]
) -> None:
    settings.HUB_FINANCE_CAPTURE_DELAY_SECONDS = 20
    before = timezone.now()
    deliver(woo, woo_payload())
    row = FinanceSync.objects.get(action=FinanceSync.Action.CAPTURE)
    # rung once, after the commit, with the delay as countdown; due at the end of the delay
    assert rings == [(row.pk, 20)]
    assert row.next_attempt_at is not None
    assert dt.timedelta(seconds=19) < row.next_attempt_at - before < dt.timedelta(seconds=21)
    # not claimable, and not a sweeper candidate, before it is due
    assert workrow.ring_candidates(FinanceSync, grace_seconds=30, limit=10) == []
    assert runs.row_run(sync_id=row.pk) == "not-claimable"
    # once due, it runs like any capture
    FinanceSync.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert run_finance() == ["captured", "waiting:1"]


def test_no_delay_rings_at_once(
    woo: Channel, settings: Any, rings: list[tuple[int, float | None]]
) -> None:
    settings.HUB_FINANCE_CAPTURE_DELAY_SECONDS = 0
    deliver(woo, woo_payload())
    row = FinanceSync.objects.get(action=FinanceSync.Action.CAPTURE)
    assert rings == [(row.pk, None)] and row.next_attempt_at is None
    assert run_finance() == ["captured", "waiting:1"]


def test_the_sweepers_ring_of_a_capture_goes_to_the_channel_queue(
    woo: Channel, rings: list[tuple[int, float | None]]
) -> None:
    deliver(woo, woo_payload())
    row = FinanceSync.objects.get(action=FinanceSync.Action.CAPTURE)
    rings.clear()
    # finance.sync (what the sweeper sends, on the Odoo queue) forwards a capture untouched
    assert tasks.finance_sync.run(sync_id=row.pk) == "forwarded to finance.capture"
    assert rings == [(row.pk, None)]
    row.refresh_from_db()
    assert row.state == "pending" and row.attempts == 0
