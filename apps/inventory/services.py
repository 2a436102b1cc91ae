"""Inventory writes: mark SKUs dirty, publish a channel's dirty SKUs, ring the publish task.

The database is the truth and Celery only the doorbell (docs/reliability.md): a change signal
(poll, Odoo webhook hint, order transition, channel webhook) only sets `SkuStock.dirty`; the
`inventory.publish` task of the channel computes ATP from Odoo for every dirty SKU and sends
the values that differ from what the channel last accepted. Many marks within a short window
ring one publish; a sweep re-rings any channel that still has dirty rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.core.doorbell import cache_first
from apps.core.errors import LockContention, PermanentError, TransientError
from apps.inbox.services import issue_report, issue_row_succeeded
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from . import metrics
from .atp import PRODUCT_MODEL, AtpResult, compute_atp
from .models import SkuStock
from .publishers import PUBLISHING_KINDS
from .thresholds import threshold_crossings_publish

logger = logging.getLogger(__name__)

PUBLISH_TASK = "inventory.publish"
_CHUNK = 1000


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# --- dirty marks ---------------------------------------------------------------------------------


def mark_dirty(
    channel_ids: Iterable[int] | None,
    keys: Iterable[str | int],
    reason: str,
) -> int:
    """Mark SKUs dirty on every inventory-enabled channel (or only ``channel_ids``).

    ``keys`` are SKUs (str) or Odoo product ids (int), resolved through the channels' product
    bindings; unknown keys are ignored. Rows are created on first sight. Returns the number of
    (channel, SKU) rows marked, and rings each affected channel's publish after commit.
    """
    keys = list(keys)
    product_ids = sorted({k for k in keys if isinstance(k, int)})
    skus = sorted({k for k in keys if isinstance(k, str) and k})
    if not product_ids and not skus:
        return 0
    base = Binding.objects.filter(
        kind=Binding.Kind.PRODUCT,
        odoo_model=PRODUCT_MODEL,
        channel__inventory_enabled=True,
    )
    if channel_ids is not None:
        base = base.filter(channel_id__in=list(channel_ids))
    found: dict[tuple[int, str], tuple[int, str]] = {}
    for part in _chunks(product_ids):
        _collect(found, base.filter(odoo_id__in=part))
    for part in _chunks(skus):
        _collect(
            found,
            base.filter(Q(external_code__in=part) | Q(external_id__in=part, external_code="")),
        )
    if not found:
        return 0
    now = timezone.now()
    by_channel: dict[int, list[str]] = {}
    for cid, sku in found:
        by_channel.setdefault(cid, []).append(sku)
    with transaction.atomic():
        SkuStock.objects.bulk_create(
            [
                SkuStock(
                    channel_id=cid,
                    sku=sku,
                    odoo_product_id=oid,
                    external_id=ext,
                    dirty=True,
                    dirty_since=now,
                    marked_at=now,
                )
                for (cid, sku), (oid, ext) in found.items()
            ],
            ignore_conflicts=True,
            batch_size=_CHUNK,
        )
        for cid, channel_skus in by_channel.items():
            for part in _chunks(sorted(channel_skus)):
                SkuStock.objects.filter(channel_id=cid, sku__in=part).update(
                    dirty=True,
                    dirty_since=Case(When(dirty=True, then=F("dirty_since")), default=Value(now)),
                    marked_at=now,
                    updated_at=now,
                )
    metrics.DIRTY_MARKS.labels(reason).inc(len(found))
    for cid in Channel.objects.filter(
        pk__in=list(by_channel), kind__in=PUBLISHING_KINDS
    ).values_list("pk", flat=True):
        publish_ring(channel_id=cid)
    return len(found)


def _collect(found: dict[tuple[int, str], tuple[int, str]], qs: Any) -> None:
    rows = qs.order_by("id").values_list("channel_id", "external_code", "external_id", "odoo_id")
    for cid, code, ext, oid in rows:
        found.setdefault((int(cid), code or ext), (int(oid), ext))


# --- doorbell ------------------------------------------------------------------------------------


def _ring_key(channel_id: int) -> str:
    return f"inventory:publish:rung:{channel_id}"


def _due(countdown: float | None) -> str:
    """The ring key's value: when the rung publish should have started (epoch seconds)."""
    return f"{time.time() + float(countdown or 0):.3f}"


