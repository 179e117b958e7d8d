"""Keeping every platform's credentials alive: the core's one token keeper (`TokenKeeper`'s side).

The cron (worker/jobs/tokens.py) picks active accounts whose ``next_check_at`` passed; jobs that
were refused a token (a sync, a post, a moderation) force a refresh. Either way one refresh is in
flight per account: the Redis lock ``tokens:lock:{id}`` (SET NX with a lease; TikTok's refresh
token dies once a new one is issued). Under the lock the account is read again (a refresh that
just finished elsewhere makes ours unnecessary: with ``refused=``, a stored access token that is
no longer the refused one means "already rotated"), the plugin refreshes or checks, and the new
pair is stored with a compare-and-set on the pair it replaces, before the lock is released and
before anything uses it. A refresh token not re-sent (Google) keeps the stored one. A dead token
(``TOKEN_INVALID``) marks the account ``needs_reconnect`` with the platform's reason; an
unanswered refresh is retried later from whatever pair is then stored.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from socialsync import lifecycle
from socialsync.credentials import account_ref
from socialsync.platforms.base import AccountRef, ErrorKind, PlatformError
from socialsync.store import accounts as account_store

if TYPE_CHECKING:
    from socialsync.context import Services

LOCK_KEY = "tokens:lock:{account_id}"
LOCK_MS = 60_000
RETRY_CHECK_AFTER = timedelta(minutes=5)  # a refresh that failed transiently: look again then
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class TokenOutcome(StrEnum):
    REFRESHED = "refreshed"
    VALID = "valid"
    NEEDS_RECONNECT = "needs_reconnect"
    SKIPPED = "skipped"


class LockBusy(Exception):
    """Another worker holds the account's token lock: try again in a moment."""


def _dead(token: dict[str, Any], now: Any) -> bool:
    """The access token is past its expiry and there is no refresh token to renew it."""
    expires_at = token.get("expires_at")
    return expires_at is not None and expires_at <= now and not token.get("refresh_ciphertext")


async def _lock(services: Services, account_id: str, wait_seconds: float) -> str:
    key, holder = LOCK_KEY.format(account_id=account_id), uuid.uuid4().hex
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while not await services.redis.set(key, holder, nx=True, px=LOCK_MS):
        if loop.time() >= deadline:
            raise LockBusy(account_id)
        await asyncio.sleep(0.05)
    return holder


async def refresh_account(
    services: Services, account_id: str, *, force: bool = False, wait_seconds: float = 5.0,
    refused: str | None = None,
) -> TokenOutcome:
    """Refresh the account's credentials if the platform says so (``force``: the platform just
    refused the access token ``refused``; refresh now whatever its expiry says, unless another
    job already replaced that token). Returns the outcome (a `str`). Raises `LockBusy` (the lock
    stayed taken for ``wait_seconds``), `PlatformError`/`TransportError`/`RateLimited` when the
    failure is not a dead token, for the caller to retry."""
    holder = await _lock(services, account_id, wait_seconds)
    try:
        return await _locked(services, account_id, force=force, refused=refused)
    finally:
        await services.redis.eval(_RELEASE, 1, LOCK_KEY.format(account_id=account_id), holder)


async def _locked(services: Services, account_id: str, *, force: bool, refused: str | None) -> TokenOutcome:
    store, cipher, now = services.store, services.cipher, services.clock.now()
    account = await account_store.get(store, account_id)  # read inside the lock: the latest pair
    token = (account or {}).get("token")
    if account is None or account.get("status") != "active" or not token or not token.get("ciphertext"):
        return TokenOutcome.SKIPPED
    plugin = services.platforms.for_account(account)
    if plugin.tokens is None:
        return TokenOutcome.SKIPPED
    ref = account_ref(account, cipher)
    if force and refused is not None and ref.credentials.access_token != refused:
        return TokenOutcome.REFRESHED  # another job rotated it while we waited: one refresh, not two
    if _dead(token, now):
        await lifecycle.account_needs_reconnect(
            services, account_id, "The access token expired; the person must connect again.")
        return TokenOutcome.NEEDS_RECONNECT
    if force:  # the access token was refused: the plugin must refresh, not just check
        ref = replace(ref, credentials=replace(ref.credentials, access_expires_at=now))
    try:
        check = await plugin.tokens.refresh(ref, now)
    except PlatformError as exc:
        if exc.kind is not ErrorKind.TOKEN_INVALID:
            await account_store.record_token_check(store, account_id, exc.message,
                                                   next_check_at=now + RETRY_CHECK_AFTER)
            raise
        await account_store.record_token_check(store, account_id, exc.message)
        await lifecycle.account_needs_reconnect(services, account_id, _reason(plugin.spec.display_name, exc))
        return TokenOutcome.NEEDS_RECONNECT
    new = check.credentials
    if new is None:
        await account_store.record_token_check(store, account_id, None, next_check_at=check.next_check_at)
        return TokenOutcome.VALID
    stored = await account_store.store_refreshed_credentials(
        store, account_id, ciphertext=cipher.encrypt(new.access_token), issued_at=new.issued_at or now,
        expires_at=new.access_expires_at,
        refresh_ciphertext=cipher.encrypt(new.refresh_token) if new.refresh_token else None,
        refresh_expires_at=new.refresh_expires_at, next_check_at=check.next_check_at,
        used_ciphertext=token["ciphertext"], scopes=list(new.scopes or ()) or None,
    )
    return TokenOutcome.REFRESHED if stored else TokenOutcome.SKIPPED


def _reason(display_name: str, exc: PlatformError) -> str:
    """Why the account needs reconnecting: the platform's code and message (Google names a
    revoked grant or a Testing-mode app's 7-day tokens), never a token."""
    code = f"{exc.code}/{exc.subcode}" if exc.subcode is not None else f"{exc.code}"
    reason = f"{display_name} rejected the token (code {code})"
    reason += f": {exc.message}" if exc.message else ""
    return reason if "reconnect" in reason.lower() else reason + ": reconnect the account."


async def fresh_ref(services: Services, account_id: str) -> AccountRef | None:
    """The account's current credentials for a call, refreshed first when the plugin says they
    are due (``tokens.due``); None when the account cannot be called (not active, no token)."""
    doc = await account_store.get(services.store, account_id)
    if doc is None or doc.get("status") != "active" or not doc.get("token"):
        return None
    plugin = services.platforms.for_account(doc)
    ref = account_ref(doc, services.cipher)
    due = getattr(plugin.tokens, "due", None)
    if due is not None and due(ref.credentials, services.clock.now()):
        await refresh_account(services, account_id)
        doc = await account_store.get(services.store, account_id)
        if doc is None or doc.get("status") != "active" or not doc.get("token"):
            return None
        ref = account_ref(doc, services.cipher)
    return ref
