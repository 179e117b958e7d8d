"""YouTube as a platform plugin (socialsync.platforms.base): spec, error model, rate policy and
the parts, built from the process's services.

Budgets (``daily_units``, per Google project = client id, reset at midnight Pacific):
- ``youtube:<project>``: every Data API call at its documented cost, ``daily_units`` a day;
- ``youtube:<project>:sync``: list calls also spend this one, limited to ``daily_units -
  reserve_units``, so syncing never eats the reserve kept for publishing and moderation;
- ``youtube:<project>:videos.insert``: the upload bucket, 100 calls a day.
The parts themselves charge `QuotaGovernor` (socialsync/platforms/youtube/quota.py) before every
call, which also keeps the per-account fair share.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from socialsync.platforms.base import (
    Budget,
    BudgetUpdate,
    Call,
    Capability,
    ErrorKind,
    LoginSpec,
    Platform,
    PlatformContext,
    PlatformError,
    PlatformSpec,
)
from socialsync.platforms.youtube import errors as yt_errors
from socialsync.platforms.youtube.quota import COSTS, next_reset
from socialsync.platforms.youtube.settings import (
    ACCOUNTS_URL,
    ANALYTICS_URL,
    API_URL,
    HUB_URL,
    OAUTH2_URL,
    YouTubeSettings,
)

SPEC = PlatformSpec(
    name="youtube",
    display_name="YouTube",
    hosts=tuple(h.split("//", 1)[1] for h in (ACCOUNTS_URL, OAUTH2_URL, API_URL, ANALYTICS_URL, HUB_URL)),
    logins=(
        LoginSpec(
            name="google",
            authorize_url=ACCOUNTS_URL + "/o/oauth2/v2/auth",
            token_url=OAUTH2_URL + "/token",
            scopes=tuple(YouTubeSettings().scopes),
            required_scopes=tuple(YouTubeSettings().required_scopes),
            scope_separator=" ",
            pkce=True,
        ),
    ),
    capabilities=frozenset({Capability.SYNC, Capability.ANALYTICS, Capability.AUDIENCE, Capability.COMMENTS,
                            Capability.MODERATION, Capability.PUBLISH, Capability.WEBHOOKS}),
    sync_kinds={
        "full": ("channel", "videos_all", "analytics", "audience", "comments"),
        "recent": ("channel", "videos_new", "comments"),
        "push": ("videos_new",),
        "analytics": ("analytics", "audience"),
        "comments": ("comments",),
    },
    webhook_source="youtube",
)

_KIND_BY_REASON: dict[str, ErrorKind] = {
    "quotaExceeded": ErrorKind.QUOTA_EXCEEDED,
    "rateLimitExceeded": ErrorKind.THROTTLED,
    "userRateLimitExceeded": ErrorKind.THROTTLED,
    "authError": ErrorKind.TOKEN_INVALID,
    "insufficientPermissions": ErrorKind.CAPABILITY_MISSING,
    "forbidden": ErrorKind.CAPABILITY_MISSING,
    "youtubeSignupRequired": ErrorKind.PERMANENT,
    "invalidPageToken": ErrorKind.INVALID_PARAMETER,
    "uploadLimitExceeded": ErrorKind.PUBLISH_QUOTA,
    "invalidTitle": ErrorKind.BAD_INPUT,
    "invalidDescription": ErrorKind.BAD_INPUT,
    "invalidTags": ErrorKind.BAD_INPUT,
    "invalidCategoryId": ErrorKind.BAD_INPUT,
    "invalidPublishAt": ErrorKind.BAD_INPUT,
    "mediaBodyRequired": ErrorKind.BAD_INPUT,
    "commentNotFound": ErrorKind.GONE,
    "videoNotFound": ErrorKind.GONE,
}


def to_platform_error(error: yt_errors.YouTubeError, now: float | None = None) -> PlatformError:
    """The core's view of a Google error, classified on ``errors[0].reason``."""
    kind = _KIND_BY_REASON.get(error.reason)
    if kind is None:
        if error.status == 401:
            kind = ErrorKind.TOKEN_INVALID
        elif error.status >= 500 or error.status == 0:
            kind = ErrorKind.TRANSIENT
        elif error.status == 429:
            kind = ErrorKind.THROTTLED
        else:
            kind = ErrorKind.UNKNOWN
    retry_after: float | None = None
    if kind is ErrorKind.QUOTA_EXCEEDED:
        moment = datetime.now(UTC).timestamp() if now is None else now
        retry_after = next_reset(moment) - moment
    elif isinstance(error, yt_errors.RateLimited):
        retry_after = error.retry_after
    return PlatformError(error.message or error.reason, kind=kind, status=error.status, code=error.reason,
                         retry_after=retry_after)


class GoogleErrors:
    def error_for(self, response: httpx.Response, body: Any) -> PlatformError | None:
        if response.status_code < 400:
            return None
        return to_platform_error(yt_errors.classify(response))


class YouTubeRates:
    def __init__(self, project: str, settings: YouTubeSettings) -> None:
        self.project = project
        self.settings = settings

    def budgets(self, call: Call) -> Sequence[Budget]:
        op = call.operation
        if not op or call.account_key is None:
            return ()  # OAuth exchanges, the hub: not Data API units
        if op == "videos.insert":
            return [Budget(scope=f"youtube:{self.project}:videos.insert", style="daily_units", cost=1, limit=100)]
        cost = COSTS.get(op, 1)
        budgets = [Budget(scope=f"youtube:{self.project}", style="daily_units", cost=cost,
                          limit=self.settings.daily_units)]
        if cost == 1:
            budgets.append(Budget(scope=f"youtube:{self.project}:sync", style="daily_units", cost=1,
                                  limit=self.settings.daily_units - self.settings.reserve_units))
        return budgets

    def learn(self, call: Call, response: httpx.Response, error: PlatformError | None) -> Sequence[BudgetUpdate]:
        if error is None:
            return ()
        if error.kind is ErrorKind.QUOTA_EXCEEDED:
            return [BudgetUpdate(scope=f"youtube:{self.project}", spent_until_reset=True)]
        if error.kind is ErrorKind.THROTTLED:
            return [BudgetUpdate(scope=f"youtube:{self.project}", throttled=True, blocked_for=error.retry_after)]
        return ()


class YouTubePlatform(Platform):
    spec = SPEC

    def __init__(self, context: PlatformContext) -> None:
        super().__init__(context)
        from socialsync.platforms.youtube.parts import build_parts  # noqa: PLC0415 - keep import light

        block: YouTubeSettings = context.settings.youtube
        self.block = block
        self.sandbox_mode = block.uses_sandbox(context.settings)
        self.client_id = block.resolved_client_id(self.sandbox_mode)
        self.errors = GoogleErrors()
        self.rates = YouTubeRates(self.client_id, block)
        build_parts(self, context)
