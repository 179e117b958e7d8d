"""TikTok's error model: classified on ``error.code`` (v2 API) or ``error`` (OAuth), never text.

A v2 answer is an error unless ``error.code == "ok"`` - including an HTTP 200 with another code
(PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.1, §1.4, §3.6).
"""

from __future__ import annotations

from typing import Any

import httpx

from socialsync.platforms.base import ErrorKind, PlatformError

API_KINDS: dict[str, ErrorKind] = {
    "access_token_invalid": ErrorKind.TOKEN_INVALID,
    "scope_not_authorized": ErrorKind.CAPABILITY_MISSING,
    "scope_permission_missed": ErrorKind.CAPABILITY_MISSING,
    "rate_limit_exceeded": ErrorKind.THROTTLED,
    "internal_error": ErrorKind.TRANSIENT,
    "invalid_params": ErrorKind.INVALID_PARAMETER,
    "invalid_file_upload": ErrorKind.BAD_INPUT,
    "privacy_level_option_mismatch": ErrorKind.BAD_INPUT,
    "url_ownership_unverified": ErrorKind.MEDIA_URL,
    "unaudited_client_can_only_post_to_private_accounts": ErrorKind.PERMANENT,
    "spam_risk_too_many_posts": ErrorKind.PUBLISH_QUOTA,
    "spam_risk_too_many_pending_share": ErrorKind.PUBLISH_QUOTA,
    "reached_active_user_cap": ErrorKind.PUBLISH_QUOTA,
    "spam_risk_user_banned_from_posting": ErrorKind.SPAM,
    "app_version_check_failed": ErrorKind.PERMANENT,
}
OAUTH_KINDS: dict[str, ErrorKind] = {
    "invalid_grant": ErrorKind.TOKEN_INVALID,
    "access_denied": ErrorKind.TOKEN_INVALID,
    "invalid_client": ErrorKind.PERMANENT,
    "unauthorized_client": ErrorKind.PERMANENT,
    "invalid_scope": ErrorKind.PERMANENT,
}


class TikTokError(PlatformError):
    """An error TikTok answered (``code`` is its own string code)."""


def _api_error(response: httpx.Response, error: dict[str, Any]) -> TikTokError:
    code = str(error.get("code") or "unknown")
    kind = API_KINDS.get(code)
    if kind is None:
        kind = ErrorKind.TRANSIENT if response.status_code >= 500 else ErrorKind.UNKNOWN
    return TikTokError(
        str(error.get("message") or code), kind=kind, status=response.status_code, code=code,
        trace_id=error.get("log_id"),
    )


class TikTokErrors:
    """The ``ErrorModel`` of TikTok (v2 envelope, OAuth's flat shape, bare HTTP failures)."""

    def error_for(self, response: httpx.Response, body: Any) -> PlatformError | None:
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):  # the v2 envelope
                return None if error.get("code") == "ok" else _api_error(response, error)
            if isinstance(error, str) and error:  # OAuth's flat shape
                return TikTokError(
                    str(body.get("error_description") or error),
                    kind=OAUTH_KINDS.get(error, ErrorKind.INVALID_PARAMETER), status=response.status_code,
                    code=error, trace_id=body.get("log_id"),
                )
            if response.is_success:
                return None  # token answers and revoke's {} carry no error at all
        if response.status_code == 429:
            return TikTokError("rate limited", kind=ErrorKind.THROTTLED, status=429, code="rate_limit_exceeded")
        kind = ErrorKind.TRANSIENT if response.status_code >= 500 or response.is_success else ErrorKind.UNKNOWN
        return TikTokError(
            f"unexpected answer (HTTP {response.status_code}) from {response.request.url.path}",
            kind=kind, status=response.status_code,
        )
