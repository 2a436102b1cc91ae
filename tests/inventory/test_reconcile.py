"""Reconciliation over real boundaries: sandbox Odoo and the channel stand-ins over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from apps.core.errors import PermanentError
from apps.inbox.models import Issue
from apps.inventory.atp import compute_atp
from apps.inventory.metrics import DRIFT_RATIO
from apps.inventory.models import ReconciliationRun, SkuStock
from apps.inventory.reconcile import reconcile_channel
from apps.inventory.services import publish_channel
from tests.inventory.publish_helpers import bound_channel, fresh_cache, standin_429s
from tests.orders.conftest import sandbox_settings

__all__ = ["fresh_cache", "sandbox_settings"]
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.mark.parametrize("standin_name", ["shopify_standin", "woo_standin", "bigcommerce_standin"])
def test_reconciliation_repairs_drift_records_the_run_and_reports_unknown_skus(
    standin_name: str, request: pytest.FixtureRequest, sandbox_settings: Any
) -> None:
    standin = request.getfixturevalue(standin_name)
    channel = bound_channel(standin, sandbox_settings, "rec")
    publish_channel(channel, force=True)
    atp = {sku: r.atp for sku, r in compute_atp(channel).items()}
    # given a merchant changed RED on the channel behind our back, and the channel sells a SKU
    # Odoo has never heard of
    standin.add_products([{"sku": "RED", "stock": atp["RED"] + 40}, {"sku": "GHOST-1", "stock": 4}])
    # when reconciling
    run = reconcile_channel(channel=channel)
    # then RED was found, repaired to ATP, and the run lists it
    assert run.state == ReconciliationRun.State.DONE
    assert (run.checked, run.mismatches, run.repaired) == (2, 1, 1)
    drift = [d for d in run.details if d["action"] != "unknown_to_odoo"]
    assert drift == [
        {
            "sku": "RED",
            "external_id": SkuStock.objects.get(channel=channel, sku="RED").external_id,
            "channel_qty": atp["RED"] + 40,
            "atp": atp["RED"],
            "action": "repaired",
        }
    ]
    assert standin.levels()["RED"] == atp["RED"]
    assert DRIFT_RATIO.labels("rec")._value.get() == 0.5
    # and GHOST-1 (unbound, unknown to Odoo) is in the inbox with channel and SKU; SKU-002,
    # which the channel sells unbound but Odoo knows, is not
    assert run.unknown_skus == 1
    issue = Issue.objects.get(sku="GHOST-1")
    assert issue.channel_code == "rec"
    assert not Issue.objects.filter(sku="SKU-002").exists()
    assert standin_429s(standin) == 0
    # when reconciling again: nothing drifted any more
    again = reconcile_channel(channel=channel)
    assert (again.mismatches, again.repaired) == (0, 0)
    assert DRIFT_RATIO.labels("rec")._value.get() == 0.0


def test_report_only_leaves_the_channel_alone(shopify_standin: Any, sandbox_settings: Any) -> None:
    channel = bound_channel(shopify_standin, sandbox_settings, "rec")
    publish_channel(channel, force=True)
    shopify_standin.add_products([{"sku": "TEE", "stock": 1234}])
    run = reconcile_channel(channel=channel, repair=False)
    assert (run.mismatches, run.repaired) == (1, 0)
    assert run.details[0]["action"] == "report"
    assert shopify_standin.levels()["TEE"] == 1234
    # a channel in shadow is only reported on; a paused one is not called at all
    channel.state = "shadow"
    channel.save()
    assert reconcile_channel(channel=channel).details[0]["action"] == "report"
    assert shopify_standin.levels()["TEE"] == 1234
    channel.state = "paused"
    channel.save()
    calls = shopify_standin.stats()["total_calls"]
    with pytest.raises(PermanentError):
        reconcile_channel(channel=channel)
    assert shopify_standin.stats()["total_calls"] == calls


def test_odoo_down_fails_the_run_and_keeps_the_row(
    shopify_standin: Any, sandbox_settings: Any
) -> None:
    from apps.core.errors import TransientError

    channel = bound_channel(shopify_standin, sandbox_settings, "rec")
    sandbox_settings.set_faults(down=True)
    with pytest.raises(TransientError):
        reconcile_channel(channel=channel)
    run = ReconciliationRun.objects.get(channel=channel)
    assert run.state == ReconciliationRun.State.FAILED and run.error


def test_nightly_job_queues_one_reconciliation_per_publishing_channel(
    make_channel: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.core.periodic import REGISTRY
    from apps.inventory import reconcile

    queued: list[int] = []
    monkeypatch.setattr(reconcile.reconcile, "delay", queued.append)
    shop = make_channel("shop", "shopify")
    woo = make_channel("woo", "woocommerce")
    make_channel("off", "bigcommerce", inventory_enabled=False)
    make_channel("b2b", "b2b_api")
    make_channel("paused", "shopify", state="paused")
    assert REGISTRY["inventory.reconcile_nightly"].crontab == {"minute": "20", "hour": "3"}
    reconcile.reconcile_nightly.run()
    assert sorted(queued) == sorted([shop.pk, woo.pk])


def test_a_failed_catalog_read_leaves_the_repair_done(
    shopify_standin: Any, sandbox_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.core.errors import RateLimited
    from apps.inventory import reconcile

    def throttled(*, channel: Any) -> Any:
        raise RateLimited("Shopify GraphQL throttled")

    monkeypatch.setattr(reconcile, "channel_catalog", throttled)
    channel = bound_channel(shopify_standin, sandbox_settings, "rec")
    run = reconcile_channel(channel=channel)
    assert run.state == ReconciliationRun.State.DONE and run.repaired == 2
    assert "unknown-SKU check not done" in run.error
