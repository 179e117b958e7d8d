"""The YouTube HTTP client: every Data API call goes through the quota governor first.

``call("videos.list", "GET", "/youtube/v3/videos", ...)`` charges the documented cost, sends,
and turns Google's error body into the `errors` tree; ``quotaExceeded`` blocks the project and
``rateLimitExceeded`` backs off in the shared state before the error is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from socialsync.platforms.youtube.errors import (
    QuotaExceeded,
    RateLimited,
    Transient,
    YouTubeError,
    classify,
)
from socialsync.platforms.youtube.quota import COSTS, Purpose, QuotaGovernor
from socialsync.platforms.youtube.settings import (
    ACCOUNTS_URL,
    ANALYTICS_URL,
    API_URL,
    HUB_URL,
    OAUTH2_URL,
    YouTubeSettings,
)

RATE_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Base URLs, already mapped to the sandbox when in sandbox mode."""

    accounts: str
    oauth2: str
    api: str
    analytics: str
    hub: str

    @classmethod
    def for_settings(cls, settings: Any) -> Endpoints:
        """From the core ``Settings``: real hosts, or their sandbox mirrors in sandbox mode."""
        block: YouTubeSettings = settings.youtube
        return cls.resolve(block, lambda real: block.url(real, settings))

    @classmethod
    def resolve(cls, yt: YouTubeSettings, map_url: Any) -> Endpoints:
        """``map_url`` is the core's ``Settings.platform_url`` (real URL -> sandbox mirror)."""
        return cls(
            accounts=map_url(yt.accounts_url or ACCOUNTS_URL).rstrip("/"),
            oauth2=map_url(yt.oauth2_url or OAUTH2_URL).rstrip("/"),
            api=map_url(yt.api_url or API_URL).rstrip("/"),
            analytics=map_url(yt.analytics_url or ANALYTICS_URL).rstrip("/"),
            hub=map_url(yt.hub_url or HUB_URL).rstrip("/"),
        )


class YouTubeClient:
    """One account's view of the APIs: its access token, the shared governor, a tally."""

    def __init__(self, http: httpx.AsyncClient, endpoints: Endpoints, governor: QuotaGovernor,
                 access_token: str, *, account_id: str | None = None, active_accounts: int = 1) -> None:
        self.http = http
        self.endpoints = endpoints
        self.governor = governor
        self.access_token = access_token
        self.account_id = account_id
        self.active_accounts = active_accounts
        self.units = 0
        self.calls = 0

    async def call(self, method: str, http_method: str, url: str, *, params: dict[str, str] | None = None,
                   json: Any = None, purpose: Purpose = "sync", content: bytes | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        self.units += await self.governor.charge(method, purpose=purpose, account_id=self.account_id,
                                                 active_accounts=self.active_accounts)
        self.calls += 1
        try:
            response = await self.http.request(
                http_method, url, params=params, json=json, content=content,
                headers={"Authorization": f"Bearer {self.access_token}", **(headers or {})},
            )
        except httpx.TransportError as exc:
            raise Transient(0, "transport", str(exc) or type(exc).__name__) from exc
        if response.status_code >= 400:
            error = classify(response)
            if isinstance(error, QuotaExceeded):
                await self.governor.block_until_reset()
            elif isinstance(error, RateLimited):
                await self.governor.back_off(error.retry_after or RATE_BACKOFF_SECONDS)
            raise error
        return response

    async def get(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        response = await self.call(method, "GET", self.endpoints.api + path, params=params)
        return _json(response)

    async def analytics(self, params: dict[str, str]) -> dict[str, Any]:
        """reports.query: its own quota, not the Data API's units (not charged here)."""
        try:
            response = await self.http.get(self.endpoints.analytics + "/v2/reports", params=params,
                                           headers={"Authorization": f"Bearer {self.access_token}"})
        except httpx.TransportError as exc:
            raise Transient(0, "transport", str(exc) or type(exc).__name__) from exc
        if response.status_code >= 400:
            raise classify(response)
        self.calls += 1
        return _json(response)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise YouTubeError(response.status_code, "invalidJson", "the answer is not JSON") from exc
    if not isinstance(body, dict):
        raise YouTubeError(response.status_code, "invalidJson", "the answer is not an object")
    return body


__all__ = ["COSTS", "Endpoints", "YouTubeClient"]
