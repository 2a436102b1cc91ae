"""GET /api/v1/inventory/?sku=A&sku=B — ATP for the token's channel (scope inventory:read).

A stored value is served when fresh (the SKU is not dirty and its ATP was computed within
HUB_INVENTORY_API_MAX_AGE_SECONDS); otherwise ATP is computed live from Odoo (and stored,
not published). `source` says which. SKUs not bound on the token's channel (including another
channel's SKUs) are listed under `not_found`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import TransientError
from apps.sales_channels.api.base import (
    AUTH,
    INVALID,
    TokenAPIView,
    error_declaration,
    error_response,
)

from ..services import atp_for_api

MAX_SKUS = 200
SKU_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 255}


class InventoryQuerySerializer(serializers.Serializer[Any]):
    sku = serializers.ListField(
        child=serializers.CharField(max_length=255, min_length=1, trim_whitespace=False),
        min_length=1,
        max_length=MAX_SKUS,
    )


class InventoryItemSerializer(serializers.Serializer[Any]):
    sku = serializers.CharField()
    atp = serializers.IntegerField(help_text="Available to promise on this channel")
    computed_at = serializers.DateTimeField()
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=["stored", "live"],
        help_text="stored: a fresh stored value; live: computed from Odoo for this answer",
    )


class InventorySerializer(serializers.Serializer[Any]):
    channel = serializers.CharField()
    items = InventoryItemSerializer(many=True)
    not_found = serializers.ListField(
        child=serializers.CharField(), help_text="SKUs not bound on this channel"
    )


class InventoryView(TokenAPIView):
    any_scopes: tuple[str, ...] = ("inventory:read",)

    @extend_schema(
        summary="Available to promise of the channel's SKUs",
        parameters=[
            OpenApiParameter(
                "sku",
                {"type": "array", "items": SKU_SCHEMA, "minItems": 1, "maxItems": MAX_SKUS},
                OpenApiParameter.QUERY,
                required=True,
                style="form",
                explode=True,
                description=f"The channel's SKUs, repeated (`sku=A&sku=B`), 1 to {MAX_SKUS}",
                examples=[OpenApiExample("two", value=["TSHIRT-BLU-M", "MUG-WHT-11OZ"])],
            )
        ],
        responses={
            200: InventorySerializer,
            **INVALID,
            **AUTH,
            503: error_declaration(503, error="odoo_unavailable"),
        },
    )
    def get(self, request: Request) -> Response:
        query = InventoryQuerySerializer(data={"sku": request.query_params.getlist("sku")})
        query.is_valid(raise_exception=True)
        skus = list(dict.fromkeys(query.validated_data["sku"]))
        channel = self.principal.channel
        try:
            found = atp_for_api(
                channel=channel,
                skus=skus,
                max_age_seconds=int(settings.HUB_INVENTORY_API_MAX_AGE_SECONDS),
            )
        except TransientError as exc:
            response = error_response(None, f"Odoo is unavailable: {exc}", 503, "odoo_unavailable")
            response["Retry-After"] = str(int(exc.retry_after or 30))
            return response
        items = [
            {
                "sku": sku,
                "atp": found[sku]["atp"],
                "computed_at": found[sku]["computed_at"].isoformat(),
                "source": found[sku]["source"],
            }
            for sku in skus
            if sku in found
        ]
        return Response(
            {
                "channel": channel.code,
                "items": items,
                "not_found": [s for s in skus if s not in found],
            }
        )
