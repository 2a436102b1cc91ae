"""Webhook signature schemes, on raw bytes, with constant-time comparisons.

Each function takes the raw body exactly as received (re-serialised JSON would not verify) and the
list of secrets valid now (rotation overlap: any of them may have signed). They return True or
False and never raise on malformed input, so the caller answers every failure the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

STANDARD_TOLERANCE_SECONDS = 5 * 60
WHSEC_PREFIX = "whsec_"


def _b64_hmac(key: bytes, message: bytes) -> bytes:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest())


def hmac_base64_verify(*, body: bytes, signature: str, secrets: Sequence[str]) -> bool:
    """Shopify and WooCommerce: base64(HMAC-SHA256(secret as UTF-8, raw body)).

    Every secret is tried even after a match, so the time taken does not say which one matched.
    """
    given = signature.strip().encode("ascii", "replace")
    ok = False
    for secret in secrets:
        expected = _b64_hmac(secret.encode("utf-8"), body)
        ok |= hmac.compare_digest(expected, given)
    return ok


def standard_key(secret: str, *, raw_if_unprefixed: bool) -> bytes:
    """The HMAC key of a Standard Webhooks secret.

    `whsec_<base64>` is decoded (padding optional, as the reference libraries allow). BigCommerce
    signs with its app client secret's raw bytes, so for it an unprefixed secret is used as is;
    for other senders an unprefixed secret is base64 like the reference libraries assume.
    """
    if secret.startswith(WHSEC_PREFIX):
        encoded = secret[len(WHSEC_PREFIX) :]
    elif raw_if_unprefixed:
        return secret.encode("utf-8")
    else:
        encoded = secret
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return secret.encode("utf-8")


def standard_webhooks_verify(
    *,
    body: bytes,
    msg_id: str,
    timestamp: str,
    signature_header: str,
    keys: Sequence[bytes],
    now: float,
    tolerance: int = STANDARD_TOLERANCE_SECONDS,
) -> str | None:
    """Verify a Standard Webhooks delivery. Returns None when valid, else the reason code.

    Reasons: "timestamp_invalid", "timestamp_out_of_tolerance", "signature_invalid".
    """
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return "timestamp_invalid"
    # Both directions: an old timestamp is a replay, a future one a clock problem or a forgery
    # prepared in advance.
    if abs(now - ts) > tolerance:
        return "timestamp_out_of_tolerance"
    signed = msg_id.encode("utf-8") + b"." + timestamp.encode("ascii") + b"." + body
    candidates = []
    for part in signature_header.split():
        version, _, sig = part.partition(",")
        if version == "v1" and sig:  # unknown versions (v1a, future ones) are skipped
            candidates.append(sig.encode("ascii", "replace"))
    ok = False
    for key in keys:
        expected = _b64_hmac(key, signed)
        for candidate in candidates:
            ok |= hmac.compare_digest(expected, candidate)
    return None if ok else "signature_invalid"


def rsa_sha256_verify(*, body: bytes, signature: str, public_key: object) -> bool:
    """Adobe I/O Events: base64 RSA-SHA256 (PKCS#1 v1.5) of the raw body under `public_key`
    (a `cryptography` RSAPublicKey). False for anything malformed, never an exception."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        public_key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True
