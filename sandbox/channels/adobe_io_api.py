"""Adobe's side of the Magento stand-in, not on the store: an IMS client-credentials token and
the I/O Events registrations of a consumer org (UNCONFIRMED beyond the field names of Adobe's
Registration API samples; see ``magento_ops`` for the switches).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from .base import Request, Response

if TYPE_CHECKING:
    from .magento_ops import Ops

IMS_TOKEN = "standin-ims-access-token"
IMS_CLIENT_SECRET = "standin-ims-client-secret"
CONSUMER_ORG = "standin-org@AdobeOrg"


def handle(ops: Ops, req: Request) -> Response | None:
    """The IMS token and the registrations list; None for every other path."""
    if req.path == "/ims/token/v3" and req.method == "POST":
        form = {k: v[-1] for k, v in parse_qs(req.body.decode(errors="replace")).items()}
        if (
            form.get("client_id") != ops.platform.client_id
            or form.get("client_secret") != IMS_CLIENT_SECRET
        ):
            return Response(
                401,
                {"error": "invalid_client", "error_description": "invalid client"},
                op="ims_refused",
            )
        return Response(
            200,
            {"access_token": IMS_TOKEN, "token_type": "bearer", "expires_in": 86399},
            op="ims_token",
        )
    parts = req.path.strip("/").split("/")
    if (
        len(parts) == 3
        and parts[0] == "events"
        and parts[2] == "registrations"
        and req.method == "GET"
    ):
        if (
            req.headers.get("Authorization") != f"Bearer {IMS_TOKEN}"
            or req.headers.get("x-api-key") != ops.platform.client_id
        ):
            return Response(
                401,
                {"error_code": "401013", "message": "Oauth token is not valid"},
                op="io_refused",
            )
        if unquote(parts[1]) != CONSUMER_ORG:
            return Response(
                403, {"error_code": "403003", "message": "Api Key is invalid"}, op="io_refused"
            )
        with ops.store.lock:
            regs = registrations(ops)
        page = {
            "size": 10,
            "number": 0,
            "numberOfElements": len(regs),
            "totalElements": len(regs),
            "totalPages": 1,
        }
        return Response(
            200,
            {"_embedded": {"registrations": regs}, "_links": {}, "page": page},
            op="io_registrations",
        )
    return None


def registrations(ops: Ops) -> list[dict[str, Any]]:
    v = ops.values
    if v["io_registration_status"] == "none":
        return []
    return [
        {
            "id": 1,
            "registration_id": "c3d4e5f6-0000-4000-8000-standinreg001",
            "name": "Integration hub",
            "client_id": ops.platform.client_id,
            "webhook_url": v["io_registration_url"] or ops.platform.io_events_url,
            "delivery_type": "webhook",
            "enabled": v["io_registration_enabled"],
            "webhook_status": v["io_registration_status"],
            "events_of_interest": [
                {"event_code": c, "provider_id": ops.platform.provider_id}
                for c in v["io_events_of_interest"]
            ],
            "consumer_id": CONSUMER_ORG,
        }
    ]
