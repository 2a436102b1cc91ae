"""The inbound webhook endpoints in the OpenAPI document (a drf-spectacular postprocessing hook).

`POST /webhooks/<kind>/<channel_code>/` is one plain Django view for every sender, so
drf-spectacular cannot see it; `inbound_webhooks` declares one path per sender kind (from
RECEIVERS, so a new receiver appears with at least the generic declaration): its signature
header as a security scheme, the headers it reads, the body, and every answer with the error
body `{"error", "header"?, "field"?, "detail"}`. The Odoo hint endpoints too. A kind that
declares itself with a DRF view (Magento) keeps its own declaration.
"""

from __future__ import annotations

from typing import Any

from apps.sales_channels.api.fields import NON_BLANK

from .receivers import RECEIVERS

TAG = "channel webhooks"
ERROR = "WebhookError"
ACCEPTED = "WebhookAccepted"
SLUG = {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 64}

COMPONENTS: dict[str, Any] = {
    ERROR: {
        "type": "object",
        "description": "Every refusal of an inbound webhook",
        "properties": {
            "error": {
                "type": "string",
                "description": "signature_missing, signature_invalid, timestamp_stale, "
                "shop_domain_mismatch, header_missing, header_invalid, field_missing, "
                "invalid_json, channel_not_found, channel_paused, body_too_large, "
                "method_not_allowed, not_found",
            },
            "header": {"type": "string", "description": "The header at fault"},
            "field": {"type": "string", "description": "The body field at fault"},
            "detail": {"type": "string"},
        },
        "required": ["error", "detail"],
    },
    ACCEPTED: {
        "type": "object",
        "properties": {
            "event_id": {"type": "integer", "description": "The hub's ledger event id"},
            "status": {"type": "string", "enum": ["recorded", "duplicate", "ping_accepted"]},
        },
        "required": ["status"],
    },
}

# What each sender's delivery carries besides its signature (the receivers read these).
HEADERS: dict[str, list[tuple[str, bool, str]]] = {
    "shopify": [
        ("X-Shopify-Topic", True, "e.g. orders/create"),
        ("X-Shopify-Webhook-Id", True, "The delivery's id: the dedupe key"),
        ("X-Shopify-Shop-Domain", True, "Must be the channel's shop (acme.myshopify.com)"),
        ("X-Shopify-API-Version", False, "Kept with the event"),
        ("X-Shopify-Event-Id", False, "Kept with the event"),
        ("X-Shopify-Triggered-At", False, "Kept with the event"),
    ],
    "woocommerce": [
        ("X-WC-Webhook-Topic", True, "e.g. order.created"),
        ("X-WC-Webhook-Resource", False, "order, product, ..."),
        ("X-WC-Webhook-Event", False, "created, updated, ..."),
        ("X-WC-Webhook-ID", False, "Kept with the event"),
        ("X-WC-Webhook-Delivery-ID", False, "Kept with the event"),
        ("X-WC-Webhook-Source", False, "Kept with the event"),
    ],
    "standard_webhooks": [
        ("webhook-id", True, "The message id: the dedupe key, signed"),
        ("webhook-timestamp", True, "Unix seconds, signed; refused when 5 minutes off"),
    ],
    "bigcommerce": [
        ("webhook-id", True, "The message id: the dedupe key, signed"),
        ("webhook-timestamp", True, "Unix seconds, signed; refused when 5 minutes off"),
    ],
}
SIGNATURES = {
    "shopify": "base64 HMAC-SHA256 of the raw body with the app's secret",
    "woocommerce": "base64 HMAC-SHA256 of the raw body with the webhook's secret",
    "standard_webhooks": "Standard Webhooks: space-separated `v1,<base64 HMAC-SHA256>` of "
    "`<webhook-id>.<webhook-timestamp>.<body>` with the whsec_ secret",
    "bigcommerce": "Standard Webhooks signature with the app's client secret",
}
# The event name of a Standard Webhooks or BigCommerce body: `type`, else `scope`.
_NAME = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^\\u0000]*$"}
_NAMED = {
    "type": "object",
    "properties": {
        "type": {**_NAME, "description": "The event type (Standard Webhooks)"},
        "scope": {"description": "The event when there is no `type`, e.g. store/order/created"},
        "data": {"description": "`data.id` and `data.type` name the object"},
    },
    "anyOf": [
        {"required": ["type"], "properties": {"type": _NAME}},
        {"not": {"required": ["type"]}, "required": ["scope"], "properties": {"scope": _NAME}},
    ],
}
BODIES = {"standard_webhooks": _NAMED, "bigcommerce": _NAMED}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _refusal(description: str, retry: bool = False) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(ERROR)}},
    }
    if retry:
        answer["headers"] = {
            "Retry-After": {"required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"}}
        }
    return answer


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _header(name: str, required: bool, description: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if required:  # read trimmed: at least one character that is not white space
        schema.update(minLength=1, pattern=NON_BLANK)
    if name.lower().endswith("topic"):
        schema["maxLength"] = 128
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": schema,
    }


