"""`/webhooks/magento/<code>/`: Adobe I/O Events for Adobe Commerce, declared in the OpenAPI
document. The work is the generic receiver's (views.webhook_respond with the AdobeIOReceiver):
this DRF view only gives the route its schema (handshake parameters, the CloudEvent body, the
signature headers and every answer with its error body).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.sales_channels.models import Channel

from .views import method_not_allowed, webhook_respond


class ChallengeSerializer(serializers.Serializer[Any]):
    challenge = serializers.CharField(help_text="The `challenge` query value, echoed")


class WebhookErrorSerializer(serializers.Serializer[Any]):
    error = serializers.CharField(
        help_text="signature_missing, signature_invalid, key_host_refused, key_unavailable, "
        "recipient_mismatch, recipient_not_configured, header_missing, header_mismatch, "
        "field_missing, invalid_json, challenge_invalid, channel_not_found, channel_paused, "
        "body_too_large"
    )
    header = serializers.CharField(required=False, help_text="The header at fault")
    field = serializers.CharField(required=False, help_text="The body field at fault")
    detail = serializers.CharField()


class RecordedSerializer(serializers.Serializer[Any]):
    event_id = serializers.IntegerField(help_text="The hub's ledger event id")
    status = serializers.ChoiceField(choices=["recorded", "duplicate"])


class EventDataSerializer(serializers.Serializer[Any]):
    value = serializers.DictField(
        help_text="The Commerce model's raw data, only the subscribed fields; numbers are "
        'usually strings ("66.7400"). The hub reads `entity_id` (orders) or `order_id` '
        "(invoices, shipments, credit memos) and re-reads the order over REST."
    )
    _metadata = serializers.DictField(required=False)


# `data` cannot be a declared field (it is the serializer's own property): built inline.
ADOBE_EVENT = inline_serializer(
    name="AdobeIOEvent",
    fields={
        "specversion": serializers.CharField(required=False),
        "type": serializers.CharField(help_text="com.adobe.commerce.<event name>"),
        "source": serializers.CharField(required=False),
        "id": serializers.CharField(required=False),
        "time": serializers.CharField(required=False),
        "datacontenttype": serializers.CharField(required=False),
        "event_id": serializers.CharField(help_text="Equals x-adobe-event-id: the dedupe key"),
        "recipient_client_id": serializers.CharField(
            help_text="Must equal the channel's magento_client_id"
        ),
        "data": EventDataSerializer(),
    },
)


def _header(name: str, description: str, required: bool = True) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.HEADER, required=required, description=description
    )


def _refused(description: str) -> OpenApiResponse:
    return OpenApiResponse(WebhookErrorSerializer, description=description)


CODE = OpenApiParameter(
    "channel_code", OpenApiTypes.STR, OpenApiParameter.PATH, description="The channel's code"
)


class AdobeEventsView(APIView):
    """Adobe I/O Events for one Magento channel: the handshake and the deliveries."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    # Any other method (OPTIONS included) is a 405 with the senders' error body and `Allow`.
    http_method_names = ["get", "post"]

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return method_not_allowed(("GET", "POST"))

    @extend_schema(
        operation_id="webhooks_magento_challenge",
        summary="Adobe I/O registration handshake",
        description="Adobe sends GET ?challenge=<id> when a registration is created or edited; "
        "the hub answers the id back. Nothing is recorded.",
        parameters=[
            CODE,
            OpenApiParameter("challenge", OpenApiTypes.STR, OpenApiParameter.QUERY, required=True),
        ],
        responses={
            200: ChallengeSerializer,
            400: _refused("challenge missing or malformed"),
            404: _refused("no Magento channel with this code"),
        },
        tags=["channel webhooks"],
    )
    def get(self, request: Request, channel_code: str) -> Any:
        return webhook_respond(request._request, Channel.Kind.MAGENTO, channel_code)

    @extend_schema(
        operation_id="webhooks_magento_event",
        summary="Adobe I/O Events delivery (com.adobe.commerce.*)",
        description="Verified before parsing: at least one of the two RSA-SHA256 signatures "
        "must verify with its public key, fetched only from HUB_ADOBE_KEY_HOST and cached; "
        "recipient_client_id must be the channel's client id. Recorded (deduplicated on "
        "event_id / x-adobe-event-id) before the answer; the order is then re-read over REST.",
        parameters=[
            CODE,
            _header("x-adobe-digital-signature-1", "base64 RSA-SHA256 of the raw body"),
            _header("x-adobe-digital-signature-2", "base64 RSA-SHA256 of the raw body"),
            _header("x-adobe-public-key1-path", "path of key 1 on the Adobe key host"),
            _header("x-adobe-public-key2-path", "path of key 2 on the Adobe key host"),
            _header("x-adobe-event-id", "the event's uuid (the body's event_id)"),
            _header("x-adobe-event-code", "the event code", required=False),
            _header("x-adobe-retry-count", "present on retries", required=False),
        ],
        request=ADOBE_EVENT,
        responses={
            202: RecordedSerializer,
            200: OpenApiResponse(RecordedSerializer, description="duplicate of a recorded event"),
            400: _refused("a header or field missing or contradicting the body; not JSON"),
            401: _refused(
                "signatures missing or invalid, a key path off the key host, wrong or "
                "unconfigured recipient_client_id"
            ),
            404: _refused("no Magento channel with this code"),
            413: _refused("body over HUB_MAX_BODY_BYTES"),
            503: _refused("channel paused, or a public key cannot be fetched now (retry)"),
        },
        tags=["channel webhooks"],
    )
    def post(self, request: Request, channel_code: str) -> Any:
        return webhook_respond(request._request, Channel.Kind.MAGENTO, channel_code)
