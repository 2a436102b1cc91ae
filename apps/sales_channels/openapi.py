"""The API's OpenAPI document as a contract (docs/api.md).

- The channel token is an HTTP bearer scheme; each operation's security requirement lists the
  scopes of which a token needs one (the ones apps.sales_channels.api.base.AnyScope checks).
- `contract_postprocess` (a drf-spectacular postprocessing hook) adds what holds for every
  operation and no decorator says: strings never hold NUL (the API refuses it anywhere; a
  pattern says so), 429 and 503 answers carry Retry-After, and each operation is tagged with
  its resource and names its scopes in its description.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .api.base import view_scopes

TOKEN_SCHEME = "channelToken"
NO_NUL = "^[^\\u0000]*$"
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}

# A list in the query can make the URL longer than the server reads (the JSON answer of
# integration_hub.http_worker); a body cannot say so, the document can.
URI_TOO_LONG = {
    "description": "The request line is longer than 8190 bytes: ask for fewer values at once",
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/Error"},
            "examples": {
                "414": {
                    "value": {
                        "error": "uri_too_long",
                        "field": None,
                        "reason": "Request Line is too large (8192 > 8190)",
                    }
                }
            },
        }
    },
}


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apps.sales_channels.auth.ApiTokenAuthentication"
    name = TOKEN_SCHEME

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hub_<prefix>_<secret>",
            "description": "A channel's API token (docs/api.md). Each operation lists the scopes "
            "of which the token needs one; every answer is limited to the token's own channel.",
        }

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[str]]]:
        # One requirement per scope: OpenAPI reads the list as "any one of these".
        scopes = view_scopes(auto_schema.view, auto_schema.method)
        return [{TOKEN_SCHEME: [scope]} for scope in scopes] or [{TOKEN_SCHEME: []}]


def _no_nul(schema: Any) -> None:
    """Give every plain string schema (no pattern, format, enum or const) the NUL-free pattern."""
    if isinstance(schema, list):
        for item in schema:
            _no_nul(item)
        return
    if not isinstance(schema, dict):
        return
    types = schema.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if is_string and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = NO_NUL
    for key, value in schema.items():
        if key not in ("example", "examples", "default"):
            _no_nul(value)


def _tag(path: str) -> str:
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    if parts[:2] == ["api", "v1"]:
        return parts[2] if len(parts) > 2 else "api"
    return parts[0] if parts else "api"


def contract_postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    _no_nul(result.get("components", {}).get("schemas", {}))
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            _no_nul(operation.get("parameters", []))
            _no_nul(operation.get("requestBody", {}))
            if any(
                p.get("in") == "query" and p.get("schema", {}).get("type") == "array"
                for p in operation.get("parameters", [])
            ):
                operation["responses"].setdefault("414", URI_TOO_LONG)
            for code in ("429", "503"):
                if code in operation["responses"]:
                    operation["responses"][code].setdefault("headers", {}).update(RETRY_AFTER)
            if operation.get("tags") in (None, ["api"]):  # drf-spectacular's default
                operation["tags"] = [_tag(path)]
            scopes = sorted(
                {s for req in operation.get("security", []) for s in req.get(TOKEN_SCHEME, [])}
            )
            if scopes:
                note = f"Scope: {' or '.join(f'`{s}`' for s in scopes)}."
                operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
    return result
