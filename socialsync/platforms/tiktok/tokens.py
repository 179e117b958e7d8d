"""Keeping TikTok tokens alive: access ~2 h, refresh ~180 d, **rotating** refresh tokens.

The core calls `refresh` under its per-account lock and stores the returned pair before
anything else may use it. TikTok kills the sent refresh token the moment it issues the new one,
so a refresh is never retried with the token it sent once an answer may have been issued: an
unanswered refresh (`TransportError`) goes back to the core as such, and the core's next try
reads the stored pair again (a new one if the first try's answer was stored, else the same
one - which TikTok still accepts only if it never issued a new pair). ``invalid_grant`` is
`TOKEN_INVALID`: needs reconnect. Lifetimes come from the answer, not from constants.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from socialsync.platforms.base import AccountRef, Credentials, ErrorKind, PlatformError, TokenCheck
from socialsync.platforms.tiktok.client import TikTokClient
from socialsync.platforms.tiktok.connect import credentials_from

MIN_RECHECK = timedelta(seconds=60)


class TikTokTokens:
    def __init__(self, client: TikTokClient, *, client_key: str, client_secret: str, refresh_ahead_seconds: int) -> None:
        self._client = client
        self._key = client_key
        self._secret = client_secret
        self._ahead = timedelta(seconds=refresh_ahead_seconds)

    def next_check_at(self, credentials: Credentials, now: datetime) -> datetime:
        """Shortly before the access token expires (never sooner than a minute from now)."""
        if credentials.access_expires_at is None:
            return now + timedelta(hours=1)
        return max(now + MIN_RECHECK, credentials.access_expires_at - self._ahead)

    def due(self, credentials: Credentials, now: datetime) -> bool:
        return credentials.access_expires_at is None or credentials.access_expires_at - self._ahead <= now

    async def refresh(self, account: AccountRef, now: datetime) -> TokenCheck:
        """A new pair when the access token is within ``refresh_ahead`` of expiry, else nothing."""
        current = account.credentials
        if not self.due(current, now):
            return TokenCheck(credentials=None, next_check_at=self.next_check_at(current, now))
        if not current.refresh_token:
            raise PlatformError("no refresh token stored", kind=ErrorKind.TOKEN_INVALID, code="invalid_grant")
        if current.refresh_expires_at is not None and current.refresh_expires_at <= now:
            raise PlatformError("the refresh token expired", kind=ErrorKind.TOKEN_INVALID, code="invalid_grant")
        answer = await self._client.oauth("/v2/oauth/token/", {
            "client_key": self._key, "client_secret": self._secret,
            "grant_type": "refresh_token", "refresh_token": current.refresh_token,
        })
        fresh = credentials_from(answer, now)
        if fresh.scopes is None:
            fresh = Credentials(
                access_token=fresh.access_token, kind=fresh.kind, access_expires_at=fresh.access_expires_at,
                refresh_token=fresh.refresh_token, refresh_expires_at=fresh.refresh_expires_at,
                scopes=current.scopes,
            )
        return TokenCheck(credentials=fresh, next_check_at=self.next_check_at(fresh, now))

    async def revoke(self, access_token: str) -> None:
        await self._client.oauth("/v2/oauth/revoke/", {
            "client_key": self._key, "client_secret": self._secret, "token": access_token,
        })
