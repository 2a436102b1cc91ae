"""What every token-authenticated API view shares: the error body, its OpenAPI declarations,
and a base view that turns every failure into `{"error", "field", "reason"}`.

Used by the events, shipments and returns APIs; each view adds its permission (scopes).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import PermanentError

from ..auth import ApiTokenAuthentication, ChannelPrincipal, TokenRateThrottle


class ErrorSerializer(serializers.Serializer[Any]):
    error = serializers.CharField(help_text="invalid_request, not_found, ...")
    field = serializers.CharField(allow_null=True, help_text="The offending field, if any")
    reason = serializers.CharField()


AUTH = {
    401: OpenApiResponse(ErrorSerializer, description="No or an invalid token"),
    403: OpenApiResponse(ErrorSerializer, description="The token lacks the scope"),
    429: OpenApiResponse(ErrorSerializer, description="Rate limited (Retry-After)"),
}
INVALID = {
    400: OpenApiResponse(ErrorSerializer, description="A field is invalid (`field`, `reason`)"),
}

KINDS = {
    400: "invalid_request",  # a body that is not JSON
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def error_response(
    field: str | None, reason: str, code: int = 400, kind: str = "invalid_request"
) -> Response:
    return Response({"error": kind, "field": field, "reason": reason}, status=code)


def invalid_response(exc: serializers.ValidationError) -> Response:
    """The first field error of a serializer, named (`lines[0]`-style for list items)."""
    detail = exc.detail
    if isinstance(detail, dict) and detail:
        field, reasons = next(iter(detail.items()))
        reason = reasons[0] if isinstance(reasons, list) and reasons else reasons
        if isinstance(reason, dict):  # a nested field (a list item)
            sub, msgs = next(iter(reason.items()))
            name = str(field) if sub == "non_field_errors" else f"{field}[{sub}]"
            return error_response(name, str(msgs[0] if isinstance(msgs, list) else msgs))
        return error_response(None if field == "non_field_errors" else str(field), str(reason))
    return error_response(None, str(detail))


class TokenAPIView(APIView):
    """A channel token's JSON API view; subclasses set `permission_classes` (scopes)."""

    authentication_classes = [ApiTokenAuthentication]
    throttle_classes = [TokenRateThrottle]
    parser_classes = [JSONParser]  # a JSON API: bodies are JSON (the OpenAPI document says so)

    @property
    def principal(self) -> ChannelPrincipal:
        user = self.request.user
        assert isinstance(user, ChannelPrincipal)
        return user

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, serializers.ValidationError):
            return invalid_response(exc)
        if isinstance(exc, PermanentError):
            return error_response(exc.context.get("field"), exc.message)
        response = super().handle_exception(exc)
        if response is not None and isinstance(response.data, dict) and "detail" in response.data:
            response.data = {
                "error": KINDS.get(response.status_code, "error"),
                "field": None,
                "reason": str(response.data["detail"]),
            }
        return response
