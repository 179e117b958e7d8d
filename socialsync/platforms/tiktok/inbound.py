"""TikTok webhooks (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §4): verify, then normalize.

``TikTok-Signature: t=<unix>,s=<hex>``, ``s = HMAC-SHA256(client_secret, t + "." + raw body)``,
compared in constant time over the raw bytes (a re-serialised body fails), and ``t`` must be
within the tolerance of now (replays refused). The body holds one event; its ``content`` is a
JSON *string* parsed a second time. No subscription handshake exists (one URL per app).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from socialsync.platforms.base import Change, HandshakeAnswer, InboundRequest, RejectedChange

HEADER = "tiktok-signature"
REMOVAL_REASONS = {
    0: "unknown", 1: "the user disconnected the app in TikTok", 2: "the account was deleted",
    3: "the user's age changed", 4: "the account was banned", 5: "the developer revoked the authorization",
}


def parse_signature(value: str) -> tuple[int, str] | None:
    parts: dict[str, str] = {}
    for piece in value.split(","):
        key, sep, val = piece.strip().partition("=")
        if sep:
            parts[key] = val
    t, s = parts.get("t", ""), parts.get("s", "")
    if not (t.isascii() and t.isdigit() and len(t) <= 12) or not s:  # "²".isdigit() is True
        return None
    return int(t), s


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


class TikTokInbound:
    def __init__(self, client_secret: str, tolerance_seconds: int) -> None:
        self._secret = client_secret.encode()
        self._tolerance = tolerance_seconds

    def handshake(self, request: InboundRequest) -> HandshakeAnswer:
        return HandshakeAnswer(status=404, body="TikTok has no webhook handshake")

    def verify(self, request: InboundRequest, now: datetime) -> bool:
        raw = _header(request.headers, HEADER)
        parsed = parse_signature(raw) if raw else None
        if parsed is None or not self._secret:
            return False
        t, signature = parsed
        if abs(now.timestamp() - t) > self._tolerance:
            return False
        expected = hmac.new(self._secret, str(t).encode() + b"." + request.body, hashlib.sha256).hexdigest()
        # Bytes, not str: compare_digest raises TypeError on non-ASCII text (a 500, not a refusal).
        return hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "replace"))

    def normalize(self, body: bytes) -> Sequence[Change | RejectedChange]:
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return [RejectedChange(index=0, reason="the body is not JSON")]
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return [RejectedChange(index=0, reason="no event name")]
        name = event["event"]
        open_id = event.get("user_openid")
        if not isinstance(open_id, str) or not open_id:
            return [RejectedChange(index=0, reason="no user_openid", field=name)]
        content: Any = event.get("content")
        if isinstance(content, str):
            try:
                content = json.loads(content) if content else {}
            except ValueError:
                return [RejectedChange(index=0, reason="content is not a JSON string", field=name)]
        if not isinstance(content, dict):
            content = {}
        created = event.get("create_time")
        at = datetime.fromtimestamp(created, UTC) if isinstance(created, int | float) else None
        if name == "authorization.removed":
            reason = content.get("reason")
            code = reason if isinstance(reason, int) else 0
            return [Change(kind="deauthorized", account_key=open_id, at=at, field=name, data={
                "reason_code": code, "reason": REMOVAL_REASONS.get(code, "unknown"),
            })]
        if name.startswith("post.publish."):
            publish_id = content.get("publish_id")
            if not isinstance(publish_id, str) or not publish_id:
                return [RejectedChange(index=0, reason="no publish_id", field=name)]
            data = {"event": name, "publish_id": publish_id}
            if content.get("post_id") is not None:
                data["post_id"] = str(content["post_id"])
            if content.get("reason") is not None:
                data["reason"] = str(content["reason"])
            return [Change(kind="publish_status", account_key=open_id, at=at, field=name, data=data)]
        return [Change(kind="other", account_key=open_id, at=at, field=name, data=content)]
