"""What every token-authenticated API view shares: the error body, its OpenAPI declarations,
the scope check, and a base view that turns every failure into `{"error", "field", "reason"}`.

The contract (docs/api.md): 400 means the request does not match the OpenAPI document (a
partner can tell from the document alone); 422 means it matches but a business rule refuses it
(totals that do not add up, a return of more than was shipped, an Idempotency-Key reused with
another body). An unknown method is a 405 before any token check; a body over
HUB_MAX_BODY_BYTES is a 413 before it is read. A refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import PermanentError

from ..auth import ApiTokenAuthentication, ChannelPrincipal, TokenRateThrottle
from .fields import UNPROCESSABLE
from .parsers import StrictJSONParser

# The `error` of each status; a view may name a narrower kind (e.g. idempotency_conflict).
KINDS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    503: "unavailable",
}

# What each status means in this API (the OpenAPI description), with an example body.
_MEANING: dict[int, tuple[str, str | None, str]] = {
    400: (
        "The request does not match this document: `field` names the first offending field",
        "lines[0].quantity",
        "A valid integer is required.",
    ),
    401: ("No token, or an invalid, expired or revoked one", None, "invalid token"),
    403: ("The token lacks the operation's scope", None, "token lacks scope(s): orders:write"),
    404: ("No such resource for this token (another channel's is a 404 too)", None, "not found"),
    409: ("Conflicts with the resource's current state", None, "conflict"),
    413: ("The body is larger than the hub accepts (HUB_MAX_BODY_BYTES)", None, "too large"),
    414: (
        "The request line is longer than 8190 bytes (long or many query values)",
        None,
        "Request Line is too large (8192 > 8190)",
    ),
    415: (
        "The body is not `application/json`",
        None,
        'Unsupported media type "text/plain" in request.',
    ),
    422: ("Matches this document, but a business rule refuses it", None, "refused"),
    429: (
        "Too many requests for this token; retry after `Retry-After` seconds",
        None,
        "Request was throttled. Expected available in 12 seconds.",
    ),
    503: ("Odoo is unavailable; retry after `Retry-After` seconds", None, "Odoo is unavailable"),
}


class ErrorSerializer(serializers.Serializer[Any]):
    """Every error answer of the API."""

    error = serializers.CharField(
        help_text="The kind: invalid_request, unauthorized, forbidden, not_found, "
        "method_not_allowed, conflict, body_too_large, unsupported_media_type, unprocessable, "
        "rate_limited, unavailable (or a narrower kind an operation documents)"
    )
    field = serializers.CharField(
        allow_null=True, help_text="The offending field (`lines[0].quantity`, a header), or null"
    )
    reason = serializers.CharField(help_text="What is wrong, for a person")


def error_declaration(code: int, description: str | None = None, **example: Any) -> OpenApiResponse:
    """One documented error answer: ErrorSerializer, its meaning and an example body
    (`example` overrides the example's `error`, `field` or `reason`)."""
    meaning, example_field, example_reason = _MEANING[code]
    value = {"error": KINDS[code], "field": example_field, "reason": example_reason, **example}
    return OpenApiResponse(
        ErrorSerializer,
        description=description or meaning,
        examples=[OpenApiExample(f"{code}", value=value, response_only=True, status_codes=[code])],
    )


def errors(*codes: int, **descriptions: str) -> dict[int, OpenApiResponse]:
    """`errors(400, 401, 404, d404="No such order")`: declarations for several codes."""
    return {c: error_declaration(c, descriptions.get(f"d{c}")) for c in codes}


# What any token operation can answer, and what one with a body can.
AUTH = errors(401, 403, 429)
INVALID = errors(400)
BODY = errors(400, 413, 415)


def error_response(
    field: str | None, reason: str, code: int = 400, kind: str | None = None
) -> Response:
    return Response(
        {"error": kind or KINDS.get(code, "error"), "field": field, "reason": reason}, status=code
    )


def _field_name(path: list[str]) -> str | None:
    """['lines', '0', 'quantity'] -> 'lines[0].quantity'."""
    name = ""
    for part in path:
        if part == "non_field_errors":
            continue
        name += f"[{part}]" if part.isdigit() else (f".{part}" if name else part)
    return name or None


def _leaves(detail: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    """Every error of a serializer's `detail`, in order, with the path to its field."""
    if isinstance(detail, dict):
        return [leaf for k, v in detail.items() for leaf in _leaves(v, [*path, str(k)])]
    if isinstance(detail, list):
        if any(isinstance(d, (dict, list)) for d in detail):
            return [leaf for i, d in enumerate(detail) for leaf in _leaves(d, [*path, str(i)])]
        return [(path, d) for d in detail]
    return [(path, detail)]


def invalid_response(exc: serializers.ValidationError) -> Response:
    """The first error of a serializer, its field named `lines[0].quantity`-style: a 400, or
    a 422 when every error is a business refusal of schema-valid data (fields.unprocessable)."""
    leaves = _leaves(exc.detail, []) or [([], "invalid")]
    malformed = [leaf for leaf in leaves if getattr(leaf[1], "code", None) != UNPROCESSABLE]
    path, detail = (malformed or leaves)[0]
    return error_response(_field_name(path), str(detail), 400 if malformed else 422)


class AnyScope(BasePermission):
    """Grants access when the token holds one of the view's scopes for the method.

    A view sets `any_scopes` (one of them suffices) or `scopes_by_method` ({"POST": (...)}).
    A view that declares none is closed, not open. The OpenAPI document reads the same
    attributes (apps.sales_channels.openapi), so the scopes it shows are the ones checked.
    """

    message = "token lacks a required scope"

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, ChannelPrincipal):
            return False
        wanted = set(view_scopes(view, request.method))
        if wanted and principal.scopes & wanted:
            return True
        self.message = f"token lacks scope {' or '.join(sorted(wanted)) or '(none declared)'}"
        return False


def view_scopes(view: Any, method: str) -> tuple[str, ...]:
    """The scopes of which a token needs one to call `method` on `view`."""
    by_method = getattr(view, "scopes_by_method", None)
    if by_method is not None:
        return tuple(by_method.get(method.upper(), ()))
    return tuple(getattr(view, "any_scopes", ()))


class ContractMixin:
    """Answers as the document says: a 405 for an unknown method before anything else, a 413
    for a body over HUB_MAX_BODY_BYTES before reading it, every failure as the error body."""

    http_method_names: Sequence[str]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # DRF checks the method after the token; a 405 must not depend on who asks.
        method = (request.method or "").lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method or "")
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.isdigit():
            raise exceptions.ParseError("Content-Length is not a number")
        if int(declared) > settings.HUB_MAX_BODY_BYTES:
            raise BodyTooLarge(settings.HUB_MAX_BODY_BYTES)
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, serializers.ValidationError):
            return invalid_response(exc)
        if isinstance(exc, PermanentError):
            # Raised by a service after the request matched the document: a business refusal.
            return error_response(exc.context.get("field"), exc.message, 422)
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        if response is not None and isinstance(response.data, dict) and "detail" in response.data:
            response.data = {
                "error": KINDS.get(response.status_code, "error"),
                "field": None,
                "reason": str(response.data["detail"]),
            }
        return response


