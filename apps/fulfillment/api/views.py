"""The shipments API.

- `GET /api/v1/orders/{id}/shipments/` (scope `orders:read`, or `orders:write` like the order
  API): the order's shipments with lines, carrier, tracking numbers and URL, the Odoo picking
  and status. Another channel's order is a 404, never a 403: a token must not learn what
  exists elsewhere.
- `POST /api/v1/shipments/{id}/events/` (scope `shipments:write`): a carrier's or 3PL's status
  report. 201 recorded; 200 a repeat of an `Idempotency-Key` (the first report, nothing
  recorded again); 422 the same key with a different report.

Errors are `{"error", "field", "reason"}` with the status code saying which kind.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.orders.selectors import order_get
from apps.sales_channels.api.base import (
    AUTH,
    BODY,
    TokenAPIView,
    error_response,
    errors,
)

from .. import selectors
from ..reports import IdempotencyKeyReused, shipment_report_record
from .serializers import (
    OrderShipmentsSerializer,
    ShipmentEventSerializer,
    ShipmentReportSerializer,
)

ORDERS_READ = "orders:read"
ORDERS_WRITE = "orders:write"
SHIPMENTS_WRITE = "shipments:write"


class OrderShipmentsView(TokenAPIView):
    any_scopes = (ORDERS_READ, ORDERS_WRITE)

    @extend_schema(
        summary="An order's shipments: lines, carrier, tracking, the Odoo delivery, status",
        responses={
            200: OrderShipmentsSerializer,
            **errors(404, d404="No such order for this token"),
            **AUTH,
        },
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = order_get(channel=self.principal.channel, order_id=order_id)
        if order is None:
            return error_response(None, "no such order", 404, "not_found")
        data = {
            "order": order.pk,
            "number": order.number or order.external_id,
            "state": order.state,
            "shipments": list(selectors.shipments_for_order(order_id=order.pk)),
        }
        return Response(OrderShipmentsSerializer(data).data)


class ShipmentEventsView(TokenAPIView):
    any_scopes = (SHIPMENTS_WRITE,)

    @extend_schema(
        summary="Report a carrier status of a shipment (delivered emits delivery.confirmed)",
        request=ShipmentEventSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "maxLength": 255},
                OpenApiParameter.HEADER,
                required=False,
                description="Up to 255 characters; a repeat answers the first report (200) and "
                "records nothing; the same key with another report is a 422",
            )
        ],
        examples=[
            OpenApiExample(
                "delivered",
                value={
                    "status": "delivered",
                    "happened_at": "2026-01-15T10:00:00Z",
                    "message": "Left at the dock",
                    "location": "Philadelphia, PA",
                },
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(ShipmentReportSerializer, description="Recorded"),
            200: OpenApiResponse(
                ShipmentReportSerializer, description="A repeat of an Idempotency-Key"
            ),
            **errors(404, d404="No such shipment for this token"),
            **BODY,
            **errors(
                422,
                d422="The Idempotency-Key was used for another report (`field` Idempotency-Key), "
                "`happened_at` is in the future or out of range, or the shipment cannot take "
                "this status",
            ),
            **AUTH,
        },
    )
    def post(self, request: Request, shipment_id: int) -> Response:
        shipment = selectors.shipment_get(channel=self.principal.channel, shipment_id=shipment_id)
        if shipment is None:
            return error_response(None, "no such shipment", 404, "not_found")
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 255:
            return error_response("Idempotency-Key", "longer than 255 characters")
        s = ShipmentEventSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        try:
            recorded = shipment_report_record(
                shipment=shipment,
                status=data["status"],
                happened_at=data["happened_at"],
                message=data["message"],
                location=data["location"],
                reported_by=str(self.principal),
                idempotency_key=key,
            )
        except IdempotencyKeyReused as exc:
            return error_response("Idempotency-Key", exc.message, 422, "idempotency_conflict")
        body = ShipmentReportSerializer(recorded.report).data
        return Response(body, status=201 if recorded.created else 200)
