"""Anomaly detection on hourly series: pure functions, no database (tests feed them directly).

A series is a mapping hour (an aware datetime at the top of the hour) -> value. The baseline of
an hour is the same hour of the week in the previous weeks (seasonal: Monday 9:00 is compared
with earlier Mondays at 9:00), summarised robustly: the median and the median absolute deviation
(scaled to a standard deviation), so one bad week does not poison it.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

HOUR = dt.timedelta(hours=1)
WEEK = dt.timedelta(days=7)
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Baseline:
    median: float
    sigma: float
    samples: list[float]

    def as_dict(self) -> dict[str, Any]:
        return {"median": self.median, "sigma": round(self.sigma, 4), "samples": self.samples}


@dataclass
class Finding:
    kind: str  # silence, spike, forecast
    signal: str
    scope: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


def baseline(series: Mapping[dt.datetime, float], hour: dt.datetime, *, weeks: int) -> Baseline:
    """Median and robust sigma of the same hour-of-week over the previous `weeks` weeks (a
    missing hour counts as 0: no orders that hour is a value, not a gap)."""
    samples = [float(series.get(hour - WEEK * k, 0.0)) for k in range(1, weeks + 1)]
    med = statistics.median(samples)
    mad = statistics.median(abs(s - med) for s in samples)
    # A floor keeps a perfectly regular history (MAD 0) from making every wiggle an anomaly:
    # Poisson-like noise of sqrt(median), and at least 1.
    sigma = max(mad * MAD_TO_SIGMA, med**0.5, 1.0)
    return Baseline(med, sigma, samples)


def _window(
    series: Mapping[dt.datetime, float], end: dt.datetime, hours: int
) -> list[dict[str, Any]]:
    return [
        {"hour": (end - HOUR * k).isoformat(), "value": float(series.get(end - HOUR * k, 0.0))}
        for k in range(hours - 1, -1, -1)
    ]


def detect_silence(
    series: Mapping[dt.datetime, float],
    hour: dt.datetime,
    *,
    scope: str,
    signal: str = "orders.received",
    weeks: int = 4,
    min_expected: float = 5.0,
    polled: float = 0.0,
) -> Finding | None:
    """A channel gone quiet when orders are expected. A poll that found orders the webhooks
    never delivered (`polled` > 0) is the strongest sign and alerts whatever the baseline."""
    base = baseline(series, hour, weeks=weeks)
    value = float(series.get(hour, 0.0))
    evidence = {
        "series": _window(series, hour, 6),
        "baseline": base.as_dict(),
        "threshold": {"min_expected": min_expected},
        "polled_not_delivered": polled,
    }
    if polled > 0:
        return Finding(
            "silence",
            signal,
            scope,
            f"Channel {scope}: the poll found {int(polled)} order(s) its webhooks never "
            f"delivered in the hour from {hour:%a %H:00}",
            evidence,
        )
    expected_low = base.median - 3 * base.sigma
    if base.median >= min_expected and value == 0 and expected_low > 0:
        return Finding(
            "silence",
            signal,
            scope,
            f"Channel {scope} received no orders in the hour from {hour:%a %H:00}; "
            f"{base.median:g} expected",
            evidence,
        )
    return None


def detect_spike(
    series: Mapping[dt.datetime, float],
    hour: dt.datetime,
    *,
    scope: str,
    signal: str,
    weeks: int = 4,
    sigmas: float = 4.0,
    min_value: float = 5.0,
) -> Finding | None:
    """A value far above its seasonal baseline (failures, holds, latency, drift)."""
    base = baseline(series, hour, weeks=weeks)
    value = float(series.get(hour, 0.0))
    threshold = base.median + sigmas * base.sigma
    if value >= min_value and value > threshold:
        return Finding(
            "spike",
            signal,
            scope,
            f"{signal} on {scope or 'the hub'} is {value:g} in the hour from {hour:%a %H:00}; "
            f"usually {base.median:g} (alert above {threshold:.1f})",
            {
                "series": _window(series, hour, 6),
                "baseline": base.as_dict(),
                "threshold": {"value": round(threshold, 4), "sigmas": sigmas},
            },
        )
    return None


def linear_fit(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope and intercept of (x, y) points."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return 0.0, my
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return slope, my - slope * mx


def detect_forecast_breach(
    series: Mapping[dt.datetime, float],
    hour: dt.datetime,
    *,
    scope: str,
    signal: str,
    threshold: float,
    points: int = 6,
    horizon_hours: float = 1.0,
) -> Finding | None:
    """Latency or queue depth still under its limit but growing so that a straight line through
    the last `points` hours crosses it within `horizon_hours`."""
    xs = [(-float(k), float(series.get(hour - HOUR * k, 0.0))) for k in range(points - 1, -1, -1)]
    present = [p for p in xs if (hour - HOUR * int(-p[0])) in series]
    if len(present) < max(3, points // 2):
        return None
    slope, intercept = linear_fit(present)
    now_value = float(series.get(hour, 0.0))
    forecast = intercept + slope * horizon_hours
    if slope > 0 and now_value < threshold <= forecast:
        eta = (threshold - intercept) / slope if slope else None
        return Finding(
            "forecast",
            signal,
            scope,
            f"{signal} on {scope or 'the hub'} is {now_value:g} and rising {slope:.1f}/h: "
            f"forecast {forecast:.0f} within {horizon_hours:g}h, above the limit {threshold:g}",
            {
                "series": _window(series, hour, points),
                "baseline": {"slope_per_hour": round(slope, 4), "intercept": round(intercept, 4)},
                "threshold": {"value": threshold, "forecast": round(forecast, 4)},
                "eta_hours": round(eta, 3) if eta is not None else None,
            },
        )
    return None


def robust_outlier(
    value: float, history: Sequence[float], *, sigmas: float
) -> dict[str, Any] | None:
    """`value` far above a history (at least 5 values): how far, in robust sigmas."""
    if len(history) < 5:
        return None
    med = statistics.median(history)
    mad = statistics.median(abs(h - med) for h in history)
    sigma = max(mad * MAD_TO_SIGMA, abs(med) * 0.1, 1e-9)
    score = (value - med) / sigma
    if score > sigmas and value > 3 * med:
        return {"value": value, "median": med, "sigma": round(sigma, 4), "score": round(score, 2)}
    return None
