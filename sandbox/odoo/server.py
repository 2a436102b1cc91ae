"""HTTP front: JSON-RPC endpoints, web-session endpoints, control endpoints, faults.

One lock guards all state; latency is slept outside it so that concurrent calls overlap the
way they would on a multi-worker Odoo. JSON-2 is answered by json2.py, the automation rules'
webhooks by webhooks.py.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import SERVER_VERSION, SERVER_VERSION_INFO, hostile, json2, versions
from . import account as _account  # noqa: F401  (registers model behaviour)
from . import misc as _misc  # noqa: F401
from . import pricing as _pricing  # noqa: F401
from . import sale as _sale  # noqa: F401
from . import stock as _stock  # noqa: F401
from . import variants as _variants  # noqa: F401  (attribute values, price_extra, images)
from .access import check_access, key_uid
from .errors import (
    ACCESS_DENIED,
    KEY_ERROR,
    SERIALIZATION_FAILURE,
    SERIALIZATION_MESSAGE,
    SESSION_EXPIRED,
    TYPE_ERROR,
    USER_ERROR,
    OdooError,
    error_body,
)
from .faults import Faults, FaultState, Stats
from .orm import READ_METHODS, Env, call
from .schema import REGISTRY
from .seed import seed
from .store import Store
from .webhooks import WebhookTracker

VERSION_INFO: dict[str, Any] = {
    "server_version": SERVER_VERSION,
    "server_version_info": SERVER_VERSION_INFO,
    "server_serie": "17.0",
    "protocol_version": 1,
}
EXECUTE_KW_PARAMS = ["db", "uid", "passwd", "model", "method", "args"]


def new_api_key(env: Env, uid: int, name: str, key: str | None = None) -> str:
    key = key or secrets.token_hex(20)
    env.new_raw("res.users.apikeys", {"name": name, "user_id": uid, "scope": None, "_key": key})
    return key


def _missing_args_message(fn: str, names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        listed = quoted[0]
    elif len(quoted) == 2:
        listed = f"{quoted[0]} and {quoted[1]}"
    else:
        listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}"
    plural = "argument" if len(names) == 1 else "arguments"
    return f"{fn}() missing {len(names)} required positional {plural}: {listed}"


class Dropped(Exception):
    """Raised to close the connection without answering."""


class Sandbox:
    def __init__(
        self,
        db: str = "hub",
        data_path: str | None = None,
        baseline: Faults | None = None,
        demo: bool = True,
        api_keys: tuple[str, ...] = (),
    ) -> None:
        self.demo = demo
        self.api_keys = api_keys  # seeded for admin at start and after every reset
        self.db = db
        self.lock = threading.Lock()
        self.store = Store()
        self.faults = FaultState(baseline or Faults())
        self.stats = Stats()
        self.sessions: dict[str, int] = {}
        self.data_path = data_path
        if data_path and self.store.attach(data_path):
            return
        seed(self.store, self.demo)
        self._seed_api_keys()
        self.store.flush(full=True)

    def _seed_api_keys(self) -> None:
        env = Env(self.store, 2, {})
        for n, key in enumerate(self.api_keys, 1):
            if key_uid(self.store, key) is None:
                new_api_key(env, 2, f"sandbox key {n}", key)

    def reset(self) -> None:
        with self.lock:
            seed(self.store, self.demo)
            self._seed_api_keys()
            self.store.flush(full=True)
            self.sessions.clear()
        self.faults.reset()
        self.stats.reset()

    # -- authentication ---------------------------------------------------------------------
    def _check_db(self, db: Any) -> None:
        if db != self.db:
            msg = (
                f'connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: '
                f'FATAL:  database "{db}" does not exist\n'
            )
            raise OdooError("psycopg2.OperationalError", msg)

    def _login(self, login: Any, password: Any) -> int | None:
        for uid, user in self.store.tables["res.users"].items():
            if user.get("login") == login and user.get("active", True):
                if password and (
                    password == user.get("password")
                    or any(
                        k.get("_key") == password and k.get("user_id") == uid
                        for k in self.store.tables["res.users.apikeys"].values()
                    )
                ):
                    return uid
                return None
        return None

    def _check_uid(self, uid: Any, password: Any) -> None:
        user = self.store.tables["res.users"].get(uid) if isinstance(uid, int) else None
        if (
            user is None
            or not user.get("active", True)
            or self._login(user.get("login"), password) != uid
        ):
            raise OdooError(ACCESS_DENIED, "Access Denied")

    # -- dispatch ---------------------------------------------------------------------------
    def run(self, service: str, method: str, args: list[Any]) -> tuple[Any, Env | None]:
        if service == "common":
            if method == "version":
                return dict(VERSION_INFO), None
            if method in ("authenticate", "login"):
                if len(args) < 3:
                    raise OdooError(
                        TYPE_ERROR,
                        _missing_args_message(
                            f"exp_{method}", ["db", "login", "password"][len(args) :]
                        ),
                    )
                self._check_db(args[0])
                uid = self._login(args[1], args[2])
                return (uid if uid is not None else False), None
            if method == "about":
                return "See http://openerp.com", None
            raise OdooError("builtins.Exception", f'No such method "{method}"')
        if service == "db":
            if method == "list":
                return [self.db], None
            if method == "server_version":
                return VERSION_INFO["server_version"], None
            raise OdooError("builtins.Exception", f'No such method "{method}"')
        if service == "object":
            if method == "execute_kw":
                if len(args) < 6:
                    raise OdooError(
                        TYPE_ERROR,
                        _missing_args_message("execute_kw", EXECUTE_KW_PARAMS[len(args) :]),
                    )
                db, uid, password, model, meth, margs = args[:6]
                kwargs = args[6] if len(args) > 6 else {}
            elif method == "execute":
                if len(args) < 5:
                    raise OdooError(
                        TYPE_ERROR,
                        _missing_args_message("execute", EXECUTE_KW_PARAMS[len(args) : 5]),
                    )
                db, uid, password, model, meth = args[:5]
                margs, kwargs = list(args[5:]), {}
            else:
                raise OdooError("builtins.NameError", f"Method not available {method}")
            self._check_db(db)
            self._check_uid(uid, password)
            return self.execute(uid, model, meth, margs, kwargs or {}, {})
        raise OdooError(KEY_ERROR, service)

    def execute(
        self,
        uid: int,
        model: Any,
        meth: Any,
        margs: Any,
        kwargs: dict[str, Any],
        extra_ctx: dict[str, Any],
    ) -> tuple[Any, Env]:
        if not isinstance(model, str) or model not in REGISTRY:
            raise OdooError(USER_ERROR, f"Object {model} doesn't exist")
        if not isinstance(margs, list):
            margs = [margs]
        if not isinstance(kwargs, dict):
            raise OdooError(TYPE_ERROR, "execute_kw() kwargs must be a dict")
        kwargs = dict(kwargs)
        ctx = kwargs.pop("context", None) or {}
        if not isinstance(ctx, dict):
            ctx = {}
        env = Env(self.store, uid, {**ctx, **extra_ctx})
        if not isinstance(meth, str) or meth.startswith("_"):
            return call(env, model, str(meth), margs, kwargs), env
        margs = list(margs)
        wire_out = versions.wire_in(model, meth, margs, kwargs, env)  # 18/19 -> the store's
        operation = (
            "read"
            if meth in READ_METHODS
            else meth
            if meth in ("create", "write", "unlink")
            else "write"
        )
        if meth != "check_access_rights":  # any user may ask what it may do (real 17)
            check_access(env, model, "read")
        if operation != "read":
            check_access(env, model, operation)
        tracker = WebhookTracker(env) if operation != "read" else None
        result = call(env, model, meth, margs, kwargs)
        if tracker is not None:
            tracker.finish()
        if wire_out is not None:
            result = wire_out(result)
        return result, env

    def transaction(self, fn: Any) -> tuple[Any, Env | None]:
        """Run ``fn`` under the state lock as one all-or-nothing transaction."""
        with self.lock:
            self.store.begin()
            try:
                result, env = fn()
            except OdooError:
                self.store.rollback()
                raise
            except Exception as exc:  # a bug or a bad argument: report it like Odoo would
                self.store.rollback()
                raise OdooError(f"builtins.{type(exc).__name__}", str(exc)) from exc
            self.store.commit()
        if env is not None:
            for job in env.after_commit:
                threading.Thread(target=job, daemon=True).start()
        return result, env


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    # -- plumbing ---------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        """Close without answering: the client sees a ConnectionError."""
        self.close_connection = True

    # -- routes -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        sb = self.server.sandbox
        path = self.path.split("?")[0]
        if path == "/__sandbox__/health":
            self._send(200, {"status": "ok", "db": sb.db})
        elif path == "/__sandbox__/faults":
            self._send(200, sb.faults.get())
        elif path == "/__sandbox__/stats":
            self._send(200, sb.stats.snapshot())
        elif sb.faults.is_down():
            self._drop()  # down: GET /web/version (JSON-2's probe) gets no answer either
        elif path == "/web/webclient/version_info":
            self._send(200, VERSION_INFO)
        elif path.startswith("/json/2") or path in json2.VERSION_PATHS:
            json2.handle(self, "GET", path, b"")
        else:
            self._send(404, {"error": "not found"})

    def do_POST(self) -> None:
        sb = self.server.sandbox
        path = self.path.split("?")[0]
        raw = self._body()
        if path.startswith("/__sandbox__/"):
            self._control(path, raw)
            return
        if sb.faults.is_down():
            self._drop()
            return
        if path == "/json/2" or path.startswith("/json/2/"):
            json2.handle(self, "POST", path, raw)
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            self._send(400, {"error": "invalid JSON body"})
            return
        req_id = body.get("id")
        params = body.get("params") or {}
        if path == "/jsonrpc":
            self._jsonrpc(req_id, params)
        elif path == "/web/session/authenticate":
            self._web_authenticate(req_id, params)
        elif path.startswith("/web/dataset/call_kw") or path.startswith("/web/dataset/call"):
            self._call_kw(req_id, params)
        elif path == "/web/webclient/version_info":
            self._send(200, {"jsonrpc": "2.0", "id": req_id, "result": VERSION_INFO})
        else:
            self._send(404, {"error": "not found"})

    def _finish_call(
        self,
        req_id: Any,
        key: str,
        model: str | None,
        method: str | None,
        fn: Any,
        is_write: bool,
        headers: dict[str, str] | None = None,
        on_error: Callable[[OdooError], None] | None = None,
        on_result: Callable[[Any], None] | None = None,
    ) -> None:
        """Count, inject faults, run ``fn`` as one transaction, answer. JSON-RPC answers by
        default; JSON-2 passes its own ``on_error`` / ``on_result`` (json2.py)."""
        sb = self.server.sandbox
        send_error = on_error or (lambda err: self._send(200, error_body(req_id, err)))
        sb.stats.count(key)
        forced = sb.faults.take_fail_next(model, method)
        if forced is not None and forced.get("answer"):  # a broken server's answer (hostile.py)
            time.sleep(sb.faults.latency(0))
            hostile.send(self, forced, req_id, json2=on_result is not None)
            return
        if forced is not None:
            err = OdooError(
                str(forced.get("error_name") or USER_ERROR),
                str(forced.get("message") or "Injected failure"),
            )
            time.sleep(sb.faults.latency(0))
            send_error(err)
            return
        kind = sb.faults.roll_transient()
        if kind == "http503":
            time.sleep(sb.faults.latency(0))
            self._send(503, {"error": "Service Unavailable"})
            return
        if kind == "serialization":
            time.sleep(sb.faults.latency(0))
            send_error(OdooError(SERIALIZATION_FAILURE, SERIALIZATION_MESSAGE))
            return
        try:
            result, env = sb.transaction(fn)
        except OdooError as err:
            time.sleep(sb.faults.latency(0))
            send_error(err)
            return
        time.sleep(sb.faults.latency(env.touched if env is not None else 0))
        if is_write and sb.faults.take_drop(method):
            self._drop()
            return
        if on_result is not None:
            on_result(result)
            return
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": req_id}
        if result is not None:
            response["result"] = result  # None -> no "result" key, exactly like Odoo
        self._send(200, response, headers)

    def _jsonrpc(self, req_id: Any, params: dict[str, Any]) -> None:
        sb = self.server.sandbox
        service = str(params.get("service"))
        method = str(params.get("method"))
        args = params.get("args") or []
        if not isinstance(args, list):
            args = [args]
        model: str | None = None
        meth: str | None = method
        if service == "object" and method in ("execute_kw", "execute"):
            model = args[3] if len(args) > 3 and isinstance(args[3], str) else None
            meth = args[4] if len(args) > 4 and isinstance(args[4], str) else None
            key = f"{model}.{meth}"
        else:
            key = f"{service}.{method}"
        is_write = service == "object" and meth not in READ_METHODS
        self._finish_call(
            req_id, key, model or service, meth, lambda: sb.run(service, method, args), is_write
        )

    def _web_authenticate(self, req_id: Any, params: dict[str, Any]) -> None:
        sb = self.server.sandbox
        holder: dict[str, str] = {}

        def fn() -> tuple[Any, Env | None]:
            sb._check_db(params.get("db"))
            uid = sb._login(params.get("login"), params.get("password"))
            if uid is None:
                raise OdooError(ACCESS_DENIED, "Access Denied")
            sid = secrets.token_hex(20)
            sb.sessions[sid] = uid
            holder["sid"] = sid
            user = sb.store.tables["res.users"][uid]
            env = Env(sb.store, uid, {})
            return {
                "uid": uid,
                "is_system": uid == 2,
                "is_admin": uid == 2,
                "is_internal_user": True,
                "user_context": {
                    "lang": user.get("lang") or "en_US",
                    "tz": user.get("tz") or "UTC",
                    "uid": uid,
                },
                "db": sb.db,
                "server_version": VERSION_INFO["server_version"],
                "server_version_info": VERSION_INFO["server_version_info"],
                "name": user.get("name"),
                "username": user.get("login"),
                "partner_display_name": env.display_name("res.partner", user.get("partner_id")),
                "partner_id": user.get("partner_id"),
                "user_companies": {
                    "current_company": 1,
                    "allowed_companies": {
                        "1": {
                            "id": 1,
                            "name": sb.store.tables["res.company"][1]["name"],
                            "sequence": 0,
                            "child_ids": [],
                            "parent_id": False,
                        }
                    },
                },
                "currencies": {"1": {"symbol": "$", "position": "before", "digits": [69, 2]}},
            }, None

        sb.stats.count("web.session.authenticate")
        try:
            result, _ = sb.transaction(fn)
        except OdooError as err:
            self._send(200, error_body(req_id, err))
            return
        cookie = f"session_id={holder['sid']}; Max-Age=604800; HttpOnly; Path=/"
        self._send(200, {"jsonrpc": "2.0", "id": req_id, "result": result}, {"Set-Cookie": cookie})

    def _call_kw(self, req_id: Any, params: dict[str, Any]) -> None:
        sb = self.server.sandbox
        sid = None
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "session_id":
                sid = value
        uid = sb.sessions.get(sid or "")
        if uid is None:
            self._send(
                200, error_body(None, OdooError(SESSION_EXPIRED, "Session expired", code=100))
            )
            return
        model = params.get("model")
        method = params.get("method")
        args = params.get("args") or []
        kwargs = params.get("kwargs") or {}
        is_write = method not in READ_METHODS
        self._finish_call(
            req_id,
            f"{model}.{method}",
            model,
            method,
            lambda: sb.execute(uid, model, method, args, kwargs, {"_web_session": True}),
            is_write,
        )

    def _control(self, path: str, raw: bytes) -> None:
        sb = self.server.sandbox
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send(400, {"error": "invalid JSON"})
            return
        if path == "/__sandbox__/reset":
            sb.reset()
            self._send(200, {"status": "reset"})
        elif path == "/__sandbox__/faults":
            try:
                self._send(200, sb.faults.update(body if isinstance(body, dict) else {}))
            except (TypeError, ValueError) as exc:
                self._send(400, {"error": str(exc)})
        elif path == "/__sandbox__/stats/reset":
            sb.stats.reset()
            self._send(200, sb.stats.snapshot())
        elif path == "/__sandbox__/apikeys":
            login = body.get("login", "admin")

            def fn() -> tuple[Any, Env | None]:
                uid = next(
                    (
                        u
                        for u, rec in sb.store.tables["res.users"].items()
                        if rec.get("login") == login
                    ),
                    None,
                )
                if uid is None:
                    raise OdooError(USER_ERROR, f"no such login {login!r}")
                env = Env(sb.store, uid, {})
                key = new_api_key(env, uid, str(body.get("name") or "sandbox key"), body.get("key"))
                return {"key": key, "uid": uid}, None

            try:
                result, _ = sb.transaction(fn)
            except OdooError as err:
                self._send(400, {"error": err.message})
                return
            self._send(200, result)
        else:
            self._send(404, {"error": "not found"})


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.sandbox = sandbox
        self.verbose = verbose


def make_server(
    host: str = "127.0.0.1",
    port: int = 8069,
    db: str = "hub",
    data_path: str | None = None,
    baseline: Faults | None = None,
    verbose: bool = False,
    demo: bool = True,
    odoo_version: int = 17,
    api_keys: tuple[str, ...] = (),
) -> SandboxHTTPServer:
    versions.apply(odoo_version)  # before the seed: the store is shaped the same on every version
    sandbox = Sandbox(db, data_path, baseline, demo, api_keys)
    return SandboxHTTPServer((host, port), sandbox, verbose)
