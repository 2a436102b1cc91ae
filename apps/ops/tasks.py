"""Beat jobs of the operations dashboard."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.core.periodic import periodic_job

from . import rollups, watch


@periodic_job(
    name="ops.rollup",
    every_seconds=float(settings.HUB_OPS_ROLLUP_SECONDS),
    description="Hourly rollups per channel for the operations dashboard",
)
def rollup() -> int:
    return rollups.rollup(hours=2)


@periodic_job(
    name="ops.watch",
    every_seconds=float(settings.HUB_OPS_WATCH_SECONDS),
    description="SLO burn rates, seasonal anomalies and unusual orders",
)
def watch_job() -> dict[str, Any]:
    return watch.watch()
