"""Input and output shapes of the events API (they are also its OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..catalog import event_types
from ..fanout import INTERNAL_TYPES
from ..models import WebhookEndpoint


def subscribable_types() -> list[str]:
    return ["*", *sorted(t for t in event_types() if t not in INTERNAL_TYPES)]


class StrictCharField(serializers.CharField):
    """A JSON string, not a number DRF would turn into one."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, not 0, 1 or "yes"."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, not "4" or 4.0."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


@extend_schema_field({"type": "string", "enum": subscribable_types()})
class EventTypeField(StrictCharField):
    """An event type of the catalog, or "*" (the service explains what is wrong with others)."""


class EndpointCreateSerializer(serializers.Serializer[Any]):
    url = serializers.URLField(max_length=1000, help_text="https URL that receives the events")
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
    url = serializers.URLField(max_length=1000, required=False)
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
    since = serializers.DateTimeField(help_text="Recover messages of events recorded since then")
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


class EventListQuerySerializer(serializers.Serializer[Any]):
    after = serializers.RegexField(
        r"^[0-9]*$",
        required=False,
        default="0",
        allow_blank=True,
        help_text="Cursor: events after this one (0 or empty: from the start)",
    )
    types = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="Comma-separated event types to include (all when empty)",
    )
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=500)

    def validate_after(self, value: str) -> int:
        return int(value or 0)


class EventTypeSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    schema = serializers.JSONField(help_text="JSON Schema (2020-12) of the event's `data`")