def _ring_lost(channel_id: int) -> bool:
    """A pending ring whose publish should have started more than
    HUB_INVENTORY_RING_GRACE_SECONDS ago: its message was lost (a worker or broker restart, a
    hub pointed at another Odoo). The publish deletes the key when it starts, so a key still
    there long after its due time means nobody will come; ringing again is harmless (one
    publication per channel at a time, and it only sends what is dirty)."""
    value = cache.get(_ring_key(channel_id))
    try:
        due = float(str(value))
    except (TypeError, ValueError):
        return False  # an old-style value: it expires on its own
    grace = float(_setting("HUB_INVENTORY_RING_GRACE_SECONDS", 30.0))
    return time.time() > due + grace


def publish_ring(*, channel_id: int, countdown: float | None = None) -> None:
    """Enqueue the channel's publish after the current transaction commits, coalesced.

    While a ring is pending (the key lives until that publish starts), further marks add
    nothing: the publish that starts takes every dirty row. The first ring waits
    HUB_INVENTORY_COALESCE_SECONDS so a burst of changes becomes one publication.
    """

    def ring() -> None:
        delay = countdown
        if delay is None:
            delay = float(_setting("HUB_INVENTORY_COALESCE_SECONDS", 1.0))
            if not cache_first(_ring_key(channel_id), _due(delay), timeout=60):
                return
        _send(channel_id, delay)

    transaction.on_commit(ring)


def _send(channel_id: int, countdown: float | None) -> None:
    from celery import current_app
    from kombu.exceptions import OperationalError as BrokerError

    try:
        current_app.send_task(
            PUBLISH_TASK, kwargs={"channel_id": channel_id}, countdown=countdown or None
        )
    except (BrokerError, OSError) as exc:
        cache.delete(_ring_key(channel_id))
        logger.warning("could not ring %s (%s); the sweep will", PUBLISH_TASK, exc)


def publish_sweep() -> int:
    """Ring the publish of every channel that still has dirty SKUs (the backstop)."""
    ids = list(
        SkuStock.objects.filter(
            dirty=True, channel__inventory_enabled=True, channel__kind__in=PUBLISHING_KINDS
        )
        .values_list("channel_id", flat=True)
        .distinct()
    )
    rung = 0
    for cid in ids:
        # Not while a ring or a retry of that channel is pending (the key is set), unless that
        # ring is overdue: then its message was lost and the sweep rings again.
        if cache.add(_ring_key(cid), _due(0), timeout=60):
            _send(cid, None)
            rung += 1
        elif _ring_lost(cid):
            logger.warning("inventory publish of channel %s overdue: ringing again", cid)
            cache.set(_ring_key(cid), _due(0), timeout=60)
            _send(cid, None)
            rung += 1
    return rung


# --- publication ---------------------------------------------------------------------------------


@dataclass
class PublishSummary:
    checked: int = 0
    changed: int = 0
    published: int = 0
    failed: int = 0
    calls: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def publish_task_run(*, channel_id: int) -> dict[str, int]:
    """The `inventory.publish` task body: one publication of the channel at a time."""
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.inventory_enabled:
        cache.delete(_ring_key(channel_id))
        return PublishSummary().as_dict()
    if channel.state == Channel.State.PAUSED:
        # A paused channel is not called; its SKUs stay dirty and the sweep rings again.
        cache.delete(_ring_key(channel_id))
        return PublishSummary().as_dict()
    lock = f"inventory:publish:lock:{channel_id}"
    token = uuid.uuid4().hex
    lease = int(_setting("HUB_INVENTORY_PUBLISH_LEASE_SECONDS", 300))
    if not cache.add(lock, token, timeout=lease):
        # Another publication of this channel runs; it may have read the rows before the
        # marks that rang us, so come back shortly (LockContention spends no attempt). The
        # ring key stays set meanwhile: further marks add no more tasks.
        raise LockContention(f"inventory publish of channel {channel.code} running", retry_after=1)
    # From now on, new marks need a new ring (this run may have read the rows before them).
    cache.delete(_ring_key(channel_id))
    try:
        return publish_channel(channel).as_dict()
    except TransientError:
        # HubTask retries this task with backoff. Meanwhile the ring key says "pending", so
        # new marks and the sweep do not start more retry chains during a long outage; the key
        # outlives the longest countdown, then the sweep takes over again.
        longest = int(_setting("HUB_MAX_COUNTDOWN", 300))
        cache.set(_ring_key(channel_id), _due(longest), timeout=longest + 60)
        raise
    except PermanentError as exc:
        # The whole channel refused (credentials, configuration): a person must act. The SKUs
        # stay dirty, so the publication resumes by itself once it is fixed.
        issue_report(
            error=exc,
            key=f"inventory:publish:{channel.code}",
            row=channel,
            channel_code=channel.code,
        )
        logger.warning("inventory publish of %s refused: %s", channel.code, exc)
        return PublishSummary().as_dict()
    finally:
        if cache.get(lock) == token:
            cache.delete(lock)


