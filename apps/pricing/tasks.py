"""The price cache's refresh: a beat job every HUB_PRICES_POLL_SECONDS (refresh.refresh)."""

from __future__ import annotations

from django.conf import settings

from apps.core.periodic import periodic_job


@periodic_job(
    name="pricing.refresh",
    every_seconds=float(getattr(settings, "HUB_PRICES_POLL_SECONDS", 60)),
    description="Re-read changed pricelist rules, product prices and B2B partners' pricelists "
    "into the price engine's cache",
    time_limit=300,
)
def refresh_prices() -> str:
    from apps.odoo.gateway import get_gateway

    from .refresh import refresh

    counts = refresh(get_gateway())
    return ", ".join(f"{k} {v}" for k, v in counts.items())
