"""Hostile Odoo answers: a ``fail_next`` item with ``answer`` makes the matching call answer like
a broken server or the proxy in front of it, with HTTP 200 unless the item says ``status``:

| ``answer`` | JSON-RPC body | JSON-2 body |
|---|---|---|
| ``html_page`` | a proxy's HTML error page (``text/html``) | the same |
| ``truncated_json`` | the first half of a JSON-RPC answer | the first half of a list |
| ``empty_object`` | ``{}`` (no ``jsonrpc``, no ``result``) | ``{}`` |
| ``missing_result`` | ``{"jsonrpc": "2.0", "id": N}`` (Odoo's way to say None) | ``null`` |
| ``wrong_type`` | ``result`` is a string | a string |
| ``error_body`` | ``{"error": "upstream timed out"}`` (no error object) | the same |
| ``empty_body`` | nothing | nothing |
| ``result`` | ``result`` is the item's ``result`` (any JSON) | the item's ``result`` |

The call is not run (nothing is written), exactly like the error answers of ``fail_next``.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from sandbox.channels.hostile import HTML_PAGE, truncate

ANSWERS = (
    "html_page",
    "truncated_json",
    "empty_object",
    "missing_result",
    "wrong_type",
    "error_body",
    "empty_body",
    "result",
)


def body_for(kind: str, req_id: Any, *, json2: bool, result: Any = None) -> tuple[bytes, str]:
    ctype = "application/json; charset=utf-8"
    envelope: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id}
    if kind == "html_page":
        return HTML_PAGE.encode(), "text/html; charset=utf-8"
    if kind == "truncated_json":
        whole = [{"id": 1, "name": "x"}] if json2 else {**envelope, "result": [{"id": 1}]}
        return truncate(json.dumps(whole).encode()), ctype
    if kind == "empty_object":
        return b"{}", ctype
    if kind == "missing_result":
        return (b"null" if json2 else json.dumps(envelope).encode()), ctype
    if kind == "wrong_type":
        wrong = "unexpected"
        return json.dumps(wrong if json2 else {**envelope, "result": wrong}).encode(), ctype
    if kind == "error_body":
        return json.dumps({"error": "upstream timed out"}).encode(), ctype
    if kind == "empty_body":
        return b"", ctype
    if kind == "result":
        return json.dumps(result if json2 else {**envelope, "result": result}).encode(), ctype
    raise ValueError(f"unknown hostile answer {kind!r}; one of {', '.join(ANSWERS)}")


def send(
    handler: BaseHTTPRequestHandler, item: dict[str, Any], req_id: Any, *, json2: bool
) -> None:
    """Answer the current request with the hostile body ``item["answer"]`` names."""
    data, ctype = body_for(str(item["answer"]), req_id, json2=json2, result=item.get("result"))
    handler.send_response(int(item.get("status", 200)))
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if data:
        handler.wfile.write(data)
