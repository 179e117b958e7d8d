"""A thin Graph API client over httpx: token handling, JSON, and the error model.

The access token travels as the ``access_token`` parameter (both Graph hosts accept it); the
URL is never logged by this module, and httpx's own request log is silenced in socialsync.logs.
Every call names the Instagram account it is about (``account_id``: the IG user id, Meta's
"business object" for Business Use Case limits) so the rate-limit governor can check and update
the right scopes; ``before_call`` / ``on_response`` are where the governor plugs in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from socialsync.platforms.instagram.errors import GraphError, TransportError

ResponseHook = Callable[[httpx.Response, str | None], Awaitable[None]]
BeforeCallHook = Callable[[str | None], Awaitable[None]]  # may raise RateLimited


class GraphClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        before_call: BeforeCallHook | None = None,
        on_response: ResponseHook | None = None,
    ) -> None:
        self._http = http
        self._before_call = before_call
        self._on_response = on_response

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
        if self._before_call is not None:
            await self._before_call(account_id)
        query = dict(params or {})
        if token is not None:
            query["access_token"] = token
        try:
            response = await self._http.request(method, url, params=query, data=data)
        except httpx.TransportError as exc:
            # str(exc) may hold the URL with its token: keep only the exception type.
            raise TransportError(f"{method} {httpx.URL(url).path}: {type(exc).__name__}") from None
        if self._on_response is not None:
            await self._on_response(response, account_id)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_error or (isinstance(body, dict) and "error" in body and "data" not in body):
            raise GraphError.from_response(response.status_code, body)
        if body is None:
            raise GraphError(
                f"non-JSON answer (HTTP {response.status_code}) from {httpx.URL(url).path}",
                status=response.status_code,
            )
        return body

    async def get(
        self, url: str, *, token: str | None = None, account_id: str | None = None, **params: Any
    ) -> Any:
        return await self.request("GET", url, token=token, params=params, account_id=account_id)

    async def post_form(
        self, url: str, form: Mapping[str, Any], *, token: str | None = None, account_id: str | None = None
    ) -> Any:
        return await self.request("POST", url, token=token, data=form, account_id=account_id)
