"""Adobe Commerce / Magento 2 REST client. Failures are classified at the edge.

Contract (what the order, stock, shipment, refund and catalog flows rely on):

    client = magento_client(channel)          # a Channel of kind "magento"
    client.request("GET", "orders/42")        # -> the decoded JSON body (dict, list, str, ...)
    client.request("POST", "orders/42/comments", json={"statusHistory": {...}})
    client.request("POST", "inventory/source-items", json=..., store="all")
    for order in client.search("orders", [("updated_at", "2025-01-14 15:04:05", "gteq")], 100):
        ...                                   # every match, all pages, one item at a time
    client.search_pages(...)                  # the same, one page (list) at a time
    client.search_page(...)                   # one page: (items, total_count)

- `path` is relative to `<api_base_url>/rest/<store code>/V1/` (a leading "/" or "V1/" is
  ignored); `store="all"` addresses `/rest/all/V1/` (writes to every store view). A base URL on
  `api.commerce.adobe.com` (the SaaS Cloud Service) is used as `<base>/V1/...`, without a store.
- Bodies decode with JSON numbers that have a fraction as `Decimal` (money stays exact); integers
  stay `int`. A `Decimal` in a request body is sent as a decimal string, which Magento's REST
  input processor casts to the declared float (the hub never sends a float).
- Auth per channel: `magento_auth="bearer"` sends `Authorization: Bearer <access_token>`
  (Magento 2.4.4+ needs `oauth/consumer/enable_integration_as_bearer = 1` for an integration
  token); `"oauth1"` signs every request with OAuth 1.0a HMAC-SHA256 (requests-oauthlib) from
  the consumer key/secret and access token/secret.
- Errors: connection failures, timeouts and 5xx raise `TransientError`; 429 `RateLimited`
  (honouring Retry-After); 401/403 `ChannelAuthError`; any other 4xx `MagentoError`, a
  `PermanentError` whose message renders Magento's `{"message", "parameters"}` body
  ("%1"/"%name" placeholders filled) and which carries `.status` and `.magento_message`;
  every 2xx body goes through the hub's one shape check (`apps.core.shapes`): a body that is
  not JSON is an `UnreadableAnswer` (transient, permanent once it persists), a search answer
  without an `items` list and a `total_count` a `BadPartnerAnswer` (permanent, to the inbox).
- Paging: `searchCriteria[pageSize]` / `[currentPage]` (1-based); the page count comes from
  `total_count`. Magento answers a page past the end with the LAST page again, so the walk never
  waits for an empty page, and it also stops when a page repeats the previous one.
- Filters are `(field, value, condition_type)` triples, each its own filter group (AND); a
  list of triples in place of one triple is one group (OR). `sort` is `(field, "ASC"|"DESC")`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import requests

from apps.core import shapes
from apps.core.errors import ChannelAuthError, PermanentError, RateLimited, TransientError

from .models import Channel

TIMEOUT = (5.0, 30.0)
MAX_PAGES = 10_000  # a server that never stops paging must not loop us forever
DEFAULT_PAGE_SIZE = 100  # Magento's input limits, when enabled, cap a page at 300
SAAS_HOST = "api.commerce.adobe.com"

# The Adobe I/O Events (CHANNELS.md 4.1) that name an order: an order placed or saved, an
# invoice saved or paid. The order flow handles them; a registration's health compares them.
EVENT_PREFIX = "com.adobe.commerce."
ORDER_EVENTS: tuple[str, ...] = tuple(
    EVENT_PREFIX + name
    for name in (
        "plugin.sales.api.order_management.place",
        "observer.sales_order_place_after",
        "observer.sales_order_save_after",
        "observer.sales_order_save_commit_after",
        "observer.sales_order_invoice_save_after",
        "observer.sales_order_invoice_save_commit_after",
        "observer.sales_order_invoice_pay",
    )
)

Filter = tuple[str, Any, str]
FilterGroup = Filter | Sequence[Filter]


class MagentoError(PermanentError):
    """A 4xx answer Magento explains in its `{"message", "parameters"}` body."""

    def __init__(self, message: str, *, status: int, magento_message: str, **kw: Any) -> None:
        super().__init__(message, status=status, **kw)
        self.status = status
        self.magento_message = magento_message


def render_message(body: Any) -> str:
    """Magento's error body as a sentence: `%1`.. from a `parameters` list, `%name` from a dict."""
    if not isinstance(body, dict):
        return str(body)[:300]
    message = str(body.get("message") or "")
    params = body.get("parameters")
    if isinstance(params, list):
        for i, value in reversed(list(enumerate(params, start=1))):  # %10 before %1
            message = message.replace(f"%{i}", str(value))
    elif isinstance(params, dict):
        for name in sorted(params, key=len, reverse=True):
            message = message.replace(f"%{name}", str(params[name]))
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        message += " (" + "; ".join(render_message(e) for e in errors[:5]) + ")"
    return message


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# A searchCriteria answer: `items` (null when nothing matches on some endpoints) and a count.
SEARCH_PAGE = {"items?": ([dict], None), "total_count": (int, str)}


