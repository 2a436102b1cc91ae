"""The anomaly detectors and burn-rate arithmetic on synthetic series (no database)."""

from __future__ import annotations

import datetime as dt
import math
import random

from apps.ops import anomaly
from apps.ops.slo import burn_rate

UTC = dt.UTC
# A Monday, so hour-of-week is easy to read.
START = dt.datetime(2026, 3, 2, tzinfo=UTC)
HOUR = dt.timedelta(hours=1)


def seasonal_orders(weeks: int = 5, seed: int = 7) -> dict[dt.datetime, float]:
    """Orders per hour with a daily shape (quiet nights, busy afternoons), quieter weekends, and
    Poisson-like noise: what a normal shop looks like."""
    rng = random.Random(seed)
    out = {}
    for k in range(weeks * 7 * 24):
        hour = START + HOUR * k
        daily = 5 + 35 * max(0.0, math.sin((hour.hour - 6) / 24 * 2 * math.pi))
        weekly = 0.6 if hour.weekday() >= 5 else 1.0
        mean = daily * weekly
        out[hour] = float(max(0, round(rng.gauss(mean, mean**0.5))))
    return out


def last_week_hours(series):
    end = max(series)
    return [end - HOUR * k for k in range(7 * 24)]


def test_a_normal_week_raises_nothing():
    orders = seasonal_orders()
    failures = {h: float(v // 20) for h, v in orders.items()}  # ~5 % failing, steadily
    latency = {h: 8.0 + (h.hour % 3) for h in orders}
    findings = []
    for hour in last_week_hours(orders):
        findings.append(anomaly.detect_silence(orders, hour, scope="shop"))
        findings.append(anomaly.detect_spike(failures, hour, scope="shop", signal="orders.failed"))
        findings.append(
            anomaly.detect_spike(latency, hour, scope="shop", signal="orders.latency_p95")
        )
        findings.append(
            anomaly.detect_forecast_breach(
                latency, hour, scope="shop", signal="orders.latency_p95", threshold=60
            )
        )
    assert [f for f in findings if f] == []


def test_planted_silence_is_found_and_nothing_else_that_week():
    orders = seasonal_orders()
    end = max(orders)
    busy = next(h for h in last_week_hours(orders) if h.weekday() < 5 and h.hour == 14)
    orders[busy] = 0.0
    found = [h for h in last_week_hours(orders) if anomaly.detect_silence(orders, h, scope="s")]
    assert found == [busy]
    finding = anomaly.detect_silence(orders, busy, scope="s")
    assert finding.kind == "silence" and finding.evidence["baseline"]["median"] >= 20
    assert len(finding.evidence["series"]) == 6 and end >= busy


def test_a_quiet_night_hour_is_not_silence_but_a_poll_finding_lost_orders_is():
    orders = seasonal_orders()
    night = next(h for h in last_week_hours(orders) if h.hour == 3)
    orders[night] = 0.0
    assert anomaly.detect_silence(orders, night, scope="s") is None
    found = anomaly.detect_silence(orders, night, scope="s", polled=3)
    assert found is not None and "never delivered" in found.message


def test_planted_spike_in_failures_is_found():
    orders = seasonal_orders()
    failures = {h: float(v // 20) for h, v in orders.items()}
    hour = next(h for h in last_week_hours(orders) if h.weekday() == 2 and h.hour == 11)
    failures[hour] = 40.0
    found = [
        h
        for h in last_week_hours(orders)
        if anomaly.detect_spike(failures, h, scope="s", signal="orders.failed")
    ]
    assert found == [hour]
    finding = anomaly.detect_spike(failures, hour, scope="s", signal="orders.failed")
    assert finding.evidence["threshold"]["value"] < 40


def test_planted_trend_is_forecast_to_breach_within_the_hour():
    hour = START + HOUR * 200
    # queue depth growing 250 messages an hour, at 800 now: 1000 within the next hour
    depth = {hour - HOUR * k: 800.0 - 250 * k for k in range(6)}
    found = anomaly.detect_forecast_breach(
        depth, hour, scope="odoo", signal="queue.depth", threshold=1000
    )
    assert found is not None and found.kind == "forecast"
    assert found.evidence["baseline"]["slope_per_hour"] == 250
    assert 0 < found.evidence["eta_hours"] <= 1
    # a flat queue, or one growing too slowly to get there within the hour, is fine
    flat = {hour - HOUR * k: 800.0 for k in range(6)}
    slow = {hour - HOUR * k: 800.0 - 10 * k for k in range(6)}
    for series in (flat, slow):
        assert (
            anomaly.detect_forecast_breach(
                series, hour, scope="odoo", signal="queue.depth", threshold=1000
            )
            is None
        )


def test_robust_outlier():
    history = [100.0, 120, 90, 110, 105, 95, 115]
    assert anomaly.robust_outlier(2500, history, sigmas=6) is not None
    assert anomaly.robust_outlier(130, history, sigmas=6) is None
    assert anomaly.robust_outlier(2500, history[:3], sigmas=6) is None  # too little history


def test_burn_rate():
    assert burn_rate(99, 100, 0.99) == 1.0
    assert burn_rate(80, 100, 0.99) == 20.0
    assert burn_rate(0, 0, 0.99) == 0.0
