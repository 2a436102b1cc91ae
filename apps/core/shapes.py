"""One shape check for every partner answer: channels, payment providers, Odoo.

A partner that answers 2xx has not necessarily answered what we asked. A store behind a proxy
sends a maintenance page with 200, a connection cut mid-body leaves truncated JSON, a plugin
answers ``{}`` or ``{"data": {}}``, an API answers 200 with ``{"errors": ...}``. Code that
indexes such a body raises a bare ``KeyError`` or ``TypeError`` ("raised unexpected" in the
worker log, nothing in the inbox), or worse, reads "no rows" and acts on it (creates a second
product, records stock as published). So every client call site states the shape it relies on,
and the answer goes through here before anything reads it:

    body = shapes.decode(resp, {"orders": [{"id": ID}]}, partner=code, operation="orders.poll")
    data = shapes.graphql_data(resp, {"locations": {"nodes": [{"id": str}]}}, partner=code,
                               operation="inventory.locations")
    value = shapes.expect(result, [dict], partner="odoo", operation="sale.order.search_read")

The spec language (only what the code reads, never the partner's whole schema):

- a type: ``str``, ``int``, ``float`` (any number), ``bool``, ``dict``, ``list``; ``int`` and
  ``float`` never accept a boolean; ``None`` is JSON null; ``ANY`` is anything;
- a tuple: any of its members (``(str, None)`` = a string or null; ``ID`` = an int or a string);
- a dict: an object with those keys; ``"key?"`` is optional (absent is fine, present must
  match); other keys are ignored;
- a one-item list ``[spec]``: a list whose every item matches; ``[]`` is any list.

Classification:

- JSON of the wrong shape (an empty object, a wrong type, an error body with 200) raises
  ``BadPartnerAnswer``, a PermanentError: the same call gets the same answer, so it goes to the
  inbox with the partner, the operation, the endpoint, where the shape broke, a short excerpt of
  the body and the business context of ``about()`` (channel, order, SKU). Its message holds
  nothing that varies between occurrences, so a sweep that meets it again adds an occurrence to
  the same inbox item instead of a new one.
- A body that is not JSON at all (an HTML page, a truncated body, nothing) raises
  ``UnreadableAnswer``, a TransientError: a proxy page or a cut connection usually passes. When
  one partner operation answers unreadably ``HUB_UNREADABLE_ANSWER_LIMIT`` times (3) within
  ``HUB_UNREADABLE_ANSWER_WINDOW_SECONDS`` (600), the next one is a ``BadPartnerAnswer``
  instead, so a page that stays is seen in the inbox even by flows whose retries never end.
- Non-2xx answers are classified before this (``apps.sales_channels.clients._check``, the Odoo
  transports); an HTML 502 page is a TransientError there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache

from .errors import HubError, PermanentError, RateLimited, TransientError

EXCERPT_CHARS = 300


class _Anything:
    def __repr__(self) -> str:
        return "ANY"


ANY: Any = _Anything()
ID: Any = (int, str)  # ids come as numbers or strings depending on the API and its version
NUMBER: Any = (int, float, str)  # money and quantities: a JSON number or a decimal string


class BadPartnerAnswer(PermanentError):
    """A partner answered 2xx with JSON that is not the shape the call relies on."""

    category = "validation"


class UnreadableAnswer(TransientError):
    """A partner answered 2xx with a body that is not JSON (an HTML page, a truncated body)."""


class _Response(Protocol):
    """What ``decode`` needs of a ``requests.Response`` (kept structural: no import here)."""

    @property
    def status_code(self) -> int: ...

    @property
    def content(self) -> bytes: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def url(self) -> str: ...


# --- business context ---------------------------------------------------------------------------

_about: ContextVar[dict[str, Any] | None] = ContextVar("hub_answer_about", default=None)


def _about_now() -> dict[str, Any]:
    return dict(_about.get() or {})


@contextmanager
def about(**context: Any) -> Iterator[None]:
    """Business context (flow, order_number, sku, skus, ...) for answers checked inside: added
    to the context of any error raised here, for the inbox item. An outer ``about`` wins over an
    inner one (the catalog's price run says ``flow="catalog.prices"`` even where it reuses the
    stock publisher's calls)."""
    merged = {**{k: v for k, v in context.items() if v not in (None, "", [])}, **_about_now()}
    token = _about.set(merged)
    try:
        yield
    finally:
        _about.reset(token)


def skus_context(skus: list[str], limit: int = 10) -> dict[str, Any]:
    """``sku`` for one SKU, else the first ``limit`` in ``skus`` and their count."""
    unique = list(dict.fromkeys(skus))
    if len(unique) == 1:
        return {"sku": unique[0]}
    return {"skus": unique[:limit], "sku_count": len(unique)} if unique else {}


# --- the check ----------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    return type(value).__name__


_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _describe(spec: Any) -> str:
    if spec is None:
        return "null"
    if isinstance(spec, tuple):
        return " or ".join(_describe(s) for s in spec)
    if isinstance(spec, dict) or spec is dict:
        return "an object"
    if isinstance(spec, list) or spec is list:
        return "a list"
    return _NAMES.get(spec, getattr(spec, "__name__", repr(spec)))


def _is(value: Any, spec: type) -> bool:
    if isinstance(value, bool) and spec is not bool:
        return False
    if spec is float:
        return isinstance(value, (int, float, Decimal))
    return isinstance(value, spec)


def problem(value: Any, spec: Any, path: str = "") -> str | None:
    """Where ``value`` breaks ``spec`` first ("data.locations: missing"), or None if it fits."""
    here = path or "the answer"
    if spec is ANY:
        return None
    if spec is None:
        return None if value is None else f"{here}: expected null, got {_kind(value)}"
    if isinstance(spec, tuple):
        found = [problem(value, s, path) for s in spec]
        if any(f is None for f in found):
            return None
        shallow = [f for f, s in zip(found, spec, strict=True) if _shallow_fit(value, s)]
        return shallow[0] if shallow else f"{here}: expected {_describe(spec)}, got {_kind(value)}"
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{here}: expected an object, got {_kind(value)}"
        for raw_key, sub in spec.items():
            key, optional = (raw_key[:-1], True) if raw_key.endswith("?") else (raw_key, False)
            where = f"{path}.{key}" if path else key
            if key not in value:
                if optional:
                    continue
                return f"{where}: missing"
            found_here = problem(value[key], sub, where)
            if found_here:
                return found_here
        return None
    if isinstance(spec, list):
        if not isinstance(value, list):
            return f"{here}: expected a list, got {_kind(value)}"
        if spec:
            for n, item in enumerate(value):
                found_item = problem(item, spec[0], f"{path}[{n}]")
                if found_item:
                    return found_item
        return None
    if isinstance(spec, type):
        return (
            None if _is(value, spec) else f"{here}: expected {_describe(spec)}, got {_kind(value)}"
        )
    raise TypeError(f"not a shape spec: {spec!r}")


def _shallow_fit(value: Any, spec: Any) -> bool:
    """Whether ``value`` is of the outer kind ``spec`` wants (to report the deeper mismatch)."""
    if isinstance(spec, dict):
        return isinstance(value, dict)
    if isinstance(spec, list):
        return isinstance(value, list)
    return False


def excerpt(raw: bytes | str | Any, limit: int = EXCERPT_CHARS) -> str:
    """The start of a body as safe text: decoded leniently, NUL and control characters and runs
    of whitespace squeezed out (an excerpt goes into the database and log lines)."""
    if isinstance(raw, bytes):
        text = raw[: limit * 4].decode("utf-8", errors="replace")
    elif isinstance(raw, str):
        text = raw
    else:
        try:
            text = json.dumps(raw, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(raw)
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text[: limit * 4])
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ERROR_KEYS = ("errors", "error", "message", "fault", "detail")


def error_text(body: Any) -> str:
    """The message of an error body (``{"errors": ...}``, ``{"error": ...}``, ``{"code",
    "message"}``), or "" when the body does not look like one."""
    if not isinstance(body, dict):
        return ""
    for key in _ERROR_KEYS:
        value = body.get(key)
        if not value:
            continue
        if isinstance(value, list):
            value = value[0] if value else ""
        if isinstance(value, dict):
            value = value.get("message") or value.get("detail") or value.get("code") or value
        return excerpt(value, 120)
    return ""


def _where(resp: _Response | None, endpoint: str) -> str:
    if endpoint or resp is None:
        return endpoint
    request = getattr(resp, "request", None)
    method = str(getattr(request, "method", "") or "")
    url = str(getattr(resp, "url", "") or "").split("?", 1)[0]
    return f"{method} {url}".strip()


def _context(partner: str, operation: str, endpoint: str, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = _about_now()
    ctx.setdefault("partner", partner)
    ctx.setdefault("operation", operation)
    if endpoint:
        ctx.setdefault("endpoint", endpoint)
    ctx.update({k: v for k, v in extra.items() if v not in (None, "")})
    return ctx


def bad_answer(
    body: Any,
    found: str,
    *,
    partner: str,
    operation: str,
    endpoint: str = "",
    raw: bytes | str | None = None,
    **extra: Any,
) -> BadPartnerAnswer:
    """The classified error for a body that is JSON of the wrong shape."""
    said = error_text(body)
    what = f"an error body ({said})" if said else f"an unexpected shape ({found})"
    where = found.split(":", 1)[0]
    return BadPartnerAnswer(
        f"{partner}: {operation} got {what}",
        context=_context(
            partner,
            operation,
            endpoint,
            field="" if where == "the answer" else where,
            shape_problem=found,
            excerpt=excerpt(raw if raw is not None else body),
            **extra,
        ),
    )


def expect(
    value: Any,
    spec: Any,
    *,
    partner: str,
    operation: str,
    endpoint: str = "",
    path: str = "",
    **extra: Any,
) -> Any:
    """``value`` unchanged when it fits ``spec``; else BadPartnerAnswer (see the module doc)."""
    found = problem(value, spec, path)
    if found is not None:
        raise bad_answer(
            value, found, partner=partner, operation=operation, endpoint=endpoint, **extra
        )
    return value


def _unreadable_kind(resp: _Response) -> str:
    content = resp.content or b""
    ctype = str(resp.headers.get("Content-Type") or "").lower()
    head = content.lstrip()[:64].lower()
    if not content.strip():
        return "an empty body"
    if "html" in ctype or head.startswith((b"<!doctype", b"<html", b"<")):
        return "an HTML page"
    if head.startswith((b"{", b"[")):
        return "truncated or malformed JSON"
    return "a body that is not JSON"


def unreadable(
    resp: _Response, *, partner: str, operation: str, endpoint: str = "", **extra: Any
) -> HubError:
    """The classified error for a 2xx body that is not JSON: transient, until the same partner
    operation has answered so too often within the window (then permanent, for the inbox)."""
    kind = _unreadable_kind(resp)
    where = _where(resp, endpoint)
    ctx = _context(
        partner,
        operation,
        where,
        http_status=resp.status_code,
        content_type=str(resp.headers.get("Content-Type") or ""),
        excerpt=excerpt(resp.content or b"") or "(no body)",
        **extra,
    )
    limit = int(getattr(settings, "HUB_UNREADABLE_ANSWER_LIMIT", 3))
    window = int(getattr(settings, "HUB_UNREADABLE_ANSWER_WINDOW_SECONDS", 600))
    key = re.sub(r"[^A-Za-z0-9_.:-]", "_", f"shapes:unreadable:{partner}:{operation}")[:200]
    cache.add(key, 0, timeout=window)
    try:
        seen = int(cache.incr(key))
    except ValueError:  # expired between add and incr
        seen = 1
    if seen >= limit:
        return BadPartnerAnswer(
            f"{partner}: {operation} got {kind} again ({limit} times within {window} s)",
            context={**ctx, "unreadable_count": seen},
        )
    return UnreadableAnswer(f"{partner}: {operation} got {kind}", context=ctx)


_MISSING: Any = object()


def decode(
    resp: _Response,
    spec: Any,
    *,
    partner: str,
    operation: str,
    endpoint: str = "",
    empty: Any = _MISSING,
    parse_float: Callable[[str], Any] | None = None,
    **extra: Any,
) -> Any:
    """The JSON body of a 2xx answer, checked against ``spec``.

    ``empty``: what an answer without a body (204, or 200 with nothing) stands for; without it
    an empty body is unreadable. ``parse_float=Decimal`` keeps JSON numbers exact (money).
    """
    content = resp.content or b""
    if not content.strip() and empty is not _MISSING:
        return empty
    try:
        body = json.loads(content, parse_float=parse_float)
    except (ValueError, UnicodeDecodeError):
        raise unreadable(
            resp, partner=partner, operation=operation, endpoint=endpoint, **extra
        ) from None
    found = problem(body, spec)
    if found is not None:
        raise bad_answer(
            body,
            found,
            partner=partner,
            operation=operation,
            endpoint=_where(resp, endpoint),
            raw=content,
            **extra,
        )
    return body


# --- GraphQL ------------------------------------------------------------------------------------

_TRANSIENT_CODES = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT"}


def _graphql_messages(errors: Any) -> str:
    if not isinstance(errors, list):
        return excerpt(errors, 300)
    parts = []
    for e in errors:
        if isinstance(e, dict):
            path = e.get("path")
            where = f" ({'.'.join(map(str, path))})" if isinstance(path, list) and path else ""
            parts.append(f"{e.get('message') or e}{where}")
        else:
            parts.append(str(e))
    return excerpt("; ".join(parts), 300)


def graphql_data(
    resp: _Response, spec: Any, *, partner: str, operation: str, **extra: Any
) -> dict[str, Any]:
    """The ``data`` of a GraphQL answer, checked against ``spec``.

    ``errors`` (a 200 with an error body, GraphQL's normal way to fail) are classified first:
    THROTTLED -> RateLimited, INTERNAL_SERVER_ERROR / SERVICE_UNAVAILABLE / TIMEOUT ->
    TransientError, anything else -> PermanentError naming the messages.
    """
    body = decode(
        resp, {"data?": (dict, None), "errors?": ANY}, partner=partner, operation=operation, **extra
    )
    errors = body.get("errors")
    ctx = _context(partner, operation, _where(resp, ""), **extra)
    if errors:
        codes = {
            str((e.get("extensions") or {}).get("code") or "")
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict) and isinstance(e.get("extensions") or {}, dict)
        }
        text = f"{partner}: {operation}: GraphQL errors: {_graphql_messages(errors)}"
        if "THROTTLED" in codes:
            raise RateLimited(text, context=ctx)
        if codes & _TRANSIENT_CODES:
            raise TransientError(text, context=ctx)
        raise PermanentError(text, context=ctx)
    found = problem(body, {"data": dict}) or problem(body["data"], spec, "data")
    if found is not None:
        raise bad_answer(
            body,
            found,
            partner=partner,
            operation=operation,
            endpoint=ctx.get("endpoint", ""),
            raw=resp.content,
            **extra,
        )
    data: dict[str, Any] = body["data"]
    return data
