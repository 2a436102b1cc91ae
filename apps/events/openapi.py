"""The event catalog in the OpenAPI document: one OpenAPI 3.1 `webhooks` entry per event type.

Each entry shows the POST a partner's endpoint receives: the Standard Webhooks headers and the
envelope whose `data` is the type's JSON Schema (the same files /api/v1/events/types/ serves).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiWebhook, extend_schema

from .catalog import event_types

HEADERS = [
    OpenApiParameter(
        "webhook-id",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="The event's id: the same on every retry and for every endpoint; dedupe on it",
    ),
    OpenApiParameter(
        "webhook-timestamp",
        int,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix seconds of this attempt; reject ones more than 5 minutes off",
    ),
    OpenApiParameter(
        "webhook-signature",
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="Space-separated `v1,<base64 HMAC-SHA256>` of `<id>.<timestamp>.<body>`, "
        "one per valid secret (two during a rotation)",
    ),
]


def _envelope(name: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in data.items() if not k.startswith(("$", "x-"))}
    return {
        "type": "object",
        "required": ["id", "type", "version", "timestamp", "channel", "entity", "data"],
        "properties": {
            "id": {"type": "string", "example": "msg_2f1c…"},
            "type": {"type": "string", "const": name},
            "version": {"type": "integer", "const": version},
            "timestamp": {"type": "string", "format": "date-time"},
            "channel": {"type": ["string", "null"]},
            "entity": {"type": "string"},
            "data": schema,
        },
    }


def attribute_name(schema_file_stem: str) -> str:
    """`order.accepted.v1` -> `ORDER_ACCEPTED_V1`: the name settings.WEBHOOKS imports."""
    return schema_file_stem.replace(".", "_").upper()


def webhooks() -> dict[str, OpenApiWebhook]:
    out = {}
    for et in sorted(event_types().values(), key=lambda t: t.name):
        out[attribute_name(et.key)] = OpenApiWebhook(
            name=et.name,
            decorator=extend_schema(
                summary=f"{et.name} (v{et.version})",
                description=et.description,
                parameters=HEADERS,
                request={"application/json": _envelope(et.name, et.version, et.schema)},
                responses={
                    200: OpenApiResponse(description="Any 2xx: received"),
                    410: OpenApiResponse(description="Gone: the hub disables the endpoint"),
                    429: OpenApiResponse(
                        description="Too many requests: the hub waits for Retry-After"
                    ),
                },
            ),
        )
    return out


# drf-spectacular imports each webhook by dotted path (settings.SPECTACULAR_SETTINGS["WEBHOOKS"]).
globals().update(webhooks())
