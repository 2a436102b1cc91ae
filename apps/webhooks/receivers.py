"""Per-sender rules: which headers carry the signature, topic and dedupe key, and how to verify.

Each receiver works on the raw body and a case-insensitive header mapping (Django's
`request.headers`). `verify` runs before any parsing; `describe` runs after the body parsed as
JSON and says how the delivery is recorded. Failures raise `Refusal`, which the view turns into
the JSON error answer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from apps.sales_channels import adobe_keys
from apps.sales_channels.models import Channel
from apps.sales_channels.signatures import (
    hmac_base64_verify,
    rsa_sha256_verify,
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
    has_handshake = False  # answers a subscription handshake GET (`challenge`)

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

    def check_payload(self, *, channel: Channel, payload: Any) -> None:
        """Checks on the verified, parsed body against the channel (Adobe: the recipient)."""
        return None

    def challenge(self, query: Mapping[str, str]) -> Any:
        """The answer to a subscription handshake GET, or None when the sender has none."""
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
        # `type` (Standard Webhooks), else `scope` (BigCommerce): a non-empty string, as the
        # OpenAPI document says (apps/webhooks/openapi.py); str(5) or a blank is no event type.
        key = "type" if "type" in obj else "scope"
        topic = obj.get(key)
        if not isinstance(topic, str) or not topic:
            raise Refusal(400, "field_missing", "the payload names no event type", field=key)
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


ADOBE_PREFIX = "com.adobe.commerce."
_ORDER_CHILDREN = ("invoice", "shipment", "creditmemo", "status_history", "_track")
_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")


def _dummy_rsa_key() -> Any:
    """A throwaway public key for timing parity on unknown channels (made once per process)."""
    global _DUMMY_KEY
    if _DUMMY_KEY is None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _DUMMY_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return _DUMMY_KEY


_DUMMY_KEY: Any = None


class AdobeIOReceiver(Receiver):
    """Adobe I/O Events for Adobe Commerce (CHANNELS.md 4.2): two RSA-SHA256 signatures of the
    raw body, `x-adobe-digital-signature-1/2`, each verified with the public key at
    `x-adobe-public-key1/2-path` on the Adobe key host (apps.sales_channels.adobe_keys).

    Adobe's rule: the delivery is authentic when at least one signature verifies (two key pairs
    let Adobe rotate one at a time). A path on another host refuses the whole delivery, even if
    the other signature verifies: Adobe never sends one, so it is a forgery. A key that cannot be
    had right now (key host down) answers 503 unless the other signature verified, so Adobe
    retries instead of the event being refused. The body's `recipient_client_id` must be the
    channel's client id (`check_payload`). The legacy `x-adobe-signature` (HMAC with the console
    client secret, UNCONFIRMED whether still sent) is not accepted on its own.
    """

    kind = Channel.Kind.MAGENTO
    has_handshake = True
    signature_header = "x-adobe-digital-signature-1"
    pairs = (
        ("x-adobe-digital-signature-1", "x-adobe-public-key1-path"),
        ("x-adobe-digital-signature-2", "x-adobe-public-key2-path"),
    )
    kept_headers = (
        "x-adobe-event-code",
        "x-adobe-event-id",
        "x-adobe-provider",
        "x-adobe-delivery-id",
        "x-adobe-retry-count",
        "x-adobe-public-key1-path",
        "x-adobe-public-key2-path",
        "Content-Type",
    )

    def dummy_verify(self, body: bytes) -> None:
        rsa_sha256_verify(body=body, signature="", public_key=_dummy_rsa_key())

    def challenge(self, query: Mapping[str, str]) -> Any:
        value = query.get("challenge", "")
        if not _CHALLENGE.match(value):
            raise Refusal(
                400, "challenge_invalid", "send ?challenge=<token> (1-200 URL-safe characters)"
            )
        return {"challenge": value}

    def verify(self, *, body: bytes, headers: Mapping[str, str], secrets: Sequence[str]) -> None:
        present = [(s, p) for s, p in self.pairs if headers.get(s, "").strip()]
        if not present:
            raise Refusal(
                401, "signature_missing", "the delivery is not signed", header=self.signature_header
            )
        urls = []
        for sig_header, path_header in present:
            path = headers.get(path_header, "").strip()
            if not path:
                raise Refusal(
                    400, "header_missing", f"{path_header} is required", header=path_header
                )
            try:
                urls.append((sig_header, adobe_keys.key_url(path)))
            except adobe_keys.KeyHostRefused as exc:
                raise Refusal(401, "key_host_refused", str(exc), header=path_header) from exc
        unavailable = ""
        for sig_header, url in urls:
            try:
                key = adobe_keys.public_key(url)
            except adobe_keys.KeyUnavailable as exc:
                unavailable = str(exc)
                continue
            if rsa_sha256_verify(body=body, signature=headers[sig_header], public_key=key):
                return
        if unavailable:
            raise Refusal(503, "key_unavailable", unavailable, header=self.pairs[0][1])
        raise _signature_invalid(self.signature_header)

    def check_payload(self, *, channel: Channel, payload: Any) -> None:
        obj = payload if isinstance(payload, dict) else {}
        # CloudEvents extension names are lower-case without "_"; the field notes and Adobe's
        # SDK say recipient_client_id (UNCONFIRMED which one current deliveries carry): both.
        given = _id(obj.get("recipient_client_id", obj.get("recipientclientid")))
        expected = channel.magento_client_id.strip()
        if not expected:
            raise Refusal(
                401,
                "recipient_not_configured",
                "the channel has no Adobe I/O client id (manage.py channel set CODE "
                "--magento-client-id ID); events cannot be checked, so none are accepted",
                field="recipient_client_id",
            )
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Refusal(
                401,
                "recipient_mismatch",
                "recipient_client_id is not this channel's Adobe I/O client id",
                field="recipient_client_id",
            )

    def describe(self, *, body: bytes, payload: Any, headers: Mapping[str, str]) -> Delivery:
        obj = payload if isinstance(payload, dict) else {}
        # The body is signed, the headers are not: the body's type and event id win, and a
        # header that contradicts them is refused.
        topic = _id(obj.get("type")) or headers.get("x-adobe-event-code", "").strip()
        if not topic:
            raise Refusal(400, "field_missing", "the event names no type", field="type")
        if not topic.startswith(ADOBE_PREFIX):
            topic = ADOBE_PREFIX + topic
        event_id = _id(obj.get("event_id"))
        header_id = headers.get("x-adobe-event-id", "").strip()
        if event_id and header_id and header_id != event_id:
            raise Refusal(
                400,
                "header_mismatch",
                "x-adobe-event-id differs from the body's event_id",
                header="x-adobe-event-id",
            )
        # The CloudEvent `id` is the same uuid in the deliveries seen so far (UNCONFIRMED that it
        # always is): the last resort only.
        dedupe = event_id or header_id or _id(obj.get("id"))
        if not dedupe:
            raise Refusal(
                400, "header_missing", "x-adobe-event-id is required", header="x-adobe-event-id"
            )
        data = obj.get("data") if isinstance(obj.get("data"), dict) else {}
        value = data.get("value") if isinstance(data, dict) else None
        value = value if isinstance(value, dict) else {}
        # Order events carry the order itself (entity_id); invoices, shipments, credit memos,
        # tracks and status history carry it as order_id (parent_id): the order is the entity.
        ref, entity = "", ""
        if any(part in topic for part in _ORDER_CHILDREN):
            ref = _id(value.get("order_id")) or _id(value.get("parent_id"))
        elif "order" in topic:
            ref = _id(value.get("entity_id")) or _id(value.get("order_id"))
        if ref:
            return Delivery(topic, dedupe, f"order:{ref}", ref)
        resource = next((r for r in ("product", "customer") if r in topic), "")
        ref = _id(value.get("entity_id")) if resource else ""
        entity = f"{resource}:{ref}" if ref else ""
        return Delivery(topic=topic, dedupe_key=dedupe, entity_key=entity, external_ref=ref)


RECEIVERS: dict[str, Receiver] = {
    r.kind: r
    for r in (
        ShopifyReceiver(),
        WooCommerceReceiver(),
        StandardWebhooksReceiver(),
        BigCommerceReceiver(),
        AdobeIOReceiver(),
    )
}
# Also accept the hyphenated spelling in URLs.
RECEIVERS["standard-webhooks"] = RECEIVERS[Channel.Kind.STANDARD_WEBHOOKS]
