"""A thin Graph API client over httpx: token handling, JSON, the error model, the governor.

The access token travels as the ``access_token`` parameter (both Graph hosts accept it); the
URL is never logged by this module, and httpx's own request log is silenced in socialsync.logs.
Every call names the Instagram account it is about (``account_id``: the IG user id, Meta's
"business object" for Business Use Case limits) so the rate-limit governor can check and update
the right budgets (socialsync/platforms/instagram/limits.py names them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from socialsync.platforms.base import Call
from socialsync.platforms.instagram.errors import ERRORS, TransportError
from socialsync.platforms.instagram.limits import POLICY

if TYPE_CHECKING:
    from socialsync.ratelimit import Governor

AnswerHook = Callable[[httpx.Response], Awaitable[None]]


class GraphClient:
    def __init__(
        self, http: httpx.AsyncClient, *, governor: Governor | None = None, on_answer: AnswerHook | None = None
    ) -> None:
        self._http = http
        self._governor = governor
        self._on_answer = on_answer

    async def request(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        account_id: str | None = None,
    ) -> Any:
        call = Call(method, httpx.URL(url), account_key=account_id)
        if self._governor is not None:
            await self._governor.acquire(POLICY.budgets(call))  # may raise RateLimited
        query = dict(params or {})
        if token is not None:
            query["access_token"] = token
        try:
            response = await self._http.request(method, url, params=query, data=data)
        except httpx.TransportError as exc:
            # str(exc) may hold the URL with its token: keep only the exception type.
            raise TransportError(f"{method} {httpx.URL(url).path}: {type(exc).__name__}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        error = ERRORS.error_for(response, body)
        if self._governor is not None:
            await self._governor.learn(POLICY.learn(call, response, error))
        if self._on_answer is not None:
            await self._on_answer(response)
        if error is not None:
            raise error
        return body

    async def get(
        self, url: str, *, token: str | None = None, account_id: str | None = None, **params: Any
    ) -> Any:
        return await self.request("GET", url, token=token, params=params, account_id=account_id)

    async def post_form(
        self, url: str, form: Mapping[str, Any], *, token: str | None = None, account_id: str | None = None
    ) -> Any:
        return await self.request("POST", url, token=token, data=form, account_id=account_id)
