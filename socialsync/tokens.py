"""Keeping every platform's credentials alive: the core's side of `TokenKeeper`.

The cron picks active accounts whose ``next_check_at`` passed; for each, under a per-account
Redis lock (one refresh in flight per account: TikTok's refresh token dies once a new one is
issued), the account is read again, the plugin refreshes or checks, and a new pair is stored
before the lock is released, so nothing else can use the old one. A refresh token not re-sent
(Google) keeps the stored one. A dead token marks the account ``needs_reconnect`` unless a
concurrent refresh already replaced it.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from socialsync import lifecycle
from socialsync.credentials import account_ref
from socialsync.platforms.base import ErrorKind, PlatformError
from socialsync.store import accounts as account_store

if TYPE_CHECKING:
    from socialsync.context import Services

LOCK_KEY = "tokens:lock:{account_id}"
LOCK_MS = 60_000
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class TokenOutcome(StrEnum):
    REFRESHED = "refreshed"
    VALID = "valid"
    NEEDS_RECONNECT = "needs_reconnect"
    SKIPPED = "skipped"
    BUSY = "busy"  # another refresh of this account is in flight


def _expired(token: dict[str, Any], now: Any) -> bool:
    """The access token is past its expiry and nothing can renew it."""
    expires_at = token.get("expires_at")
    if expires_at is None or expires_at > now:
        return False
    refresh_expires = token.get("refresh_expires_at")
    return not token.get("refresh_ciphertext") or (refresh_expires is not None and refresh_expires <= now)


async def refresh_or_check(services: Services, account_id: str) -> TokenOutcome:
    """Refresh or check one account's credentials. Raises `PlatformError`/`TransportError`/
    `RateLimited` for the caller to retry when the failure is not a dead token."""
    lock = LOCK_KEY.format(account_id=account_id)
    holder = uuid.uuid4().hex
    if not await services.redis.set(lock, holder, nx=True, px=LOCK_MS):
        return TokenOutcome.BUSY
    try:
        return await _locked(services, account_id)
    finally:
        await services.redis.eval(_RELEASE, 1, lock, holder)


async def _locked(services: Services, account_id: str) -> TokenOutcome:
    store, cipher, now = services.store, services.cipher, services.clock.now()
    account = await account_store.get(store, account_id)  # read inside the lock: the latest pair
    token = (account or {}).get("token")
    if account is None or account.get("status") != "active" or not token:
        return TokenOutcome.SKIPPED
    plugin = services.platforms.for_account(account)
    if plugin.tokens is None:
        return TokenOutcome.SKIPPED
    if _expired(token, now):
        await lifecycle.account_needs_reconnect(
            services, account_id, "The access token expired; the person must connect again."
        )
        return TokenOutcome.NEEDS_RECONNECT
    try:
        check = await plugin.tokens.refresh(account_ref(account, cipher), now)
    except PlatformError as exc:
        await account_store.record_token_check(store, account_id, exc.message)
        if exc.kind is not ErrorKind.TOKEN_INVALID:
            raise
        await lifecycle.account_needs_reconnect(
            services, account_id,
            f"{plugin.spec.display_name} rejected the token (code {exc.code}/{exc.subcode}): {exc.message}",
        )
        return TokenOutcome.NEEDS_RECONNECT
    new = check.credentials
    if new is None:
        await account_store.record_token_check(store, account_id, None, next_check_at=check.next_check_at)
        return TokenOutcome.VALID
    await account_store.store_refreshed_credentials(
        store, account_id, ciphertext=cipher.encrypt(new.access_token), issued_at=new.issued_at or now,
        expires_at=new.access_expires_at,
        refresh_ciphertext=cipher.encrypt(new.refresh_token) if new.refresh_token else None,
        refresh_expires_at=new.refresh_expires_at, next_check_at=check.next_check_at,
    )
    return TokenOutcome.REFRESHED
