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

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import PermanentError
from apps.orders.selectors import order_get
from apps.sales_channels.api.base import (
    AUTH,
    INVALID,
    ErrorSerializer,
    TokenAPIView,
    error_response,
)
from apps.sales_channels.auth import ChannelPrincipal

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


class AnyScope(BasePermission):
    """Grants access when the token holds at least one of the view's `any_scopes`."""

    message = "token lacks a required scope"

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ChannelPrincipal):
            return False
        wanted = set(getattr(view, "any_scopes", ()))
        if wanted and principal.scopes & wanted:
            return True
        self.message = f"token lacks scope {' or '.join(sorted(wanted))}"
        return False


class _TokenView(TokenAPIView):
    permission_classes = [AnyScope]


class OrderShipmentsView(_TokenView):
    any_scopes = (ORDERS_READ, ORDERS_WRITE)

    @extend_schema(
        summary="An order's shipments: lines, carrier, tracking, the Odoo delivery, status",
        responses={
            200: OrderShipmentsSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such order for this token"),
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


class ShipmentEventsView(_TokenView):
    any_scopes = (SHIPMENTS_WRITE,)

    @extend_schema(
        summary="Report a carrier status of a shipment (delivered emits delivery.confirmed)",
        request=ShipmentEventSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Up to 255 characters; a repeat answers the first report (200) and "
                "records nothing; the same key with another report is a 422",
            )
        ],
        responses={
            201: OpenApiResponse(ShipmentReportSerializer, description="Recorded"),
            200: OpenApiResponse(
                ShipmentReportSerializer, description="A repeat of an Idempotency-Key"
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such shipment for this token"),
            422: OpenApiResponse(
                ErrorSerializer, description="The Idempotency-Key was used for another report"
            ),
            **INVALID,
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
        except PermanentError as exc:
            return error_response(exc.context.get("field"), exc.message)
        body = ShipmentReportSerializer(recorded.report).data
        return Response(body, status=201 if recorded.created else 200)
