"""The Odoo 19+ External JSON-2 transport, and the choice of transport at login.

Wire facts (EXTERNAL_API.md §21, transcript 20, recorded from a real Odoo 19):

- ``POST {url}/json/2/<model>/<method>``, ``Authorization: bearer <API key>``,
  ``X-Odoo-Database: <db>``, ``Content-Type: application/json``.
- The body is the method's arguments *by name*, plus ``ids`` for record methods and ``context``.
  ``create`` takes ``vals_list`` and answers a list of ids, even for one record.
- The answer is the bare result (no envelope). Failures have a real HTTP status and the body
  ``{"name", "message", "arguments", "context", "debug"}``; a database the server does not serve
  (404) and a missing Content-Type (415) answer HTML.
- A record method called without ``ids`` runs on an empty recordset and succeeds: the hub never
  sends one (see ``to_body``).
- Each request is its own database transaction, committed when the method returns. The hub's
  batching and check-before-create do not need more: every gateway write is already one call whose
  records are found again by their reference (docs/odoo.md, "Transports").

The gateway keeps calling ``client.call(model, method, args, kwargs)`` with positional
arguments, as JSON-RPC wants them. ``METHODS`` names those positions per method; a method the
table does not know is a configuration error naming it, never a call with guessed names.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter

from apps.core import shapes
from apps.core.errors import HubError

from .errors import (
    OdooAuthError,
    OdooConfigurationError,
    OdooLockContention,
    OdooPermanentError,
    OdooUnexpectedResponse,
    classify_http_status,
    classify_rpc_error,
)

if TYPE_CHECKING:
    from .client import OdooConfig, Transport

logger = logging.getLogger(__name__)

TRANSPORTS = ("auto", "jsonrpc", "json2")
JSON2_MIN_MAJOR = 19


@dataclass(frozen=True)
class Signature:
    """How a method's positional arguments (as JSON-RPC passes them) are named in JSON-2."""

    records: bool  # the first positional argument is the record ids (sent as ``ids``)
    params: tuple[str, ...] = ()  # the following positional arguments, in order

    def __post_init__(self) -> None:
        assert "ids" not in self.params and "context" not in self.params


def _buttons(*names: str) -> dict[str, Signature]:
    return {name: Signature(records=True) for name in names}


# Every method the hub calls through ``client.call`` (apps/odoo/gateway/*.py, apps/odoo/*.py, the
# version adapters' method names), with Odoo 19's parameter names. tests/odoo/test_json2.py checks
# that every literal method name passed to ``.call(`` in apps/ is here.
METHODS: dict[str, Signature] = {
    # ORM methods (odoo/orm/models.py)
    "search_read": Signature(False, ("domain", "fields", "offset", "limit", "order")),
    "search": Signature(False, ("domain", "offset", "limit", "order")),
    "search_count": Signature(False, ("domain", "limit")),
    "read": Signature(True, ("fields", "load")),
    "create": Signature(False, ("vals_list",)),
    "write": Signature(True, ("vals",)),
    "unlink": Signature(True),
    "copy": Signature(True, ("default",)),
    # 17 and 18 call the second parameter ``args``; 19 calls it ``domain``.
    "name_search": Signature(False, ("name", "domain", "operator", "limit")),
    "fields_get": Signature(False, ("allfields", "attributes")),
    # 17 and 18 call it ``fields_list``; 19 calls it ``fields``.
    "default_get": Signature(False, ("fields",)),
    "read_group": Signature(
        False, ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy")
    ),
    "check_access_rights": Signature(False, ("operation", "raise_exception")),
    "check_object_reference": Signature(False, ("module", "xml_id", "raise_on_access_error")),
    # model-specific methods with arguments
    "address_get": Signature(True, ("adr_pref",)),
    "js_assign_outstanding_line": Signature(True, ("line_id",)),
    # buttons and wizard actions: the ids only
    **_buttons(
        "action_confirm",
        "action_cancel",
        "action_unlock",
        "action_lock",
        "action_draft",
        "action_post",
        "action_create_payments",
        "action_apply_inventory",
        "button_validate",
        "button_draft",
        "button_cancel",
        "create_invoices",
        "reconcile",
        "refund_moves",
        "reverse_moves",
        "create_returns",
        "action_create_returns",
        "action_create_returns_all",
        "process",
        "process_cancel_backorder",
        "get_contextual_price",
    ),
}


