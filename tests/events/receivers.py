"""Partner receivers on loopback for the delivery tests: real HTTP servers in threads.

- `Receiver` answers what its `respond(request)` says (a `Reply`: status, body, headers, a
  delay, or a hold until the test lets go), records every request, verifies each signature with
  the independent `standardwebhooks` package against the secrets it was given, and "processes"
  each `webhook-id` once (`processed`), the way a partner that dedupes would.
- `Blackhole` accepts connections and never answers (a hung receiver).
- `closed_port_url()` is a loopback URL nobody listens on (connection refused).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    """One request as the receiver saw it."""

    number: int  # 1-based, over all requests to this receiver
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic() when it arrived
    verified: dict[str, bool] = field(default_factory=dict)  # secret label -> verifies
    seen_before: int = 0  # earlier requests with the same webhook-id

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering
    hold: threading.Event | None = None  # answer only once this is set (or the receiver closes)


def ok(_: Received) -> Reply:
    return Reply()


class Receiver:
    """An HTTP/1.1 (keep-alive) receiver on 127.0.0.1 in a thread.

    `secrets` maps labels to `whsec_…` secrets; every request is verified against each one
    (`Received.verified`). With `require_signature`, a request no secret verifies is answered
    400, as a strict partner would.
    """

    def __init__(
        self,
        respond: Callable[[Received], Reply] = ok,
        *,
        secrets: dict[str, str] | None = None,
        require_signature: bool = False,
    ) -> None:
        self.respond = respond
        self.secrets = dict(secrets or {})
        self.require_signature = require_signature
        self.requests: list[Received] = []
        self.processed: Counter[str] = Counter()  # webhook-id -> times processed (dedupe: 1)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    # --- the handler ---------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        verified = {}
        for label, secret in self.secrets.items():
            try:
                Webhook(secret).verify(body, headers, json_parse=False)
                verified[label] = True
            except WebhookVerificationError:
                verified[label] = False
        with self._lock:
            wid = headers.get("webhook-id", "")
            req = Received(
                number=len(self.requests) + 1,
                path=h.path,
                headers=headers,
                body=body,
                at=time.monotonic(),
                verified=verified,
                seen_before=sum(1 for r in self.requests if r.webhook_id == wid),
            )
            self.requests.append(req)
            # Processing happens on receipt, once per webhook-id (a deduping partner).
            if wid and self.processed[wid] == 0 and (not self.secrets or any(verified.values())):
                self.processed[wid] += 1
        if self.require_signature and not any(verified.values()):
            reply = Reply(400, b"bad signature")
        else:
            reply = self.respond(req)
        if reply.delay:
            self._closing.wait(reply.delay)
        if reply.hold is not None:
            while not reply.hold.is_set() and not self._closing.is_set():
                reply.hold.wait(0.05)
        try:
            h.send_response(reply.status)
            for name, value in reply.headers.items():
                h.send_header(name, value)
            h.send_header("content-length", str(len(reply.body)))
            h.end_headers()
            h.wfile.write(reply.body)
        except OSError:
            pass  # the sender gave up (timeout) or died

    # --- what the tests read -------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.snapshot()]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.snapshot()
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"receiver got {len(self.snapshot())} requests, expected {count}")

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()


class Blackhole:
    """Accepts connections, reads what is sent, never answers."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.settimeout(0.1)
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            self._conns.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/hooks"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._conns:
            conn.close()
        self._sock.close()


def closed_port_url() -> str:
    """A loopback URL with nothing listening: every connection is refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}/hooks"
