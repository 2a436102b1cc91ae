"""The one place that speaks to Odoo over the wire.

Two layers:

- a *transport* (``Transport``) moves one call to Odoo and back and owns authentication:
  ``JsonRpcTransport`` (``POST {url}/jsonrpc``, Odoo 16-19) or ``Json2Transport`` in json2.py
  (``POST /json/2/<model>/<method>`` with a bearer API key, Odoo 19+). ``json2.choose_transport``
  picks one at login (``ODOO_TRANSPORT``, ``ODOO_API_KEY``); nothing else in the hub changes.
- ``OdooClient`` puts every call through the circuit breaker and the shared concurrency cap,
  records metrics, retries idempotent reads, and detects the server version once to choose the
  version adapter.

Protocol facts (EXTERNAL_API.md, transcripts 01 and 10): failures come back as HTTP 200 with an
``error`` member; a missing ``result`` means the method returned None; ``false`` means "empty".
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from apps.core import shapes
from apps.core.errors import (
    ConfigurationError,
    HubError,
    LockContention,
    PermanentError,
    TransientError,
)
from apps.core.metrics import ODOO_RPC, ODOO_RPC_LATENCY, ODOO_TRANSPORT

from .errors import (
    OdooAuthError,
    OdooBreakerOpen,
    OdooBusy,
    OdooTransientError,
    OdooUnexpectedResponse,
    classify_http_status,
    classify_rpc_error,
)
from .protection import CircuitBreaker, ConcurrencyCap, SharedLogin, connection_id
from .versions import VersionAdapter, adapter_for

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Methods that change nothing in Odoo and can therefore be retried inside one call of ours.
# Writes are never retried here: a timeout after Odoo committed would write twice. They surface
# as TransientError and the task layer retries the whole (check-before-create) service.
IDEMPOTENT_METHODS = frozenset(
    {
        "version",
        "search",
        "search_read",
        "search_count",
        "read",
        "read_group",
        "fields_get",
        "name_search",
        "address_get",
    }
)
READ_RETRIES = 2
READ_RETRY_BASE_SECONDS = 0.2

# What the ORM methods answer (the same over JSON-RPC and JSON-2), checked in ``OdooClient.call``
# before any gateway code reads it (apps.core.shapes): a proxy's ``{}``, an error object in the
# wrong place or a customised method's odd value is a BadPartnerAnswer naming the model and
# method, never a TypeError in the gateway. Methods not listed answer what their model defines.
RESULT_SHAPES: dict[str, Any] = {
    "search": [int],
    "search_read": [dict],
    "read": [dict],
    "read_group": [dict],
    "search_count": int,
    "fields_get": dict,
    "default_get": dict,
    "name_search": [list],
    "create": (int, [int]),
    "write": bool,
    "unlink": bool,
}


@dataclass(frozen=True)
class OdooConfig:
    url: str
    db: str
    user: str
    password: str  # a password or an API key: Odoo accepts either in the same place
    timeout_connect: float = 5.0
    timeout_read: float = 60.0
    max_concurrency: int = 4
    breaker_threshold: int = 5
    breaker_probe_seconds: float = 15.0
    slot_wait_seconds: float = 10.0
    api_key: str = ""  # an API key of ``api_key_user`` (JSON-2; JSON-RPC takes it as password)
    api_key_user: str = ""  # the login the key belongs to ("" = whichever ``user`` is)
    transport: str = "auto"  # auto | jsonrpc | json2 (ODOO_TRANSPORT)

    @property
    def key_for_user(self) -> str:
        """The API key, if it belongs to ``user`` (a config copied for another user, such as
        the accounting user's, must not act with the integration user's key)."""
        return self.api_key if self.api_key_user in ("", self.user) else ""

    @classmethod
    def from_settings(cls) -> OdooConfig:
        return cls(
            url=str(settings.ODOO_URL).rstrip("/"),
            db=settings.ODOO_DB,
            user=settings.ODOO_USER,
            password=settings.ODOO_PASSWORD,
            timeout_connect=float(settings.ODOO_TIMEOUT_CONNECT),
            timeout_read=float(settings.ODOO_TIMEOUT_READ),
            max_concurrency=int(settings.ODOO_MAX_CONCURRENCY),
            breaker_threshold=int(settings.ODOO_BREAKER_THRESHOLD),
            breaker_probe_seconds=float(settings.ODOO_BREAKER_PROBE_SECONDS),
            slot_wait_seconds=float(getattr(settings, "ODOO_SLOT_WAIT_SECONDS", 10.0)),
            api_key=str(getattr(settings, "ODOO_API_KEY", "") or ""),
            api_key_user=settings.ODOO_USER,
            transport=str(getattr(settings, "ODOO_TRANSPORT", "auto") or "auto"),
        )


def _json_default(value: Any) -> Any:
    # Money is Decimal in the canonical model; Odoo's float fields take a JSON number.
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        # Odoo's wire format is naive UTC "YYYY-MM-DD HH:MM:SS".
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable for Odoo")


class Transport(Protocol):
    """Moves one call to Odoo; raises classified errors (apps.odoo.errors)."""

    name: str  # "jsonrpc" or "json2": shown in /readyz and the metrics

    def version(self, *, timeout: float | None = None) -> dict[str, Any]: ...

    def execute(
        self, model: str, method: str, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> Any: ...

    def uid(self) -> int: ...


def transport_failure(
    exc: requests.RequestException, *, model: str | None, method: str | None
) -> OdooTransientError:
    """A request that got no HTTP answer (both transports)."""
    where: dict[str, Any] = {"model": model, "method": method}
    if isinstance(exc, requests.ConnectTimeout):
        return OdooTransientError(
            f"Odoo connect timeout: {exc}", context={**where, "maybe_committed": False}
        )
    if isinstance(exc, requests.ReadTimeout):
        # The request was sent: Odoo may have committed it. Writes rely on check-before-create.
        return OdooTransientError(
            f"Odoo read timeout: {exc}", context={**where, "maybe_committed": True}
        )
    if isinstance(exc, requests.ConnectionError):
        return OdooTransientError(
            f"Odoo connection failed: {exc}", context={**where, "maybe_committed": True}
        )
    return OdooTransientError(
        f"Odoo request failed: {exc}", context={**where, "maybe_committed": True}
    )


def result_shape(method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """What ``method`` must answer: ``RESULT_SHAPES``, and for ``search_read`` / ``read`` with
    named fields, records holding ``id`` and every field asked for (Odoo always returns them:
    a record without one is no Odoo answer, and the gateway would fail on it)."""
    if method in ("search_read", "read"):
        fields = kwargs.get("fields", args[1] if len(args) > 1 else None)
        if isinstance(fields, (list, tuple)) and fields and all(isinstance(f, str) for f in fields):
            return [{"id": int, **dict.fromkeys(fields, shapes.ANY)}]
    return RESULT_SHAPES.get(method)


class JsonRpcTransport:
    """``/jsonrpc`` with the credentials in every call (stateless on Odoo's side)."""

    name = "jsonrpc"

    def __init__(self, config: OdooConfig) -> None:
        self.config = config
        # The password, or the API key in its place (Odoo accepts either there).
        self.secret = config.password or config.key_for_user
        self._uid: int | None = None
        self._login = SharedLogin(config.url, config.db, config.user, self.secret)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._session_pid = 0

    # -- HTTP ------------------------------------------------------------------------------------
    def _http(self) -> requests.Session:
        # A session created before a fork (Celery prefork) would share sockets with the parent.
        if self._session is None or self._session_pid != os.getpid():
            session = requests.Session()
            pool = max(4, self.config.max_concurrency)
            # Keep-alive saves a TCP (and TLS) handshake per call; retries are ours, not urllib3's.
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"Content-Type": "application/json", "User-Agent": "hub"})
            self._session, self._session_pid = session, os.getpid()
        return self._session

    def _rpc(
        self,
        service: str,
        method: str,
        args: Sequence[Any],
        *,
        model: str | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> Any:
        label_model = model or service
        label_method = method if service != "object" else str(args[4]) if len(args) > 4 else method
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": next(self._ids),
        }
        data = json.dumps(payload, default=_json_default)
        timeout = timeout or (self.config.timeout_connect, self.config.timeout_read)
        where: dict[str, Any] = {"model": label_model, "method": label_method}
        try:
            response = self._http().post(f"{self.config.url}/jsonrpc", data=data, timeout=timeout)
        except requests.RequestException as exc:
            raise transport_failure(exc, model=label_model, method=label_method)
        if response.status_code != 200:
            raise classify_http_status(
                response.status_code,
                model=label_model,
                method=label_method,
                retry_after=_retry_after(response.headers.get("Retry-After")),
            )
        try:
            body = response.json()
        except ValueError:
            raise OdooUnexpectedResponse(
                "Odoo answered with a body that is not JSON",
                context={**where, "excerpt": shapes.excerpt(response.content)},
            )
        if not isinstance(body, dict):
            raise OdooUnexpectedResponse("Odoo answered with a non-object JSON body", context=where)
        if "error" in body:
            raise classify_rpc_error(body["error"], model=label_model, method=label_method)
        if "result" not in body and "jsonrpc" not in body:
            # Odoo leaves out "result" only for None, and always says "jsonrpc": an object
            # without either (``{}``, a proxy's status) is no JSON-RPC answer at all.
            raise shapes.bad_answer(
                body,
                "jsonrpc: missing (not a JSON-RPC answer)",
                partner="odoo",
                operation=f"{label_model}.{label_method}",
                endpoint="POST /jsonrpc",
                model=label_model,
                method=label_method,
            )
        # No "result" key at all is how Odoo says the method returned None.
        return body.get("result")

    # -- Transport -------------------------------------------------------------------------------
    def version(self, *, timeout: float | None = None) -> dict[str, Any]:
        t = (min(timeout, self.config.timeout_connect), timeout) if timeout else None
        result = self._rpc("common", "version", [], timeout=t)
        if not isinstance(result, dict):
            raise OdooUnexpectedResponse("common.version did not return an object")
        return result

    def _authenticate(self) -> int:
        cfg = self.config
        uid = self._rpc("common", "authenticate", [cfg.db, cfg.user, self.secret, {}])
        # A wrong password is not an error object: authenticate answers false.
        if not isinstance(uid, int) or isinstance(uid, bool) or uid <= 0:
            raise OdooAuthError(
                "Odoo refused the login (wrong user, password or API key)",
                model="common",
                method="authenticate",
                user=cfg.user,
                db=cfg.db,
            )
        return uid

    def uid(self) -> int:
        with self._lock:
            if self._uid is None:
                # Another hub process may have logged in already (protection.SharedLogin).
                self._uid = self._login.get()
            if self._uid is None:
                self._uid = self._authenticate()
                self._login.put(self._uid)
            return self._uid

    def execute(self, model: str, method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        cfg = self.config
        for attempt in (1, 2):
            uid = self.uid()
            try:
                return self._rpc(
                    "object",
                    "execute_kw",
                    [cfg.db, uid, self.secret, model, method, list(args), kwargs],
                    model=model,
                )
            except OdooAuthError:
                # The key may have been rotated or the uid cached from another database: log in
                # again once. AccessDenied is raised before the method runs, so nothing was done.
                with self._lock:
                    self._uid = None
                    self._login.forget()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class OdooClient:
    """Protected, measured, version-aware access to one Odoo database."""

    def __init__(self, config: OdooConfig, *, transport: Transport | None = None) -> None:
        self.config = config
        self._transport: Transport | None = transport
        self._choosing = threading.Lock()
        key, self.label = connection_id(config.url, config.db)
        self.cap = ConcurrencyCap(
            key=key,
            slots=config.max_concurrency,
            lease_seconds=config.timeout_connect + config.timeout_read + 10.0,
            wait_seconds=config.slot_wait_seconds,
        )
        self.breaker = CircuitBreaker(
            key=key,
            label=self.label,
            threshold=config.breaker_threshold,
            probe_seconds=config.breaker_probe_seconds,
        )
        self._version: dict[str, Any] | None = None
        self._adapter: VersionAdapter | None = None
        self._fields: dict[tuple[str, str], bool] = {}

    # -- transport -----------------------------------------------------------------------------
    @property
    def transport(self) -> Transport:
        """The transport, chosen at the first call (json2.choose_transport may probe Odoo; a
        failure raises and the choice is made again on the next call)."""
        if self._transport is None:
            from .json2 import choose_transport

            with self._choosing:
                if self._transport is None:
                    chosen = choose_transport(self.config)
                    ODOO_TRANSPORT.labels(self.label, chosen.name).set(1)
                    logger.info("Odoo %s: transport %s", self.label, chosen.name)
                    self._transport = chosen
        return self._transport

    @transport.setter
    def transport(self, value: Transport) -> None:
        self._transport = value

    @property
    def transport_name(self) -> str:
        """The chosen transport, or the configured mode while none is chosen yet."""
        if self._transport is not None:
            return str(getattr(self._transport, "name", type(self._transport).__name__))
        return f"{self.config.transport or 'auto'} (not chosen yet)"

    # -- version -------------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        if self._version is None:
            self._version = self._protected(
                "common", "version", lambda: self.transport.version(), idempotent=True
            )
        return self._version

    @property
    def adapter(self) -> VersionAdapter:
        if self._adapter is None:
            self._adapter = adapter_for(self.version())
        return self._adapter

    def probe(self, *, timeout: float = 3.0) -> dict[str, Any]:
        """``common.version`` straight to Odoo, past the breaker and the cap (for /readyz)."""
        return self.transport.version(timeout=timeout)

    def uid(self) -> int:
        return self._protected("common", "authenticate", self.transport.uid, idempotent=True)

    def has_field(self, model: str, field: str) -> bool:
        """Whether ``field`` exists on ``model`` (cached per process; modules add fields)."""
        return field in self.fields_present(model, [field])

    def fields_present(self, model: str, fields: Sequence[str]) -> set[str]:
        """Which of ``fields`` exist on ``model``: one ``fields_get`` for those not known yet
        (cached per process; modules such as stock_delivery add fields)."""
        unknown = [f for f in dict.fromkeys(fields) if (model, f) not in self._fields]
        if unknown:
            found = self.call(model, "fields_get", [unknown], {"attributes": ["type"]})
            for f in unknown:
                self._fields[(model, f)] = bool(found) and f in found
        return {f for f in fields if self._fields[(model, f)]}

    # -- calls ----------------------------------------------------------------------------------
    def call(
        self,
        model: str,
        method: str,
        args: Sequence[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        *,
        context: dict[str, Any] | None = None,
    ) -> Any:
        """``execute_kw(model, method, *args, **kwargs)``; ``context`` goes into kwargs. The
        result of an ORM method is checked against ``RESULT_SHAPES``."""
        kw = dict(kwargs or {})
        if context:
            kw["context"] = {**kw.get("context", {}), **context}
        result = self._protected(
            model,
            method,
            lambda: self.transport.execute(model, method, list(args or []), kw),
            idempotent=method in IDEMPOTENT_METHODS,
        )
        spec = result_shape(method, args or [], kw)
        if spec is not None:
            shapes.expect(
                result,
                spec,
                partner="odoo",
                operation=f"{model}.{method}",
                path="result",
                model=model,
                method=method,
            )
        return result

    def _protected(self, model: str, method: str, fn: Callable[[], T], *, idempotent: bool) -> T:
        attempts = 1 + (READ_RETRIES if idempotent else 0)
        for attempt in range(attempts):
            try:
                return self._once(model, method, fn)
            except (OdooBreakerOpen, OdooBusy):
                raise  # the protection already decided; retrying here would defeat it
            except TransientError:
                if attempt + 1 >= attempts:
                    raise
                delay = READ_RETRY_BASE_SECONDS * (2**attempt) * random.uniform(0.5, 1.5)
                logger.info("Retrying %s.%s in %.2fs", model, method, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _once(self, model: str, method: str, fn: Callable[[], T]) -> T:
        outcome = "ok"
        started: float | None = None
        try:
            self.breaker.before_call()
            with self.cap.slot():
                started = time.perf_counter()
                result = fn()
        except HubError as exc:
            outcome = _outcome(exc)
            if outcome == "transient":
                self.breaker.record_failure()
            elif outcome in ("permanent", "config"):
                self.breaker.record_success()  # Odoo answered: it is up
            raise
        else:
            self.breaker.record_success()
            return result
        finally:
            ODOO_RPC.labels(model, method, outcome).inc()
            if started is not None:
                elapsed = time.perf_counter() - started
                ODOO_RPC_LATENCY.labels(model, method).observe(elapsed)
                logger.debug("odoo %s.%s %s in %.1f ms", model, method, outcome, elapsed * 1000)


def _outcome(exc: HubError) -> str:
    if isinstance(exc, OdooBreakerOpen):
        return "breaker_open"
    if isinstance(exc, OdooBusy):
        return "busy"
    if isinstance(exc, LockContention):
        return "lock"  # Odoo is alive, only contended: neither opens nor closes the breaker
    if isinstance(exc, TransientError):
        return "transient"
    if isinstance(exc, ConfigurationError):
        return "config"
    if isinstance(exc, PermanentError):
        return "permanent"
    return "error"


_clients: dict[tuple[OdooConfig, int], OdooClient] = {}
_clients_lock = threading.Lock()


def get_client(config: OdooConfig | None = None) -> OdooClient:
    """The process-wide client for ``config`` (default: settings), created on first use."""
    config = config or OdooConfig.from_settings()
    key = (config, os.getpid())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = OdooClient(config)
        return client
