"""Hints from Odoo's "Send Webhook Notification" automations.

- `POST /webhooks/odoo/<token>/` — stock: the body names products whose stock changed; the hub
  marks their SKUs dirty and answers 202 at once; the publication reads ATP from Odoo.
- `POST /webhooks/odoo/<token>/pickings/` — deliveries: the body names pickings that reached
  done; the hub records the ids (`PickingHint`) and answers 202 at once; a task on the `odoo`
  queue reads those pickings from Odoo and records the shipments (apps.fulfillment.detection).

Odoo signs nothing, so the URL carries a long random token (settings.HUB_ODOO_WEBHOOK_TOKEN).
A body is a hint, never the truth: nothing in it is published or stored beyond the ids.

Answers: 202 {"marked"} / {"recorded"} · 400 body not JSON · 404 unknown token (also when no
token is set) · 413 body too large.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.fulfillment.detection import picking_hint_receive
from apps.inventory.detection import odoo_hint_receive

from .metrics import WEBHOOKS
from .receivers import Refusal
from .views import allow_methods, read_body_bounded

KIND = "odoo"


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def token_valid(token: str) -> bool:
    """Constant-time check; digests of equal length, so the time says nothing about the token."""
    expected = str(getattr(settings, "HUB_ODOO_WEBHOOK_TOKEN", "") or "")
    same = hmac.compare_digest(_digest(token), _digest(expected or "\x00unset"))
    return bool(expected) and same


def _hint_body(request: HttpRequest, token: str) -> Any:
    """The parsed body of a hint, or a Refusal (unknown token, too large, not JSON)."""
    if not token_valid(token):
        raise Refusal(404, "not_found", "no such endpoint")
    body = read_body_bounded(request, settings.HUB_MAX_BODY_BYTES)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refusal(400, "invalid_json", f"the body is not JSON: {exc}", field="body")


def _refused(refusal: Refusal) -> JsonResponse:
    WEBHOOKS.labels(KIND, refusal.error).inc()
    data = {"error": refusal.error, "detail": refusal.detail}
    return JsonResponse(data, status=refusal.status)


@csrf_exempt
@allow_methods("POST")
def odoo_stock_hint(request: HttpRequest, token: str) -> JsonResponse:
    try:
        payload = _hint_body(request, token)
    except Refusal as refusal:
        return _refused(refusal)
    marked = odoo_hint_receive(body=payload)
    WEBHOOKS.labels(KIND, "hint").inc()
    return JsonResponse({"marked": marked}, status=202)


@csrf_exempt
@allow_methods("POST")
def odoo_picking_hint(request: HttpRequest, token: str) -> JsonResponse:
    try:
        payload = _hint_body(request, token)
    except Refusal as refusal:
        return _refused(refusal)
    recorded = picking_hint_receive(body=payload)
    WEBHOOKS.labels(KIND, "picking_hint").inc()
    return JsonResponse({"recorded": recorded}, status=202)
