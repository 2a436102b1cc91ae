"""One channel HTTP call: sent with the hub's timeouts, classified at the edge, its answer read
through the shape check (apps.core.shapes). The channel clients and adapters share these."""

from __future__ import annotations

from typing import Any

import requests

from apps.core import shapes
from apps.core.errors import ChannelAuthError, PermanentError, RateLimited, TransientError

from .models import Channel

TIMEOUT = (5.0, 30.0)


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


def answer(
    resp: requests.Response, spec: Any, *, channel: Channel, operation: str, **kw: Any
) -> Any:
    """The JSON body of a channel's 2xx answer, checked against ``spec`` (apps.core.shapes):
    a wrong shape is a BadPartnerAnswer, a body that is not JSON an UnreadableAnswer."""
    return shapes.decode(
        resp, spec, partner=channel.code, operation=operation, channel=channel.code, **kw
    )


def _get(session: requests.Session, url: str, channel: Channel, **kw: Any) -> requests.Response:
    return _call(session, "GET", url, channel, **kw)


def _call(
    session: requests.Session, method: str, url: str, channel: Channel, **kw: Any
) -> requests.Response:
    try:
        resp = session.request(method, url, timeout=TIMEOUT, **kw)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientError(
            f"{channel.code}: {type(exc).__name__} calling {url}", channel=channel.code
        ) from exc
    _check(resp, channel=channel)
    return resp
