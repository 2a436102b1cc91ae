"""The B2B returns API.

- `POST /api/v1/returns/` (scope `returns:write`) `{order_id, lines: [{sku, quantity, reason}]}`:
  201 `{id, state, ...}`; 422 when a line is more than shipped minus already returned (`field`
  names it: `lines[i].quantity`, `lines[i].sku`); 404 an order of another channel.
- `GET /api/v1/returns/{id}/` (scope `returns:write` or `orders:read`): the state (requested,
  approved, expected, received, credited...) and the credit note. Another channel's return is a
  404, never a 403.

Errors are `{"error", "field", "reason"}`.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.orders.selectors import order_get
from apps.sales_channels.api.base import AUTH, BODY, TokenAPIView, error_response, errors
from apps.sales_channels.models import Channel

from ..models import ChannelReturn
from ..services import ReturnRefused, b2b_return_request
from .serializers import ReturnRequestSerializer, ReturnSerializer

RETURNS_WRITE = "returns:write"
ORDERS_READ = "orders:read"


def _get(channel: Channel, return_id: int) -> ChannelReturn | None:
    return (
        ChannelReturn.objects.filter(pk=return_id, channel=channel)
        .prefetch_related("lines")
        .first()
    )


class ReturnsView(TokenAPIView):
    any_scopes = (RETURNS_WRITE,)

    @extend_schema(
        summary="Ask for the return of shipped lines (Odoo makes the return picking)",
        request=ReturnRequestSerializer,
        examples=[
            OpenApiExample(
                "return",
                value={
                    "order_id": 42,
                    "lines": [{"sku": "TSHIRT-BLU-M", "quantity": 1, "reason": "damaged"}],
                },
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(ReturnSerializer, description="The return, requested"),
            **errors(404, d404="No such order for this token (`field` order_id)"),
            **BODY,
            **errors(
                422,
                d422="More than shipped minus already returned, or a SKU not shipped "
                "(`field` names the line)",
            ),
            **AUTH,
        },
    )
    def post(self, request: Request) -> Response:
        s = ReturnRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = s.validated_data
        order = order_get(channel=self.principal.channel, order_id=data["order_id"])
        if order is None:
            return error_response("order_id", "no such order", 404, "not_found")
        try:
            ret = b2b_return_request(order=order, lines=data["lines"])
        except ReturnRefused as exc:
            return error_response(exc.context.get("field"), exc.message, 422, "unprocessable")
        fresh = _get(self.principal.channel, ret.pk)
        return Response(ReturnSerializer(fresh).data, status=201)


class ReturnDetailView(TokenAPIView):
    any_scopes = (RETURNS_WRITE, ORDERS_READ)

    @extend_schema(
        summary="A return: its state, lines, Odoo return picking and credit note",
        responses={
            200: ReturnSerializer,
            **errors(404, d404="No such return for this token"),
            **AUTH,
        },
    )
    def get(self, request: Request, return_id: int) -> Response:
        ret = _get(self.principal.channel, return_id)
        if ret is None:
            return error_response(None, "no such return", 404, "not_found")
        return Response(ReturnSerializer(ret).data)
