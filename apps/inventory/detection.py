"""Change detection: the Odoo stock poll, Odoo webhook hints, and order transitions.

Every source only marks SKUs dirty (services.mark_dirty); none carries a quantity that could be
published. The poll is the guarantee, hints only make it faster.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.mappings.models import Binding
from apps.odoo.cursors import other_servers, server_cursor
from apps.odoo.gateway import get_gateway

from .atp import PRODUCT_MODEL
from .models import StockCursor
from .services import mark_dirty

logger = logging.getLogger(__name__)

# The base of the per-server key: the cursor of the configured Odoo is cursor_key().
CURSOR_KEY = "odoo.stock"
ODOO_STAMP = "%Y-%m-%d %H:%M:%S"


def _shift(stamp: str, seconds: float) -> str:
    return (dt.datetime.strptime(stamp, ODOO_STAMP) + dt.timedelta(seconds=seconds)).strftime(
        ODOO_STAMP
    )


def cursor_key() -> str:
    """The stock cursor's key for the configured Odoo server and database."""
    return server_cursor(CURSOR_KEY)[0]


def _bound_skus() -> list[str]:
    """Every SKU bound to an Odoo product on an inventory-enabled channel."""
    rows = Binding.objects.filter(
        kind=Binding.Kind.PRODUCT, odoo_model=PRODUCT_MODEL, channel__inventory_enabled=True
    ).values_list("external_code", "external_id")
    return sorted({code or ext for code, ext in rows if code or ext})


def _start_cursor(key: str, label: str, overlap: float) -> tuple[StockCursor, int]:
    """This server's cursor, made on its first poll at now minus the overlap. When the hub
    polled another Odoo before (another key, or the single unkeyed cursor of older hubs), the
    channels' levels came from that server: every bound SKU is marked dirty once ("server"), so
    each is read from this one (a full read), and the old cursor is left as it was."""
    now = dt.datetime.now(dt.UTC).strftime(ODOO_STAMP)
    cursor, created = StockCursor.objects.get_or_create(
        key=key, defaults={"value": _shift(now, -overlap), "server": label}
    )
    marked = 0
    if created:
        keys = list(StockCursor.objects.values_list("key", flat=True))
        if other_servers(CURSOR_KEY, key, keys):
            marked = mark_dirty(None, _bound_skus(), "server")
            logger.warning(
                "Odoo stock cursor: first poll of %s after another Odoo; %s SKU rows marked for "
                "a full read",
                label,
                marked,
            )
    return cursor, marked


def stock_poll() -> int:
    """Read what changed in Odoo since the watermark (minus an overlap) and mark it dirty.

    Two RPCs per page (quants, done moves). The overlap re-reads the last seconds every poll,
    because Odoo stamps write_date at transaction start and a long transaction commits rows
    "in the past"; marking an already-dirty SKU again costs nothing. The cursor is per Odoo
    server and database (``cursor_key()``). A server's first poll starts from now: the initial
    state of a channel is `inventory sync`, not the poll; after another server, every bound SKU
    is read once (``_start_cursor``).
    """
    overlap = float(getattr(settings, "HUB_STOCK_POLL_OVERLAP_SECONDS", 5))
    key, label = server_cursor(CURSOR_KEY)
    cursor = StockCursor.objects.filter(key=key).first()
    marked = 0
    if cursor is None:
        cursor, marked = _start_cursor(key, label, overlap)
    gateway = get_gateway()
    since = _shift(cursor.value, -overlap)
    for _ in range(20):  # pages; a longer backlog continues on the next poll
        changes = gateway.stock_changed_since(since=since)
        if changes.product_ids:
            marked += mark_dirty(None, changes.product_ids, "poll")
        if changes.watermark > cursor.value:
            StockCursor.objects.filter(key=key).update(value=changes.watermark)
            cursor.value = changes.watermark
        if not changes.more or changes.watermark == since:
            break
        since = changes.watermark
    return marked


# --- Odoo webhook hints --------------------------------------------------------------------------


def _id(value: Any) -> int | None:
    if isinstance(value, list | tuple) and value:
        value = value[0]
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def hint_product_ids(body: Any) -> list[int]:
    """Odoo product ids named by a base_automation webhook body (or a list of bodies).

    stock.quant / stock.move bodies carry ``product_id``; product.product bodies are the
    product (``id``/``_id``). Quantities in the body are ignored on purpose: they include
    intermediate values and adjustment-location quants (transcript 12b).
    """
    items: Iterable[Any] = body if isinstance(body, list) else [body]
    out: set[int] = set()
    for item in items:
        if not isinstance(item, Mapping):
            continue
        model = str(item.get("_model") or "")
        if model == "product.product":
            pid = _id(item.get("id")) or _id(item.get("_id"))
        else:
            pid = _id(item.get("product_id"))
        if pid:
            out.add(pid)
    return sorted(out)


def odoo_hint_receive(*, body: Any) -> int:
    return mark_dirty(None, hint_product_ids(body), "odoo_webhook")


# --- orders --------------------------------------------------------------------------------------

_pending = threading.local()


def order_touched(*, order_id: int) -> None:
    """An order was accepted, moved, or reached Odoo: its SKUs' ATP changed.

    Collected per thread and marked after commit in one go, so a batch push of 100 orders
    costs one mark, not 100.
    """
    ids: set[int] | None = getattr(_pending, "ids", None)
    if ids is None:
        ids = _pending.ids = set()
    ids.add(order_id)
    # Every call registers a flush (a rolled-back transaction drops its callbacks, so a
    # "register once" flag could strand ids); the first flush takes them all, the others find
    # nothing to do.
    transaction.on_commit(_flush_orders)


def _flush_orders() -> None:
    from apps.orders.models import OrderLine

    ids: set[int] = getattr(_pending, "ids", set())
    _pending.ids = set()
    if not ids:
        return
    by_channel: dict[int, set[str]] = {}
    rows = OrderLine.objects.filter(order_id__in=sorted(ids)).values_list(
        "order__channel_id", "sku"
    )
    for cid, sku in rows:
        if sku:
            by_channel.setdefault(int(cid), set()).add(sku)
    for cid, skus in by_channel.items():
        mark_dirty([cid], sorted(skus), "order")
