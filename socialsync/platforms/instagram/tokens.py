"""Keeping Instagram tokens alive (PLATFORM_FACTS.md §1).

Instagram-Login tokens last 60 days and can be refreshed once at least 24 h old and not yet
expired; an expired one cannot be refreshed (the person must log in again). Facebook-Login page
tokens never expire but die on password change, role loss or app removal: a cheap call finds out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from socialsync import lifecycle
from socialsync.context import Services
from socialsync.platforms.instagram import oauth
from socialsync.platforms.instagram.errors import ErrorKind, GraphError
from socialsync.store import accounts as account_store


class TokenOutcome(StrEnum):
    REFRESHED = "refreshed"
    VALID = "valid"
    NEEDS_RECONNECT = "needs_reconnect"
    SKIPPED = "skipped"


async def refresh_or_check(services: Services, account: dict[str, Any]) -> TokenOutcome:
    """Refresh or check one account's token. Raises GraphError/TransportError for the caller to
    retry when the failure is not a dead token."""
    token_doc = account.get("token")
    if account.get("status") != "active" or not token_doc:
        return TokenOutcome.SKIPPED
    account_id = account["_id"]
    now = datetime.now(UTC)
    expires_at = token_doc.get("expires_at")
    if expires_at is not None and expires_at <= now:
        await lifecycle.account_needs_reconnect(
            services, account_id, "The access token expired; the person must connect again."
        )
        return TokenOutcome.NEEDS_RECONNECT
    token = services.cipher.decrypt(token_doc["ciphertext"])
    try:
        if token_doc["kind"] == "ig_long_lived":
            fresh = await oauth.refresh_instagram_token(
                services.graph, services.settings, token, account_id=account["external_id"]
            )
            lifetime = timedelta(seconds=fresh.expires_in or 60 * 86400)
            await account_store.store_refreshed_token(
                services.store, account_id, services.cipher.encrypt(fresh.access_token), now, now + lifetime
            )
            return TokenOutcome.REFRESHED
        await oauth.check_page_token(
            services.graph, services.settings, token, account_id=account["external_id"]
        )
        await account_store.record_token_check(services.store, account_id, None)
        return TokenOutcome.VALID
    except GraphError as exc:
        if exc.kind is ErrorKind.TOKEN_INVALID:
            await lifecycle.account_needs_reconnect(
                services, account_id,
                f"Meta rejected the token (code {exc.code}/{exc.subcode}): {exc.message}",
            )
            await account_store.record_token_check(services.store, account_id, exc.message)
            return TokenOutcome.NEEDS_RECONNECT
        await account_store.record_token_check(services.store, account_id, exc.message)
        raise
