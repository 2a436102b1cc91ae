"""Input and output shapes of the events API (they are also its OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.sales_channels.api.fields import (
    AwareDateTimeField,
    Pattern,
    QueryIntegerField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
)

from ..catalog import event_types
from ..fanout import INTERNAL_TYPES
from ..models import WebhookEndpoint


def subscribable_types() -> list[str]:
    return ["*", *sorted(t for t in event_types() if t not in INTERNAL_TYPES)]


@extend_schema_field({"type": "string", "enum": subscribable_types()})
class EventTypeField(StrictCharField):
    """An event type of the catalog a partner may subscribe to, or "*"."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if value not in subscribable_types():
            raise serializers.ValidationError(
                f"unknown event type {value!r}; see /api/v1/events/types/"
            )
        return value


# An http(s) URL with a host name or an IPv4 address: what a receiver's address looks like.
# Whether the hub may call it (https required, a public address) is decided when it is used:
# a refusal there is a 422 naming `url`.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}|0)"
# A "%" only as a percent-escape (RFC 3986: "%" HEXDIG HEXDIG), so every URL taken is a "uri".
_PCT = "%[0-9A-Fa-f]{2}"
_PATH = f"(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|{_PCT})*)?"
_QUERY = f"(?:\\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|{_PCT})*)?"
URL_PATTERN = f"^https?://{_LABEL}(?:\\.{_LABEL})*(?::{_PORT})?{_PATH}{_QUERY}$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": URL_PATTERN,
        "maxLength": 1000,
        "example": "https://hooks.example.com/hub",
    }
)
class ReceiverUrlField(StrictCharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=1000, **kwargs)
        self.validators.append(Pattern(URL_PATTERN, "must be an http(s) URL with a host"))


class EndpointCreateSerializer(serializers.Serializer[Any]):
    url = ReceiverUrlField(help_text="The URL that receives the events (https in production)")
    event_types = serializers.ListField(
        child=EventTypeField(max_length=64),
        min_length=1,
        help_text='Event types, e.g. ["order.accepted", "shipment.dispatched"]; ["*"] for all',
    )
    ordered = StrictBooleanField(
        default=False, help_text="Deliver each entity's events one at a time, in order"
    )
    description = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    max_in_flight = StrictIntegerField(min_value=1, max_value=16, required=False, default=4)


class EndpointUpdateSerializer(serializers.Serializer[Any]):
    url = ReceiverUrlField(required=False)
    event_types = serializers.ListField(
        child=EventTypeField(max_length=64), min_length=1, required=False
    )
    ordered = StrictBooleanField(required=False)
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    max_in_flight = StrictIntegerField(min_value=1, max_value=16, required=False)
    state = serializers.ChoiceField(
        choices=WebhookEndpoint.State.choices,
        required=False,
        help_text="active, paused (messages wait) or disabled (no messages)",
    )


class EndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    id = serializers.CharField(source="uid", read_only=True)
    channel = serializers.CharField(source="channel.code", read_only=True, allow_null=True)
    event_types = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text='["*"] means every type'
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "channel",
            "ordered",
            "max_in_flight",
            "state",
            "disabled_reason",
            "failing_since",
            "last_success_at",
            "last_error",
            "created_at",
        ]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text="whsec_…: shown once; verify signatures with it"
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SecretSerializer(serializers.Serializer[Any]):
    secret = serializers.CharField(help_text="The new whsec_… secret, shown once")
    previous_valid_until = serializers.DateTimeField(
        help_text="Until then deliveries carry signatures with the old and the new secret"
    )


class RecoverSerializer(serializers.Serializer[Any]):
    since = AwareDateTimeField(help_text="Recover messages of events recorded since then")
    dry_run = StrictBooleanField(default=False, help_text="Only count")


class RecoverResultSerializer(serializers.Serializer[Any]):
    requeued = serializers.IntegerField(help_text="Failed messages sent again")
    created = serializers.IntegerField(help_text="Missed events now queued for this endpoint")
    dry_run = serializers.BooleanField()


class EventSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="Also the webhook-id header of its deliveries")
    type = serializers.CharField()
    version = serializers.IntegerField()
    timestamp = serializers.DateTimeField(help_text="When it happened")
    channel = serializers.CharField(allow_null=True)
    entity = serializers.CharField(help_text="Events of one entity share this key")
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text="The type's payload: see /api/v1/events/types/"
    )
    cursor = serializers.CharField(help_text="Pass as `after` to read what follows")


class EventPageSerializer(serializers.Serializer[Any]):
    data = EventSerializer(many=True)  # type: ignore[assignment]
    next_cursor = serializers.CharField(help_text="The cursor of the last event, or `after`")
    has_more = serializers.BooleanField()


# A cursor is an event's sequence number: a bigint, at most 18 digits.
AFTER_PATTERN = "^[0-9]{0,18}$"


class EventListQuerySerializer(serializers.Serializer[Any]):
    after = serializers.CharField(
        required=False,
        trim_whitespace=False,
        default="0",
        allow_blank=True,
        validators=[Pattern(AFTER_PATTERN, "must be a cursor (digits)")],
        help_text="Cursor: events after this one (0 or empty: from the start)",
    )
    types = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="Comma-separated event types to include (all when empty)",
    )
    limit = QueryIntegerField(required=False, default=100, min_value=1, max_value=500)

    def validate_after(self, value: str) -> int:
        return int(value or 0)


class EventTypeSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    schema = serializers.JSONField(help_text="JSON Schema (2020-12) of the event's `data`")