def publish_channel(
    channel: Channel,
    *,
    skus: Sequence[str] | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PublishSummary:
    """Compute ATP and publish what changed (see the module docstring).

    ``skus`` None: the channel's dirty SKUs (``force=True``: every bound SKU). Only values that
    differ from ``published_qty`` are sent, unless ``force``. Per-SKU failures go to the inbox
    with channel and SKU. TransientError (Odoo or the channel unreachable) propagates with the
    rows still dirty, so the caller retries and nothing is lost.
    """
    summary = PublishSummary()
    if skus is None and force:
        from .atp import bound_skus

        wanted: list[str] | None = sorted(bound_skus(channel))
    else:
        wanted = sorted(set(skus)) if skus is not None else None
    if wanted is not None:
        total = len(wanted)
        batches: Iterable[Sequence[str]] = _chunks(wanted)
    else:
        total = SkuStock.objects.filter(channel=channel, dirty=True).count()
        batches = _dirty_batches(channel)
    publisher = None
    for part in batches:
        if not part:
            break
        read_at = timezone.now()
        if publisher is None and channel.state != Channel.State.SHADOW:
            from .publishers import publisher_for

            publisher = publisher_for(channel)
        _publish_part(channel, list(part), read_at, force, publisher, summary)
        if progress is not None:
            progress(min(summary.checked, total), total)
    if publisher is not None:
        summary.calls = int(getattr(publisher, "calls", 0))
    logger.info(
        "inventory publish %s: checked %d, changed %d, published %d, failed %d, calls %d",
        channel.code,
        summary.checked,
        summary.changed,
        summary.published,
        summary.failed,
        summary.calls,
    )
    return summary


def _dirty_batches(channel: Channel) -> Iterable[list[str]]:
    seen: set[str] = set()
    while True:
        part = list(
            SkuStock.objects.filter(channel=channel, dirty=True)
            .exclude(sku__in=seen)
            .order_by("dirty_since", "id")
            .values_list("sku", flat=True)[:_CHUNK]
        )
        if not part:
            return
        seen.update(part)
        yield part


def _publish_part(
    channel: Channel,
    skus: list[str],
    read_at: dt.datetime,
    force: bool,
    publisher: Any,
    summary: PublishSummary,
) -> None:
    from .publishers import StockTarget

    results = compute_atp(channel, skus)
    rows = {r.sku: r for r in SkuStock.objects.filter(channel=channel, sku__in=skus)}
    missing = [s for s in results if s not in rows]
    if missing:
        SkuStock.objects.bulk_create(
            [
                SkuStock(
                    channel=channel,
                    sku=s,
                    odoo_product_id=results[s].odoo_product_id,
                    external_id=results[s].external_id,
                )
                for s in missing
            ],
            ignore_conflicts=True,
        )
        rows.update({r.sku: r for r in SkuStock.objects.filter(channel=channel, sku__in=missing)})
    now = timezone.now()
    unbound = [s for s in skus if s not in results and s in rows]
    for s in unbound:
        rows[s].last_error = "no product binding on this channel"
    summary.checked += len(results)
    targets = []
    unchanged: list[str] = []
    previous = {sku: rows[sku].atp for sku in results}
    for sku, res in results.items():
        row = rows[sku]
        row.atp, row.computed_at = res.atp, res.computed_at
        row.odoo_product_id, row.external_id = res.odoo_product_id, res.external_id
        if force or row.published_qty != res.atp:
            targets.append(
                StockTarget(
                    sku=sku,
                    external_id=res.external_id,
                    quantity=res.atp,
                    expected=row.published_qty,
                )
            )
        else:
            unchanged.append(sku)
    summary.changed += len(targets)
    metrics.SKUS_PUBLISHED.labels(channel.code, "unchanged").inc(len(unchanged))
    done = set(unchanged) | set(unbound)
    if targets and publisher is not None:
        outcomes = publisher.publish(targets)
        done |= _record_outcomes(channel, rows, outcomes, now, summary)
    elif targets:  # shadow: computed and recorded, never sent
        done |= {t.sku for t in targets}
    with transaction.atomic():
        SkuStock.objects.bulk_update(
            [rows[s] for s in rows],
            [
                "atp",
                "computed_at",
                "odoo_product_id",
                "external_id",
                "published_qty",
                "published_at",
                "last_error",
            ],
            batch_size=500,
        )
        # With the new ATP, in its transaction: stock.threshold_breached (apps.events).
        threshold_crossings_publish(channel=channel, rows=rows, previous=previous)
    for part in _chunks(sorted(done)):
        # Only rows nobody marked again since we read them: a later change keeps its mark.
        SkuStock.objects.filter(channel=channel, sku__in=part, marked_at__lte=read_at).update(
            dirty=False, dirty_since=None, updated_at=now
        )
        SkuStock.objects.filter(channel=channel, sku__in=part, marked_at__isnull=True).update(
            dirty=False, dirty_since=None, updated_at=now
        )


def _record_outcomes(
    channel: Channel,
    rows: dict[str, SkuStock],
    outcomes: Sequence[Any],
    now: dt.datetime,
    summary: PublishSummary,
) -> set[str]:
    done: set[str] = set()
    for out in outcomes:
        row = rows.get(out.sku)
        if row is None:
            continue
        if out.ok:
            row.published_qty = out.published if out.published is not None else row.atp
            row.published_at = now
            if row.last_error:
                row.last_error = ""
                issue_row_succeeded(row=row)
            if row.dirty_since is not None:
                metrics.PUBLISH_LATENCY.labels(channel.code).observe(
                    max(0.0, (now - row.dirty_since).total_seconds())
                )
            summary.published += 1
            metrics.SKUS_PUBLISHED.labels(channel.code, "published").inc()
            done.add(out.sku)
        elif out.stale:
            # Compare-and-set refused: the channel holds another value. Remember it and leave
            # the row dirty; the next publish (rung below) sends ATP against that value.
            if out.published is not None:
                row.published_qty = out.published
            metrics.SKUS_PUBLISHED.labels(channel.code, "stale").inc()
            publish_ring(channel_id=channel.pk, countdown=1)
        else:
            summary.failed += 1
            row.last_error = out.error[:2000] or "publication refused"
            metrics.SKUS_PUBLISHED.labels(channel.code, "failed").inc()
            issue_report(
                error=PermanentError(
                    f"stock of {out.sku} not accepted by {channel.code}: {row.last_error}",
                    channel=channel.code,
                    sku=out.sku,
                ),
                key=f"inventory:{channel.code}:{out.sku}",
                row=row,
                channel_code=channel.code,
                sku=out.sku,
            )
            # Not retried in a loop: the inbox holds it, reconciliation or the next change
            # publishes it again.
            done.add(out.sku)
    return done


def atp_for_api(
    *, channel: Channel, skus: Sequence[str], max_age_seconds: int
) -> dict[str, dict[str, Any]]:
    """ATP per SKU for the channel's API: the stored value when fresh (clean row, computed
    within ``max_age_seconds``), else computed live from Odoo and stored (not published).

    SKUs without a product binding are absent. Raises TransientError while Odoo is down and a
    live value is needed.
    """
    now = timezone.now()
    rows = {r.sku: r for r in SkuStock.objects.filter(channel=channel, sku__in=list(skus))}
    out: dict[str, dict[str, Any]] = {}
    live: list[str] = []
    for sku in skus:
        row = rows.get(sku)
        fresh = (
            row is not None
            and not row.dirty
            and row.atp is not None
            and row.computed_at is not None
            and (now - row.computed_at).total_seconds() <= max_age_seconds
        )
        if fresh and row is not None:
            out[sku] = {
                "sku": sku,
                "atp": row.atp,
                "computed_at": row.computed_at,
                "source": "stored",
            }
        else:
            live.append(sku)
    if live:
        results: dict[str, AtpResult] = compute_atp(channel, live)
        # A channel that is never published to (a B2B portal reading this API) is up to date
        # once read live: its mark is cleared, or every later read would go to Odoo again.
        clean = {} if channel.kind in PUBLISHING_KINDS else {"dirty": False, "dirty_since": None}
        for sku, res in results.items():
            out[sku] = {
                "sku": sku,
                "atp": res.atp,
                "computed_at": res.computed_at,
                "source": "live",
            }
            SkuStock.objects.filter(channel=channel, sku=sku).update(
                atp=res.atp, computed_at=res.computed_at, **clean
            )
    return out
