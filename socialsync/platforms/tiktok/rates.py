"""TikTok's rate policy: sliding one-minute windows (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.5).

- Display API: 600 calls/min **per endpoint**, planned per app (shared by all users);
- posting, per user token (kept per open_id: a rotated token must not buy a fresh budget):
  ``video/init`` and ``content/init`` 6/min, ``creator_info`` 20/min, ``status/fetch`` 30/min.
OAuth calls and chunk uploads are not governed. A 429 ``rate_limit_exceeded`` blocks the
call's windows (no Retry-After is documented, so for the configured default).
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from socialsync.platforms.base import Budget, BudgetUpdate, Call, ErrorKind, PlatformError
from socialsync.platforms.tiktok.settings import TikTokSettings

DISPLAY_PATHS = ("/v2/user/info/", "/v2/video/list/", "/v2/video/query/")
POSTING = {
    "/v2/post/publish/video/init/": ("init", "init_per_minute"),
    "/v2/post/publish/content/init/": ("content_init", "init_per_minute"),
    "/v2/post/publish/creator_info/query/": ("creator_info", "creator_info_per_minute"),
    "/v2/post/publish/status/fetch/": ("status", "status_per_minute"),
}


def endpoint_of(url: httpx.URL) -> str:
    """``/v2/...`` of a call, also when the sandbox prefixes the host to the path."""
    path = url.path
    at = path.find("/v2/")
    return path[at:] if at >= 0 else path


class TikTokRates:
    def __init__(self, settings: TikTokSettings) -> None:
        self._s = settings

    def budgets(self, call: Call) -> Sequence[Budget]:
        endpoint = endpoint_of(call.url)
        if endpoint in DISPLAY_PATHS:
            return [Budget(scope=f"tiktok:app:{endpoint}", style="window", limit=self._s.endpoint_per_minute)]
        if endpoint in POSTING and call.account_key:
            name, limit_field = POSTING[endpoint]
            limit = getattr(self._s, limit_field)
            return [Budget(scope=f"tiktok:user:{call.account_key}:{name}", style="window", limit=limit)]
        return ()

    def learn(self, call: Call, response: httpx.Response, error: PlatformError | None) -> Sequence[BudgetUpdate]:
        if error is None or error.kind is not ErrorKind.THROTTLED:
            return ()
        return [BudgetUpdate(scope=b.scope, throttled=True, blocked_for=error.retry_after) for b in self.budgets(call)]
