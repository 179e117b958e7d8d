"""Stored accounts as plugins see them: `AccountRef` with the credentials decrypted.

The stored shape (``accounts.token``): ``ciphertext`` (access token), ``kind``, ``issued_at``,
``expires_at`` and, where the platform has one, ``refresh_ciphertext`` and
``refresh_expires_at``; every token encrypted (socialsync.crypto), never logged or returned.
"""

from __future__ import annotations

from typing import Any

from socialsync.crypto import TokenCipher
from socialsync.platforms.base import AccountRef, AccountUnavailable, Credentials
from socialsync.store.migrations import platform_of

# Account fields every platform keeps at the top level (store/accounts.upsert_new).
CORE_TOP_FIELDS = ("platform_user_id",)


def top_fields(account: dict[str, Any]) -> tuple[str, ...]:
    """The account's fields kept at the top level of its document that plugins see in
    ``extra``: the core's and its platform's own (``PlatformSpec.account_top_fields``)."""
    from socialsync.platforms.registry import UnknownPlatform, plugin_class  # noqa: PLC0415 - it imports plugins

    try:
        own = plugin_class(platform_of(account)).spec.account_top_fields
    except UnknownPlatform:  # a platform registered at run time (a test's toy): none of its own
        own = ()
    return (*CORE_TOP_FIELDS, *own)


def credentials_of(token: dict[str, Any], cipher: TokenCipher, scopes: tuple[str, ...] = ()) -> Credentials:
    refresh = token.get("refresh_ciphertext")
    return Credentials(
        access_token=cipher.decrypt(token["ciphertext"]),
        kind=token.get("kind") or "oauth2",
        access_expires_at=token.get("expires_at"),
        issued_at=token.get("issued_at"),
        refresh_token=cipher.decrypt(refresh) if refresh else None,
        refresh_expires_at=token.get("refresh_expires_at"),
        scopes=scopes,
    )


def account_ref(account: dict[str, Any], cipher: TokenCipher, *, require_active: bool = True) -> AccountRef:
    """The account for a plugin call (decrypts its tokens). `AccountUnavailable` when it cannot
    be called: not active, or no token."""
    if (require_active and account.get("status") != "active") or not account.get("token"):
        raise AccountUnavailable(
            f"account {account.get('_id')} is {account.get('status')}: {account.get('status_reason') or 'no token'}"
        )
    return AccountRef(
        id=account["_id"], tenant_id=account["tenant_id"], platform=platform_of(account),
        login=account.get("login") or "", external_id=account["external_id"],
        credentials=credentials_of(account["token"], cipher, tuple(account.get("scopes") or ())),
        profile=account.get("profile") or {},
        # the platform's own fields: under ``extra``, and those it keeps at the top level
        extra={**(account.get("extra") or {}), **{k: account[k] for k in top_fields(account) if k in account}},
    )
