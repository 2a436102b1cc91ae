"""Channel API calls used by setup tools (catalog reads). Failures are classified at the edge.

Only what the hub needs today: reading the catalog (SKU and id of every sellable variant) for
auto-mapping. Inventory, fulfilment and order clients join this module with their flows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from apps.core.errors import ChannelAuthError, PermanentError, RateLimited, TransientError

from .models import Channel

logger = logging.getLogger(__name__)

TIMEOUT = (5.0, 30.0)
WOO_PAGE_SIZE = 100
SHOPIFY_PAGE_SIZE = 250
_MAX_PAGES = 10_000  # a server that never stops paging must not loop us forever


@dataclass(frozen=True)
class CatalogItem:
    external_id: str  # the sellable unit: a variation / variant id (or the product for simple ones)
    sku: str
    name: str
    product_external_id: str = ""


def _check(resp: requests.Response, *, channel: Channel) -> None:
    if resp.status_code < 400:
        return
    where = f"{channel.code}: {resp.request.method} {resp.url.split('?')[0]}"
    if resp.status_code == 429:
        retry = resp.headers.get("Retry-After")
        raise RateLimited(
            f"{where} rate limited",
            retry_after=float(retry) if retry else None,
            channel=channel.code,
        )
    if resp.status_code >= 500:
        raise TransientError(f"{where} answered {resp.status_code}", channel=channel.code)
    if resp.status_code in (401, 403):
        raise ChannelAuthError(
            f"{where} refused our credentials ({resp.status_code})", channel=channel.code
        )
    raise PermanentError(
        f"{where} answered {resp.status_code}: {resp.text[:300]}", channel=channel.code
    )


def _get(session: requests.Session, url: str, channel: Channel, **kw: Any) -> requests.Response:
    try:
        resp = session.get(url, timeout=TIMEOUT, **kw)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(
            f"{channel.code}: {type(exc).__name__} calling {url}", channel=channel.code
        ) from exc
    _check(resp, channel=channel)
    return resp


def _woo_pages(
    session: requests.Session, url: str, channel: Channel
) -> Iterator[list[dict[str, Any]]]:
    page = 1
    while page <= _MAX_PAGES:
        resp = _get(session, url, channel, params={"per_page": WOO_PAGE_SIZE, "page": page})
        rows = resp.json()
        if not isinstance(rows, list):
            raise PermanentError(f"{channel.code}: {url} did not answer a list")
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
    for rows in _woo_pages(session, f"{base}/products", channel):
        for product in rows:
            pid = str(product.get("id", ""))
            if product.get("type") == "variable":
                for variations in _woo_pages(session, f"{base}/products/{pid}/variations", channel):
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
        body = resp.json()
        errors = body.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            raise RateLimited(f"{channel.code}: Shopify GraphQL throttled", channel=channel.code)
        if errors:
            raise PermanentError(
                f"{channel.code}: Shopify GraphQL errors: {errors}"[:500], channel=channel.code
            )
        conn = body["data"]["productVariants"]
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


def channel_catalog(*, channel: Channel) -> list[CatalogItem]:
    if channel.kind == Channel.Kind.WOOCOMMERCE:
        return woocommerce_catalog(channel=channel)
    if channel.kind == Channel.Kind.SHOPIFY:
        return shopify_catalog(channel=channel)
    raise PermanentError(
        f"reading the catalog of a {channel.kind} channel is not supported", field="kind"
    )
