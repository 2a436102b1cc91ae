"""GET /api/v1/prices/?sku=A&sku=B&qty=10&customer=ACME (scope ``prices:read``).

The token's channel prices its bound SKUs with its pricelist; on a B2B channel, ``customer``
names one of the channel's own customer accounts (a customer binding) and that account's Odoo
company's pricelist applies. An account of another channel, or none, is a 404 naming
``customer``: a token never sees another account's prices, nor learns that it exists. SKUs not
bound on the channel are listed under ``not_found``. Prices come from the engine's cache
(apps.pricing.services); Odoo is called only for what the cache lacks or cannot evaluate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.errors import TransientError
from apps.mappings.models import Binding
from apps.sales_channels.api.base import (
    AUTH,
    INVALID,
    TokenAPIView,
    error_declaration,
    error_response,
    errors,
)
from apps.sales_channels.models import Channel

from ..services import channel_pricelist, prices_for
from .serializers import PriceListSerializer, PriceQuerySerializer

PRICES_READ = "prices:read"


def _products(channel: Channel, skus: list[str]) -> dict[str, int]:
    """sku -> Odoo variant id, through the channel's product bindings."""
    bound = Binding.objects.filter(channel=channel, kind=Binding.Kind.PRODUCT)
    found: dict[str, int] = {}
    for code, odoo_id in bound.filter(external_code__in=skus).values_list(
        "external_code", "odoo_id"
    ):
        found.setdefault(code, int(odoo_id))
    rest = [s for s in skus if s not in found]
    if rest:  # bindings without a code are known by their external id
        for ext, odoo_id in bound.filter(external_id__in=rest, external_code="").values_list(
            "external_id", "odoo_id"
        ):
            found.setdefault(ext, int(odoo_id))
    return found


class PricesView(TokenAPIView):
    any_scopes: tuple[str, ...] = (PRICES_READ,)

    @extend_schema(
        summary="Unit prices of the channel's SKUs (a B2B customer's own prices with customer)",
        parameters=[PriceQuerySerializer],
        responses={
            200: PriceListSerializer,
            **errors(404, d404="`customer` is not an account of this channel (field `customer`)"),
            **errors(422, d422="`customer` on a channel that is not a B2B portal"),
            503: error_declaration(
                503,
                "Odoo is unavailable and the cache lacks a price",
                error="odoo_unavailable",
            ),
            **INVALID,
            **AUTH,
        },
    )
    def get(self, request: Request) -> Response:
        query = PriceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q: dict[str, Any] = dict(query.validated_data)
        channel = self.principal.channel
        skus = list(dict.fromkeys(q["sku"]))
        partner_id: int | None = None
        if q["customer"]:
            if channel.kind != Channel.Kind.B2B_API:
                return error_response("customer", "customer prices are for B2B channels", 422)
            account = Binding.objects.filter(
                channel=channel, kind=Binding.Kind.CUSTOMER, external_id=q["customer"]
            ).first()
            if account is None:
                return error_response("customer", "no such customer account", 404, "not_found")
            partner_id = account.odoo_id
        products = _products(channel, skus)
        try:
            quotes = prices_for(
                pricelist_id=channel_pricelist(channel),
                product_ids=list(products.values()),
                quantity=q["qty"],
                date=q["date"],
                partner_id=partner_id,
            )
        except TransientError as exc:
            response = error_response(None, f"Odoo is unavailable: {exc}", 503, "odoo_unavailable")
            response["Retry-After"] = str(int(exc.retry_after or 30))
            return response
        items = []
        for sku in skus:
            quote = quotes.get(products[sku]) if sku in products else None
            if quote is None:
                continue
            items.append(
                {
                    "sku": sku,
                    "quantity": f"{_plain(quote.quantity)}",
                    "unit_price": str(quote.unit_price),
                    "currency": quote.currency,
                    "rule": quote.rule,
                    "valid_until": (
                        quote.valid_until.isoformat().replace("+00:00", "Z")
                        if quote.valid_until
                        else None
                    ),
                }
            )
        found = {i["sku"] for i in items}
        # Built as PriceListSerializer declares it (plain values: 500 items stay fast).
        return Response({"items": items, "not_found": [s for s in skus if s not in found]})


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"
