"""The one way socialsync talks to open.tiktokapis.com: governed, classified, token-free logs.

Every v2 call passes the window governor first (its budgets come from `TikTokRates`); the answer
is classified by `TikTokErrors` (a 200 with a non-``ok`` code is an error) and a throttle answer
blocks the call's windows for every worker. Upload PUTs go straight to the returned URL.
"""

from __future__ import annotations

from typing import Any

import httpx

from socialsync.platforms.base import Call, ErrorKind, PlatformError, TransportError
from socialsync.platforms.tiktok.errors import TikTokErrors
from socialsync.platforms.tiktok.rates import TikTokRates
from socialsync.ratelimit_windows import WindowGovernor


class TikTokClient:
    def __init__(
        self, http: httpx.AsyncClient, api_base: str, rates: TikTokRates, governor: WindowGovernor | None,
    ) -> None:
        self.http = http
        self.api_base = api_base.rstrip("/")
        self.rates = rates
        self.errors = TikTokErrors()
        self.governor = governor
        self.calls = 0  # calls answered (sync runs report it)

    async def _send(self, call: Call, request: httpx.Request) -> Any:
        budgets = self.rates.budgets(call)
        if self.governor is not None:
            await self.governor.acquire(budgets)
        try:
            response = await self.http.send(request)
        except httpx.TransportError as exc:
            raise TransportError(f"{type(exc).__name__} calling TikTok {call.operation}") from None
        self.calls += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        error = self.errors.error_for(response, body)
        if self.governor is not None:
            await self.governor.apply(self.rates.learn(call, response, error))
            if error is not None and error.kind is ErrorKind.THROTTLED and error.retry_after is None:
                error.retry_after = self.governor.default_block_seconds  # what the window is blocked for
        if error is not None:
            raise error
        return body

    async def api(
        self, method: str, path: str, *, token: str, account_key: str | None,
        fields: list[str] | None = None, json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A v2 call; returns ``data``. Raises `PlatformError`, `TransportError`, `RateLimited`."""
        params = {"fields": ",".join(fields)} if fields else None
        headers = {"Authorization": f"Bearer {token}"}
        if method == "POST":
            headers["Content-Type"] = "application/json; charset=UTF-8"
        request = self.http.build_request(
            method, self.api_base + path, params=params, headers=headers,
            json=json if method == "POST" else None,
        )
        call = Call(method, request.url, operation=path, account_key=account_key)
        body = await self._send(call, request)
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else {}

    async def oauth(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        """An OAuth call (form-encoded, flat answer). Raises `PlatformError`, `TransportError`."""
        request = self.http.build_request(
            "POST", self.api_base + path, data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body = await self._send(Call("POST", request.url, operation=path), request)
        if not isinstance(body, dict):
            raise PlatformError("empty OAuth answer", kind=ErrorKind.TRANSIENT)
        return body
