"""B2B price lists: each B2B account's prices from the Odoo pricelist of its company.

Where the platform has them (LIFECYCLE §4): a Shopify catalog for the account's company
location, with a price list of fixed prices and quantity price breaks; a BigCommerce price list
assigned to the account's customer group. A ``B2BPriceList`` row names the account: its Odoo
company (``odoo_partner_id``) and its target on the channel (Shopify company location gid,
BigCommerce customer group id). Rows are added with ``manage.py catalog b2b add`` or found
from the channel's customer bindings to Shopify company locations.

The pricelist is the company's ``property_product_pricelist`` (else the channel's). Breaks:
for each ``min_quantity`` above 1 among the pricelist's rules, the engine's unit price at that
quantity, kept when it is lower than the price below it. Only variants whose price or breaks
differ from what the channel last accepted are sent; a changed pricelist resends everything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.core.errors import PermanentError
from apps.inbox.services import issue_report, issue_row_succeeded
from apps.mappings.models import Binding
from apps.sales_channels.models import Channel

from .models import B2BPriceList, VariantState
from .prices import channel_pricelist_id, compute_prices, default_currency
from .publishers import B2BPrice, catalog_publisher_for
from .services import CatalogSummary, sync_states

logger = logging.getLogger(__name__)

SHOPIFY_LOCATION = "gid://shopify/CompanyLocation/"


def discover(channel: Channel) -> int:
    """Add a B2BPriceList for each customer binding to a Shopify company location."""
    if channel.kind != Channel.Kind.SHOPIFY:
        return 0
    added = 0
    for b in Binding.objects.filter(
        channel=channel,
        kind=Binding.Kind.CUSTOMER,
        odoo_model="res.partner",
        external_id__startswith=SHOPIFY_LOCATION,
    ):
        _, created = B2BPriceList.objects.get_or_create(
            channel=channel, target=b.external_id, defaults={"odoo_partner_id": b.odoo_id}
        )
        added += int(created)
    return added


def _breaks(
    *,
    gateway: Any,
    pricelist_id: int | None,
    partner_id: int,
    product_ids: list[int],
    base: dict[int, Any],
) -> dict[int, list[tuple[Decimal, Decimal]]]:
    out: dict[int, list[tuple[Decimal, Decimal]]] = {pid: [] for pid in product_ids}
    if not pricelist_id:
        return out
    for qty in gateway.pricelist_break_quantities(pricelist_id=pricelist_id):
        at_qty = compute_prices(
            gateway=gateway,
            product_ids=product_ids,
            pricelist_id=pricelist_id,
            quantity=qty,
            partner_id=partner_id,
        )
        for pid, price in at_qty.items():
            below = out[pid][-1][1] if out.get(pid) else getattr(base.get(pid), "amount", None)
            if below is not None and price.amount < below:
                out.setdefault(pid, []).append((qty, price.amount))
    return out


def publish_b2b(
    channel: Channel,
    *,
    force: bool = False,
    dry_run: bool = False,
    gateway: Any = None,
    publisher: Any = None,
    lists: Sequence[B2BPriceList] | None = None,
) -> CatalogSummary:
    """Publish every B2B price list of the channel; returns the totals over all of them."""
    from .services import _gateway

    summary = CatalogSummary()
    discover(channel)
    todo = list(lists) if lists is not None else list(B2BPriceList.objects.filter(channel=channel))
    if not todo:
        return summary
    sync_states(channel)
    rows = list(VariantState.objects.filter(channel=channel).order_by("sku"))
    pids = sorted({r.odoo_product_id for r in rows})
    gw = _gateway(gateway)
    pricelists = gw.partners_pricelist(partner_ids=[pl.odoo_partner_id for pl in todo])
    pub = None
    for pl in todo:
        pricelist_id = pricelists.get(pl.odoo_partner_id) or channel_pricelist_id(channel)
        base = compute_prices(
            gateway=gw, product_ids=pids, pricelist_id=pricelist_id, partner_id=pl.odoo_partner_id
        )
        breaks = _breaks(
            gateway=gw,
            pricelist_id=pricelist_id,
            partner_id=pl.odoo_partner_id,
            product_ids=pids,
            base=base,
        )
        resend = force or pricelist_id != pl.odoo_pricelist_id
        desired: dict[str, dict[str, Any]] = {}
        items: list[B2BPrice] = []
        currency = pl.currency
        for row in rows:
            price = base.get(row.odoo_product_id)
            if price is None:
                continue
            currency = currency or price.currency
            tiers = tuple(breaks.get(row.odoo_product_id) or ())
            want = {"price": str(price.amount), "breaks": [[str(q), str(p)] for q, p in tiers]}
            summary.checked += 1
            if resend or (pl.published or {}).get(row.external_id) != want:
                desired[row.external_id] = want
                items.append(B2BPrice(row.external_id, row.sku, price.amount, tiers))
        summary.changed += len(items)
        summary.skus += [i.sku for i in items]
        if dry_run or channel.state == Channel.State.SHADOW or not items:
            continue
        pub = pub or publisher or catalog_publisher_for(channel)
        start = pub.calls
        try:
            result = pub.publish_b2b(
                name=f"Integration Hub: Odoo partner {pl.odoo_partner_id}",
                target=pl.target,
                currency=currency or default_currency(),
                catalog_id=pl.external_catalog_id,
                pricelist_id=pl.external_pricelist_id,
                prices=items,
            )
        except PermanentError as exc:
            pl.last_error = exc.message[:2000]
            pl.save(update_fields=["last_error", "updated_at"])
            issue_report(
                error=exc,
                key=f"catalog:b2b:{channel.code}:{pl.target}",
                row=pl,
                channel_code=channel.code,
                customer=str(pl.odoo_partner_id),
            )
            summary.failed += len(items)
            continue
        finally:
            summary.calls += pub.calls - start
        pl.external_catalog_id = result.catalog_id
        pl.external_pricelist_id = result.pricelist_id
        pl.odoo_pricelist_id = pricelist_id
        pl.currency = currency or default_currency()
        published = dict(pl.published or {}) if not resend else {}
        by_sku = {i.sku: i for i in items}
        failures = []
        for out in result.outcomes:
            item = by_sku.get(out.sku)
            if item is None:
                continue
            if out.ok:
                published[item.external_id] = desired[item.external_id]
                summary.published += 1
            else:
                failures.append(f"{out.sku}: {out.error}")
                summary.failed += 1
        pl.published = published
        pl.published_at = timezone.now()
        pl.last_error = "\n".join(failures)[:2000]
        pl.save()
        if failures:
            issue_report(
                error=PermanentError(
                    f"B2B prices of {len(failures)} variants not accepted by {channel.code} "
                    f"for Odoo partner {pl.odoo_partner_id}: {failures[0]}",
                    channel=channel.code,
                    skus=[f.split(":", 1)[0] for f in failures][:50],
                ),
                key=f"catalog:b2b:{channel.code}:{pl.target}",
                row=pl,
                channel_code=channel.code,
                sku=failures[0].split(":", 1)[0],
                customer=str(pl.odoo_partner_id),
            )
        else:
            issue_row_succeeded(row=pl)
    logger.info("catalog b2b %s: %s", channel.code, summary.as_dict())
    return summary
