"""Meta's two signature schemes (PLATFORM_FACTS.md §6), checked in constant time.

- Webhook deliveries: ``X-Hub-Signature-256: sha256=<hex>`` = HMAC-SHA256(app secret, raw body).
  The check runs on the raw bytes as received: re-serialised JSON would not match.
- Privacy callbacks: form field ``signed_request`` = ``base64url(sig).base64url(payload)`` with
  sig = HMAC-SHA256(app secret, payload segment) and ``algorithm: "HMAC-SHA256"`` in the payload.

With Instagram Login Meta signs with the Instagram app secret, with Facebook Login with the Meta
app secret (the docs are not explicit): every configured secret is tried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from socialsync.config import Settings

SIGNATURE_HEADER = "X-Hub-Signature-256"


def app_secrets(settings: Settings) -> list[bytes]:
    """The app secrets Meta may sign with (Meta app, Instagram app); sandbox values in sandbox mode."""
    found = [s for s in (settings.fb_client_secret, settings.ig_client_secret) if s]
    return [s.encode() for s in dict.fromkeys(found)]


def hub_signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_hub_signature(header: str | None, body: bytes, secrets: Iterable[bytes]) -> bool:
    """True when ``header`` is a valid ``sha256=<hex>`` HMAC of ``body`` under one of the secrets."""
    if not header or not header.startswith("sha256="):
        return False
    given = header[len("sha256="):].strip().lower().encode()
    ok = False
    for secret in secrets:  # compare against every secret: no early exit that leaks which one
        ok |= hmac.compare_digest(given, hmac.new(secret, body, hashlib.sha256).hexdigest().encode())
    return ok


class SignedRequestError(ValueError):
    """A ``signed_request`` that is malformed, wrongly signed or not HMAC-SHA256."""


def _b64url_decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise SignedRequestError("not base64url") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_signed_request(payload: dict[str, Any], secret: bytes) -> str:
    """Build a ``signed_request`` the way Meta does (used by the sandbox and tests)."""
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{b64url(sig)}.{body}"


def parse_signed_request(value: str | None, secrets: Iterable[bytes]) -> dict[str, Any]:
    """The verified payload of a ``signed_request``; raises SignedRequestError otherwise."""
    if not value or value.count(".") != 1:
        raise SignedRequestError("signed_request must be two base64url segments joined by '.'")
    sig_segment, payload_segment = value.split(".")
    if not sig_segment or not payload_segment:
        raise SignedRequestError("signed_request has an empty segment")
    sig = _b64url_decode(sig_segment)
    ok = False
    for secret in secrets:
        expected = hmac.new(secret, payload_segment.encode(), hashlib.sha256).digest()
        ok |= hmac.compare_digest(sig, expected)
    if not ok:
        raise SignedRequestError("signature does not match")
    try:
        payload = json.loads(_b64url_decode(payload_segment))
    except (ValueError, UnicodeDecodeError):
        raise SignedRequestError("payload is not JSON") from None
    if not isinstance(payload, dict):
        raise SignedRequestError("payload is not a JSON object")
    if str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignedRequestError("algorithm must be HMAC-SHA256")
    user_id = payload.get("user_id")
    if user_id is None or str(user_id) == "":
        raise SignedRequestError("payload has no user_id")
    payload["user_id"] = str(user_id)  # ids are strings, even when sent as numbers
    return payload
