"""``manage.py inventory sync`` and ``inventory reconcile`` against the sandbox and a stand-in."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.inventory.atp import compute_atp
from apps.inventory.models import ReconciliationRun, SkuStock
from tests.inventory.publish_helpers import bound_channel, fresh_cache
from tests.orders.conftest import sandbox_settings

__all__ = ["fresh_cache", "sandbox_settings"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("inventory", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_sync_pushes_every_bound_sku_with_a_progress_bar(
    woo_standin: Any, sandbox_settings: Any
) -> None:
    # given a new channel whose two bound SKUs the channel shows at 0
    channel = bound_channel(woo_standin, sandbox_settings, "newshop")
    atp = {sku: r.atp for sku, r in compute_atp(channel).items()}
    # when
    out, err = run("sync", "--channel", "newshop")
    # then the channel holds ATP, recorded as published, and the bar reached the end
    levels = woo_standin.levels()
    assert {sku: levels[sku] for sku in atp} == atp
    assert dict(SkuStock.objects.filter(channel=channel).values_list("sku", "published_qty")) == atp
    assert "published 2" in out
    assert "[" + "#" * 30 + "]" in err and "2/2 SKUs" in err
    # and a second sync publishes again (forced) without failing
    out, _ = run("sync", "--channel", "newshop")
    assert "published 2" in out


def test_reconcile_command_prints_the_run(shopify_standin: Any, sandbox_settings: Any) -> None:
    bound_channel(shopify_standin, sandbox_settings, "shop")
    run("sync", "--channel", "shop")
    shopify_standin.add_products([{"sku": "TEE", "stock": 777}])
    out, _ = run("reconcile", "--channel", "shop")
    assert "TEE: channel 777" in out and "repaired" in out
    assert "mismatches 1, repaired 1" in out
    assert ReconciliationRun.objects.filter(channel__code="shop").count() == 1


def test_unknown_channel_is_an_error(db: None) -> None:
    with pytest.raises(CommandError, match="no channel"):
        run("sync", "--channel", "nope")
