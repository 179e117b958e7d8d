"""The YouTube HTTP client: every Data API call goes through the core's rate-limit governor first.

``call("videos.list", "GET", "/youtube/v3/videos", ...)`` charges the documented cost (the
plugin's `DailyUnitsPolicy`), sends, and turns Google's error body into the `errors` tree;
``quotaExceeded`` spends the project's day and ``rateLimitExceeded`` blocks it for a while in the
shared state before the error is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from socialsync.platforms.youtube.errors import (
    QuotaExceeded,
    RateLimited,
    Transient,
    YouTubeError,
    classify,
)
from socialsync.platforms.base import Call
from socialsync.platforms.youtube.quota import COSTS
from socialsync.ratelimit.policies import DailyUnitsPolicy
from socialsync.platforms.youtube.settings import (
    ACCOUNTS_URL,
    ANALYTICS_URL,
    API_URL,
    HUB_URL,
    OAUTH2_URL,
    YouTubeSettings,
)

if TYPE_CHECKING:
    from socialsync.ratelimit.governor import Governor


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
    """One account's view of the APIs: its access token, the core governor, a tally.

    Every Data API call names its operation (``"videos.list"``); the plugin's `DailyUnitsPolicy`
    says which budgets it spends, the core `Governor` charges them before the call (or raises
    `RateLimited`: nothing is sent) and learns from the answer (``quotaExceeded`` spends the day,
    ``rateLimitExceeded`` blocks for a while)."""

    def __init__(self, http: httpx.AsyncClient, endpoints: Endpoints, governor: Governor | None,
                 rates: DailyUnitsPolicy, access_token: str, *, account_id: str | None = None,
                 active_accounts: int = 1) -> None:
        self.http = http
        self.endpoints = endpoints
        self.governor = governor
        self.rates = rates
        self.access_token = access_token
        self.account_id = account_id
        self.active_accounts = active_accounts
        self.units = 0
        self.calls = 0

    async def call(self, method: str, http_method: str, url: str, *, params: dict[str, str] | None = None,
                   json: Any = None, content: bytes | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        call = Call(method=http_method, url=httpx.URL(url), operation=method, account_key=self.account_id,
                    sharers=max(1, self.active_accounts))
        budgets = self.rates.budgets(call)
        if self.governor is not None:
            await self.governor.acquire(budgets)  # RateLimited: refused before anything is sent
        self.units += COSTS.get(method, 1)
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
            if self.governor is not None and isinstance(error, QuotaExceeded | RateLimited):
                from socialsync.platforms.youtube.plugin import to_platform_error  # noqa: PLC0415

                await self.governor.learn(self.rates.learn(call, response, to_platform_error(error)))
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
