"""Google's errors, classified by ``error.errors[0].reason`` (never by the text).

- `QuotaExceeded`: the project's daily units are gone; nothing may be called until midnight PT.
- `RateLimited`: per-minute limits; back off and retry.
- `AuthFailed`: the access token is dead (refresh, then reconnect).
- `NoChannel`: the Google account has no YouTube channel.
- `InvalidGrant`: the refresh token is dead (revoked, expired, Testing-mode 7 days).
- `Transient`: 5xx or no answer.
"""

from __future__ import annotations

from typing import Any

import httpx


class YouTubeError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message


class QuotaExceeded(YouTubeError):
    pass


class RateLimited(YouTubeError):
    def __init__(self, status: int, reason: str, message: str, retry_after: float | None) -> None:
        super().__init__(status, reason, message)
        self.retry_after = retry_after


class AuthFailed(YouTubeError):
    pass


class InsufficientScope(YouTubeError):
    pass


class NoChannel(YouTubeError):
    pass


class Transient(YouTubeError):
    pass


class InvalidGrant(Exception):
    """The refresh token no longer works: the account needs a reconnect."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def _reason(body: Any) -> tuple[str, str]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        errors = error.get("errors")
        reason = ""
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            reason = str(errors[0].get("reason", ""))
        return reason, str(error.get("message", ""))
    return "", ""


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def classify(response: httpx.Response) -> YouTubeError:
    try:
        body = response.json()
    except ValueError:
        body = None
    reason, message = _reason(body)
    status = response.status_code
    if reason == "quotaExceeded":
        return QuotaExceeded(status, reason, message)
    if reason in RATE_REASONS or status == 429:
        return RateLimited(status, reason or "rateLimited", message, _retry_after(response))
    if reason == "youtubeSignupRequired":
        return NoChannel(status, reason, message)
    if reason == "insufficientPermissions":
        return InsufficientScope(status, reason, message)
    if status == 401:
        return AuthFailed(status, reason or "authError", message)
    if status >= 500:
        return Transient(status, reason or "backendError", message)
    return YouTubeError(status, reason or "unknown", message)
