"""Login Kit v2 connect: the authorize URL, and the callback → one `NewAccount`.

The code arrives URL-encoded in the redirect (``*`` as ``%2A``); the web framework's query
parsing decodes it, and it is exchanged exactly as decoded. ``open_id`` is stored exactly as
received, dashes included (webhooks name users by it). The profile read asks only for the fields
the granted scopes allow (asking for more fails the whole call). Without ``video.publish`` the
account connects read-only and says so (``extra.read_only``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from socialsync.platforms.base import (
    ConnectFailed, Credentials, ErrorKind, NewAccount, PlatformError, TransportError,
)
from socialsync.platforms.tiktok.client import TikTokClient
from socialsync.platforms.tiktok.profile import profile_fields, profile_from_user
from socialsync import clock

TOKEN_KIND = "tiktok_oauth"


def credentials_from(answer: Mapping[str, Any], now: datetime) -> Credentials:
    """A token answer (flat) → credentials; lifetimes from the answer, never constants."""
    access = answer.get("access_token")
    refresh = answer.get("refresh_token")
    if not isinstance(access, str) or not access or not isinstance(refresh, str) or not refresh:
        raise PlatformError("token answer without tokens", kind=ErrorKind.TRANSIENT)
    expires_in = int(answer.get("expires_in") or 0)
    refresh_in = int(answer.get("refresh_expires_in") or 0)
    scope = answer.get("scope")
    return Credentials(
        access_token=access, kind=TOKEN_KIND,
        access_expires_at=now + timedelta(seconds=expires_in) if expires_in > 0 else None,
        refresh_token=refresh,
        refresh_expires_at=now + timedelta(seconds=refresh_in) if refresh_in > 0 else None,
        scopes=tuple(s for s in str(scope).split(",") if s) if isinstance(scope, str) else None,
    )


class TikTokConnector:
    def __init__(self, client: TikTokClient, *, www_base: str, client_key: str, client_secret: str,
                 scopes: Sequence[str], required_scopes: Sequence[str]) -> None:
        self._client = client
        self._www = www_base.rstrip("/")
        self._key = client_key
        self._secret = client_secret
        self._scopes = tuple(scopes)
        self._required = tuple(required_scopes)

    def authorize_url(self, login: str, *, state: str, redirect_uri: str, code_challenge: str | None = None) -> str:
        query = {
            "client_key": self._key, "scope": ",".join(self._scopes), "redirect_uri": redirect_uri,
            "state": state, "response_type": "code",
        }
        return f"{self._www}/v2/auth/authorize/?" + urlencode(query, quote_via=quote, safe=",")

    async def exchange(self, code: str, redirect_uri: str) -> Mapping[str, Any]:
        return await self._client.oauth("/v2/oauth/token/", {
            "client_key": self._key, "client_secret": self._secret, "code": code,
            "grant_type": "authorization_code", "redirect_uri": redirect_uri,
        })

    async def callback(
        self, login: str, *, params: Mapping[str, str], redirect_uri: str, code_verifier: str | None = None,
    ) -> Sequence[NewAccount]:
        code = params.get("code", "")
        if not code:
            raise ConnectFailed("invalid_callback", "no code in the callback")
        now = clock.now()
        try:
            answer = await self.exchange(code, redirect_uri)
            credentials = credentials_from(answer, now)
        except PlatformError as exc:
            raise ConnectFailed("token_exchange_failed", f"TikTok refused the code ({exc.code})") from None
        except TransportError:
            raise ConnectFailed("token_exchange_failed", "TikTok did not answer the code exchange") from None
        granted = credentials.scopes if credentials.scopes is not None else tuple(
            s for s in params.get("scopes", "").split(",") if s
        )
        missing = [s for s in self._required if s not in granted]
        if missing:
            raise ConnectFailed("missing_scopes", f"Permissions not granted: {', '.join(missing)}")
        open_id = str(answer.get("open_id") or "")
        if not open_id:
            raise ConnectFailed("token_exchange_failed", "the token answer has no open_id")
        try:
            data = await self._client.api(
                "GET", "/v2/user/info/", token=credentials.access_token, account_key=open_id,
                fields=profile_fields(granted),
            )
        except (PlatformError, TransportError) as exc:
            raise ConnectFailed("profile_fetch_failed", f"TikTok did not return the profile ({type(exc).__name__})") from None
        user = data.get("user") if isinstance(data.get("user"), dict) else {}
        profile = profile_from_user(user)
        read_only = "video.publish" not in granted
        return [NewAccount(
            login="tiktok", external_id=open_id, username=str(profile.get("username") or open_id),
            credentials=Credentials(
                access_token=credentials.access_token, kind=TOKEN_KIND,
                access_expires_at=credentials.access_expires_at, refresh_token=credentials.refresh_token,
                refresh_expires_at=credentials.refresh_expires_at, scopes=tuple(granted),
            ),
            scopes=tuple(granted), name=profile.get("name"), account_type="creator",
            profile_picture_url=profile.get("profile_picture_url"), profile=profile,
            platform_user_id=str(user.get("union_id")) if user.get("union_id") else None,
            extra={"read_only": read_only, "read_only_reason": "video.publish not granted" if read_only else None},
        )]

    async def choose(self, login: str, pending: Mapping[str, Any], option_id: str) -> NewAccount:
        raise ConnectFailed("invalid_callback", "TikTok connects one account per login; there is nothing to choose")
