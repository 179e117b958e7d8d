"""Keeping Instagram tokens alive (PLATFORM_FACTS.md §1): the plugin's `TokenKeeper`.

Instagram-Login tokens last 60 days and can be refreshed once at least 24 h old and not yet
expired; an expired one cannot be refreshed (the person must log in again). Facebook-Login page
tokens never expire but die on password change, role loss or app removal: a cheap call finds out,
once a day. No call is made before Meta would accept it, whenever the core asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from socialsync.platforms.base import AccountRef, Credentials, TokenCheck
from socialsync.platforms.instagram import oauth

IG_LONG_LIVED = "ig_long_lived"
FB_PAGE = "fb_page"
MIN_AGE = timedelta(hours=24)  # Meta refuses to refresh a younger token
PAGE_CHECK_EVERY = timedelta(hours=24)
DEFAULT_LIFETIME = timedelta(days=60)


class InstagramTokens:
    def __init__(self, context: Any) -> None:
        self.context = context

    def _window(self) -> timedelta:
        return timedelta(days=self.context.settings.token_refresh_window_days)

    def next_check_at(self, credentials: Credentials, now: datetime) -> datetime:
        """Freshly connected credentials are looked at once (as the previous release did): a page
        token gets its cheap check, an Instagram token its refresh window (no call before it)."""
        return now

    def _due(self, credentials: Credentials, now: datetime) -> datetime:
        if credentials.kind != IG_LONG_LIVED or credentials.access_expires_at is None:
            return now + PAGE_CHECK_EVERY
        issued = credentials.issued_at or now
        return max(issued + MIN_AGE, credentials.access_expires_at - self._window())

    async def refresh(self, account: AccountRef, now: datetime) -> TokenCheck:
        from socialsync.platforms.instagram.plugin import graph_of  # noqa: PLC0415 - plugin imports this

        creds = account.credentials
        graph, settings = graph_of(self.context), self.context.settings
        if creds.kind != IG_LONG_LIVED:
            await oauth.check_page_token(graph, settings, creds.access_token, account_id=account.external_id)
            return TokenCheck(None, now + PAGE_CHECK_EVERY)
        due = self._due(creds, now)
        if due > now:  # too young, or not yet in its window: look again then
            return TokenCheck(None, due)
        fresh = await oauth.refresh_instagram_token(graph, settings, creds.access_token, account_id=account.external_id)
        lifetime = timedelta(seconds=fresh.expires_in) if fresh.expires_in else DEFAULT_LIFETIME
        new = Credentials(access_token=fresh.access_token, kind=IG_LONG_LIVED, issued_at=now,
                          access_expires_at=now + lifetime)
        return TokenCheck(new, self._due(new, now))
