"""Per-sender rules: which headers carry the signature, topic and dedupe key, and how to verify.

Each receiver works on the raw body and a case-insensitive header mapping (Django's
`request.headers`). `verify` runs before any parsing; `describe` runs after the body parsed as
JSON and says how the delivery is recorded. Failures raise `Refusal`, which the view turns into
the JSON error answer.
"""

from __future__ import annotations

import hashlib
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from apps.sales_channels.models import Channel
from apps.sales_channels.signatures import (
    hmac_base64_verify,
    standard_key,
    standard_webhooks_verify,
)


@dataclass
class Refusal(Exception):
    status: int
    error: str
    detail: str
    header: str = ""
    field: str = ""


@dataclass(frozen=True)
class Delivery:
    topic: str
    dedupe_key: str
    entity_key: str = ""
    external_ref: str = ""


def _body_hash(topic: str, body: bytes) -> str:
    return "sha256:" + hashlib.sha256(topic.encode() + b"\n" + body).hexdigest()


def _id(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value)


class Receiver(ABC):
    """One platform's way of signing and describing a delivery."""

    kind: str
    signature_header: str
    # Headers worth keeping with the event (never the signature: it is useless once verified).
    kept_headers: tuple[str, ...] = ()

    def dummy_verify(self, body: bytes) -> None:
        """Same work as a real verification, against a secret nobody has (timing parity)."""
        hmac_base64_verify(body=body, signature="", secrets=["dummy-secret-for-timing"])

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return False

    @abstractmethod
    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
        """Raise Refusal unless one of `secrets` signed `body`."""

    def check_channel(self, *, channel: Channel, headers: Mapping[str, str]) -> None:
        """Checks on unsigned headers that must agree with the channel's configuration.

        None by default; Shopify checks its shop domain.
        """
        return None

    @abstractmethod
    def describe(self, *, body: bytes, payload: Any, headers: Mapping[str, str]) -> Delivery:
        """Topic, dedupe key and business references of a verified delivery."""

    def kept(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {h.lower(): headers[h] for h in self.kept_headers if h in headers}

    def _signature(self, headers: Mapping[str, str]) -> str:
        value = headers.get(self.signature_header, "")
        if not value:
            raise Refusal(
                401, "signature_missing", "the delivery is not signed", header=self.signature_header
            )
        return value

    def _required(self, headers: Mapping[str, str], name: str) -> str:
        value = headers.get(name, "").strip()
        if not value:
            raise Refusal(400, "header_missing", f"{name} is required", header=name)
        return value


def _signature_invalid(header: str) -> Refusal:
    return Refusal(401, "signature_invalid", "signature does not match the body", header=header)


class ShopifyReceiver(Receiver):
    kind = Channel.Kind.SHOPIFY
    signature_header = "X-Shopify-Hmac-Sha256"
    kept_headers = (
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-API-Version",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Event-Id",
        "X-Shopify-Triggered-At",
        "Content-Type",
    )

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
        if not hmac_base64_verify(body=body, signature=self._signature(headers), secrets=secrets):
            raise _signature_invalid(self.signature_header)

    def check_channel(self, *, channel: Channel, headers: Mapping[str, str]) -> None:
        # The shop domain is not covered by the HMAC, but a delivery signed with our secret that
        # names another shop means two shops share an app secret: refuse, don't mix their data.
        expected = urlsplit(channel.api_base_url).netloc.lower()
        given = headers.get("X-Shopify-Shop-Domain", "").strip().lower()
        if not given:
            raise Refusal(
                400,
                "header_missing",
                "X-Shopify-Shop-Domain is required",
                header="X-Shopify-Shop-Domain",
            )
        if given != expected:
            raise Refusal(
                401,
                "shop_domain_mismatch",
                "the shop domain does not match this channel",
                header="X-Shopify-Shop-Domain",
            )

    def describe(self, *, body: bytes, payload: Any, headers: Mapping[str, str]) -> Delivery:
        topic = self._required(headers, "X-Shopify-Topic")
        webhook_id = self._required(headers, "X-Shopify-Webhook-Id")
        obj = payload if isinstance(payload, dict) else {}
        resource = topic.split("/", 1)[0]
        entity, ref = "", _id(obj.get("id"))
        if resource in ("orders", "order_transactions", "refunds", "fulfillments"):
            order_id = _id(obj.get("id")) if resource == "orders" else _id(obj.get("order_id"))
            entity, ref = (f"order:{order_id}", order_id) if order_id else ("", ref)
        elif resource in ("products", "customers", "inventory_items"):
            entity = f"{resource.rstrip('s')}:{ref}" if ref else ""
        elif resource == "inventory_levels":
            item = _id(obj.get("inventory_item_id"))
            entity, ref = (f"inventory_item:{item}", item) if item else ("", "")
        return Delivery(topic=topic, dedupe_key=webhook_id, entity_key=entity, external_ref=ref)


_WC_PING = re.compile(rb"^webhook_id=\d+$")


class WooCommerceReceiver(Receiver):
    kind = Channel.Kind.WOOCOMMERCE
    signature_header = "X-WC-Webhook-Signature"
    kept_headers = (
        "X-WC-Webhook-Topic",
        "X-WC-Webhook-Resource",
        "X-WC-Webhook-Event",
        "X-WC-Webhook-ID",
        "X-WC-Webhook-Delivery-ID",
        "X-WC-Webhook-Source",
        "Content-Type",
    )

    def is_ping(self, body: bytes, headers: Mapping[str, str]) -> bool:
        # WooCommerce's creation ping is form-encoded and unsigned; it must get a 200 or the
        # webhook is not created. It carries nothing, so it changes nothing.
        return self.signature_header not in headers and bool(_WC_PING.match(body.strip()))

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
        if not hmac_base64_verify(body=body, signature=self._signature(headers), secrets=secrets):
            raise _signature_invalid(self.signature_header)

    def describe(self, *, body: bytes, payload: Any, headers: Mapping[str, str]) -> Delivery:
        topic = self._required(headers, "X-WC-Webhook-Topic")
        obj = payload if isinstance(payload, dict) else {}
        resource = headers.get("X-WC-Webhook-Resource", "") or topic.split(".", 1)[0]
        ref = _id(obj.get("id"))
        modified = _id(obj.get("date_modified_gmt"))
        # WooCommerce has no delivery id that survives a resend; a resource's id plus its
        # modification time names one state of it. Without them (deletes carry only the id,
        # action topics only the hook argument) the body itself is the key.
        dedupe = f"{resource}:{ref}:{modified}" if ref and modified else _body_hash(topic, body)
        if resource == "action":
            ref = _id(obj.get("arg"))
        entity = f"{resource}:{ref}" if ref and resource != "action" else ""
        return Delivery(topic=topic, dedupe_key=dedupe, entity_key=entity, external_ref=ref)


class StandardWebhooksReceiver(Receiver):
    kind = Channel.Kind.STANDARD_WEBHOOKS
    signature_header = "webhook-signature"
    kept_headers = ("webhook-id", "webhook-timestamp", "Content-Type")
    raw_if_unprefixed = False

    def dummy_verify(self, body: bytes) -> None:
        standard_webhooks_verify(
            body=body,
            msg_id="msg_dummy",
            timestamp=str(int(time.time())),
            signature_header="v1,",
            keys=[b"dummy-secret-for-timing"],
            now=time.time(),
        )

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
        signature = self._signature(headers)
        for name in ("webhook-id", "webhook-timestamp"):
            if not headers.get(name):
                raise Refusal(401, "signature_missing", f"{name} is required", header=name)
        reason = standard_webhooks_verify(
            body=body,
            msg_id=headers["webhook-id"],
            timestamp=headers["webhook-timestamp"],
            signature_header=signature,
            keys=[standard_key(s, raw_if_unprefixed=self.raw_if_unprefixed) for s in secrets],
            now=time.time(),
        )
        if reason == "signature_invalid":
            raise _signature_invalid(self.signature_header)
        if reason is not None:
            raise Refusal(
                401,
                reason,
                "webhook-timestamp is not within 5 minutes of now",
                header="webhook-timestamp",
            )

    def describe(self, *, body: bytes, payload: Any, headers: Mapping[str, str]) -> Delivery:
        obj = payload if isinstance(payload, dict) else {}
        topic = str(obj.get("type") or obj.get("scope") or "")
        if not topic:
            raise Refusal(400, "field_missing", "the payload names no event type", field="type")
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        assert isinstance(data, dict)
        ref = _id(data.get("id"))
        kind = _id(data.get("type"))
        entity = f"{kind}:{ref}" if kind and ref else ""
        return Delivery(
            topic=topic, dedupe_key=headers["webhook-id"], entity_key=entity, external_ref=ref
        )


class BigCommerceReceiver(StandardWebhooksReceiver):
    kind = Channel.Kind.BIGCOMMERCE
    # BigCommerce signs with the app client secret's raw bytes (CHANNELS.md §3.2, §6.4).
    raw_if_unprefixed = True

    def describe(self, *, body: bytes, payload: Any, headers: Mapping[str, str]) -> Delivery:
        delivery = super().describe(body=body, payload=payload, headers=headers)
        obj = payload if isinstance(payload, dict) else {}
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        assert isinstance(data, dict)
        # Shipments and refunds belong to an order: order them with the order's other events.
        if data.get("type") == "shipment" and data.get("orderId"):
            order_id = _id(data.get("orderId"))
            return Delivery(delivery.topic, delivery.dedupe_key, f"order:{order_id}", order_id)
        return delivery


RECEIVERS: dict[str, Receiver] = {
    r.kind: r
    for r in (
        ShopifyReceiver(),
        WooCommerceReceiver(),
        StandardWebhooksReceiver(),
        BigCommerceReceiver(),
    )
}
# Also accept the hyphenated spelling in URLs.
RECEIVERS["standard-webhooks"] = RECEIVERS[Channel.Kind.STANDARD_WEBHOOKS]
