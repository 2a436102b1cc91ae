"""Reads of the inventory state."""

from __future__ import annotations

from django.db.models import Min
from django.utils import timezone

from .models import SkuStock


def oldest_dirty_ages() -> dict[str, float]:
    """channel code -> age in seconds of its oldest dirty SKU (stock freshness)."""
    now = timezone.now()
    rows = (
        SkuStock.objects.filter(dirty=True, dirty_since__isnull=False)
        .values("channel__code")
        .annotate(oldest=Min("dirty_since"))
    )
    return {r["channel__code"]: max(0.0, (now - r["oldest"]).total_seconds()) for r in rows}
