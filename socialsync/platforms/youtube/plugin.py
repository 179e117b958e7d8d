"""YouTube as a platform plugin (socialsync.platforms.base): spec, error model, rate policy and
the parts, built from the process's services.

Budgets: the core's `DailyUnitsPolicy` configured by `socialsync.platforms.youtube.quota.policy`
(per Google project = client id, reset at midnight Pacific): ``youtube:<project>:units`` for every
Data API call at its documented cost, ``…:unreserved`` so syncing never eats the reserve kept for
publishing and moderation, ``…:acct:<account>`` for the fair share, ``…:videos.insert`` for the
upload bucket. The parts' client asks the core `Governor` before every call.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from socialsync.platforms.base import (
    Capability,
    ErrorKind,
    LoginSpec,
    Platform,
    PlatformContext,
    PlatformError,
    PlatformSpec,
)
from socialsync.platforms.youtube import errors as yt_errors
from socialsync.platforms.youtube.quota import next_reset, policy
from socialsync.platforms.youtube.settings import (
    ACCOUNTS_URL,
    ANALYTICS_URL,
    API_URL,
    HUB_URL,
    OAUTH2_URL,
    YouTubeSettings,
)
from socialsync import clock

SPEC = PlatformSpec(
    name="youtube",
    display_name="YouTube",
    credentials_hint="SOCIALSYNC_YOUTUBE__CLIENT_ID + SOCIALSYNC_YOUTUBE__CLIENT_SECRET",
    post_product_types=("VIDEO", "SHORTS"),
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
    sync_kinds={  # "videos": the whole listing the first time, then stop at the first known
        "full": ("channel", "videos", "analytics", "audience", "comments"),
        "recent": ("channel", "videos", "comments"),
        "push": ("videos",),
        "analytics": ("analytics", "audience"),
        "comments": ("comments",),
    },
    # recent: every SYNC_PROFILE_MINUTES (channel, new uploads, comments: 4 units); analytics
    # (another API's quota, + 1 unit) every 6 h; push only when the hub notifies.
    scheduled_kinds=("recent", "analytics"),
    webhook_source="youtube",
    webhook_signature_header="X-Hub-Signature",
    webhook_bad_signature="drop",  # WebSub: acknowledge (2xx) and discard
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
        moment = clock.now().timestamp() if now is None else now
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


class YouTubePlatform(Platform):
    spec = SPEC

    def __init__(self, context: PlatformContext) -> None:
        super().__init__(context)
        from socialsync.platforms.youtube.parts import build_parts  # noqa: PLC0415 - keep import light

        block: YouTubeSettings = context.settings.youtube
        self.block = block
        self.settings = block  # the drivers read a plugin's settings block by this name
        self.sandbox_mode = block.uses_sandbox(context.settings)
        self.client_id = block.resolved_client_id(self.sandbox_mode)
        self.errors = GoogleErrors()
        self.rates = policy(self.client_id, daily_units=block.daily_units, reserve_units=block.reserve_units)
        build_parts(self, context)
