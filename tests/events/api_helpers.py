"""Shared helpers of the events API, admin and command tests (no fixtures: each test module
declares the few it needs, so nothing here collides with a conftest of this directory).

- `channel_with_token` makes a channel and a bearer client with the given scopes.
- `publish_stock` / `publish_held` record schema-valid events in their own transaction.
- `Receiver` is a loopback HTTP receiver in a thread: it records every request and answers
  with the status it is told; `verify` checks a request's signature with the independent
  `standardwebhooks` package.
- `record_rings` keeps the broker rings in memory (deliveries here are run in-process).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import transaction
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from apps.events.models import BusinessEvent
from apps.events.publish import event_publish
from apps.sales_channels.models import Channel
from apps.sales_channels.services import api_token_create, channel_create


def channel_with_token(code: str, *scopes: str) -> tuple[Channel, APIClient]:
    channel = Channel.objects.filter(code=code).first()
    if channel is None:
        channel, _ = channel_create(code=code, kind="b2b_api")
    client = APIClient()
    if scopes:
        _, raw = api_token_create(channel=channel, scopes=list(scopes))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return channel, client


def publish_stock(channel: Channel, sku: str, available: int = 3) -> BusinessEvent:
    with transaction.atomic():
        event = event_publish(
            type="stock.threshold_breached",
            entity_key=f"sku:{channel.code}:{sku}",
            channel=channel,
            payload={
                "channel": channel.code,
                "sku": sku,
                "available": available,
                "previous": available + 10,
                "threshold": 5,
                "direction": "below",
            },
            ring=False,
        )
    assert event is not None
    return event


def publish_held(channel: Channel, number: str) -> BusinessEvent:
    with transaction.atomic():
        event = event_publish(
            type="order.held",
            entity_key=f"order:{channel.code}:{number}",
            channel=channel,
            payload={
                "channel": channel.code,
                "order": {
                    "external_id": number,
                    "number": number,
                    "reference": f"{channel.code}:{number}",
                    "odoo_name": None,
                    "state": "held",
                    "po_number": number,
                    "total": "12.50",
                    "currency": "EUR",
                    "lines": [{"sku": "WIDGET", "quantity": 1}],
                },
                "hold": {"reason": "credit", "detail": "over the credit limit"},
            },
            ring=False,
        )
    assert event is not None
    return event


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A partner's receiver on 127.0.0.1. Set `status` to choose the answer."""

    status: int = 200
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body)
                )
                reply = b"ok" if receiver.status < 300 else b"receiver says no"
                self.send_response(receiver.status)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def verify(secret: str, request: Received) -> Any:
    """The payload if one of the request's signatures is `secret`'s; raises otherwise."""
    return Webhook(secret).verify(request.body, request.headers)


@dataclass
class Rings:
    """Broker rings this process would have sent: fan-outs, and deliveries by endpoint id."""

    fanout: int = 0
    deliver: list[int] = field(default_factory=list)


def record_rings(monkeypatch: Any) -> Rings:
    """Record the rings instead of sending them, so no task of these tests waits in the broker
    for a later test's real worker (the deliveries here run in-process, called directly)."""
    rings = Rings()

    def fanout_rung() -> None:
        rings.fanout += 1

    def deliver_rung(endpoint_id: int, *, countdown: float | None = None) -> None:
        if countdown is None or countdown >= 0:
            rings.deliver.append(endpoint_id)

    monkeypatch.setattr("apps.events.publish._send_fanout", fanout_rung)
    monkeypatch.setattr("apps.events.delivery.deliver_ring", deliver_rung)
    monkeypatch.setattr("apps.events.services.deliver_ring", deliver_rung)
    return rings


def outbound_settings(settings: Any) -> None:
    """Let deliveries reach the loopback receiver over plain http (as in development)."""
    settings.HUB_OUTBOUND_ALLOW_PRIVATE = True
    settings.HUB_WEBHOOK_REQUIRE_HTTPS = False
    settings.HUB_WEBHOOK_TIMEOUT_SECONDS = 5.0
