"""Strict JSON for the API: nothing that crashes the parser or reaches PostgreSQL unstorable.

The standard library's parser recurses once per nesting level (a body of 100,000 `[` raises
RecursionError, a 500), reads `NaN` and `1e400` as floats, and lets lone surrogates
(`"\\ud800"`) through, which PostgreSQL cannot store (another 500, after the work began).
orjson refuses all of these with a message. A NUL character (`"\\u0000"`) is refused by every
string field the API reads (DRF's CharField, the document's `^[^\\u0000]*$`); what the API does
not read is not stored.
"""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONRejected(ValueError):
    """The body is not JSON the API accepts; the message says why."""


def json_loads_strict(raw: bytes) -> Any:
    """Parse `raw` (UTF-8 JSON) or raise JSONRejected."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JSONRejected(f"body is not JSON: {exc}") from None


class StrictJSONParser(JSONParser):
    """DRF's JSON parser with `json_loads_strict` (see the module docstring)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return json_loads_strict(stream.read())
        except JSONRejected as exc:
            raise ParseError(str(exc)) from None
