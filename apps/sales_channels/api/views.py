"""Channel self-service API: a token sees its own channel and nothing else."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from .base import AUTH, TokenAPIView, error_response, errors
from .serializers import ChannelSerializer


class ChannelTokenView(TokenAPIView):
    any_scopes: tuple[str, ...] = ("events:read",)


class OwnChannelView(ChannelTokenView):
    """GET /api/v1/channel/ — the channel the token belongs to."""

    @extend_schema(
        summary="The token's own channel (no credentials, no secrets)",
        responses={200: ChannelSerializer, **AUTH},
    )
    def get(self, request: Request) -> Response:
        return Response(ChannelSerializer(self.principal.channel).data)


class ChannelDetailView(ChannelTokenView):
    """GET /api/v1/channels/<code>/ — 404 for any channel but the token's own.

    404, not 403: a token must not learn which other channels exist.
    """

    @extend_schema(
        summary="A channel by its code: only the token's own (any other is a 404)",
        parameters=[
            OpenApiParameter(
                "code",
                {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
                OpenApiParameter.PATH,
                description="The channel's code",
                examples=[OpenApiExample("code", value="acme-b2b")],
            )
        ],
        responses={200: ChannelSerializer, **AUTH, **errors(404, d404="Not this token's channel")},
    )
    def get(self, request: Request, code: str, **kwargs: Any) -> Response:
        if code != self.principal.channel.code:
            return error_response(None, "no such channel", 404)
        return Response(ChannelSerializer(self.principal.channel).data)
