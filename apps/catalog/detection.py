"""The Odoo catalog poll: ``write_date`` cursors on three models, per Odoo server.

Every ``HUB_CATALOG_POLL_SECONDS`` the beat job reads, from each model's watermark minus
``HUB_CATALOG_POLL_OVERLAP_SECONDS``, the ``product.template``, ``product.product`` and
``product.template.attribute.value`` rows written since (archived ones included), marks the
bound variants they concern on every channel (prices and content), and advances each
watermark to the newest ``write_date`` seen. The third model is the ``price_extra`` trap: a
value's price extra changes the variant's ``lst_price`` without touching the variant's or the
template's ``write_date`` (EXTERNAL_API §19, transcript 18 #18-23). The overlap re-reads rows
of transactions that committed late (Odoo stamps ``write_date`` at transaction start); marking
an unchanged variant costs nothing, because only changed prices and fingerprints are sent.

The watermarks are kept per Odoo server and database (``apps.odoo.cursors.server_cursor``): a
hub pointed at another Odoo starts that server's cursors instead of carrying the old ones. The
first poll of a server starts from the newest ``write_date`` there; the initial state of a
channel is ``manage.py catalog publish``, not the poll.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from apps.odoo.cursors import server_cursor

from .models import CatalogCursor
from .services import mark_dirty

logger = logging.getLogger(__name__)

CURSOR_BASE = "catalog.products"
_FMT = "%Y-%m-%d %H:%M:%S"


def _minus(mark: str, seconds: float) -> str:
    try:
        when = dt.datetime.strptime(mark[:19], _FMT)
    except ValueError:
        return mark
    return (when - dt.timedelta(seconds=seconds)).strftime(_FMT)


def catalog_poll(*, gateway: Any = None) -> int:
    """One poll; returns the number of (channel, variant) rows marked."""
    from apps.odoo.gateway import get_gateway
    from apps.odoo.gateway.publishing import CATALOG_CHANGE_MODELS

    gw = gateway or get_gateway()
    key, label = server_cursor(CURSOR_BASE)
    cursor, _ = CatalogCursor.objects.get_or_create(key=key, defaults={"server": label})
    marks = dict(cursor.watermarks or {})
    if not all(marks.get(m) for m in CATALOG_CHANGE_MODELS):
        start = gw.catalog_server_time() or timezone.now().strftime(_FMT)
        for model in CATALOG_CHANGE_MODELS:
            marks.setdefault(model, start)
            marks[model] = marks[model] or start
        cursor.watermarks = marks
        cursor.polled_at = timezone.now()
        cursor.save()
        return 0
    overlap = float(getattr(settings, "HUB_CATALOG_POLL_OVERLAP_SECONDS", 5))
    marked = 0
    for _ in range(20):  # pages of 20,000 rows, continued from their last second
        since = {m: _minus(marks[m], overlap) for m in CATALOG_CHANGE_MODELS}
        changes = gw.catalog_changed_since(since=since)
        marked += mark_dirty(changes.product_ids)
        for model, mark in changes.watermarks.items():
            marks[model] = max(marks.get(model) or "", mark)
        if not changes.more:
            break
    cursor.watermarks = marks
    cursor.polled_at = timezone.now()
    cursor.save()
    if marked:
        logger.info("catalog poll: %d bound variants marked", marked)
    return marked
