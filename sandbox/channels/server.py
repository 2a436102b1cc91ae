"""HTTP front shared by the stand-ins: platform routing, faults, control endpoints.

Every stand-in also answers the Stripe API under ``/v1/`` (``stripe.py``): the payment gateway
account of a WooCommerce or BigCommerce store; faults and latency apply to it as well.

Latency is slept before the platform handler takes the store lock, so concurrent calls overlap
the way they would against a real API; the handler itself runs under the one store lock.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import hostile, magento_ops, sender
from .base import Platform, Request, Response
from .bigcommerce import BigCommerce
from .magento import Magento
from .shopify import Shopify
from .store import Store, default_seed
from .stripe import Stripe
from .woocommerce import WooCommerce

CONTROL = "/__standin__/"
STRIPE = "/v1/"
RECEIVED_BODY_LIMIT = 1_000_000  # keep giant bodies out of the log; the size is still recorded


class Faults:
    """``latency_ms``, ``down`` and one-shot ``fail_next`` answers; guarded by its own lock.

    A ``fail_next`` item matches a call by ``path_contains`` (default: any), and optionally
    ``method`` and ``body_contains`` (a substring of the raw request body, e.g. the name of a
    GraphQL mutation). By default it answers ``status``/``body``/``headers`` instead of the
    platform. ``after: true`` lets the platform handle the call first (the write happens) and
    then replaces its answer; ``drop: true`` sends no answer at all and closes the connection,
    so the client sees a reset. ``after`` + ``drop`` is the lost answer of a write that happened.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latency_ms = 0.0
        self.down = False
        self.fail_next: list[dict[str, Any]] = []

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "down": self.down,
                "fail_next": copy.deepcopy(self.fail_next),
            }

    def update(self, values: dict[str, Any]) -> None:
        with self._lock:
            if "latency_ms" in values:
                self.latency_ms = max(0.0, float(values["latency_ms"] or 0))
            if "down" in values:
                self.down = bool(values["down"])
            if "fail_next" in values:
                items = values["fail_next"] or []
                if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                    raise ValueError("fail_next must be a list of objects")
                self.fail_next = [dict(i) for i in items]

    def take(self, path: str, method: str = "", body: bytes = b"") -> dict[str, Any] | None:
        """First queued failure matching ``path_contains`` (default: any), ``method`` and
        ``body_contains`` (both optional)."""
        with self._lock:
            for i, item in enumerate(self.fail_next):
                if str(item.get("path_contains") or "") not in path:
                    continue
                if item.get("method") and str(item["method"]).upper() != method.upper():
                    continue
                needle = str(item.get("body_contains") or "").encode()
                if needle and needle not in body:
                    continue
                return self.fail_next.pop(i)
            return None


class StandIn:
    def __init__(self, kind: str, seed_rows: list[dict[str, Any]]) -> None:
        self.kind = kind
        self.store = Store(kind, seed_rows)
        self.platform: Platform
        if kind == "shopify":
            self.platform = Shopify(self.store)
        elif kind == "woocommerce":
            self.platform = WooCommerce(self.store)
        elif kind == "bigcommerce":
            self.platform = BigCommerce(self.store)
        elif kind == "magento":
            self.platform = Magento(self.store)
            # Magento write endpoints register here, one line each: self.platform.extend(handler)
            # (handler(platform, req, route, body) -> Response | None; see magento.py).
            magento_ops.install(self.platform)  # stock, shipments, credit memos, comments
        else:
            raise ValueError(f"unknown kind {kind!r}")
        self.stripe = Stripe(self.store)  # state in store.extra: reset with the store
        self.baseline_config = self.platform.config()
        self.faults = Faults()

    def reset(self) -> None:
        self.store.reset()
        self.platform.configure(self.baseline_config)
        self.platform.reset_limits()
        self.faults = Faults()

    def configure(self, values: dict[str, Any]) -> dict[str, Any]:
        common = {k: values[k] for k in ("latency_ms", "down", "fail_next") if k in values}
        specific = {k: v for k, v in values.items() if k not in common}
        if specific:
            self.platform.configure(specific)
        self.faults.update(common)
        return {**self.platform.config(), **self.faults.to_dict()}


