"""Cutover at a watermark and rollback, against the sandbox (the push runs in-process)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.core.models import AuditEntry
from apps.migration.models import Cutover
from apps.migration.services import channel_cutover, channel_rollback
from apps.orders.models import ChannelOrder, OrderState
from apps.orders.services import order_push_due
from apps.sales_channels.models import Channel
from tests.orders.helpers import sale_orders

from .conftest import T0, Ingest, Legacy

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def pushed(legacy: Legacy, n: int) -> int:
    return len(sale_orders(legacy.sb, f"legacy:{n}"))


def cut(code: str = "legacy", *args: str) -> str:
    out = io.StringIO()
    call_command("channel", "cutover", code, *args, stdout=out)
    return out.getvalue()


def test_cutover_at_t_pushes_after_and_never_before(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    # given two orders recorded in shadow, one before T and one after
    before = ingest(7001, at=T0 - HOUR)
    after = ingest(7002, at=T0 + HOUR)
    assert before.state == after.state == OrderState.IN_ODOO
    # when a dry run lists them: who owns what, and nothing changes
    text = cut("legacy", "--at", T0.isoformat(), "--dry-run")
    assert "DRY RUN" in text
    assert "#7001" in text and "legacy  left to the legacy connector (not in Odoo yet)" in text
    assert "#7002" in text and "hub     push: recorded in shadow, queued for the push" in text
    shop.refresh_from_db()
    assert shop.state == Channel.State.SHADOW and shop.cutover_at is None
    assert not AuditEntry.objects.filter(action="channel.cutover").exists()
    # when the channel is cut over at T
    text = cut("legacy", "--at", T0.isoformat(), "--reason", "go live")
    assert "done: channel legacy is active (audited)" in text
    shop.refresh_from_db()
    assert shop.state == Channel.State.ACTIVE and shop.cutover_at == T0
    # then the order after T goes to Odoo once; the one before T never
    order_push_due()
    order_push_due()
    assert pushed(legacy, 7002) == 1
    assert pushed(legacy, 7001) == 0
    after.refresh_from_db()
    assert after.state == OrderState.IN_ODOO and after.odoo_id and after.pushed_at
    # and orders arriving now: before T recorded, not pushed; after T pushed once
    late = ingest(7003, at=T0 - 2 * HOUR)
    new = ingest(7004, at=T0 + 2 * HOUR)
    order_push_due()
    assert pushed(legacy, 7003) == 0 and pushed(legacy, 7004) == 1
    assert late.state == OrderState.IN_ODOO and late.odoo_id is None
    assert late.transitions.last().reason.startswith("created before the cutover watermark")
    assert late.ack_state == ""  # the channel is not told about the legacy connector's order
    assert new.odoo_id is not None
    # and the move is audited and listed
    entry = AuditEntry.objects.get(action="channel.cutover")
    assert entry.before == {"state": "shadow", "cutover_at": None}
    assert entry.after["state"] == "active" and entry.reason == "go live"
    cutover = Cutover.objects.get(channel=shop)
    assert cutover.action == "cutover" and cutover.watermark == T0
    assert {o["number"]: o["owner"] for o in cutover.report["orders"]} == {
        "#7001": "legacy",
        "#7002": "hub",
    }


def test_rollback_stops_pushing_and_lists_what_the_hub_created(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    channel_cutover(channel=shop, at=T0)
    first = ingest(7101, at=T0 + HOUR)
    second = ingest(7102, at=T0 + 2 * HOUR)
    assert first.odoo_id and second.odoo_id
    # when the channel is rolled back
    text = cut("legacy", "--rollback")
    shop.refresh_from_db()
    assert shop.state == Channel.State.SHADOW and shop.cutover_at is None
    # then the report lists the Odoo orders the hub created, for the legacy connector to skip
    assert "Odoo orders the hub created for legacy (2)" in text
    assert first.odoo_name in text and second.odoo_name in text
    rollback = Cutover.objects.get(action="rollback")
    assert [r["odoo_ids"] for r in rollback.report["hub_created"]] == [
        [first.odoo_id],
        [second.odoo_id],
    ]
    # and nothing was deleted in Odoo
    assert pushed(legacy, 7101) == 1 and pushed(legacy, 7102) == 1
    # and the hub pushes no more
    third = ingest(7103, at=T0 + 3 * HOUR)
    order_push_due()
    assert pushed(legacy, 7103) == 0
    third.refresh_from_db()
    assert third.odoo_id is None and third.shadow_payload
    assert AuditEntry.objects.filter(action="channel.rollback").count() == 1
    # and a second rollback is refused
    with pytest.raises(CommandError, match="not cut over"):
        cut("legacy", "--rollback")


def test_cutover_adopts_an_order_the_legacy_connector_made_after_t(
    shop: Channel, ingest: Ingest, legacy: Legacy
) -> None:
    # given an order after T that the legacy connector, not stopped in time, made too
    row = ingest(7201, at=T0 + HOUR)
    so = legacy.order("#7201")
    # when the channel is cut over at T
    result = channel_cutover(channel=shop, at=T0)
    order_push_due()
    # then the hub binds the legacy order instead of pushing a duplicate
    assert result["adopted"] == [row.odoo_ref] and result["queued"] == []
    row.refresh_from_db()
    assert row.odoo_id == so and row.pushed_at is None
    assert pushed(legacy, 7201) == 0


def test_only_a_shadow_channel_is_cut_over(shop: Channel) -> None:
    Channel.objects.filter(pk=shop.pk).update(state=Channel.State.ACTIVE)
    with pytest.raises(CommandError, match="not in shadow"):
        cut("legacy", "--at", T0.isoformat())
    shop.refresh_from_db()
    with pytest.raises(Exception, match="nothing to roll back"):
        channel_rollback(channel=shop)
    assert not Cutover.objects.exists()


def test_channel_set_cannot_move_the_watermark(shop: Channel) -> None:
    with pytest.raises(CommandError):
        call_command("channel", "set", "legacy", "--cutover-at", T0.isoformat())
    assert ChannelOrder.objects.count() == 0