def criteria_params(
    filters: Sequence[FilterGroup] = (),
    *,
    page_size: int | None = None,
    current_page: int | None = None,
    sort: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The `searchCriteria[...]` query parameters Magento reads."""
    params: dict[str, Any] = {}
    for g, group in enumerate(filters):
        members = [group] if isinstance(group, tuple) else list(group)
        for f, (field, value, condition) in enumerate(members):
            prefix = f"searchCriteria[filter_groups][{g}][filters][{f}]"
            params[f"{prefix}[field]"] = field
            params[f"{prefix}[value]"] = str(value)
            params[f"{prefix}[condition_type]"] = condition
    for n, (field, direction) in enumerate(sort):
        params[f"searchCriteria[sortOrders][{n}][field]"] = field
        params[f"searchCriteria[sortOrders][{n}][direction]"] = direction.upper()
    if page_size is not None:
        params["searchCriteria[pageSize]"] = page_size
    if current_page is not None:
        params["searchCriteria[currentPage]"] = current_page
    if not params:
        params["searchCriteria"] = ""  # Magento requires the parameter, even empty
    return params


class MagentoClient:
    def __init__(self, channel: Channel, session: requests.Session | None = None) -> None:
        self.channel = channel
        self.session = session or requests.Session()
        self.base = channel.api_base_url.rstrip("/")
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if channel.magento_auth == Channel.MagentoAuth.OAUTH1:
            from requests_oauthlib import OAuth1

            self.session.auth = OAuth1(
                channel.consumer_key,
                channel.consumer_secret,
                channel.access_token,
                channel.access_token_secret,
                signature_method="HMAC-SHA256",
            )
        else:
            self.headers["Authorization"] = f"Bearer {channel.access_token}"

    def url(self, path: str, *, store: str | None = None) -> str:
        path = path.lstrip("/")
        path = path[3:] if path.startswith("V1/") else path
        if SAAS_HOST in self.base:
            return f"{self.base}/V1/{path}"
        return f"{self.base}/rest/{store or self.channel.magento_store_code}/V1/{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        store: str | None = None,
    ) -> Any:
        url = self.url(path, store=store)
        code = self.channel.code
        data = None if json is None else _dumps(json)
        try:
            resp = self.session.request(
                method, url, params=params, data=data, headers=self.headers, timeout=TIMEOUT
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientError(
                f"{code}: {type(exc).__name__} calling Magento {method} {url}", channel=code
            ) from exc
        if resp.status_code >= 400:
            _raise(resp, method=method, url=url, channel=code)
        # One shape check for every partner answer (apps.core.shapes): a 2xx body that is not
        # JSON is an UnreadableAnswer (transient, then permanent if it persists), grouped per
        # operation in the inbox; the callers check the structure they read with `expect`.
        return shapes.decode(
            resp,
            shapes.ANY,
            partner=code,
            operation=f"magento {method} {_PATH_ID.sub('/{id}', path)}",
            channel=code,
            empty=None,
            parse_float=Decimal,
        )

    def search_page(
        self,
        path: str,
        filters: Sequence[FilterGroup] = (),
        page_size: int = DEFAULT_PAGE_SIZE,
        current_page: int = 1,
        *,
        sort: Sequence[tuple[str, str]] = (),
        params: dict[str, Any] | None = None,
    ) -> tuple[list[dict[str, Any]], int]:
        query = {
            **criteria_params(filters, page_size=page_size, current_page=current_page, sort=sort),
            **(params or {}),
        }
        body = self.request("GET", path, params=query)
        shapes.expect(
            body,
            SEARCH_PAGE,
            partner=self.channel.code,
            operation=f"magento search {_PATH_ID.sub('/{id}', path)}",
            channel=self.channel.code,
        )
        # Magento sends `items: null` for no match on some endpoints.
        return body.get("items") or [], int(body.get("total_count") or 0)

    def search_pages(
        self,
        path: str,
        filters: Sequence[FilterGroup] = (),
        page_size: int = DEFAULT_PAGE_SIZE,
        *,
        sort: Sequence[tuple[str, str]] = (),
        params: dict[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        previous: list[Any] | None = None
        for page in range(1, MAX_PAGES + 1):
            items, total = self.search_page(
                path, filters, page_size, page, sort=sort, params=params
            )
            ids = [_identity(i) for i in items]
            if not items or ids == previous:
                return  # a page past the end is the last page again
            yield items
            previous = ids
            if page * page_size >= total:
                return

    def search(
        self,
        path: str,
        filters: Sequence[FilterGroup] = (),
        page_size: int = DEFAULT_PAGE_SIZE,
        **options: Any,
    ) -> Iterator[dict[str, Any]]:
        """Every item of every page; `options` as for search_pages (`sort`, `params`)."""
        for items in self.search_pages(path, filters, page_size, **options):
            yield from items


def magento_client(channel: Channel, session: requests.Session | None = None) -> MagentoClient:
    if channel.kind != Channel.Kind.MAGENTO:
        raise PermanentError(f"{channel.code} is a {channel.kind} channel, not magento")
    return MagentoClient(channel, session)


def _identity(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("entity_id", item.get("id", item.get("sku")))
    return item


def _dumps(body: Any) -> bytes:
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode("utf-8")


def _loads(raw: bytes) -> Any:
    return json.loads(raw, parse_float=Decimal)


_PATH_ID = re.compile(r"/\d+(?=/|$)")


def _raise(resp: requests.Response, *, method: str, url: str, channel: str) -> None:
    where = f"{channel}: Magento {method} {_PATH_ID.sub('/{id}', url.split('?')[0])}"
    status = resp.status_code
    if status == 429:
        retry = resp.headers.get("Retry-After")
        raise RateLimited(
            f"{where} rate limited",
            retry_after=float(retry) if retry and retry.isdigit() else None,
            channel=channel,
        )
    if status >= 500:
        raise TransientError(f"{where} answered {status}", channel=channel, status=status)
    try:
        said = render_message(_loads(resp.content))
    except ValueError:
        said = resp.text[:300]
    if status in (401, 403):
        raise ChannelAuthError(
            f"{where} refused our credentials ({status}): {said}", channel=channel, status=status
        )
    raise MagentoError(
        f"{where} answered {status}: {said}",
        status=status,
        magento_message=said,
        channel=channel,
        url=url.split("?")[0],
    )
