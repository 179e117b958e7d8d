"""Meta webhooks for Instagram as the plugin's `Inbound` part: handshake, signature, changes.

``normalize`` parses the envelope (``object``, ``entry[].id``, at most 1,000 changes: a delivery
failing that is refused with 400 before it is stored) and then **each change alone**: a change
with an out-of-range ``time``, a field name that is not a plain string (NUL, ``$``, ``.``), a
shape that does not parse, or a value that does not fit its field becomes a `RejectedChange`
with its reason, and every other change still comes back (ARCHITECTURE.md §4.1, issue 11 §2).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from socialsync.config import Settings
from socialsync.platforms.base import Change, HandshakeAnswer, InboundRequest, RejectedChange
from socialsync.platforms.instagram import signatures
from socialsync.platforms.instagram.webhooks import (
    COMMENT_FIELDS,
    MENTION_FIELD,
    CommentValue,
    MentionValue,
    Payload,
    parse_time,
)

SANDBOX_VERIFY_TOKEN = "sandbox-verify-token"
# Meta's times are UNIX seconds; anything outside [2004, 2100) is not a real event time.
MIN_TIME, MAX_TIME = 1_072_915_200, 4_102_444_800


class InvalidDelivery(ValueError):
    """The envelope itself does not parse: nothing can be kept (400 ``invalid_payload``)."""


def verify_token(settings: Settings) -> str | None:
    if settings.webhook_verify_token is not None:
        return settings.webhook_verify_token.get_secret_value()
    return SANDBOX_VERIFY_TOKEN if settings.sandbox_mode else None


def _field_problem(field: Any) -> str | None:
    if not isinstance(field, str) or not field:
        return "field_not_a_string"
    if "\x00" in field or field.startswith("$") or "." in field:
        return "invalid_field_name"
    return None


def _time(value: Any) -> tuple[datetime | None, str | None]:
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, "invalid_time"
    if not MIN_TIME <= value < MAX_TIME:
        return None, "time_out_of_range"
    return datetime.fromtimestamp(value, UTC), None


def _comment(field: str, value: Any) -> dict[str, Any]:
    v = CommentValue.model_validate(value)
    return {
        "id": v.id, "text": v.text, "from_id": v.from_.id if v.from_ else None,
        "from_username": v.from_.username if v.from_ else None,
        "media_id": v.media.id if v.media else None,
        "media_product_type": v.media.media_product_type if v.media else None,
        "parent_id": v.parent_id, "timestamp": parse_time(v.timestamp), "live": field == "live_comments",
    }


def _mention(value: Any) -> dict[str, Any]:
    v = MentionValue.model_validate(value)
    return {"media_id": v.media_id, "comment_id": v.comment_id}


class MetaInbound:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def handshake(self, request: InboundRequest) -> HandshakeAnswer:
        """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
        expected = verify_token(self.settings)
        given = request.query.get("hub.verify_token", "")
        if expected is None or request.query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            given.encode(), expected.encode()
        ):
            return HandshakeAnswer(403, "hub.mode or hub.verify_token is wrong.")
        return HandshakeAnswer(200, request.query.get("hub.challenge", ""))

    def verify(self, request: InboundRequest, now: datetime) -> bool:
        header = request.headers.get(signatures.SIGNATURE_HEADER)
        return signatures.verify_hub_signature(header, request.body, signatures.app_secrets(self.settings))

    def normalize(self, body: bytes | str) -> Sequence[Change | RejectedChange]:
        try:
            payload = Payload.model_validate_json(body)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(body)"
            raise InvalidDelivery(f"Invalid webhook payload: {where}: {first['msg']}") from None
        out: list[Change | RejectedChange] = []
        index = -1
        for entry in payload.entry:
            when, time_problem = _time(entry.time)
            for raw in entry.raw_changes():
                index += 1
                if not isinstance(raw, dict):
                    out.append(RejectedChange(index, "change_not_an_object", account_key=entry.id))
                    continue
                field = raw.get("field")
                problem = _field_problem(field) or time_problem
                if problem is not None:
                    out.append(RejectedChange(index, problem, field=field if isinstance(field, str) else None,
                                              account_key=entry.id))
                    continue
                value = raw.get("value")
                try:
                    if field in COMMENT_FIELDS:
                        out.append(Change("comment", entry.id, _comment(field, value), at=when, field=field))
                    elif field == MENTION_FIELD:
                        out.append(Change("mention", entry.id, _mention(value), at=when, field=field))
                    else:
                        out.append(Change("other", entry.id, {}, at=when, field=field))
                except ValidationError:
                    out.append(RejectedChange(index, "invalid_value", field=field, account_key=entry.id))
        return out
