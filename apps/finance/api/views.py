"""The invoices of an order, for B2B portals (Odoo owns payment there).

- `GET /api/v1/orders/{id}/invoices/` (scope `orders:read` or `orders:write`): the Odoo
  invoices the hub made for the order (one, or one per shipment), each with its
  `payment_state` as Odoo last said (refreshed by `finance.invoices_refresh`), amounts as
  decimal strings. Another channel's order is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.fulfillment.api.views import ORDERS_READ, ORDERS_WRITE
from apps.orders.selectors import order_get
from apps.sales_channels.api.base import AUTH, TokenAPIView, error_response, errors

from ..models import OrderInvoice


class InvoiceSerializer(serializers.ModelSerializer[OrderInvoice]):
    odoo_name = serializers.CharField(help_text="INV/2026/00042; empty until Odoo posted it")
    state = serializers.CharField(help_text="draft, posted, cancel ('' until made)")
    payment_state = serializers.CharField(
        help_text="not_paid, partial, in_payment, paid, reversed ('' until made)"
    )
    amount_total = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, coerce_to_string=True
    )
    amount_residual = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, coerce_to_string=True
    )
    shipment = serializers.IntegerField(
        source="shipment_picking_id", allow_null=True, help_text="The Odoo delivery it bills"
    )

    class Meta:
        model = OrderInvoice
        fields = [
            "odoo_name",
            "state",
            "payment_state",
            "currency",
            "amount_total",
            "amount_residual",
            "due_date",
            "shipment",
            "posted_at",
        ]


class OrderInvoicesSerializer(serializers.Serializer[Any]):
    order = serializers.IntegerField()
    number = serializers.CharField()
    invoices = InvoiceSerializer(many=True)


class OrderInvoicesView(TokenAPIView):
    any_scopes = (ORDERS_READ, ORDERS_WRITE)

    @extend_schema(
        summary="An order's Odoo invoices and their payment state",
        responses={
            200: OrderInvoicesSerializer,
            **errors(404, d404="No such order for this token"),
            **AUTH,
        },
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = order_get(channel=self.principal.channel, order_id=order_id)
        if order is None:
            return error_response(None, "no such order", 404, "not_found")
        invoices = OrderInvoice.objects.filter(order=order).exclude(state="nothing")
        data = {
            "order": order.pk,
            "number": order.number or order.external_id,
            "invoices": list(invoices.order_by("pk")),
        }
        return Response(OrderInvoicesSerializer(data).data)
