"""Odoo products the channel does not have: listed, and created when the channel says so.

A variant is *unbound* on a channel when it is active and saleable in Odoo, has a SKU
(``default_code``), and neither its id nor its SKU has a product binding on the channel.

- ``products_create_missing`` off (the default): nothing is created. The unbound SKUs are what
  ``manage.py catalog missing --channel CODE`` lists (and ``create_missing`` reports).
- On: each unbound template becomes one product on the channel with its unbound variants (one
  variant for a simple product), through the publisher's ``create_products``, which looks the
  SKUs up first: a retry after a lost answer binds what the first attempt made instead of
  making it twice. Each accepted variant gets its product ``Binding`` at once (so an
  interrupted run keeps what it made), and its ``VariantState`` records the content and price
  it was created with; from then on it is published like any bound variant. A refusal is an
  inbox issue ``catalog:create:<channel>:<sku>`` that clears itself once the variant is bound.

A template some of whose variants are already bound is not completed: its other variants are
reported, not added (adding variants to an existing product is not done).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.errors import PermanentError
from apps.inbox.models import Issue, Status
from apps.inbox.services import issue_report
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from .models import ChannelCatalogRun, VariantState
from .prices import channel_pricelist_id, compute_prices
from .publishers import NewProduct, Outcome, VariantContent, catalog_publisher_for
from .services import PRODUCT_MODEL, fingerprint, sync_states

logger = logging.getLogger(__name__)

PRODUCTS_PER_RUN = 500  # products created per run at most; the next run takes the rest


@dataclass
class CreateSummary:
    unbound: int = 0  # Odoo variants with a SKU and no binding on the channel
    created: int = 0  # variants created on the channel
    found: int = 0  # variants the channel already had (bound without creating)
    failed: int = 0
    skipped: int = 0  # variants of templates already partly bound
    calls: int = 0
    skus: list[str] = field(default_factory=list)  # the unbound SKUs

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("skus")
        return out


def _gateway(gateway: Any) -> Any:
    if gateway is not None:
        return gateway
    from apps.odoo.gateway import get_gateway

    return get_gateway()


def unbound_variants(channel: Channel, gateway: Any = None) -> dict[int, tuple[str, int]]:
    """Odoo product id -> (SKU, template id) of the saleable variants with a SKU that have no
    product binding on the channel (by id or by SKU)."""
    sellable = _gateway(gateway).catalog_sellable_skus()
    bound = Binding.objects.filter(
        channel=channel, kind=Binding.Kind.PRODUCT, odoo_model=PRODUCT_MODEL
    )
    ids = set(bound.values_list("odoo_id", flat=True))
    codes = set(
        Binding.objects.filter(channel=channel, kind=Binding.Kind.PRODUCT).values_list(
            "external_code", flat=True
        )
    )
    return {
        pid: (sku, tmpl)
        for pid, (sku, tmpl) in sellable.items()
        if pid not in ids and sku not in codes
    }


def create_missing(
    channel: Channel,
    *,
    dry_run: bool = False,
    gateway: Any = None,
    publisher: Any = None,
    limit: int = PRODUCTS_PER_RUN,
) -> CreateSummary:
    """Create the channel's unbound Odoo products when ``products_create_missing`` is on;
    otherwise (or on a dry run / shadow channel) only count and list them."""
    gw = _gateway(gateway)
    missing = unbound_variants(channel, gw)
    summary = CreateSummary(unbound=len(missing), skus=sorted(s for s, _ in missing.values()))
    if dry_run or not channel.products_create_missing or channel.state == Channel.State.SHADOW:
        return summary
    if not missing:
        _remember(channel, summary)
        return summary
    bound_templates = _bound_templates(channel, gw)
    by_template: dict[int, list[int]] = defaultdict(list)
    for pid, (_, tmpl) in sorted(missing.items()):
        if tmpl in bound_templates:
            summary.skipped += 1
        else:
            by_template[tmpl].append(pid)
    templates = sorted(by_template)[:limit]
    pids = sorted(p for t in templates for p in by_template[t])
    products = _new_products(channel, gw, templates, by_template, pids)
    pub = publisher or catalog_publisher_for(channel)
    start = pub.calls
    made: list[tuple[VariantContent, str]] = []
    try:
        for product in products:
            outcomes = pub.create_products([product])
            made += _record(channel, product, outcomes, summary)
    finally:  # what was made is recorded even when a later product's call fails
        _created_states(channel, made)
    summary.calls = pub.calls - start
    _remember(channel, summary)
    logger.info("catalog create %s: %s", channel.code, summary.as_dict())
    return summary


def _remember(channel: Channel, summary: CreateSummary) -> None:
    run, _ = ChannelCatalogRun.objects.get_or_create(channel=channel)
    run.summary = {**(run.summary or {}), "create": summary.as_dict()}
    run.save(update_fields=["summary"])


def _bound_templates(channel: Channel, gw: Any) -> set[int]:
    """Templates with a variant already bound on the channel."""
    bound = list(
        Binding.objects.filter(
            channel=channel, kind=Binding.Kind.PRODUCT, odoo_model=PRODUCT_MODEL
        ).values_list("odoo_id", flat=True)
    )
    if not bound:
        return set()
    return {v.template_id for v in gw.catalog_variants(product_ids=bound).values()}


def _new_products(
    channel: Channel,
    gw: Any,
    templates: list[int],
    by_template: dict[int, list[int]],
    pids: list[int],
) -> list[NewProduct]:
    variants = gw.catalog_variants(product_ids=pids)
    ptavs = gw.catalog_attribute_values(
        ptav_ids=sorted({i for v in variants.values() for i in v.attribute_value_ids})
    )
    prices = (
        compute_prices(gateway=gw, product_ids=pids, pricelist_id=channel_pricelist_id(channel))
        if channel.prices_enabled
        else {}
    )
    out = []
    for tmpl in templates:
        contents = []
        for pid in by_template[tmpl]:
            v = variants.get(pid)
            if v is None or not v.active or not v.sku:
                continue
            price = prices.get(pid)
            contents.append(
                VariantContent(
                    sku=v.sku,
                    external_id="",
                    odoo_product_id=v.id,
                    template_id=v.template_id,
                    name=v.name,
                    description=v.description,
                    barcode=v.barcode,
                    weight=v.weight,
                    price=price.amount if price is not None else v.list_price,
                    options=tuple(ptavs[i] for i in v.attribute_value_ids if i in ptavs),
                )
            )
        if contents:
            first = contents[0]
            out.append(NewProduct(tmpl, first.name, first.description, tuple(contents)))
    return out


def _issue_key(channel: Channel, sku: str) -> str:
    return f"catalog:create:{channel.code}:{sku}"


def _resolve(key: str) -> None:
    """The variant is bound now: its creation issue, if any, is over."""
    Issue.objects.filter(key=key, status__in=[Status.OPEN, Status.SNOOZED]).update(
        status=Status.RESOLVED,
        resolved_at=timezone.now(),
        resolution_note="Resolved automatically: the variant is bound on the channel.",
    )


def _record(
    channel: Channel, product: NewProduct, outcomes: list[Outcome], summary: CreateSummary
) -> list[tuple[VariantContent, str]]:
    """Bind every accepted variant now; report the refused ones. Returns the created variants
    (content, external id)."""
    contents = {c.sku: c for c in product.variants}
    accepted = [o for o in outcomes if o.ok and o.external_id and o.sku in contents]
    with transaction.atomic():
        for o in accepted:
            Binding.objects.get_or_create(
                channel=channel,
                kind=Binding.Kind.PRODUCT,
                external_id=o.external_id,
                defaults={
                    "external_code": o.sku,
                    "odoo_model": PRODUCT_MODEL,
                    "odoo_id": contents[o.sku].odoo_product_id,
                },
            )
    for o in outcomes:
        c = contents.get(o.sku)
        if c is None:
            continue
        if o.ok and o.external_id:
            summary.created += int(o.created)
            summary.found += int(not o.created)
            _resolve(_issue_key(channel, o.sku))
            continue
        summary.failed += 1
        issue_report(
            error=PermanentError(
                f"{product.name} ({o.sku}) not created on {channel.code}: {o.error}",
                channel=channel.code,
                sku=o.sku,
                odoo_product_id=c.odoo_product_id,
                product=product.name,
            ),
            key=_issue_key(channel, o.sku),
            row=channel,
            channel_code=channel.code,
            sku=o.sku,
        )
    return [(contents[o.sku], o.external_id) for o in accepted if o.created]


def _created_states(channel: Channel, made: list[tuple[VariantContent, str]]) -> None:
    """The new bindings' rows; a created variant holds the content (and price) it was created
    with, so the next publication sends nothing for it. Found variants start dirty: the next
    publication brings Odoo's content to them."""
    sync_states(channel)
    now = timezone.now()
    for c, external_id in made:
        VariantState.objects.filter(
            channel=channel, odoo_product_id=c.odoo_product_id, external_id=external_id
        ).update(
            published_fingerprint=fingerprint(c),
            product_published_at=now,
            product_dirty=False,
            **(
                {"published_price": c.price, "price_published_at": now, "price_dirty": False}
                if channel.prices_enabled
                else {}
            ),
        )