class Handler(BaseHTTPRequestHandler):
    server: StandInHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the hub's requests.Session expects

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, resp: Response) -> None:
        raw = isinstance(resp.body, bytes)  # e.g. a PEM file from the Adobe key host
        data = b"" if resp.status == 204 else resp.body if raw else json.dumps(resp.body).encode()
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if resp.status != 204:  # RFC 9110: a 204 carries neither body nor Content-Length
            if not raw:
                self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        body = self._read_body()
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        req = Request(
            self.command, split.path, parse_qs(split.query), self.headers, body, host, split.query
        )
        if split.path.startswith(CONTROL):
            self._send(self._control(req))
            return
        si = self.server.standin
        faults = si.faults.to_dict()
        if faults["latency_ms"]:
            time.sleep(faults["latency_ms"] / 1000.0)
        injected = None if faults["down"] else si.faults.take(split.path, req.method, body)
        answer: str = ""  # "" = the platform's own answer, else "injected" / "dropped"
        if faults["down"]:
            resp = Response(503, {"errors": "Service Unavailable"}, {"Retry-After": "1"}, op="down")
        elif injected is not None and not injected.get("after"):
            resp = self._injected(injected)
            answer = "dropped" if injected.get("drop") else "injected"
        else:
            handle = si.stripe.handle if split.path.startswith(STRIPE) else si.platform.handle
            try:
                resp = handle(req)
            except Exception as exc:  # a stand-in bug must answer 500, not hang the client
                resp = Response(
                    500, {"errors": f"stand-in error: {type(exc).__name__}: {exc}"}, op="error"
                )
            if injected is not None:
                # The call was handled (a write happened); only its answer is lost or replaced.
                answer = "dropped" if injected.get("drop") else "injected"
                if not injected.get("drop"):
                    replaced = self._injected(injected, resp)
                    replaced.write, replaced.op = resp.write, resp.op
                    resp = replaced
        st = si.store
        st.count(resp.op or f"{req.method} {req.path}")
        st.count_status(resp.status if answer != "dropped" else "dropped")
        if resp.write:
            try:
                parsed: Any = json.loads(body) if body else None
            except ValueError:
                parsed = body.decode(errors="replace")
            st.record(
                {
                    "method": req.method,
                    "path": req.path,
                    "query": {k: v[-1] for k, v in req.query.items()},
                    "op": resp.op,
                    "status": resp.status,
                    "body": parsed if len(body) <= RECEIVED_BODY_LIMIT else None,
                    "size": len(body),
                    "ts": time.time(),
                    **({"answer": answer} if answer else {}),
                }
            )
        if answer == "dropped":
            # No status line at all: the client sees the connection closed under it.
            self.close_connection = True
            return
        self._send(resp)

    def _injected(self, item: dict[str, Any], handled: Response | None = None) -> Response:
        if hostile.is_hostile(item):  # a broken partner's answer (hostile.py)
            return hostile.answer(item, self.server.standin.kind, handled)
        status = int(item.get("status", 500))
        headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
        return Response(
            status, item.get("body", {"errors": "Injected failure"}), headers, op="injected"
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    # -- control endpoints ----------------------------------------------------------------------
    def _control(self, req: Request) -> Response:
        si = self.server.standin
        name = req.path[len(CONTROL) :].strip("/")
        try:
            body = req.json()
        except ValueError:
            return Response(400, {"error": "invalid JSON"})
        try:
            if name == "health" and req.method == "GET":
                return Response(200, {"status": "ok", "kind": si.kind})
            if name == "stats" and req.method == "GET":
                with si.store.lock:
                    return Response(200, si.store.stats.snapshot())
            if name == "received" and req.method == "GET":
                with si.store.lock:
                    return Response(200, copy.deepcopy(si.store.received))
            if name == "deliveries" and req.method == "GET":
                with si.store.lock:
                    return Response(200, copy.deepcopy(si.store.extra.get("deliveries", [])))
            if name == "reset" and req.method == "POST":
                si.reset()
                return Response(200, {"status": "reset"})
            if name == "config":
                if req.method == "POST":
                    return Response(200, si.configure(body if isinstance(body, dict) else {}))
                return Response(200, {**si.platform.config(), **si.faults.to_dict()})
            if name == "credentials" and req.method == "GET":
                return Response(200, si.platform.credentials())
            if name == "levels" and req.method == "GET":
                return Response(200, si.store.levels())
            if name == "products":
                if req.method == "POST":
                    rows = body.get("products") if isinstance(body, dict) else body
                    if isinstance(rows, dict):
                        rows = [rows]
                    if not isinstance(rows, list):
                        return Response(400, {"error": "send a list of {sku, stock} objects"})
                    items = si.store.upsert_items(rows)
                    return Response(200, [i.to_dict() for i in items])
                with si.store.lock:
                    return Response(200, [i.to_dict() for i in si.store.items.values()])
            if name == "catalog" and req.method == "GET":
                from .catalog_standin import catalog_snapshot

                with si.store.lock:
                    return Response(200, catalog_snapshot(si.store))
            if name == "orders" and req.method == "POST":
                return Response(200, si.platform.seed_order(body if isinstance(body, dict) else {}))
            if name == "shopify/payouts" and si.kind == "shopify":
                payments = si.platform.payments  # type: ignore[attr-defined]
                if req.method == "POST":
                    return Response(200, payments.seed(body if isinstance(body, dict) else {}))
                return Response(200, payments.snapshot())
            if name == "adobe-keys" and si.kind == "magento":
                keys = si.platform.keys  # type: ignore[attr-defined]
                if req.method == "POST":  # {"path": "/prod/keys/x.pem", "pem": "..."}
                    keys.publish(str(body["path"]), str(body["pem"]).encode())
                    return Response(200, {"published": str(body["path"])})
                pairs = keys.ensure()
                return Response(200, {"paths": [p.path for p in pairs]})
            if name == "stripe/payouts" and req.method == "POST":
                return Response(200, si.stripe.seed(body if isinstance(body, dict) else {}))
            if name == "stripe/credentials" and req.method == "GET":
                return Response(200, si.stripe.credentials())
            if name == "send-webhook" and req.method == "POST":
                return self._send_webhook(req, body if isinstance(body, dict) else {})
        except (TypeError, ValueError, KeyError) as exc:
            return Response(400, {"error": str(exc)})
        return Response(404, {"error": "not found"})

    def _send_webhook(self, req: Request, body: dict[str, Any]) -> Response:
        si = self.server.standin
        own = getattr(si.platform, "send_webhook", None)
        if own is not None:  # Magento: Adobe I/O Events, RSA-signed with the stand-in's keys
            response: Response = own(req, body)
            return response
        url, topic, secret = body.get("url"), body.get("topic"), body.get("secret")
        if not url or not topic or secret is None:
            return Response(400, {"error": "url, topic and secret are required"})
        kind = str(body.get("kind") or si.kind)
        raw = body.get("raw_body")
        store_hash = getattr(si.platform, "store_hash", "abc123")
        payload_bytes, headers = sender.build_delivery(
            kind,
            str(topic),
            body.get("payload"),
            str(secret),
            shop_domain=req.host,
            source=f"http://{req.host}/",
            store_hash=store_hash,
            raw_body=raw.encode() if isinstance(raw, str) else None,
            webhook_id=body.get("webhook_id"),
        )
        result = sender.post(str(url), payload_bytes, headers, float(body.get("timeout", 10.0)))
        return Response(200, {"headers": headers, "body": payload_bytes.decode(), **result})


class StandInHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: StandIn, verbose: bool = False) -> None:
        super().__init__(address, Handler)
        self.standin = standin
        self.verbose = verbose


def make_server(
    kind: str,
    host: str = "127.0.0.1",
    port: int = 0,
    products: int = 10,
    seed_skus: list[str] | None = None,
    verbose: bool = False,
) -> StandInHTTPServer:
    standin = StandIn(kind, default_seed(products, seed_skus or []))
    return StandInHTTPServer((host, port), standin, verbose)
