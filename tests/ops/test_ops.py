"""Rollups, SLO burn, anomaly alerts (inbox item, event, auto-resolution) and unusual orders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.events.models import BusinessEvent
from apps.inbox.models import Issue, Status
from apps.ops import rollups, slo, watch
from apps.ops.models import Alert, OrderReview, Rollup

from .helpers import channel, order, top_of_hour, transition

pytestmark = pytest.mark.django_db


def value(signal: str, scope: str, hour: dt.datetime) -> float:
    return Rollup.objects.get(signal=signal, scope=scope, hour=hour).value


def test_rollup_counts_orders_per_channel_and_hour_with_latency_percentiles():
    shop, other = channel("shop"), channel("other")
    hour = top_of_hour(1)
    for i in range(10):
        order(shop, i, received=hour + dt.timedelta(minutes=i), pushed_after=10 * (i + 1))
    held = order(shop, 50, received=hour + dt.timedelta(minutes=20), state="held")
    transition(held, "held", hour + dt.timedelta(minutes=20))
    failed = order(shop, 51, received=hour + dt.timedelta(minutes=21), state="failed")
    transition(failed, "failed", hour + dt.timedelta(minutes=22), frm="pushing")
    order(other, 1, received=hour - dt.timedelta(hours=1), pushed_after=5)  # an hour earlier

    rollups.rollup(hours=3, gauges=False)

    assert value("orders.received", "shop", hour) == 12
    assert value("orders.pushed", "shop", hour) == 10
    assert value("orders.held", "shop", hour) == 1
    assert value("orders.failed", "shop", hour) == 1
    assert value("orders.latency_p50", "shop", hour) == 50
    assert value("orders.latency_p95", "shop", hour) == 100
    assert value("orders.received", "other", hour) == 0  # zero-filled, not missing
    assert value("orders.received", "other", hour - dt.timedelta(hours=1)) == 1
    # idempotent: a second run rewrites the same rows
    rollups.rollup(hours=3, gauges=False)
    assert Rollup.objects.filter(signal="orders.received", scope="shop", hour=hour).count() == 1


def _seasonal_history(scope: str, hour: dt.datetime, now_value: float, usual: float) -> None:
    for k in range(1, 5):
        Rollup.objects.create(
            signal="orders.received", scope=scope, hour=hour - dt.timedelta(days=7 * k), value=usual
        )
    Rollup.objects.update_or_create(
        signal="orders.received", scope=scope, hour=hour, defaults={"value": now_value}
    )


def test_silence_opens_one_anomaly_item_with_evidence_and_clears_itself(settings):
    settings.HUB_EVENTS_STRICT = True
    channel("shop")
    hour = top_of_hour(1)
    _seasonal_history("shop", hour, now_value=0, usual=40)

    watch.apply_findings(watch.find_anomalies(), ("silence", "spike", "forecast"))

    alert = Alert.objects.get(kind="silence")
    issue = Issue.objects.get(category="anomaly")
    assert issue.status == Status.OPEN and issue.channel_code == "shop"
    evidence = issue.last_error["context"]
    assert evidence["baseline"]["median"] == 40 and len(evidence["series"]) == 6
    assert "threshold" in evidence
    assert BusinessEvent.objects.filter(type="ops.alert", payload__status="opened").count() == 1
    # the same finding on the next run does not open a second item
    watch.apply_findings(watch.find_anomalies(), ("silence", "spike", "forecast"))
    assert Issue.objects.filter(category="anomaly").count() == 1
    # when orders flow again the alert and its item resolve themselves
    Rollup.objects.filter(signal="orders.received", scope="shop", hour=hour).update(value=38)
    watch.apply_findings(watch.find_anomalies(), ("silence", "spike", "forecast"))
    alert.refresh_from_db()
    issue.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED and issue.status == Status.RESOLVED
    assert BusinessEvent.objects.filter(type="ops.alert", payload__status="resolved").exists()


def test_a_normal_hour_raises_nothing():
    channel("shop")
    _seasonal_history("shop", top_of_hour(1), now_value=41, usual=40)
    assert watch.find_anomalies() == []


def test_fast_burn_opens_an_inbox_item_and_recovery_resolves_it():
    shop = channel("shop")
    now = timezone.now()
    # 20 orders recorded 2 to 40 minutes ago and still not in Odoo: every one is late
    late = [
        order(shop, i, received=now - dt.timedelta(minutes=2 + 2 * i), state="ready")
        for i in range(20)
    ]
    states = watch.watch_slos()
    assert states["orders_to_odoo"] == "fast_burn"
    status = slo.evaluate(slo.SLOS[0])
    assert status.windows["1h"]["total"] == 20 and status.windows["1h"]["good"] == 0
    assert status.windows["1h"]["burn"] == 100.0
    issue = Issue.objects.get(category="anomaly", key="anomaly:slo:orders_to_odoo")
    assert issue.status == Status.OPEN
    # the orders reach Odoo within the threshold: no budget burnt any more
    for row in late:
        type(row).objects.filter(pk=row.pk).update(
            pushed_at=row.received_at + dt.timedelta(seconds=5)
        )
    assert watch.watch_slos()["orders_to_odoo"] == "ok"
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED


def test_unusual_orders_are_marked_for_review_and_the_review_closes_the_alert(
    django_user_model,
):
    shop = channel("shop")
    portal = channel("portal", kind="b2b_api")
    base = timezone.now() - dt.timedelta(days=10)
    for i in range(8):
        order(
            shop,
            i,
            received=base,
            total=f"{100 + i}.00",
            customer="a@example.com",
            lines=[("MUG", 2)],
        )
    watch.watch_orders()  # the first run only sets the watermark
    normal = order(
        shop,
        100,
        received=timezone.now(),
        total="104.00",
        customer="a@example.com",
        lines=[("MUG", 2)],
    )
    huge = order(
        shop,
        101,
        received=timezone.now(),
        total="4800.00",
        customer="a@example.com",
        lines=[("MUG", 2)],
    )
    bulk = order(
        shop,
        102,
        received=timezone.now(),
        total="90.00",
        customer="b@example.com",
        lines=[("MUG", 300)],
    )
    b2b = order(
        portal,
        103,
        received=timezone.now(),
        total="9000.00",
        customer="new@corp.example",
        po_number="PO-1",
    )
    assert watch.watch_orders() == 3
    reasons = {r.order_id: r.reasons for r in OrderReview.objects.all()}
    assert normal.pk not in reasons
    assert reasons[huge.pk] == ["total_vs_customer"]
    assert reasons[bulk.pk] == ["quantity_vs_sku"]
    assert reasons[b2b.pk] == ["new_customer_large_b2b"]
    issue = Issue.objects.get(key="anomaly:unusual:shop:101")
    assert issue.order_number == "#101" and issue.status == Status.OPEN
    # the order is not held by this: a person decides
    huge.refresh_from_db()
    assert huge.state == "in_odoo"
    user = django_user_model.objects.create_superuser("boss", password="pw")
    watch.review_done(review=OrderReview.objects.get(order=huge), user=user)
    issue.refresh_from_db()
    assert issue.status == Status.RESOLVED