class ContractAPIView(ContractMixin, APIView):
    """A JSON API view without a token (e.g. the event catalog)."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    # A JSON API: bodies are JSON (the OpenAPI document says so), parsed strictly.
    parser_classes = [StrictJSONParser]


class _JsonErrors:
    """A view that renders something else (the document, the docs page) answers errors in JSON."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if response.status_code >= 400:  # the error body is JSON, not an OpenAPI document
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc,no-any-return]


class ContractSchemaView(ContractMixin, _JsonErrors, SpectacularAPIView):
    """/api/schema/: the document, answering like the operations it describes."""


class ContractDocsView(ContractMixin, _JsonErrors, SpectacularSwaggerView):
    """/api/docs/: the browsable document (Swagger UI), answering errors like the API."""


class TokenAPIView(ContractAPIView):
    """A channel token's JSON API view; subclasses set their scopes (see AnyScope)."""

    authentication_classes = [ApiTokenAuthentication]
    permission_classes = [AnyScope]
    throttle_classes = [TokenRateThrottle]

    @property
    def principal(self) -> ChannelPrincipal:
        user = self.request.user
        assert isinstance(user, ChannelPrincipal)
        return user


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body exceeds {limit} bytes")


def json_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: the API's and the webhooks' error body for a URL that matches no route
    (e.g. `/api/v1/orders/abc/`); Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "not_found", "field": None, "reason": "no such resource"}, status=404
        )
    if request.path.startswith("/webhooks/"):  # the senders' error body (apps.webhooks.views)
        return JsonResponse({"error": "not_found", "detail": "no such resource"}, status=404)
    return defaults.page_not_found(request, exception)


def json_server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the error body on the API too (the hub answers no 5xx by design)."""
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse(
            {"error": "server_error", "field": None, "reason": "internal error"}, status=500
        )
    return defaults.server_error(request)