def _delivery(kind: str, scheme: str) -> dict[str, Any]:
    body = {"application/json": {"schema": BODIES.get(kind, {"type": "object"})}}
    if kind == "woocommerce":
        body["application/x-www-form-urlencoded"] = {
            "schema": {
                "type": "object",
                "properties": {"webhook_id": {"type": "integer"}},
                "description": "WooCommerce's unsigned creation ping (answered 200)",
            }
        }
    return {
        "operationId": f"webhooks_{kind}_event",
        "summary": f"A {kind} delivery: verified, recorded, answered",
        "description": "The signature is checked on the raw body before anything is parsed; a "
        "verified delivery is recorded (deduplicated) before the answer, and processed after "
        "it. A refused delivery records nothing.",
        "tags": [TAG],
        "security": [{scheme: []}],
        "parameters": [
            {"name": "channel_code", "in": "path", "required": True, "schema": SLUG},
            *(_header(*h) for h in HEADERS.get(kind, [])),
        ],
        "requestBody": {"required": True, "content": body},
        "responses": {
            "202": _json(_ref(ACCEPTED), "Recorded (`status` recorded)"),
            "200": _json(
                _ref(ACCEPTED), "A duplicate of a recorded delivery, or WooCommerce's ping"
            ),
            "400": _refusal("A required header is missing, or the body is not JSON"),
            "401": _refusal("Signature missing or invalid, stale timestamp, another shop"),
            "404": _refusal("No channel of this kind with this code"),
            "413": _refusal("The body is larger than HUB_MAX_BODY_BYTES"),
            "503": _refusal("The channel is paused: retry after Retry-After", retry=True),
        },
    }


def _hint(operation_id: str, summary: str, answer: str) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": 'Odoo\'s "Send Webhook Notification" automation (docs/inventory.md); '
        "the URL's token authenticates it (HUB_ODOO_WEBHOOK_TOKEN). A hint: only ids are read.",
        "tags": [TAG],
        "security": [],
        "parameters": [
            {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {}}}},
        "responses": {
            "202": _json(
                {
                    "type": "object",
                    "properties": {answer: {"type": "integer"}},
                    "required": [answer],
                },
                "Accepted: how many ids were taken",
            ),
            "400": _refusal("The body is not JSON"),
            "404": _refusal("Unknown token (also when none is configured)"),
            "413": _refusal("The body is larger than HUB_MAX_BODY_BYTES"),
        },
    }


def inbound_webhooks(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    paths = result.setdefault("paths", {})
    components = result.setdefault("components", {})
    for name, schema in COMPONENTS.items():
        components.setdefault("schemas", {}).setdefault(name, schema)
    schemes = components.setdefault("securitySchemes", {})
    for kind, receiver in sorted(RECEIVERS.items()):
        path = f"/webhooks/{kind}/{{channel_code}}/"
        if kind != receiver.kind or path in paths:
            continue  # an alias spelling, or declared by its own view
        scheme = f"{kind}Signature"
        schemes[scheme] = {
            "type": "apiKey",
            "in": "header",
            "name": receiver.signature_header,
            "description": SIGNATURES.get(kind, "The sender's signature of the raw body"),
        }
        paths[path] = {"post": _delivery(kind, scheme)}
    paths["/webhooks/odoo/{token}/"] = {
        "post": _hint("webhooks_odoo_stock", "Odoo: products whose stock changed", "marked")
    }
    paths["/webhooks/odoo/{token}/pickings/"] = {
        "post": _hint("webhooks_odoo_pickings", "Odoo: deliveries that reached done", "recorded")
    }
    return result
