"""Smoke: a partner subscribes, an order arrives, the signed event reaches the partner.

Run by scripts/smoke.sh against a running `make run`: web → outbox → fan-out → the events
worker → a receiver on loopback; then the same event through the pull API.
Usage: smoke_events.py BASE_URL TOKEN
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time
import urllib.request

BASE, TOKEN = sys.argv[1], sys.argv[2]
received: list[tuple[dict[str, str], bytes]] = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def call(method: str, path: str, body: object = None) -> dict:
    req = urllib.request.Request(  # noqa: S310 - BASE is the hub's own http URL
        BASE + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
        return json.loads(resp.read() or b"{}")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = call(
    "POST",
    "/api/v1/webhook-endpoints/",
    {"url": f"http://127.0.0.1:{server.server_port}/hooks", "event_types": ["order.accepted"]},
)
external_id = f"SMOKE-{int(time.time())}"
order = {
    "external_id": external_id,
    "number": external_id,
    "po_number": external_id,
    "created_at": "2026-01-01T00:00:00Z",
    "currency": "USD",
    "financial_status": "authorized",
    "customer": {"external_id": "SMOKE-1", "email": "smoke@example.com", "company": "Smoke Co"},
    "billing_address": {
        "company": "Smoke Co",
        "line1": "1 Way",
        "city": "Newark",
        "postal_code": "07102",
        "country_code": "US",
    },
    "lines": [
        {"line_id": "1", "sku": "SMOKE-SKU", "name": "Smoke", "quantity": 1, "unit_price": "10.00"}
    ],
    "totals": {"total": "10.00"},
}
call("POST", "/api/v1/orders/", order)
deadline = time.time() + 30
while time.time() < deadline and not received:
    time.sleep(0.2)
if not received:
    sys.exit("smoke: no webhook delivery within 30 s")
headers, body = received[0]
key = base64.b64decode(endpoint["secret"].removeprefix("whsec_"))
signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
if expected not in headers["webhook-signature"].split(" "):
    sys.exit("smoke: the delivery's signature does not verify")
event = json.loads(body)
if event["type"] != "order.accepted" or event["data"]["order"]["external_id"] != external_id:
    sys.exit(f"smoke: unexpected event {event}")
page = call("GET", "/api/v1/events/?after=0&types=order.accepted&limit=500")
if event["id"] not in [e["id"] for e in page["data"]]:
    sys.exit("smoke: the delivered event is not in the pull API")
call("DELETE", f"/api/v1/webhook-endpoints/{endpoint['id']}/")
print(f"smoke: order.accepted {event['id']} delivered signed and listed by the pull API")
