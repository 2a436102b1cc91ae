"""Adobe I/O Events deliveries for tests: key pairs made at runtime (never committed), their
public halves published on the Magento stand-in's key host, deliveries signed like Adobe's."""

from __future__ import annotations

from typing import Any

from django.test import Client

from sandbox.channels import adobe_io
from tests.fixtures.channel_standins import ChannelStandin

CLIENT_ID = "hub-test-client-id"
ORDER_PLACED = adobe_io.ORDER_PLACED


class AdobeSigner:
    """Two RSA key pairs, as Adobe signs with; `publish` serves the public keys."""

    def __init__(self) -> None:
        self.pairs = [adobe_io.KeyPair.generate(), adobe_io.KeyPair.generate()]

    def publish(self, standin: ChannelStandin) -> None:
        for pair in self.pairs:
            standin._control(
                "POST", "adobe-keys", {"path": pair.path, "pem": pair.public_pem.decode()}
            )

    def delivery(
        self,
        value: dict[str, Any],
        *,
        event_code: str = ORDER_PLACED,
        event_id: str | None = None,
        client_id: str = CLIENT_ID,
        raw_body: bytes | None = None,
        **kw: Any,
    ) -> tuple[bytes, dict[str, str]]:
        body = adobe_io.event_body(
            event_code, value, client_id=client_id, provider_id="prov-1", event_id=event_id
        )
        return adobe_io.build_event_delivery(
            None if raw_body is not None else body,
            self.pairs,
            provider_id="prov-1",
            raw_body=raw_body,
            **kw,
        )


def post_delivery(client: Client, code: str, body: bytes, headers: dict[str, str]) -> Any:
    sent = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    return client.generic(
        "POST",
        f"/webhooks/magento/{code}/",
        body,
        content_type="application/json",
        headers=sent,
    )
