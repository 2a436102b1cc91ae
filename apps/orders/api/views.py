"""B2B order API: POST /api/v1/orders/, GET /api/v1/orders/, GET /api/v1/orders/{id}/.

A token sees only its own channel; another channel's order is a 404 (not 403: a token must not
learn what exists elsewhere).

POST: the body is checked against the document first (400, nothing recorded, not even the
Idempotency-Key); then the key is taken, and the order translated and recorded. An order that
matches the document but does not add up is a 422, and its key is released (nothing recorded),
so the partner can send the corrected order with the same key.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import PermanentError
from apps.sales_channels.api.base import (
    AUTH,
    BODY,
    INVALID,
    TokenAPIView,
    error_response,
    errors,
)
from apps.sales_channels.api.parsers import JSONRejected, json_loads_strict
from apps.sales_channels.translators import order_from_b2b

from .. import selectors, services
from ..errors import IdempotencyConflict, IdempotencyInFlight
from ..idempotency import idempotency_abandon, idempotency_begin, idempotency_finish
from .serializers import (
    ChannelOrderSerializer,
    OrderCreateSerializer,
    OrderListQuerySerializer,
    OrderPageSerializer,
)

WRITE = "orders:write"
READ = "orders:read"

ORDER_EXAMPLE = {
    "external_id": "PO-7781",
    "number": "PO-7781",
    "po_number": "PO-7781",
    "created_at": "2026-01-14T15:04:05Z",
    "currency": "USD",
    "financial_status": "authorized",
    "customer": {"external_id": "ACME-001", "email": "ap@acme.example", "company": "ACME"},
    "shipping_address": {
        "company": "ACME Store #12",
        "line1": "500 Market St",
        "city": "Philadelphia",
        "region_code": "PA",
        "postal_code": "19106",
        "country_code": "US",
    },
    "lines": [
        {
            "line_id": "1",
            "sku": "TSHIRT-BLU-M",
            "name": "T-shirt Blue M",
            "quantity": 2,
            "unit_price": "25.00",
            "discount": "5.00",
            "tax": "3.60",
            "tax_rate": "0.08",
        }
    ],
    "shipping": {"title": "Freight", "price": "5.99", "tax": "0.00"},
    "totals": {"total": "54.59"},
    "note": "Dock 4, weekdays only",
}

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": 255},
    OpenApiParameter.HEADER,
    required=False,
    description="Up to 255 characters. The same key with the same body answers the first "
    "answer again (nothing recorded twice) for 24 hours; with another body it is a 422; while "
    "the first request runs, a 409. A request refused with 400 or 422 leaves the key unused.",
)


class OrderView(TokenAPIView):
    # POST needs orders:write; reads accept orders:read or orders:write.
    scopes_by_method = {"GET": (READ, WRITE), "HEAD": (READ, WRITE), "POST": (WRITE,)}


class OrderListCreateView(OrderView):
    @extend_schema(
        operation_id="api_v1_orders_list",
        summary="The channel's orders, newest change first",
        parameters=[OrderListQuerySerializer],
        responses={
            200: OrderPageSerializer,
            **INVALID,
            **errors(422, d422="`updated_since` is out of the range the hub can store"),
            **AUTH,
        },
    )
    def get(self, request: Request) -> Response:
        query = OrderListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        qs = selectors.order_list(
            channel=self.principal.channel,
            state=q.get("status") or q.get("state"),
            updated_since=q.get("updated_since"),
        )
        rows = list(qs[: q["limit"]])
        return Response(
            {"count": len(rows), "results": ChannelOrderSerializer(rows, many=True).data}
        )

    @extend_schema(
        summary="Send a B2B order (again with the same external_id: an update)",
        request=OrderCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        examples=[OpenApiExample("order", value=ORDER_EXAMPLE, request_only=True)],
        responses={
            201: OpenApiResponse(ChannelOrderSerializer, description="Recorded"),
            200: OpenApiResponse(
                ChannelOrderSerializer,
                description="Already known: the same order again, or an update of it",
            ),
            **BODY,
            **errors(
                409,
                d409="A request with this Idempotency-Key is still in progress; retry later",
            ),
            **errors(
                422,
                d422="The totals do not add up (`field` totals.total), or the Idempotency-Key "
                "was used with another body (`field` Idempotency-Key)",
            ),
            **AUTH,
        },
    )
    def post(self, request: Request) -> Response:
        raw: bytes = request.body
        if request.content_type.split(";")[0].strip().lower() != "application/json":
            return error_response(
                None, f'Unsupported media type "{request.content_type}" in request.', 415
            )
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            return error_response("Idempotency-Key", "longer than 255 characters")
        try:
            payload = json_loads_strict(raw)
        except JSONRejected as exc:
            return error_response(None, str(exc))
        checked = OrderCreateSerializer(data=payload)
        checked.is_valid(raise_exception=True)
        # The translator reads the time as the document does (RFC 3339, here made UTC).
        payload["created_at"] = checked.validated_data["created_at"].isoformat()
        channel = self.principal.channel
        begun = None
        if key:
            try:
                begun = idempotency_begin(
                    channel=channel, key=key, request_hash=hashlib.sha256(raw).hexdigest()
                )
            except IdempotencyConflict as exc:
                return error_response("Idempotency-Key", str(exc), 422, "idempotency_conflict")
            except IdempotencyInFlight as exc:
                return error_response("Idempotency-Key", str(exc), status.HTTP_409_CONFLICT)
            if begun.replay:
                return Response(begun.record.response_body, status=begun.record.response_status)
        try:
            code, body = self._create(payload, channel_code=channel.code)
        except BaseException:
            if begun is not None:
                idempotency_abandon(record=begun.record)
            raise
        if begun is not None:
            if code >= 400:
                idempotency_abandon(record=begun.record)
            else:
                idempotency_finish(record=begun.record, status=code, body=body)
        return Response(body, status=code)

    def _create(self, payload: dict[str, Any], *, channel_code: str) -> tuple[int, Any]:
        try:
            order = order_from_b2b(payload, channel=channel_code)
            row, created = services.order_upsert(order=order, actor=f"api:{self.principal.prefix}")
        except PermanentError as exc:
            # After the document's checks only a business rule refuses: the totals must add up.
            field = exc.context.get("field") or (
                "totals.total" if "reported_total" in exc.context else None
            )
            return 422, {"error": "unprocessable", "field": field, "reason": exc.message}
        fresh = selectors.order_get(channel=self.principal.channel, order_id=row.pk)
        body = dict(ChannelOrderSerializer(fresh).data)
        return (201 if created else 200), json.loads(json.dumps(body, default=str))


class OrderDetailView(OrderView):
    @extend_schema(
        summary="One order: its state, hold, Odoo reference, lines and history",
        responses={
            200: ChannelOrderSerializer,
            **errors(404, d404="No such order for this token"),
            **AUTH,
        },
    )
    def get(self, request: Request, order_id: int) -> Response:
        row = selectors.order_get(channel=self.principal.channel, order_id=order_id)
        if row is None:
            return error_response(None, "no such order", 404)
        return Response(ChannelOrderSerializer(row).data)
