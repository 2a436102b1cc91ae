"""Hostile answers: the stand-in answers like a broken partner instead of a healthy one.

A ``fail_next`` item (``POST /__standin__/config``) with ``hostile`` replaces the platform's answer
by one of these, with status 200 unless the item says ``status``:

- ``empty_object``: ``{}``;
- ``empty_data``: ``{"data": {}}`` (GraphQL's empty answer; on REST the same object);
- ``html_page``: a proxy's HTML error page, ``Content-Type: text/html``;
- ``truncated_json``: the first half of the JSON answer (the platform's own with ``after``);
- ``wrong_type``: a list where an object was answered and the reverse; with ``after`` on a
  GraphQL answer, every field of ``data`` becomes a string;
- ``error_body``: the platform's error object (Shopify ``errors``, WooCommerce
  ``code``/``message``, BigCommerce ``status``/``title``) with 200;
- ``empty_body``: nothing at all.

``raw`` (text) or ``raw_b64`` (bytes) with an optional ``content_type`` send exactly that body,
for property tests that make up their own. The usual ``fail_next`` keys still apply:
``path_contains``, ``method``, ``body_contains`` choose the call, ``after: true`` lets the platform
handle it first (a write happens) and mangles its answer. Each item answers one call; queue
several for "the next N answers".
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .base import Response

KINDS = (
    "empty_object",
    "empty_data",
    "html_page",
    "truncated_json",
    "wrong_type",
    "error_body",
    "empty_body",
)

HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n"
    "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body></html>\n"
)

ERROR_BODIES: dict[str, Any] = {
    "shopify": {"errors": "Internal Server Error"},
    "woocommerce": {
        "code": "internal_server_error",
        "message": "There has been a critical error on this website.",
        "data": {"status": 500},
    },
    "bigcommerce": {
        "status": 500,
        "title": "Internal Server Error",
        "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
    },
}
GENERIC_JSON = {"data": {"items": [{"id": 1, "name": "partial"}], "meta": {"pages": 1}}}


def is_hostile(item: dict[str, Any]) -> bool:
    return bool(item.get("hostile")) or "raw" in item or "raw_b64" in item


def truncate(data: bytes) -> bytes:
    """The first half of a body, never the whole of it (at least one byte is cut)."""
    return data[: max(1, len(data) // 2)] if len(data) > 1 else b"{"


def _swap_type(body: Any) -> Any:
    if isinstance(body, dict) and isinstance(body.get("data"), dict) and body["data"]:
        return {**body, "data": dict.fromkeys(body["data"], "unexpected")}
    if isinstance(body, list):
        return {"items": body}
    return [body] if body is not None else "OK"


def body_for(kind: str, platform: str, handled: Response | None) -> tuple[bytes, str]:
    """(body, content type) of a hostile answer; ``handled``: the platform's own answer."""
    ctype = "application/json; charset=UTF-8"
    own = handled.body if handled is not None and handled.status != 204 else None
    if kind == "empty_object":
        return b"{}", ctype
    if kind == "empty_data":
        return b'{"data": {}}', ctype
    if kind == "html_page":
        return HTML_PAGE.encode(), "text/html; charset=utf-8"
    if kind == "truncated_json":
        whole = json.dumps(own if own is not None else GENERIC_JSON).encode()
        return truncate(whole), ctype
    if kind == "wrong_type":
        return json.dumps(_swap_type(own)).encode(), ctype
    if kind == "error_body":
        return json.dumps(ERROR_BODIES.get(platform, {"error": "Internal error"})).encode(), ctype
    if kind == "empty_body":
        return b"", ctype
    raise ValueError(f"unknown hostile answer {kind!r}; one of {', '.join(KINDS)}")


def answer(item: dict[str, Any], platform: str, handled: Response | None = None) -> Response:
    """The Response a hostile ``fail_next`` item stands for (its body is sent as raw bytes)."""
    status = int(item.get("status", 200))
    if "raw_b64" in item:
        data, ctype = base64.b64decode(str(item["raw_b64"])), "application/json"
    elif "raw" in item:
        data, ctype = str(item["raw"]).encode(), "application/json"
    else:
        data, ctype = body_for(str(item["hostile"]), platform, handled)
    headers = {"Content-Type": str(item.get("content_type") or ctype)}
    headers.update({str(k): str(v) for k, v in (item.get("headers") or {}).items()})
    return Response(status, data, headers, op="hostile")
