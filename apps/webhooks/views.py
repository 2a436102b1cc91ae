"""POST /webhooks/<kind>/<channel_code>/ — verify, record, answer. Nothing else happens here.

Answers (every error is JSON {"error", "header"/"field", "detail"}):
202 recorded {"event_id"} · 200 duplicate {"event_id" of the original} · 200 WooCommerce ping ·
400 header missing / body not JSON · 401 signature missing or invalid, stale timestamp, shop
mismatch, Adobe key path off the key host, wrong recipient_client_id · 404 unknown channel (or
b2b_api, which has no webhooks) · 413 body too large · 503 + Retry-After while the channel is
paused or an Adobe public key cannot be fetched (the sender retries later).

GET /webhooks/magento/<code>/?challenge=<id> answers {"challenge": "<id>"} (Adobe I/O's
registration handshake); other kinds answer 405 to a GET.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

import orjson
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from apps.sales_channels.models import Channel
from apps.sales_channels.selectors import channel_get_for_ingress, channel_secrets_valid

from .metrics import WEBHOOKS
from .receivers import RECEIVERS, Delivery, Refusal
from .services import webhook_record

logger = logging.getLogger(__name__)

PAUSED_RETRY_AFTER_SECONDS = 300
_READ_CHUNK = 64 * 1024


def _error(status: int, error: str, detail: str, **where: str) -> JsonResponse:
    body: dict[str, Any] = {"error": error}
    body.update({k: v for k, v in where.items() if v})
    body["detail"] = detail
    return JsonResponse(body, status=status)


def method_not_allowed(allowed: tuple[str, ...]) -> JsonResponse:
    """405 with the error body and the Allow header (RFC 9110), for any method not taken."""
    response = _error(405, "method_not_allowed", f"this endpoint takes {', '.join(allowed)}")
    response["Allow"] = ", ".join(allowed)
    return response


def allow_methods(*allowed: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Like Django's require_http_methods, but the 405 carries the JSON error body."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method not in allowed:
                return method_not_allowed(allowed)
            return view(request, *args, **kwargs)

        return inner

    return decorate


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def storable(delivery: Delivery) -> Delivery:
    """The delivery as the ledger's columns hold it (a verified sender can still send an id of
    300 characters, or a NUL, which PostgreSQL refuses: that was a 500 and a retry loop).
    Keys too long for their column are replaced by their digest, which keeps them distinct and
    stable; the topic names the handler, so a bad one is refused."""
    topic = delivery.topic
    if not 0 < len(topic) <= 128 or "\x00" in topic:
        raise Refusal(
            400, "field_invalid", "the event type must be 1 to 128 characters", field="topic"
        )
    dedupe, entity = delivery.dedupe_key, delivery.entity_key
    return replace(
        delivery,
        dedupe_key=dedupe if len(dedupe) <= 255 and "\x00" not in dedupe else _digest(dedupe),
        entity_key=entity if len(entity) <= 200 and "\x00" not in entity else _digest(entity),
        external_ref=delivery.external_ref.replace("\x00", "")[:255],
    )


def _too_large(limit: int) -> Refusal:
    return Refusal(
        413, "body_too_large", f"the body exceeds {limit} bytes", header="Content-Length"
    )


def read_body_bounded(request: HttpRequest, limit: int) -> bytes:
    """The raw body, refusing (413) anything over `limit` before reading it all.

    A declared Content-Length over the limit is refused without reading a byte. Without a
    Content-Length (chunked transfer), Django's request stream is empty, so we read the server's
    input stream directly, and stop one byte past the limit.
    """
    declared = request.META.get("CONTENT_LENGTH")
    if declared:
        try:
            length = int(declared)
        except ValueError:
            raise Refusal(
                400, "header_invalid", "Content-Length is not a number", header="Content-Length"
            )
        if length > limit:
            raise _too_large(limit)
        data = request.read(limit + 1)
    elif request.META.get("wsgi.input_terminated"):
        stream = request.META["wsgi.input"]
        parts: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        data = b"".join(parts)
    else:
        data = b""
    if len(data) > limit:
        raise _too_large(limit)
    return data


@csrf_exempt
def webhook_receive(request: HttpRequest, kind: str, channel_code: str) -> JsonResponse:
    receiver = RECEIVERS.get(kind)
    # GET only where there is a handshake: `Allow` lists what the path takes (RFC 9110).
    allowed = ("GET", "POST") if receiver is not None and receiver.has_handshake else ("POST",)
    if request.method not in allowed:
        return method_not_allowed(allowed)
    return webhook_respond(request, kind, channel_code)


def webhook_respond(request: HttpRequest, kind: str, channel_code: str) -> JsonResponse:
    """Handshake (GET) or delivery (POST), every refusal turned into its JSON answer."""
    receiver = RECEIVERS.get(kind)
    label = receiver.kind if receiver else "unknown"
    try:
        if request.method == "GET":
            response = _handshake(request, kind, channel_code)
        else:
            response = _receive(request, kind, channel_code)
    except Refusal as refusal:
        WEBHOOKS.labels(label, refusal.error).inc()
        response = _error(
            refusal.status,
            refusal.error,
            refusal.detail,
            header=refusal.header,
            field=refusal.field,
        )
        if refusal.status == 503:
            response["Retry-After"] = str(PAUSED_RETRY_AFTER_SECONDS)
        return response
    return response


def _handshake(request: HttpRequest, kind: str, channel_code: str) -> JsonResponse:
    """A subscription handshake (Adobe I/O: `GET ?challenge=<id>` answered with the id).
    Records nothing; senders without a handshake answer 405 as before."""
    receiver = RECEIVERS.get(kind)
    if receiver is None or not receiver.has_handshake:
        return method_not_allowed(("POST",))
    channel = channel_get_for_ingress(code=channel_code, kinds=(receiver.kind,), at=timezone.now())
    if channel is None:
        raise Refusal(404, "channel_not_found", "no webhook channel with this kind and code")
    answer = receiver.challenge({k: request.GET.get(k, "") for k in request.GET})
    WEBHOOKS.labels(receiver.kind, "challenge").inc()
    return JsonResponse(answer, status=200)


def _receive(request: HttpRequest, kind: str, channel_code: str) -> JsonResponse:
    receiver = RECEIVERS.get(kind)
    body = read_body_bounded(request, settings.HUB_MAX_BODY_BYTES)
    now = timezone.now()
    channel = (
        channel_get_for_ingress(code=channel_code, kinds=(receiver.kind,), at=now)
        if receiver is not None
        else None
    )
    if receiver is None or channel is None:
        # Same work as a signature check, so the answer time does not reveal whether the
        # channel exists.
        (receiver or RECEIVERS[Channel.Kind.SHOPIFY]).dummy_verify(body)
        raise Refusal(404, "channel_not_found", "no webhook channel with this kind and code")
    if receiver.is_ping(body, request.headers):
        WEBHOOKS.labels(receiver.kind, "ping").inc()
        return JsonResponse({"status": "ping_accepted"}, status=200)
    receiver.verify(
        body=body, headers=request.headers, secrets=channel_secrets_valid(channel=channel, at=now)
    )
    if channel.state == Channel.State.PAUSED:
        raise Refusal(503, "channel_paused", "the channel is paused; retry later")
    receiver.check_channel(channel=channel, headers=request.headers)
    try:
        # orjson: the parse is on every request and is a fifth of the Python time with the
        # standard library; it is also strict (no NaN, invalid UTF-8 refused), which suits us.
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refusal(400, "invalid_json", f"the body is not JSON: {exc}", field="body")
    if not isinstance(payload, dict):
        raise Refusal(400, "invalid_json", "the body is not a JSON object", field="body")
    receiver.check_payload(channel=channel, payload=payload)
    delivery = storable(receiver.describe(body=body, payload=payload, headers=request.headers))
    event_id, created = webhook_record(
        channel=channel, delivery=delivery, body=body, headers=receiver.kept(request.headers)
    )
    WEBHOOKS.labels(receiver.kind, "recorded" if created else "duplicate").inc()
    if created:
        return JsonResponse({"event_id": event_id, "status": "recorded"}, status=202)
    return JsonResponse({"event_id": event_id, "status": "duplicate"}, status=200)