def _ids(value: Any, *, model: str, method: str) -> list[int]:
    if isinstance(value, bool):
        raise OdooConfigurationError(f"{model}.{method}: ids must be ids, not {value!r}")
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return list(value)
    raise OdooConfigurationError(f"{model}.{method}: ids must be a list of ids, not {value!r}")


def to_body(
    model: str, method: str, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """The JSON-2 body for a JSON-RPC style call, and whether a single created id is unwrapped.

    ``create`` with one dict answers one id over JSON-RPC; JSON-2 answers a list of one id.
    """
    sig = METHODS.get(method)
    if sig is None:
        raise OdooConfigurationError(
            f"{model}.{method} is not in the JSON-2 method table (apps/odoo/json2.py METHODS): "
            "add its parameter names before calling it over JSON-2",
            model=model,
            method=method,
        )
    body: dict[str, Any] = {}
    positional = list(args)
    if sig.records:
        if not positional:
            # JSON-2 would run it on an empty recordset and answer success: never send that.
            raise OdooConfigurationError(
                f"{model}.{method} is a record method and was called without ids",
                model=model,
                method=method,
            )
        body["ids"] = _ids(positional.pop(0), model=model, method=method)
    if len(positional) > len(sig.params):
        raise OdooConfigurationError(
            f"{model}.{method} was given {len(positional)} positional arguments; the JSON-2 "
            f"table names {len(sig.params)} ({', '.join(sig.params) or 'none'})",
            model=model,
            method=method,
        )
    for name, value in zip(sig.params, positional, strict=False):
        body[name] = value
    for name, value in kwargs.items():
        if name in body:
            raise OdooConfigurationError(
                f"{model}.{method}: {name!r} given both by position and by name",
                model=model,
                method=method,
            )
        body[name] = value
    unwrap = False
    if method == "create" and isinstance(body.get("vals_list"), dict):
        body["vals_list"] = [body["vals_list"]]
        unwrap = True
    return body, unwrap


# --- errors -------------------------------------------------------------------------------------

_WERKZEUG = "werkzeug.exceptions."


def classify_json2_error(
    status: int,
    body: Any,
    *,
    model: str | None,
    method: str | None,
    retry_after: float | None = None,
) -> HubError:
    """A non-200 JSON-2 answer into the same classes as a JSON-RPC error object.

    ``body`` is the decoded JSON error body, or the raw text when it was not JSON (an HTML page).
    """
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        return _classify_page(status, body, model=model, method=method, retry_after=retry_after)
    name = str(body["name"])
    message = str(body.get("message") or "")
    where = f"{model}.{method}" if model else str(method)
    ctx: dict[str, Any] = {
        "model": model,
        "method": method,
        "odoo_error": name,
        "odoo_message": message,
        "odoo_code": status,
        "http_status": status,
    }
    text = f"Odoo {name.rsplit('.', 1)[-1]} on {where}: {message}".strip()
    if status == 401 or name == _WERKZEUG + "Unauthorized":
        # A wrong, revoked or expired key; nothing ran.
        return OdooAuthError(text, context=ctx)
    if name == _WERKZEUG + "NotFound":
        # An unknown model or method (a module is missing, or the adapter names the wrong
        # version's method), or a URL that is not a JSON-2 endpoint.
        return OdooConfigurationError(text, context=ctx)
    if name == _WERKZEUG + "UnprocessableEntity":
        # The server's signature does not bind our arguments: the method table is wrong for it.
        return OdooConfigurationError(text, context=ctx)
    if name == _WERKZEUG + "BadRequest":
        return OdooPermanentError(text, context=ctx)
    if status == 409:  # odoo.exceptions.LockError: a record another transaction holds
        return OdooLockContention(text, context=ctx)
    if name.startswith(_WERKZEUG):
        return classify_http_status(status, model=model, method=method, retry_after=retry_after)
    # An Odoo or Python exception: the same rules as the JSON-RPC error object.
    error = {"code": status, "message": "Odoo Server Error", "data": body}
    err = classify_rpc_error(error, model=model, method=method)
    err.context["http_status"] = status
    return err


_NO_DATABASE = re.compile(r"no database is selected", re.IGNORECASE)


def _classify_page(
    status: int, text: Any, *, model: str | None, method: str | None, retry_after: float | None
) -> HubError:
    snippet = re.sub(r"<[^>]+>", " ", str(text or ""))
    snippet = re.sub(r"\s+", " ", snippet).strip()[:200]
    ctx: dict[str, Any] = {"model": model, "method": method, "http_status": status}
    if snippet:
        ctx["odoo_message"] = snippet
    where = f"{model}.{method}" if model else str(method)
    if status == 404 and _NO_DATABASE.search(snippet):
        return OdooConfigurationError(
            f"Odoo does not serve the database on {where}: check ODOO_DB and the server's "
            "dbfilter (HTTP 404)",
            context=ctx,
        )
    if status == 415:
        return OdooConfigurationError(
            f"Odoo refused the request's Content-Type on {where} (HTTP 415): a proxy between the "
            "hub and Odoo rewrites the request",
            context=ctx,
        )
    if status == 200:
        return OdooUnexpectedResponse(f"Odoo answered {where} with a body that is not JSON", **ctx)
    err = classify_http_status(status, model=model, method=method, retry_after=retry_after)
    err.context.update(ctx)
    return err


# --- the transport ------------------------------------------------------------------------------


class NotJson(str):
    """A body that is not JSON (an HTML page, a truncated body), as text."""


class Json2Transport:
    """``/json/2/<model>/<method>`` with a bearer API key (stateless, one transaction a call)."""

    name = "json2"

    def __init__(self, config: OdooConfig, api_key: str) -> None:
        self.config = config
        self._key = api_key
        self._uid: int | None = None
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._session_pid = 0

    def _http(self) -> requests.Session:
        if self._session is None or self._session_pid != os.getpid():
            session = requests.Session()
            pool = max(4, self.config.max_concurrency)
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"Content-Type": "application/json", "User-Agent": "hub"})
            if self._key:
                session.headers["Authorization"] = f"bearer {self._key}"
            if self.config.db:
                session.headers["X-Odoo-Database"] = self.config.db
            self._session, self._session_pid = session, os.getpid()
        return self._session

    def _send(
        self,
        http_method: str,
        path: str,
        *,
        data: str | None,
        model: str | None,
        method: str | None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        from .client import transport_failure

        timeout = timeout or (self.config.timeout_connect, self.config.timeout_read)
        try:
            return self._http().request(
                http_method, f"{self.config.url}{path}", data=data, timeout=timeout
            )
        except requests.RequestException as exc:
            raise transport_failure(exc, model=model, method=method)

    @staticmethod
    def _decode(response: requests.Response) -> Any:
        """The JSON answer, or the body as ``NotJson`` text (a JSON string result stays a
        plain ``str``: it is an answer, of whatever shape, not an unreadable body)."""
        ctype = response.headers.get("Content-Type", "")
        if "json" not in ctype:
            return NotJson(response.text)
        try:
            return response.json()
        except ValueError:
            return NotJson(response.text)

    def execute(self, model: str, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        from .client import _json_default, _retry_after

        if not self._key:
            raise OdooConfigurationError(
                "The JSON-2 transport needs an API key (ODOO_API_KEY)", model=model, method=method
            )
        body, unwrap = to_body(model, method, args, kwargs)
        data = json.dumps(body, default=_json_default)
        response = self._send(
            "POST", f"/json/2/{model}/{method}", data=data, model=model, method=method
        )
        decoded = self._decode(response)
        if response.status_code != 200:
            raise classify_json2_error(
                response.status_code,
                decoded,
                model=model,
                method=method,
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        if isinstance(decoded, NotJson):
            raise OdooUnexpectedResponse(
                "Odoo answered with a body that is not JSON",
                model=model,
                method=method,
                excerpt=shapes.excerpt(str(decoded)),
            )
        if unwrap and isinstance(decoded, list) and len(decoded) == 1:
            return decoded[0]
        return decoded

    def version(self, *, timeout: float | None = None) -> dict[str, Any]:
        """``GET /web/version`` (19+, no authentication), shaped like ``common.version``."""
        t = (min(timeout, self.config.timeout_connect), timeout) if timeout else None
        response = self._send(
            "GET", "/web/version", data=None, model="web", method="version", timeout=t
        )
        decoded = self._decode(response)
        if response.status_code != 200:
            raise classify_json2_error(response.status_code, decoded, model="web", method="version")
        info = decoded.get("version_info") if isinstance(decoded, dict) else None
        if not isinstance(info, list) or not info:
            raise OdooUnexpectedResponse("/web/version did not answer a version_info")
        version = str(decoded.get("version") or ".".join(str(p) for p in info[:2]))
        return {
            "server_version": version,
            "server_version_info": info,
            "server_serie": version,
            "protocol_version": 1,
        }

    def uid(self) -> int:
        """The id of ODOO_USER: JSON-2 has no login call; the key decides who acts, and a call
        that fails on the key raises OdooAuthError here, at login."""
        with self._lock:
            if self._uid is None:
                ids = shapes.expect(
                    self.execute(
                        "res.users", "search", [[["login", "=", self.config.user]]], {"limit": 1}
                    ),
                    [int],
                    partner="odoo",
                    operation="res.users.search",
                    path="result",
                    model="res.users",
                    method="search",
                )
                if not ids:
                    raise OdooAuthError(
                        "The API key works, but Odoo has no active user with the login ODOO_USER",
                        model="res.users",
                        method="search",
                        user=self.config.user,
                        db=self.config.db,
                    )
                self._uid = int(ids[0])
            return self._uid


# --- the choice at login ------------------------------------------------------------------------


def json2_offered(config: OdooConfig, *, timeout: float = 5.0) -> bool:
    """Whether the server speaks JSON-2: ``GET /web/version`` answers a major version ≥ 19.

    Older servers answer 404 (an HTML page). A network failure raises: the choice is not made
    on a server we could not reach.
    """
    from .versions import parse_major

    probe = Json2Transport(config, api_key="")  # /web/version needs no key
    try:
        version = probe.version(timeout=timeout)
    except (OdooConfigurationError, OdooPermanentError, OdooUnexpectedResponse) as exc:
        logger.info("Odoo at %s does not offer JSON-2 (%s)", config.url, exc)
        return False
    try:
        return parse_major(version) >= JSON2_MIN_MAJOR
    except OdooConfigurationError:
        return False


def choose_transport(config: OdooConfig) -> Transport:
    """JSON-2 when the server offers it and an API key is configured for this user, unless
    ``ODOO_TRANSPORT`` forces one; otherwise JSON-RPC (the password, or the key as password)."""
    from .client import JsonRpcTransport

    mode = (config.transport or "auto").lower()
    if mode not in TRANSPORTS:
        raise OdooConfigurationError(
            f"ODOO_TRANSPORT={config.transport!r}: use one of {', '.join(TRANSPORTS)}"
        )
    key = config.key_for_user
    if mode == "jsonrpc":
        return JsonRpcTransport(config)
    if mode == "json2":
        if not key:
            raise OdooConfigurationError(
                f"ODOO_TRANSPORT=json2 needs an API key for the Odoo user {config.user!r} "
                "(ODOO_API_KEY)",
                user=config.user,
            )
        return Json2Transport(config, key)
    if key and json2_offered(config, timeout=min(5.0, config.timeout_connect + 2.0)):
        return Json2Transport(config, key)
    return JsonRpcTransport(config)


def settings_problems(
    transport: str, api_key: str
) -> list[str]:  # used by the Django system check and tests
    mode = (transport or "auto").lower()
    if mode not in TRANSPORTS:
        return [f"ODOO_TRANSPORT={transport!r} is not one of {', '.join(TRANSPORTS)}"]
    if mode == "json2" and not api_key:
        return ["ODOO_TRANSPORT=json2 needs ODOO_API_KEY (an Odoo API key of ODOO_USER)"]
    return []
