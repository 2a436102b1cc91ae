"""Channel self-service API: a token sees its own channel and nothing else."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..auth import ApiTokenAuthentication, ChannelPrincipal, HasScope, TokenRateThrottle
from .serializers import ChannelSerializer


class ChannelTokenView(APIView):
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [HasScope]
    throttle_classes = [TokenRateThrottle]
    required_scopes: tuple[str, ...] = ("events:read",)

    @property
    def principal(self) -> ChannelPrincipal:
        user = self.request.user
        assert isinstance(user, ChannelPrincipal)
        return user


class OwnChannelView(ChannelTokenView):
    """GET /api/v1/channel/ — the channel the token belongs to."""

    def get(self, request: Request) -> Response:
        return Response(ChannelSerializer(self.principal.channel).data)


class ChannelDetailView(ChannelTokenView):
    """GET /api/v1/channels/<code>/ — 404 for any channel but the token's own.

    404, not 403: a token must not learn which other channels exist.
    """

    def get(self, request: Request, code: str, **kwargs: Any) -> Response:
        if code != self.principal.channel.code:
            raise Http404("no such channel")
        return Response(ChannelSerializer(self.principal.channel).data)
