"""B2B order API: POST /api/v1/orders/, GET /api/v1/orders/, GET /api/v1/orders/{id}/.

A token sees only its own channel; another channel's order is a 404 (not 403: a token must not
learn what exists elsewhere).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.http import Http404
from rest_framework import status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import PermanentError
from apps.sales_channels.auth import ApiTokenAuthentication, ChannelPrincipal, TokenRateThrottle
from apps.sales_channels.translators import order_from_b2b

from .. import selectors, services
from ..errors import IdempotencyConflict, IdempotencyInFlight
from ..idempotency import idempotency_abandon, idempotency_begin, idempotency_finish
from ..models import OrderState
from .serializers import ChannelOrderSerializer

WRITE = "orders:write"
READ = "orders:read"
MAX_LIMIT = 500


class OrderScopes(BasePermission):
    """POST needs orders:write; reads accept orders:read or orders:write."""

    message = "token lacks a required scope"

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ChannelPrincipal):
            return False
        wanted = {WRITE} if request.method == "POST" else {READ, WRITE}
        if principal.scopes & wanted:
            return True
        self.message = f"token lacks scope {' or '.join(sorted(wanted))}"
        return False


def _error(field: str | None, reason: str, code: int = 400) -> Response:
    return Response({"error": "invalid_order", "field": field, "reason": reason}, status=code)


class OrderView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [OrderScopes]
    throttle_classes = [TokenRateThrottle]

    @property
    def principal(self) -> ChannelPrincipal:
        user = self.request.user
        assert isinstance(user, ChannelPrincipal)
        return user


class OrderListCreateView(OrderView):
    def get(self, request: Request) -> Response:
        state = request.query_params.get("status") or request.query_params.get("state") or None
        if state and state not in OrderState.values:
            return _error("status", f"unknown status {state!r}")
        since: dt.datetime | None = None
        raw_since = request.query_params.get("updated_since")
        if raw_since:
            try:
                since = dt.datetime.fromisoformat(raw_since.replace("Z", "+00:00"))
            except ValueError:
                return _error("updated_since", "not an ISO 8601 date-time")
            if since.tzinfo is None:
                return _error("updated_since", "needs a time zone")
        try:
            limit = min(int(request.query_params.get("limit", 100)), MAX_LIMIT)
        except ValueError:
            return _error("limit", "not an integer")
        qs = selectors.order_list(channel=self.principal.channel, state=state, updated_since=since)
        rows = list(qs[:limit])
        return Response(
            {"count": len(rows), "results": ChannelOrderSerializer(rows, many=True).data}
        )

    def post(self, request: Request) -> Response:
        raw: bytes = request.body
        channel = self.principal.channel
        key = request.headers.get("Idempotency-Key", "").strip()
        begun = None
        if key:
            if len(key) > 255:
                return _error("Idempotency-Key", "longer than 255 characters")
            try:
                begun = idempotency_begin(
                    channel=channel, key=key, request_hash=hashlib.sha256(raw).hexdigest()
                )
            except IdempotencyConflict as exc:
                return _error("Idempotency-Key", str(exc), status.HTTP_422_UNPROCESSABLE_ENTITY)
            except IdempotencyInFlight as exc:
                return _error("Idempotency-Key", str(exc), status.HTTP_409_CONFLICT)
            if begun.replay:
                return Response(begun.record.response_body, status=begun.record.response_status)
        try:
            code, body = self._create(raw, channel_code=channel.code)
        except BaseException:
            if begun is not None:
                idempotency_abandon(record=begun.record)
            raise
        if begun is not None:
            idempotency_finish(record=begun.record, status=code, body=body)
        return Response(body, status=code)

    def _create(self, raw: bytes, *, channel_code: str) -> tuple[int, Any]:
        try:
            payload = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return 400, {"error": "invalid_order", "field": None, "reason": "body is not JSON"}
        if not isinstance(payload, dict):
            return 400, {"error": "invalid_order", "field": None, "reason": "expected an object"}
        try:
            order = order_from_b2b(payload, channel=channel_code)
            row, created = services.order_upsert(order=order, actor=f"api:{self.principal.prefix}")
        except PermanentError as exc:
            return 400, {
                "error": "invalid_order",
                "field": exc.context.get("field"),
                "reason": exc.message,
            }
        fresh = selectors.order_get(channel=self.principal.channel, order_id=row.pk)
        body = dict(ChannelOrderSerializer(fresh).data)
        return (201 if created else 200), json.loads(json.dumps(body, default=str))


class OrderDetailView(OrderView):
    def get(self, request: Request, order_id: int) -> Response:
        row = selectors.order_get(channel=self.principal.channel, order_id=order_id)
        if row is None:
            raise Http404("no such order")
        return Response(ChannelOrderSerializer(row).data)
