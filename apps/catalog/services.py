"""Catalog and price publication of one channel: compute, compare, send only what changed.

- ``publish_prices``: every bound variant's price from the channel's pricelist (the engine) or
  list price, compared with the price the channel last accepted (``VariantState``); only the
  differences go out, batched by the channel's publisher; a repeat sends nothing.
- ``publish_products``: the variants the Odoo poll marked (``product_dirty``), or all with
  ``force``: name, sales description, SKU, barcode, weight, price and attribute values,
  fingerprinted; only changed fingerprints go out. Images follow (``images.py``).
- Every refusal is an inbox issue naming the channel, the SKU and the Odoo product; it clears
  itself when that variant is next accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import PermanentError
from apps.inbox.services import issue_report, issue_row_succeeded
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from .models import ChannelCatalogRun, VariantState
from .prices import channel_pricelist_id, compute_prices
from .publishers import Outcome, PriceTarget, VariantContent, catalog_publisher_for

logger = logging.getLogger(__name__)

PRODUCT_MODEL = "product.product"
_CHUNK = 1000


@dataclass
class CatalogSummary:
    checked: int = 0
    changed: int = 0
    published: int = 0
    failed: int = 0
    calls: int = 0
    minimum_calls: int = 0
    images: int = 0
    skus: list[str] = field(default_factory=list)  # changed SKUs (dry runs print them)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("skus")
        return out


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _gateway(gateway: Any) -> Any:
    if gateway is not None:
        return gateway
    from apps.odoo.gateway import get_gateway

    return get_gateway()


# --- rows ------------------------------------------------------------------------------------


def sync_states(channel: Channel) -> int:
    """One VariantState per product binding of the channel (new bindings start dirty); rows of
    bindings whose SKU or id changed follow them. Returns the number of rows."""
    bindings = list(
        Binding.objects.filter(channel=channel, kind=Binding.Kind.PRODUCT, odoo_model=PRODUCT_MODEL)
        .order_by("id")
        .values_list("id", "external_code", "external_id", "odoo_id")
    )
    known = {
        r.binding_id: r
        for r in VariantState.objects.filter(channel=channel).only(
            "id", "binding_id", "sku", "external_id", "odoo_product_id"
        )
    }
    now = timezone.now()
    new, moved = [], []
    for bid, code, ext, oid in bindings:
        row = known.get(bid)
        sku = code or ext
        if row is None:
            new.append(
                VariantState(
                    channel=channel,
                    binding_id=bid,
                    sku=sku,
                    external_id=ext,
                    odoo_product_id=oid,
                    marked_at=now,
                )
            )
        elif (row.sku, row.external_id, row.odoo_product_id) != (sku, ext, oid):
            row.sku, row.external_id, row.odoo_product_id = sku, ext, oid
            row.published_price, row.published_fingerprint = None, ""
            row.price_dirty = row.product_dirty = True
            moved.append(row)
    VariantState.objects.bulk_create(new, ignore_conflicts=True, batch_size=_CHUNK)
    if moved:
        VariantState.objects.bulk_update(
            moved,
            [
                "sku",
                "external_id",
                "odoo_product_id",
                "published_price",
                "published_fingerprint",
                "price_dirty",
                "product_dirty",
            ],
            batch_size=500,
        )
    return len(bindings)


def mark_dirty(product_ids: Iterable[int], *, prices: bool = True, products: bool = True) -> int:
    """Mark the bound variants of these Odoo products on every channel; the next publication of
    each channel (its cadence, or ``catalog publish``) takes them. Returns rows marked."""
    ids = sorted({int(i) for i in product_ids})
    values: dict[str, Any] = {"marked_at": timezone.now()}
    if prices:
        values["price_dirty"] = True
    if products:
        values["product_dirty"] = True
    marked = 0
    for part in _chunks(ids):
        marked += VariantState.objects.filter(odoo_product_id__in=list(part)).update(**values)
    return marked


def _record_run(channel: Channel, what: str, summary: CatalogSummary) -> None:
    run, _ = ChannelCatalogRun.objects.get_or_create(channel=channel)
    setattr(run, f"{what}_run_at", timezone.now())
    run.summary = {**(run.summary or {}), what: summary.as_dict()}
    run.save()


def _report(channel: Channel, row: VariantState, what: str, error: str, name: str = "") -> None:
    row.last_error = error[:2000] or f"{what} refused"
    issue_report(
        error=PermanentError(
            f"{what} of {row.sku} not accepted by {channel.code}: {row.last_error}",
            channel=channel.code,
            sku=row.sku,
            odoo_product_id=row.odoo_product_id,
            product=name,
        ),
        key=f"catalog:{what}:{channel.code}:{row.sku}",
        row=row,
        channel_code=channel.code,
        sku=row.sku,
    )


def _clear_marks(channel: Channel, flag: str, ids: Sequence[int], read_at: dt.datetime) -> None:
    """Clear a dirty flag on rows nobody marked again since we read them."""
    for part in _chunks(list(ids)):
        VariantState.objects.filter(pk__in=list(part), marked_at__lte=read_at).update(
            **{flag: False}
        )
        VariantState.objects.filter(pk__in=list(part), marked_at__isnull=True).update(
            **{flag: False}
        )


# --- prices ----------------------------------------------------------------------------------


def publish_prices(
    channel: Channel,
    *,
    force: bool = False,
    dry_run: bool = False,
    gateway: Any = None,
    publisher: Any = None,
) -> CatalogSummary:
    """Compute every bound variant's price and send those that differ from what the channel
    last accepted (``force``: all of them). Shadow channels and dry runs send nothing."""
    summary = CatalogSummary()
    sync_states(channel)
    read_at = timezone.now()
    rows = list(VariantState.objects.filter(channel=channel).order_by("sku"))
    gw = _gateway(gateway)
    prices = compute_prices(
        gateway=gw,
        product_ids=sorted({r.odoo_product_id for r in rows}),
        pricelist_id=channel_pricelist_id(channel),
    )
    summary.checked = len(rows)
    targets: list[PriceTarget] = []
    by_sku: dict[str, VariantState] = {}
    unchanged: list[int] = []
    for row in rows:
        price = prices.get(row.odoo_product_id)
        if price is None:
            if not dry_run:
                _report(channel, row, "price", "the pricelist gives no price for this product")
                row.save(update_fields=["last_error", "updated_at"])
            summary.failed += 1
            continue
        if force or row.published_price != price.amount:
            targets.append(PriceTarget(row.sku, row.external_id, price.amount))
            by_sku[row.sku] = row
        else:
            unchanged.append(row.pk)
    summary.changed = len(targets)
    summary.skus = [t.sku for t in targets]
    if dry_run or channel.state == Channel.State.SHADOW:
        return summary
    _clear_marks(channel, "price_dirty", unchanged, read_at)
    if targets:
        pub = publisher or catalog_publisher_for(channel)
        summary.minimum_calls = pub.min_price_calls(targets)
        start = pub.calls
        outcomes = pub.publish_prices(targets)
        summary.calls = pub.calls - start
        wanted = {t.sku: t.price for t in targets}
        done = _apply(channel, by_sku, outcomes, "price", summary, wanted=wanted)
        _clear_marks(channel, "price_dirty", done, read_at)
    _record_run(channel, "prices", summary)
    logger.info("catalog prices %s: %s", channel.code, summary.as_dict())
    return summary


def _apply(
    channel: Channel,
    by_sku: dict[str, VariantState],
    outcomes: Sequence[Outcome],
    what: str,
    summary: CatalogSummary,
    *,
    wanted: dict[str, Decimal] | None = None,
    fingerprints: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> list[int]:
    """Record the channel's answers; returns the row ids that are done (accepted or refused:
    a refused variant waits in the inbox, not in a loop)."""
    now = timezone.now()
    done: list[int] = []
    changed: list[VariantState] = []
    for out in outcomes:
        row = by_sku.get(out.sku)
        if row is None:
            continue
        done.append(row.pk)
        changed.append(row)
        if out.ok:
            summary.published += 1
            if wanted is not None and out.sku in wanted:
                row.published_price = wanted[out.sku]
                row.price_published_at = now
            if fingerprints is not None and out.sku in fingerprints:
                row.published_fingerprint = fingerprints[out.sku]
                row.product_published_at = now
            if row.last_error:
                row.last_error = ""
                issue_row_succeeded(row=row)
        else:
            summary.failed += 1
            _report(channel, row, what, out.error, (names or {}).get(out.sku, ""))
    with transaction.atomic():
        VariantState.objects.bulk_update(
            changed,
            [
                "published_price",
                "price_published_at",
                "published_fingerprint",
                "product_published_at",
                "last_error",
            ],
            batch_size=500,
        )
    return done


def _follow_skus(by_sku: dict[str, VariantState], accepted: set[str]) -> None:
    """The channel now holds Odoo's SKU: the binding (and its state) follow it, so orders and
    stock find the variant under the SKU the channel shows."""
    for sku, row in by_sku.items():
        if sku in accepted and sku and sku != row.sku:
            Binding.objects.filter(pk=row.binding_id).update(external_code=sku)
            VariantState.objects.filter(pk=row.pk).update(sku=sku)
            row.sku = sku


# --- products --------------------------------------------------------------------------------


def fingerprint(content: VariantContent) -> str:
    data = [
        content.name,
        content.description,
        content.sku,
        content.barcode,
        str(content.weight),
        str(content.price),
        [list(o) for o in content.options],
    ]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def publish_products(
    channel: Channel,
    *,
    force: bool = False,
    dry_run: bool = False,
    gateway: Any = None,
    publisher: Any = None,
    images: bool = True,
) -> CatalogSummary:
    """Publish the content of the marked variants (``force``: every bound variant) whose
    fingerprint changed, then their products' images when their checksum changed."""
    summary = CatalogSummary()
    sync_states(channel)
    read_at = timezone.now()
    qs = VariantState.objects.filter(channel=channel)
    if not force:
        qs = qs.filter(product_dirty=True)
    rows = list(qs.order_by("sku"))
    if not rows:
        return summary
    gw = _gateway(gateway)
    pids = sorted({r.odoo_product_id for r in rows})
    variants = gw.catalog_variants(product_ids=pids)
    ptavs = gw.catalog_attribute_values(
        ptav_ids=sorted({i for v in variants.values() for i in v.attribute_value_ids})
    )
    prices = (
        compute_prices(gateway=gw, product_ids=pids, pricelist_id=channel_pricelist_id(channel))
        if channel.prices_enabled
        else dict.fromkeys(pids)
    )
    contents: list[VariantContent] = []
    prints: dict[str, str] = {}
    names: dict[str, str] = {}
    by_sku: dict[str, VariantState] = {}
    skipped: list[int] = []
    for row in rows:
        v = variants.get(row.odoo_product_id)
        if v is None or not v.active:
            skipped.append(row.pk)  # gone or archived in Odoo: delisting is not published
            continue
        price = prices.get(row.odoo_product_id)
        content = VariantContent(
            sku=v.sku or row.sku,
            external_id=row.external_id,
            odoo_product_id=v.id,
            template_id=v.template_id,
            name=v.name,
            description=v.description,
            barcode=v.barcode,
            weight=v.weight,
            price=price.amount if price is not None else v.list_price,
            options=tuple(ptavs[i] for i in v.attribute_value_ids if i in ptavs),
        )
        summary.checked += 1
        fp = fingerprint(content)
        if (force or fp != row.published_fingerprint) and content.sku not in by_sku:
            # Outcomes name the SKU sent (Odoo's code, which may differ from the binding's).
            contents.append(content)
            prints[content.sku] = fp
            names[content.sku] = v.name
            by_sku[content.sku] = row
        else:
            skipped.append(row.pk)
    summary.changed = len(contents)
    summary.skus = [c.sku for c in contents]
    if dry_run or channel.state == Channel.State.SHADOW:
        return summary
    _clear_marks(channel, "product_dirty", skipped, read_at)
    pub = publisher or catalog_publisher_for(channel)
    start = pub.calls
    if contents:
        outcomes = pub.publish_products(contents)
        wanted = {c.sku: c.price for c in contents} if channel.prices_enabled else None
        done = _apply(
            channel,
            by_sku,
            outcomes,
            "product",
            summary,
            wanted=wanted,
            fingerprints=prints,
            names=names,
        )
        _clear_marks(channel, "product_dirty", done, read_at)
        _follow_skus(by_sku, {o.sku for o in outcomes if o.ok})
    if images:
        from .images import publish_images

        summary.images = publish_images(
            channel,
            rows=[r for r in rows if variants.get(r.odoo_product_id)],
            variants=variants,
            gateway=gw,
            publisher=pub,
        )
    summary.calls = pub.calls - start
    _record_run(channel, "products", summary)
    logger.info("catalog products %s: %s", channel.code, summary.as_dict())
    return summary
