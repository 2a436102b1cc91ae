"""The events API: the event catalog, the pull API, and partners' own webhook endpoints.

- `GET /api/v1/events/types/` (no token needed): every event type, version and JSON Schema.
- `GET /api/v1/events/?after=&types=&limit=` (scope `events:read`): the token's channel's
  events in order; `next_cursor` is the `after` of the next page.
- `/api/v1/webhook-endpoints/` (scope `events:manage`): a partner's endpoints. A token sees
  and changes only its own channel's endpoints; anything else is a 404, never a 403, so a
  token cannot learn what exists elsewhere. Its endpoints receive only its channel's events.

Errors are `{"error", "field", "reason"}` with the status code saying which kind.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.sales_channels.api.base import (
    AUTH,
    BODY,
    INVALID,
    ContractAPIView,
    TokenAPIView,
    error_response,
    errors,
)

from .. import selectors, services
from ..catalog import envelope, event_type, event_types
from ..models import EndpointSecret, WebhookEndpoint
from .serializers import (
    EndpointCreateSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
    EndpointWithSecretSerializer,
    EventListQuerySerializer,
    EventPageSerializer,
    EventTypeSerializer,
    RecoverResultSerializer,
    RecoverSerializer,
    SecretSerializer,
)

READ = "events:read"
MANAGE = "events:manage"
# Documented answers besides the success: what a token can meet anywhere (AUTH), what a query
# (INVALID) or a body (BODY) can cause, and what naming an endpoint can (NOT_FOUND).
NOT_FOUND = errors(404, d404="No such endpoint for this token")
REFUSED = errors(
    422,
    d422="The URL is one the hub may not call (not https in production, a "
    "private address, a host that does not resolve); `field` is `url`",
)
ENDPOINT_EXAMPLE = OpenApiExample(
    "subscribe",
    value={
        "url": "https://hooks.example.com/hub",
        "event_types": ["order.accepted", "shipment.dispatched"],
        "ordered": False,
        "description": "ERP bridge",
        "max_in_flight": 4,
    },
    request_only=True,
)


def _validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


# --- the catalog --------------------------------------------------------------------------------


class EventTypeListView(ContractAPIView):
    @extend_schema(
        summary="The event catalog: every type with its current version and JSON Schema",
        responses={200: EventTypeSerializer(many=True)},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "type": t.name,
                    "version": t.version,
                    "description": t.description,
                    "schema": t.schema,
                }
                for t in sorted(event_types().values(), key=lambda t: t.name)
            ]
        )


class EventTypeDetailView(ContractAPIView):
    @extend_schema(
        summary="One event type's JSON Schema",
        parameters=[
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                description="An event type, e.g. order.accepted",
                examples=[OpenApiExample("order.accepted", value="order.accepted")],
            )
        ],
        responses={200: EventTypeSerializer, **errors(404, d404="No such event type")},
        auth=[],
    )
    def get(self, request: Request, name: str) -> Response:
        try:
            t = event_type(name)
        except KeyError as exc:
            return error_response("type", str(exc.args[0]), 404, "not_found")
        return Response(
            {"type": t.name, "version": t.version, "description": t.description, "schema": t.schema}
        )


# --- the pull API -------------------------------------------------------------------------------


class EventListView(TokenAPIView):
    any_scopes = (READ,)

    @extend_schema(
        summary="Events of the token's channel after a cursor, oldest first",
        parameters=[
            EventListQuerySerializer,
            OpenApiParameter(
                "types",
                {"type": "array", "items": {"type": "string", "enum": sorted(event_types())}},
                OpenApiParameter.QUERY,
                style="form",
                explode=False,
                description="Event types to include, comma-separated (all when absent)",
            ),
        ],
        responses={200: EventPageSerializer, **INVALID, **AUTH},
    )
    def get(self, request: Request) -> Response:
        q = _validated(EventListQuerySerializer, request.query_params)
        pieces = [t.strip() for t in q["types"].split(",")] if q["types"] else []
        if any(not t for t in pieces):
            return error_response("types", "an empty event type (a stray comma?)")
        types = pieces
        known = set(event_types())
        unknown = [t for t in types if t not in known]
        if unknown:
            return error_response("types", f"unknown event type(s) {', '.join(unknown)}")
        rows = selectors.events_page(
            channel=self.principal.channel, after=q["after"], types=types, limit=q["limit"] + 1
        )
        more = len(rows) > q["limit"]
        rows = rows[: q["limit"]]
        data = [
            {
                **envelope(
                    uid=e.uid,
                    name=e.type,
                    version=e.version,
                    timestamp=e.occurred_at.isoformat().replace("+00:00", "Z"),
                    channel=e.channel.code if e.channel else None,
                    entity=e.entity_key,
                    data=e.payload,
                ),
                "cursor": str(e.seq),
            }
            for e in rows
        ]
        next_cursor = data[-1]["cursor"] if data else str(q["after"])
        return Response({"data": data, "next_cursor": next_cursor, "has_more": more})


# --- webhook endpoints --------------------------------------------------------------------------


class _EndpointView(TokenAPIView):
    any_scopes = (MANAGE,)

    def _own(self, endpoint_id: str) -> WebhookEndpoint | None:
        return (
            WebhookEndpoint.objects.filter(uid=endpoint_id, channel=self.principal.channel)
            .select_related("channel")
            .first()
        )

    def _actor(self) -> str:
        return str(self.principal)


class EndpointListView(_EndpointView):
    @extend_schema(
        summary="The token's channel's webhook endpoints",
        responses={200: EndpointSerializer(many=True), **AUTH},
    )
    def get(self, request: Request) -> Response:
        rows = WebhookEndpoint.objects.filter(channel=self.principal.channel).select_related(
            "channel"
        )
        return Response(EndpointSerializer(rows, many=True).data)

    @extend_schema(
        summary="Subscribe an endpoint; the answer carries its signing secret, shown once",
        request=EndpointCreateSerializer,
        examples=[ENDPOINT_EXAMPLE],
        responses={201: EndpointWithSecretSerializer, **BODY, **REFUSED, **AUTH},
    )
    def post(self, request: Request) -> Response:
        data = _validated(EndpointCreateSerializer, request.data)
        ep, secret = services.endpoint_create(
            channel=self.principal.channel, actor=self._actor(), **data
        )
        ep.secret = secret  # type: ignore[attr-defined]
        return Response(EndpointWithSecretSerializer(ep).data, status=201)


class EndpointDetailView(_EndpointView):
    @extend_schema(summary="One endpoint", responses={200: EndpointSerializer, **AUTH, **NOT_FOUND})
    def get(self, request: Request, endpoint_id: str) -> Response:
        ep = self._own(endpoint_id)
        if ep is None:
            return error_response(None, "no such endpoint", 404, "not_found")
        return Response(EndpointSerializer(ep).data)

    @extend_schema(
        summary="Change an endpoint (url, event types, ordering, state)",
        request=EndpointUpdateSerializer,
        examples=[
            OpenApiExample("pause", value={"state": "paused"}, request_only=True),
            OpenApiExample(
                "resubscribe", value={"event_types": ["*"], "ordered": True}, request_only=True
            ),
        ],
        responses={200: EndpointSerializer, **BODY, **REFUSED, **AUTH, **NOT_FOUND},
    )
    def patch(self, request: Request, endpoint_id: str) -> Response:
        ep = self._own(endpoint_id)
        if ep is None:
            return error_response(None, "no such endpoint", 404, "not_found")
        data = _validated(EndpointUpdateSerializer, request.data)
        ep = services.endpoint_update(endpoint=ep, actor=self._actor(), **data)
        return Response(EndpointSerializer(ep).data)

    @extend_schema(
        summary="Delete an endpoint and its messages",
        responses={204: None, **AUTH, **NOT_FOUND},
    )
    def delete(self, request: Request, endpoint_id: str) -> Response:
        ep = self._own(endpoint_id)
        if ep is None:
            return error_response(None, "no such endpoint", 404, "not_found")
        services.endpoint_delete(endpoint=ep, actor=self._actor())
        return Response(status=204)


class EndpointRotateView(_EndpointView):
    @extend_schema(
        summary="Rotate the signing secret; the old one keeps signing for 24 hours",
        request=None,
        responses={200: SecretSerializer, **AUTH, **NOT_FOUND},
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        ep = self._own(endpoint_id)
        if ep is None:
            return error_response(None, "no such endpoint", 404, "not_found")
        with transaction.atomic():
            secret = services.endpoint_secret_rotate(endpoint=ep, actor=self._actor())
            old = (
                EndpointSecret.objects.filter(endpoint=ep, valid_until__isnull=False)
                .order_by("-valid_until")
                .values_list("valid_until", flat=True)
                .first()
            )
        return Response({"secret": secret, "previous_valid_until": old})


class EndpointRecoverView(_EndpointView):
    @extend_schema(
        summary="Send again what failed or was missed since a time (dry_run counts only)",
        request=RecoverSerializer,
        examples=[
            OpenApiExample(
                "count", value={"since": "2026-01-01T00:00:00Z", "dry_run": True}, request_only=True
            )
        ],
        responses={
            200: RecoverResultSerializer,
            **errors(409, d409="The endpoint is disabled: enable it first"),
            **BODY,
            **errors(422, d422="`since` is out of the range the hub can store"),
            **AUTH,
            **NOT_FOUND,
        },
    )
    def post(self, request: Request, endpoint_id: str) -> Response:
        ep = self._own(endpoint_id)
        if ep is None:
            return error_response(None, "no such endpoint", 404, "not_found")
        data = _validated(RecoverSerializer, request.data)
        if ep.state == WebhookEndpoint.State.DISABLED and not data["dry_run"]:
            return error_response(
                "state", "the endpoint is disabled: enable it first", 409, "conflict"
            )
        result = services.endpoint_recover(
            endpoint=ep, since=data["since"], actor=self._actor(), dry_run=data["dry_run"]
        )
        return Response(
            {"requeued": result.requeued, "created": result.created, "dry_run": data["dry_run"]}
        )
