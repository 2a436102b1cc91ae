"""The channel API token in the OpenAPI document: HTTP bearer (`hub_<prefix>_<secret>`)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "apps.sales_channels.auth.ApiTokenAuthentication"
    name = "channelToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hub_<prefix>_<secret>",
            "description": "A channel's API token; its scopes decide what it may call "
            "(docs/channels.md). Every answer is limited to the token's own channel.",
        }
