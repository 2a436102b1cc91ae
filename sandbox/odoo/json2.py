"""Odoo 19's External JSON-2 API: ``POST /json/2/<model>/<method>`` with a bearer API key.

Served only when the sandbox presents itself as 19 (``--odoo-version 19``). The call runs through
the same ``Sandbox.execute`` as JSON-RPC (access rights, webhooks, the version's renames) and the
same fault injection; only the envelope differs. Wire behaviour as recorded from a real Odoo 19
(transcript 20, EXTERNAL_API.md §21):

- the body holds the method's arguments by name, plus ``ids`` and ``context``; they are bound to
  the method's signature, and a binding failure is 422 ``UnprocessableEntity``;
- a record method without ``ids`` runs on an empty recordset; ``@api.model`` methods refuse ids;
- the answer is the bare JSON result; ``create`` always answers a list of ids;
- failures: status from the exception class (UserError/ValidationError 422, AccessError 403,
  MissingError 404, other exceptions 500), werkzeug errors with ``arguments`` ``[message, status]``;
  bad or missing key 401 with ``WWW-Authenticate: Bearer``;
- HTML pages for a database the server does not serve (404) and a missing Content-Type (415).
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

from . import versions
from .access import key_uid
from .errors import (
    ACCESS_DENIED,
    ACCESS_ERROR,
    MISSING_ERROR,
    TYPE_ERROR,
    USER_ERROR,
    VALIDATION_ERROR,
    OdooError,
)
from .orm import READ_METHODS, resolve_method
from .schema import REGISTRY

if TYPE_CHECKING:
    from .server import Handler

VERSION_PATHS = ("/web/version", "/json/version")
WERKZEUG = "werkzeug.exceptions."
STATUS_BY_NAME = {
    USER_ERROR: 422,
    VALIDATION_ERROR: 422,
    "odoo.exceptions.RedirectWarning": 422,
    ACCESS_ERROR: 403,
    ACCESS_DENIED: 403,
    MISSING_ERROR: 404,
    "odoo.exceptions.LockError": 409,
    WERKZEUG + "BadRequest": 400,
    WERKZEUG + "Unauthorized": 401,
    WERKZEUG + "NotFound": 404,
    WERKZEUG + "UnprocessableEntity": 422,
}
# Odoo 19's parameter name -> the sandbox's (17) name for the same parameter.
RENAMED_PARAMS = {("name_search", "domain"): "args", ("default_get", "fields"): "fields_list"}
# Methods with **kwargs in Odoo: an unknown name travels on and fails inside (500, not 422).
VAR_KEYWORD = {"search_read": "BaseModel._read_format()"}

NOT_FOUND_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The "
    "requested URL was not found on the server. If you entered the URL manually please check "
    "your spelling and try again.</p>\n"
)
NO_DATABASE_PAGE = (
    "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected "
    "and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify "
    "the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the "
    "X-Odoo-Database header. -->\n"
)
UNSUPPORTED_MEDIA_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported "
    "Media Type</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but "
    "&#39;/json/2/&lt;__model__&gt;/&lt;__method__&gt;&#39; is type=&#39;json2&#39;.<br><br>"
    "Please verify the Content-Type request header and try again.</p>\n"
)


def werkzeug(kind: str, message: str) -> OdooError:
    return OdooError(WERKZEUG + kind, message)


def status_of(err: OdooError) -> int:
    return STATUS_BY_NAME.get(err.name, 500)


def error_payload(err: OdooError) -> dict[str, Any]:
    status = status_of(err)
    arguments: list[Any] = [err.message]
    if err.name.startswith(WERKZEUG):
        arguments.append(status)
    return {
        "name": err.name,
        "message": err.message,
        "arguments": arguments,
        "context": {},
        "debug": (
            "Traceback (most recent call last):\n"
            '  File "<odoo-sandbox>", line 1, in <module>\n'
            f"{err.name.rsplit('.', 1)[-1]}: {err.message}\n"
        ),
    }


def send_error(h: Handler, err: OdooError) -> None:
    status = status_of(err)
    headers = {"WWW-Authenticate": "Bearer "} if status == 401 else None
    h._send(status, error_payload(err), headers)


def send_html(h: Handler, status: int, page: str) -> None:
    data = page.encode()
    h.send_response(status)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def handle(h: Handler, http_method: str, path: str, raw: bytes) -> None:
    sb = h.server.sandbox
    if not versions.ACTIVE.json2:
        send_html(h, 404, NOT_FOUND_PAGE)  # 17 and 18 have no JSON-2 and no /web/version
        return
    if path in VERSION_PATHS:
        h._send(
            200, {"version_info": versions.ACTIVE.version_info, "version": versions.ACTIVE.serie}
        )
        return
    parts = path.split("/")  # "", "json", "2", model, method
    if http_method != "POST" or len(parts) != 5 or not parts[3] or not parts[4]:
        send_error(h, werkzeug("NotFound", "Did you mean POST /json/2/<model>/<method>?"))
        return
    ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        send_html(h, 415, UNSUPPORTED_MEDIA_PAGE)
        return
    db = h.headers.get("X-Odoo-Database")
    if db is not None and db != sb.db:
        send_html(h, 404, NO_DATABASE_PAGE)
        return
    scheme, _, key = (h.headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        msg = "User not authenticated, use an API Key with a Bearer Authorization header."
        send_error(h, werkzeug("Unauthorized", msg))
        return
    with sb.lock:
        uid = key_uid(sb.store, key.strip())
    if uid is None:
        send_error(h, werkzeug("Unauthorized", "Invalid apikey"))
        return
    body: Any = {}
    if raw:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            send_error(h, werkzeug("BadRequest", f"could not parse the body as json: {exc}"))
            return
    if not isinstance(body, dict):
        send_error(h, werkzeug("BadRequest", "could not parse the body, expecting a json object"))
        return
    model, meth = parts[3], parts[4]

    def fn() -> tuple[Any, Any]:
        margs, kwargs = bind(model, meth, dict(body))
        result, env = sb.execute(uid, model, meth, margs, kwargs, {})
        if meth == "create" and isinstance(result, int) and not isinstance(result, bool):
            result = [result]  # JSON-2's create always answers a list
        return result, env

    h._finish_call(
        None,
        f"{model}.{meth}",
        model,
        meth,
        fn,
        meth not in READ_METHODS,
        on_error=lambda err: send_error(h, err),
        on_result=lambda result: h._send(200, result),
    )


def bind(model: str, meth: str, body: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Named arguments -> the sandbox's (positional ids, keyword) call, as Odoo 19 binds them."""
    ids = body.pop("ids", [])
    context = body.pop("context", None) or {}
    if model not in REGISTRY:
        raise werkzeug("NotFound", f"the model {model!r} does not exist")
    if meth.startswith("_"):
        raise OdooError(
            ACCESS_ERROR,
            f"Private methods (such as '{model}.{meth}') cannot be called remotely.",
        )
    try:
        fn, records, owner = resolve_method(model, meth)
    except OdooError as exc:
        raise werkzeug("NotFound", f"The method '{model}.{meth}' does not exist") from exc
    if not records and ids:
        raise werkzeug("UnprocessableEntity", f"cannot call {model}.{meth} with ids")
    kwargs = {RENAMED_PARAMS.get((meth, k), k): v for k, v in body.items()}
    signature = inspect.signature(fn)
    accepted = set(list(signature.parameters)[2:])
    if meth in VAR_KEYWORD:
        for name in kwargs:
            if name not in accepted:
                raise OdooError(
                    TYPE_ERROR,
                    f"{VAR_KEYWORD[meth]} got an unexpected keyword argument '{name}'",
                )
    positional: list[Any] = [ids] if records else []
    try:
        signature.bind(None, model, *positional, **kwargs)
    except TypeError as exc:
        raise werkzeug("UnprocessableEntity", str(exc.args[0])) from exc
    del owner
    return positional, {**kwargs, "context": context}
