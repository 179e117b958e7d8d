"""Meta's error model, classified on code / subcode / is_transient (never on message text).

The table is PLATFORM_FACTS.md §5.
"""

from __future__ import annotations

from typing import Any

import httpx

from socialsync.platforms.errors import (  # noqa: F401 - the core's tree, re-exported for Meta code
    ErrorKind,
    PlatformError,
    RateLimited,
    TransportError,
)


THROTTLE_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
TRANSIENT_CODES = frozenset({1, 2, -1})
BAD_INPUT_CODES = frozenset({36000, 36001, 36002, 36003, 36004, 352})


def classify(code: int | None, subcode: int | None, is_transient: bool | None, status: int) -> ErrorKind:
    if code == 4 and subcode == 2207051:
        return ErrorKind.SPAM
    if code in THROTTLE_CODES:
        return ErrorKind.THROTTLED
    if code == 190:
        return ErrorKind.TOKEN_INVALID
    if code == 9 and subcode == 2207042:
        return ErrorKind.PUBLISH_QUOTA
    if code == 9004 or subcode == 2207052:
        return ErrorKind.MEDIA_URL
    if code == 9007 or subcode == 2207027:
        return ErrorKind.NOT_READY
    if (code == -2 and subcode == 2207020) or (code == 24 and subcode == 2207008):
        return ErrorKind.CONTAINER_GONE
    if code in BAD_INPUT_CODES or subcode == 2207028:
        return ErrorKind.BAD_INPUT
    if code == 368:
        return ErrorKind.POLICY_BLOCK
    if code == 10 or (code is not None and 200 <= code <= 299):
        return ErrorKind.PERMISSION
    if code in TRANSIENT_CODES or is_transient or status >= 500:
        return ErrorKind.TRANSIENT
    if code == 100:
        return ErrorKind.INVALID_PARAMETER
    return ErrorKind.UNKNOWN


class GraphError(PlatformError):
    """An error answered by a Meta endpoint (Graph shape, or api.instagram.com's OAuth shape)."""

    code: int | None
    subcode: int | None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        subcode: int | None = None,
        is_transient: bool | None = None,
        fbtrace_id: str | None = None,
        user_message: str | None = None,
    ) -> None:
        super().__init__(
            message, kind=classify(code, subcode, is_transient, status), status=status, code=code,
            subcode=subcode, trace_id=fbtrace_id,
        )
        self.is_transient = is_transient
        self.fbtrace_id = fbtrace_id
        self.user_message = user_message

    @classmethod
    def from_response(cls, status: int, body: Any) -> "GraphError":
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            err = body["error"]
            return cls(
                str(err.get("message") or "Graph API error"),
                status=status,
                code=_int(err.get("code")),
                subcode=_int(err.get("error_subcode")),
                is_transient=err.get("is_transient"),
                fbtrace_id=err.get("fbtrace_id"),
                user_message=err.get("error_user_msg"),
            )
        if isinstance(body, dict) and "error_type" in body:  # api.instagram.com OAuth errors
            return cls(
                str(body.get("error_message") or body["error_type"]),
                status=status,
                code=_int(body.get("code")),
            )
        return cls(f"unexpected HTTP {status} from Meta", status=status)

    def describe(self) -> dict[str, Any]:
        """A loggable, storable summary (no request data, so no token)."""
        return {
            "kind": self.kind.value,
            "code": self.code,
            "subcode": self.subcode,
            "message": self.message,
            "fbtrace_id": self.fbtrace_id,
        }


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class MetaErrors:
    """Graph and api.instagram.com errors (PLATFORM_FACTS.md §5), classified on code/subcode."""

    def error_for(self, response: httpx.Response, body: Any) -> PlatformError | None:
        if response.is_error or (isinstance(body, dict) and "error" in body and "data" not in body):
            return GraphError.from_response(response.status_code, body)
        if body is None:
            return GraphError(
                f"non-JSON answer (HTTP {response.status_code}) from {response.request.url.path}",
                status=response.status_code,
            )
        return None


ERRORS = MetaErrors()
