"""How a CRM event delivery is signed, and how a CRM checks it.

``X-Socialsync-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the timestamp is
signed too, so a receiver can refuse replays older than its tolerance.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Socialsync-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    """How a CRM checks a delivery (documented; used by the tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - t) > tolerance_seconds:
        return False
    expected = sign(secret, t, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
