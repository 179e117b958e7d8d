"""The one exception tree platform code raises, and the error kinds the core acts on.

Platforms classify their answers on codes (Meta code/subcode, TikTok ``error.code``, Google
``errors[0].reason``), never on message text, into an `ErrorKind`; jobs map the kind to a retry,
a deferral, a reconnect or a final failure (socialsync/retry.py).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from socialsync.platforms.base import Capability


class ErrorKind(StrEnum):
    """What a failure means for the core; platforms classify on codes, never on message text."""

    TRANSIENT = "transient"                    # retry with backoff
    THROTTLED = "throttled"                    # defer per rate-limit state (retry_after)
    QUOTA_EXCEEDED = "quota_exceeded"          # a budget is spent until it resets (retry_after)
    TOKEN_INVALID = "token_invalid"            # refresh once / needs reconnect; no retry
    CAPABILITY_MISSING = "permission"          # scope not granted, feature unavailable
    INVALID_PARAMETER = "invalid_parameter"    # our request is wrong (a bug, or an unsupported metric)
    BAD_INPUT = "bad_input"                    # the caller's media/caption/options
    MEDIA_URL = "media_url"                    # the caller must fix the media URL
    NOT_READY = "not_ready"                    # still processing on the platform
    GONE = "container_gone"                    # the platform object expired or vanished
    POLICY_BLOCK = "policy_block"              # defer, alert
    SPAM = "spam"                              # refused now; do not retry soon
    PUBLISH_QUOTA = "publish_quota"            # posts per day spent
    PERMANENT = "permanent"                    # will not work, whatever we do
    UNKNOWN = "unknown"

    PERMISSION = "permission"                  # alias of CAPABILITY_MISSING (stored value)
    CONTAINER_GONE = "container_gone"          # alias of GONE (stored value)

RETRYABLE_KINDS = frozenset({ErrorKind.TRANSIENT, ErrorKind.THROTTLED})

class PlatformError(Exception):
    """An error a platform answered. The one exception tree platform code raises (httpx style).

    ``code``/``subcode`` are the platform's own (Meta ints, TikTok/Google strings); ``describe()``
    is the loggable, storable summary (no request data, so never a token)."""

    def __init__(
        self,
        message: str,
        *,
        kind: ErrorKind,
        status: int = 0,
        code: int | str | None = None,
        subcode: int | str | None = None,
        retry_after: float | None = None,
        trace_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.status = status
        self.code = code
        self.subcode = subcode
        self.retry_after = retry_after
        self.trace_id = trace_id

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "code": self.code, "subcode": self.subcode,
                "message": self.message, "trace_id": self.trace_id}

    def __str__(self) -> str:
        return f"{self.message} (code={self.code}, subcode={self.subcode}, status={self.status})"

class TransportError(Exception):
    """The request did not get an answer (timeout, connection lost): outcome unknown."""

class RateLimited(Exception):
    """The governor will not let this call happen now (a blocked, paced or spent budget).
    Jobs turn it into ``Retry(defer=retry_after)``: deferred, never failed, never sleeping."""

    def __init__(self, scope: str, retry_after: float, reason: str = "") -> None:
        super().__init__(f"rate limited on {scope} for {retry_after:.1f}s {reason}".strip())
        self.scope = scope
        self.retry_after = retry_after
        self.reason = reason

class CapabilityUnavailable(Exception):
    """The platform does not offer this (declared in its spec). The API answers 422
    ``capability_unavailable``; jobs drop the work with this reason."""

    def __init__(self, platform: str, capability: Capability) -> None:
        super().__init__(f"{platform} does not support {capability.value}")
        self.platform = platform
        self.capability = capability

class ConnectFailed(Exception):
    """A connect flow failed; ``code`` goes to the return_url, ``message`` to the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

class PublishRejected(Exception):
    """A publish request the platform can never accept as sent (4xx to the caller)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class AccountUnavailable(Exception):
    """The account cannot be called: disconnected, needs reconnect, or has no token."""
