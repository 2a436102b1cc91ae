"""The event catalog: one JSON Schema per (type, version), kept in `schemas/` in the repository.

A file is named `<type>.v<version>.json` and describes the event's `data`. A changed payload
shape is a new version (a new file); the old one stays until nobody subscribes to it. Schemas
forbid unknown properties, so a publisher that drifts from its schema fails in the tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    description: str
    schema: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.name}.v{self.version}"


@cache
def event_types() -> dict[str, EventType]:
    """Latest version of every type, by name."""
    found: dict[str, EventType] = {}
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        et = EventType(
            name=schema["x-event-type"],
            version=int(schema["x-event-version"]),
            description=schema.get("description", ""),
            schema=schema,
        )
        if path.name != f"{et.key}.json":
            raise ValueError(f"schema file {path.name} declares {et.key}")
        if et.name not in found or found[et.name].version < et.version:
            found[et.name] = et
    return found


def event_type(name: str) -> EventType:
    try:
        return event_types()[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}; known: {', '.join(sorted(event_types()))}")


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(event_type(name).schema)


def payload_errors(name: str, payload: dict[str, Any]) -> list[str]:
    """Every way `payload` breaks its type's schema ("" path means the top level)."""
    return [
        f"{'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
        for err in _validator(name).iter_errors(payload)
    ]


def envelope(
    *,
    uid: str,
    name: str,
    version: int,
    timestamp: str,
    channel: str | None,
    entity: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """What a partner receives (webhook body, pull API item): the Standard Webhooks shape
    `{type, timestamp, data}` plus the id, version, channel and entity key."""
    return {
        "id": uid,
        "type": name,
        "version": version,
        "timestamp": timestamp,
        "channel": channel,
        "entity": entity,
        "data": data,
    }
