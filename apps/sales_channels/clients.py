"""Channel API calls. Failures are classified at the edge.

Reading the catalog (SKU and id of every sellable variant) for auto-mapping; listing recently
updated orders for the polling backstop; listing, creating and re-activating webhook
subscriptions for the subscription check. Inventory and fulfilment clients join this module with
their flows.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from apps.core import shapes
from apps.core.errors import PermanentError, TransientError
from apps.core.shapes import ID

from .models import Channel

# Re-exported: the adapters and publishers import these from here.
from .transport import TIMEOUT as TIMEOUT
from .transport import _call, _get
from .transport import _check as _check
from .transport import answer as answer

logger = logging.getLogger(__name__)

WOO_PAGE_SIZE = 100
SHOPIFY_PAGE_SIZE = 250
_MAX_PAGES = 10_000  # a server that never stops paging must not loop us forever


@dataclass(frozen=True)
class CatalogItem:
    external_id: str  # the sellable unit: a variation / variant id (or the product for simple ones)
    sku: str
    name: str
    product_external_id: str = ""


def _woo_pages(
    session: requests.Session,
    url: str,
    channel: Channel,
    params: dict[str, Any] | None = None,
    *,
    operation: str,
    item: Any = dict,
) -> Iterator[list[dict[str, Any]]]:
    page = 1
    while page <= _MAX_PAGES:
        resp = _get(
            session,
            url,
            channel,
            params={**(params or {}), "per_page": WOO_PAGE_SIZE, "page": page},
        )
        rows: list[dict[str, Any]] = answer(resp, [item], channel=channel, operation=operation)
        yield rows
        total_pages = int(resp.headers.get("X-WP-TotalPages", "1") or 1)
        if page >= total_pages or not rows:
            return
        page += 1


def woocommerce_catalog(
    *, channel: Channel, session: requests.Session | None = None
) -> list[CatalogItem]:
    """Every product and variation with its SKU (wc/v3, Basic auth with the consumer key)."""
    session = session or requests.Session()
    session.auth = (channel.consumer_key, channel.consumer_secret)
    base = channel.api_base_url.rstrip("/") + "/wp-json/wc/v3"
    out: list[CatalogItem] = []
    for rows in _woo_pages(session, f"{base}/products", channel, operation="catalog.read"):
        for product in rows:
            pid = str(product.get("id", ""))
            if product.get("type") == "variable":
                for variations in _woo_pages(
                    session,
                    f"{base}/products/{pid}/variations",
                    channel,
                    operation="catalog.read_variations",
                ):
                    out.extend(
                        CatalogItem(
                            external_id=str(v.get("id", "")),
                            sku=str(v.get("sku") or "").strip(),
                            name=f"{product.get('name', '')} {v.get('name', '')}".strip(),
                            product_external_id=pid,
                        )
                        for v in variations
                    )
            else:
                out.append(
                    CatalogItem(
                        pid,
                        str(product.get("sku") or "").strip(),
                        str(product.get("name") or ""),
                        pid,
                    )
                )
    return out


SHOPIFY_VARIANTS_SHAPE = {
    "productVariants": {
        "pageInfo": {"hasNextPage": bool, "endCursor?": (str, None)},
        "nodes": [{"legacyResourceId": ID, "product?": ({"legacyResourceId?": ID}, None)}],
    }
}
SHOPIFY_VARIANTS_QUERY = """
query Variants($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { legacyResourceId sku displayName product { legacyResourceId } }
  }
}
"""


def shopify_catalog(
    *, channel: Channel, session: requests.Session | None = None
) -> list[CatalogItem]:
    """Every variant with its SKU through the Admin GraphQL API, 250 per page."""
    session = session or requests.Session()
    version = getattr(settings, "HUB_SHOPIFY_API_VERSION", "2025-01")
    url = f"{channel.api_base_url.rstrip('/')}/admin/api/{version}/graphql.json"
    headers = {"X-Shopify-Access-Token": channel.access_token, "Content-Type": "application/json"}
    out: list[CatalogItem] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        try:
            resp = session.post(
                url,
                json={
                    "query": SHOPIFY_VARIANTS_QUERY,
                    "variables": {"first": SHOPIFY_PAGE_SIZE, "after": after},
                },
                headers=headers,
                timeout=TIMEOUT,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                f"{channel.code}: {type(exc).__name__} calling Shopify", channel=channel.code
            ) from exc
        _check(resp, channel=channel)
        conn = shapes.graphql_data(
            resp,
            SHOPIFY_VARIANTS_SHAPE,
            partner=channel.code,
            operation="catalog.read",
            channel=channel.code,
        )["productVariants"]
        out.extend(
            CatalogItem(
                external_id=str(n["legacyResourceId"]),
                sku=str(n.get("sku") or "").strip(),
                name=str(n.get("displayName") or ""),
                product_external_id=str((n.get("product") or {}).get("legacyResourceId", "")),
            )
            for n in conn["nodes"]
        )
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    return out


BIGCOMMERCE_PAGE_SIZE = 250
# v3 list answers: ``data`` and ``meta.pagination.total_pages``.
BIGCOMMERCE_META = {"pagination?": ({"total_pages?": (int, None)}, None)}


def bigcommerce_catalog(
    *, channel: Channel, session: requests.Session | None = None
) -> list[CatalogItem]:
    """Every variant with its SKU: v3 ``catalog/products?include=variants``, 250 per page.

    A product without options still has one (base) variant, so the variant is always the
    sellable unit, as the inventory publisher expects.
    """
    session = session or requests.Session()
    url = f"{channel.api_base_url.rstrip('/')}/v3/catalog/products"
    headers = {"X-Auth-Token": channel.access_token, "Accept": "application/json"}
    out: list[CatalogItem] = []
    page = 1
    while page <= _MAX_PAGES:
        params = {"include": "variants", "limit": BIGCOMMERCE_PAGE_SIZE, "page": page}
        body = answer(
            _get(session, url, channel, params=params, headers=headers),
            {
                "data": [{"variants?": ([dict], None)}],
                "meta?": (BIGCOMMERCE_META, None),
            },
            channel=channel,
            operation="catalog.read",
        )
        for product in body["data"]:
            pid = str(product.get("id", ""))
            for variant in product.get("variants") or []:
                out.append(
                    CatalogItem(
                        external_id=str(variant.get("id", "")),
                        sku=str(variant.get("sku") or "").strip(),
                        name=str(product.get("name") or ""),
                        product_external_id=pid,
                    )
                )
        pagination = (body.get("meta") or {}).get("pagination") or {}
        if page >= int(pagination.get("total_pages") or 1):
            break
        page += 1
    return out


def channel_catalog(*, channel: Channel) -> list[CatalogItem]:
    if channel.kind == Channel.Kind.WOOCOMMERCE:
        return woocommerce_catalog(channel=channel)
    if channel.kind == Channel.Kind.SHOPIFY:
        return shopify_catalog(channel=channel)
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        return bigcommerce_catalog(channel=channel)
    if channel.kind == Channel.Kind.MAGENTO:
        from .magento_catalog import magento_catalog  # imports CatalogItem from here

        return magento_catalog(channel=channel)
    raise PermanentError(
        f"reading the catalog of a {channel.kind} channel is not supported", field="kind"
    )


# --- orders updated since (polling backstop) ----------------------------------------------------

BIGCOMMERCE_PAGE_SIZE = 250


def _shopify_rest(channel: Channel, resource: str) -> tuple[str, dict[str, str]]:
    version = getattr(settings, "HUB_SHOPIFY_API_VERSION", "2025-01")
    url = f"{channel.api_base_url.rstrip('/')}/admin/api/{version}/{resource}"
    return url, {"X-Shopify-Access-Token": channel.access_token, "Accept": "application/json"}


def _link_pages(
    session: requests.Session,
    url: str,
    channel: Channel,
    key: str,
    params: dict[str, Any],
    headers: dict[str, str],
    *,
    operation: str,
    item: Any = dict,
) -> Iterator[list[dict[str, Any]]]:
    """Shopify REST cursor paging: follow `Link: <…page_info=…>; rel="next"` as given (the
    cursor carries the filters; Shopify refuses them next to `page_info`)."""
    next_url: str | None = url
    first = True
    for _ in range(_MAX_PAGES):
        if next_url is None:
            return
        resp = _get(session, next_url, channel, params=params if first else None, headers=headers)
        first = False
        rows: list[dict[str, Any]] = answer(
            resp, {key: [item]}, channel=channel, operation=operation
        )[key]
        yield rows
        next_url = resp.links.get("next", {}).get("url")


def shopify_orders_updated(
    *, channel: Channel, since: dt.datetime, session: requests.Session | None = None
) -> Iterator[list[dict[str, Any]]]:
    """REST `orders.json` updated at or after `since`, oldest change first, 250 a page. These
    are the REST Order resources the `orders/*` webhooks carry."""
    url, headers = _shopify_rest(channel, "orders.json")
    params = {
        "updated_at_min": since.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "status": "any",
        "order": "updated_at asc",
        "limit": SHOPIFY_PAGE_SIZE,
    }
    yield from _link_pages(
        session or requests.Session(),
        url,
        channel,
        "orders",
        params,
        headers,
        operation="orders.poll",
    )


def _seek_pages(
    fetch: Callable[[dt.datetime, int], list[dict[str, Any]]],
    *,
    since: dt.datetime,
    page_size: int,
    modified: Callable[[dict[str, Any]], dt.datetime | None],
    inclusive: bool,
) -> Iterator[list[dict[str, Any]]]:
    """Page a list sorted oldest change first by seeking, not by page number.

    With page numbers, an order updated during the run moves to the end of the list and the row
    after it slips back onto a page already read: missed. So after each full page the next
    request starts again at the page's newest second (those rows come again: duplicates are
    free) and rows updated meanwhile are still ahead. A full page whose rows all share one second
    cannot be sought past; it is stepped through by page number.
    """
    cursor, page = since, 1
    for _ in range(_MAX_PAGES):
        rows = fetch(cursor, page)
        if rows:
            yield rows
        if len(rows) < page_size:
            return
        times = [t for t in map(modified, rows) if t is not None]
        if times and max(times) > min(times):
            newest = max(times)
            # `inclusive`: the API's filter is ">=" (BigCommerce); else ">" (WooCommerce).
            cursor, page = (newest if inclusive else newest - dt.timedelta(seconds=1)), 1
        else:
            page += 1


def _rows(resp: requests.Response, channel: Channel, **kw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = answer(
        resp, [dict], channel=channel, operation="orders.poll", **kw
    )
    return rows


def parse_iso(value: Any) -> dt.datetime | None:
    """ISO 8601 with an offset or `Z` (Shopify), or without a zone meaning UTC (WooCommerce
    `*_gmt`); None when absent or malformed."""
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def parse_rfc2822(value: Any) -> dt.datetime | None:
    """BigCommerce v2 dates (`Tue, 14 Jan 2025 15:04:05 +0000`); None when absent or malformed."""
    try:
        return email.utils.parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError):
        return None


def woocommerce_orders_updated(
    *, channel: Channel, since: dt.datetime, session: requests.Session | None = None
) -> Iterator[list[dict[str, Any]]]:
    """wc/v3 `orders` modified after `since` (GMT), oldest change first, 100 a page."""
    session = session or requests.Session()
    session.auth = (channel.consumer_key, channel.consumer_secret)
    url = channel.api_base_url.rstrip("/") + "/wp-json/wc/v3/orders"

    def fetch(cursor: dt.datetime, page: int) -> list[dict[str, Any]]:
        params = {
            "modified_after": cursor.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": WOO_PAGE_SIZE,
            "page": page,
        }
        return _rows(_get(session, url, channel, params=params), channel)

    yield from _seek_pages(
        fetch,
        since=since,
        page_size=WOO_PAGE_SIZE,
        modified=lambda o: parse_iso(o.get("date_modified_gmt")),
        inclusive=False,
    )


def _bigcommerce_headers(channel: Channel) -> dict[str, str]:
    return {
        "X-Auth-Token": channel.access_token,
        "Accept": "application/json",
        "Content-Type": "application/json",
    }


def bigcommerce_orders_updated(
    *, channel: Channel, since: dt.datetime, session: requests.Session | None = None
) -> Iterator[list[dict[str, Any]]]:
    """v2 `orders` modified at or after `since`, oldest change first, 250 a page (204 = end)."""
    session = session or requests.Session()
    url = channel.api_base_url.rstrip("/") + "/v2/orders"

    def fetch(cursor: dt.datetime, page: int) -> list[dict[str, Any]]:
        params = {
            "min_date_modified": cursor.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "sort": "date_modified:asc",
            "limit": BIGCOMMERCE_PAGE_SIZE,
            "page": page,
        }
        resp = _get(session, url, channel, params=params, headers=_bigcommerce_headers(channel))
        # v2 answers an empty page with 204 and no body.
        return [] if resp.status_code == 204 else _rows(resp, channel, empty=[])

    yield from _seek_pages(
        fetch,
        since=since,
        page_size=BIGCOMMERCE_PAGE_SIZE,
        modified=lambda o: parse_rfc2822(o.get("date_modified")),
        inclusive=True,
    )


# --- webhook subscriptions ---------------------------------------------------------------------


SHOPIFY_WEBHOOK = {"id": ID, "topic": str, "address": str}
WOO_WEBHOOK = {"id": ID, "topic": str, "delivery_url": str}
BIGCOMMERCE_HOOK = {"id": ID, "scope": str, "destination": str}


@dataclass(frozen=True)
class Subscription:
    """One webhook subscription as the platform lists it."""

    id: str
    topic: str
    address: str
    active: bool
    status: str  # the platform's word: active / paused / disabled (Shopify: always active)


def webhook_subscriptions_list(
    *, channel: Channel, session: requests.Session | None = None
) -> list[Subscription]:
    session = session or requests.Session()
    if channel.kind == Channel.Kind.SHOPIFY:
        url, headers = _shopify_rest(channel, "webhooks.json")
        return [
            Subscription(str(h["id"]), str(h["topic"]), str(h["address"]), True, "active")
            for rows in _link_pages(
                session,
                url,
                channel,
                "webhooks",
                {"limit": SHOPIFY_PAGE_SIZE},
                headers,
                operation="webhooks.list",
                item=SHOPIFY_WEBHOOK,
            )
            for h in rows
        ]
    if channel.kind == Channel.Kind.WOOCOMMERCE:
        session.auth = (channel.consumer_key, channel.consumer_secret)
        url = channel.api_base_url.rstrip("/") + "/wp-json/wc/v3/webhooks"
        return [
            Subscription(
                str(h["id"]),
                str(h["topic"]),
                str(h["delivery_url"]),
                h.get("status") == "active",
                str(h.get("status") or ""),
            )
            for rows in _woo_pages(
                session,
                url,
                channel,
                {"status": "all"},
                operation="webhooks.list",
                item=WOO_WEBHOOK,
            )
            for h in rows
        ]
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        url = channel.api_base_url.rstrip("/") + "/v3/hooks"
        out: list[Subscription] = []
        for page in range(1, _MAX_PAGES + 1):
            resp = _get(
                session,
                url,
                channel,
                params={"page": page, "limit": BIGCOMMERCE_PAGE_SIZE},
                headers=_bigcommerce_headers(channel),
            )
            body = answer(
                resp,
                {"data": [BIGCOMMERCE_HOOK], "meta?": (BIGCOMMERCE_META, None)},
                channel=channel,
                operation="webhooks.list",
            )
            out.extend(
                Subscription(
                    str(h["id"]),
                    str(h["scope"]),
                    str(h["destination"]),
                    bool(h.get("is_active")),
                    "active" if h.get("is_active") else "disabled",
                )
                for h in body["data"]
            )
            pages = int(((body.get("meta") or {}).get("pagination") or {}).get("total_pages") or 1)
            if page >= pages:
                break
        return out
    raise PermanentError(f"{channel.kind} channels have no webhook subscriptions", field="kind")


def webhook_subscription_create(
    *, channel: Channel, topic: str, address: str, secret: str = ""
) -> Subscription:
    """Register `topic` → `address`. WooCommerce signs with the `secret` given here; Shopify and
    BigCommerce sign with the app's client secret, so they take none."""
    session = requests.Session()
    if channel.kind == Channel.Kind.SHOPIFY:
        url, headers = _shopify_rest(channel, "webhooks.json")
        payload: dict[str, Any] = {
            "webhook": {"topic": topic, "address": address, "format": "json"}
        }
        h = answer(
            _call(session, "POST", url, channel, json=payload, headers=headers),
            {"webhook": SHOPIFY_WEBHOOK},
            channel=channel,
            operation="webhooks.create",
        )["webhook"]
        return Subscription(str(h["id"]), str(h["topic"]), str(h["address"]), True, "active")
    if channel.kind == Channel.Kind.WOOCOMMERCE:
        session.auth = (channel.consumer_key, channel.consumer_secret)
        url = channel.api_base_url.rstrip("/") + "/wp-json/wc/v3/webhooks"
        payload = {
            "name": f"Integration hub: {topic}",
            "topic": topic,
            "delivery_url": address,
            "secret": secret,
            "status": "active",
        }
        h = answer(
            _call(session, "POST", url, channel, json=payload),
            {"id": ID},
            channel=channel,
            operation="webhooks.create",
        )
        return Subscription(str(h["id"]), topic, address, h.get("status") == "active", "active")
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        url = channel.api_base_url.rstrip("/") + "/v3/hooks"
        payload = {"scope": topic, "destination": address, "is_active": True, "headers": {}}
        h = answer(
            _call(
                session, "POST", url, channel, json=payload, headers=_bigcommerce_headers(channel)
            ),
            {"data": {"id": ID}},
            channel=channel,
            operation="webhooks.create",
        )["data"]
        return Subscription(str(h["id"]), topic, address, bool(h.get("is_active")), "active")
    raise PermanentError(f"{channel.kind} channels have no webhook subscriptions", field="kind")


def webhook_subscription_activate(*, channel: Channel, subscription_id: str) -> None:
    """Re-activate a disabled subscription (WooCommerce `status`, BigCommerce `is_active`)."""
    session = requests.Session()
    if channel.kind == Channel.Kind.WOOCOMMERCE:
        session.auth = (channel.consumer_key, channel.consumer_secret)
        url = channel.api_base_url.rstrip("/") + f"/wp-json/wc/v3/webhooks/{subscription_id}"
        _call(session, "PUT", url, channel, json={"status": "active"})
        return
    if channel.kind == Channel.Kind.BIGCOMMERCE:
        url = channel.api_base_url.rstrip("/") + f"/v3/hooks/{subscription_id}"
        _call(
            session,
            "PUT",
            url,
            channel,
            json={"is_active": True},
            headers=_bigcommerce_headers(channel),
        )
        return
    raise PermanentError(f"{channel.kind} subscriptions cannot be re-activated", field="kind")
