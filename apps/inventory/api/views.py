"""GET /api/v1/inventory/?sku=A&sku=B — ATP for the token's channel (scope inventory:read).

A stored value is served when fresh (the SKU is not dirty and its ATP was computed within
HUB_INVENTORY_API_MAX_AGE_SECONDS); otherwise ATP is computed live from Odoo (and stored,
not published). `source` says which. SKUs not bound on the token's channel (including another
channel's SKUs) are listed under `not_found`.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import TransientError
from apps.sales_channels.auth import (
    ApiTokenAuthentication,
    ChannelPrincipal,
    HasScope,
    TokenRateThrottle,
)

from ..services import atp_for_api

MAX_SKUS = 200


class InventoryView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [TokenRateThrottle]
    required_scopes: tuple[str, ...] = ("inventory:read",)

    def get(self, request: Request) -> Response:
        principal = request.user
        assert isinstance(principal, ChannelPrincipal)
        skus = list(dict.fromkeys(s for s in request.query_params.getlist("sku") if s))
        if not skus:
            return Response(
                {"error": "invalid_request", "field": "sku", "reason": "give at least one sku"},
                status=400,
            )
        if len(skus) > MAX_SKUS:
            return Response(
                {"error": "invalid_request", "field": "sku", "reason": f"at most {MAX_SKUS}"},
                status=400,
            )
        try:
            found = atp_for_api(
                channel=principal.channel,
                skus=skus,
                max_age_seconds=int(settings.HUB_INVENTORY_API_MAX_AGE_SECONDS),
            )
        except TransientError as exc:
            return Response(
                {"error": "odoo_unavailable", "detail": str(exc)},
                status=503,
                headers={"Retry-After": str(int(exc.retry_after or 30))},
            )
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
                "channel": principal.channel.code,
                "items": items,
                "not_found": [s for s in skus if s not in found],
            }
        )
