"""Token upkeep for interface platforms, under one Redis lock per account.

TikTok rotates refresh tokens: the sent one dies when the new pair is issued. So: one refresh in
flight per account (the core keeper's ``tokens:lock:{id}``, SET NX with a lease), the stored pair re-read *after*
taking the lock (a refresh that just finished elsewhere makes ours unnecessary), and the new pair
stored (compare-and-set on the old one) before the lock is released and before any call uses
it. ``TOKEN_INVALID`` (``invalid_grant``) marks the account ``needs_reconnect`` with the reason;
an unanswered refresh is retried later from whatever pair is then stored, never by re-sending
a refresh token that may be spent.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from socialsync import lifecycle
from socialsync.platforms.base import AccountRef, ErrorKind, PlatformError
from socialsync.plugins import plugin_for
from socialsync.store import accounts as account_store
from socialsync.store import platform_accounts as store
from socialsync.tokens import LOCK_KEY  # the core's keeper takes the same lock: one refresh at a time
from socialsync import clock

LOCK_SECONDS = 30
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class LockBusy(Exception):
    """Another worker holds the account's token lock: try again in a moment."""


async def _locked(services: Any, account_id: str, wait_seconds: float) -> str:
    key, token = LOCK_KEY.format(account_id=account_id), secrets.token_hex(8)
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while not await services.redis.set(key, token, nx=True, ex=LOCK_SECONDS):
        if asyncio.get_running_loop().time() >= deadline:
            raise LockBusy(account_id)
        await asyncio.sleep(0.05)
    return token


async def _unlock(services: Any, account_id: str, token: str) -> None:
    await services.redis.eval(_RELEASE, 1, LOCK_KEY.format(account_id=account_id), token)


async def refresh_account(services: Any, account_id: str, *, force: bool = False, wait_seconds: float = 5.0,
                          refused: str | None = None) -> str:
    """Refresh if due (or ``force``: the platform just refused the token). Returns the outcome:
    refreshed / valid / needs_reconnect / skipped. ``refused``: the access token that was refused;
    if another job already replaced it, the answer is "refreshed" without a second refresh.
    Raises `LockBusy`, `PlatformError` (transient), `TransportError` for the caller to retry."""
    lock = await _locked(services, account_id, wait_seconds)
    try:
        doc = await account_store.get(services.store, account_id)  # re-read under the lock
        if doc is None or doc.get("status") != "active" or not doc.get("token"):
            return "skipped"
        plugin = plugin_for(services, doc["platform"])
        assert plugin.tokens is not None
        ref = store.ref_of(doc, services.cipher)
        now = clock.now()
        if force and refused is not None and ref.credentials.access_token != refused:
            return "refreshed"  # another job refreshed it while we waited for the lock
        if force:
            # The access token was refused: refresh now, whatever its expiry says.
            ref = replace(ref, credentials=replace(ref.credentials, access_expires_at=now))
        try:
            check = await plugin.tokens.refresh(ref, now)
        except PlatformError as exc:
            if exc.kind is ErrorKind.TOKEN_INVALID:
                # The plugin's reason when it has one (Google: revoked, unused, or a Testing-mode
                # app's 7-day tokens), else the generic one.
                reason = f"{plugin.spec.display_name} refused the refresh token ({exc.code})"
                reason += f": {exc.message}" if exc.message else ""
                if "reconnect" not in reason.lower():
                    reason += ": reconnect the account."
                await lifecycle.account_needs_reconnect(services, account_id, reason)
                return "needs_reconnect"
            await store.set_next_check(services.store, account_id, now + timedelta(minutes=5), exc.message)
            raise
        if check.credentials is None:
            await store.set_next_check(services.store, account_id, check.next_check_at)
            return "valid"
        stored = await store.store_credentials(services.store, services.cipher, doc, check.credentials, check.next_check_at)
        return "refreshed" if stored else "skipped"
    finally:
        await _unlock(services, account_id, lock)


async def fresh_ref(services: Any, account_id: str) -> AccountRef | None:
    """The account's current credentials, refreshed first when due (before any use)."""
    doc = await account_store.get(services.store, account_id)
    if doc is None or doc.get("status") != "active":
        return None
    plugin = plugin_for(services, doc["platform"])
    ref = store.ref_of(doc, services.cipher)
    due = getattr(plugin.tokens, "due", None)
    if due is not None and due(ref.credentials, clock.now()):
        await refresh_account(services, account_id)
        doc = await account_store.get(services.store, account_id)
        if doc is None or doc.get("status") != "active":
            return None
        ref = store.ref_of(doc, services.cipher)
    return ref
