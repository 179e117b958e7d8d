"""Accounts as plugins see them: a stored account read as an `AccountRef` (stored from a
`NewAccount` by ``store/accounts.upsert_new``, the one writer).

``token`` holds the
encrypted access token with its expiry, ``token.refresh_ciphertext`` the encrypted refresh token with its own (the core's shape),
``next_check_at`` when the token keeper looks next, ``extra`` the platform's own fields. Refreshed
pairs are stored by the one token keeper (socialsync/tokens.py →
``accounts.store_refreshed_credentials``, compare-and-set on the pair it replaces).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from socialsync.crypto import TokenCipher
from socialsync.platforms.base import AccountRef, Credentials, NewAccount
from socialsync.store import Store
from socialsync import clock


def credentials_of(doc: dict[str, Any], cipher: TokenCipher) -> Credentials:
    """The core's stored shape (socialsync/credentials.py), plus the granted scopes."""
    token = doc.get("token") or {}
    refresh = token.get("refresh_ciphertext")
    return Credentials(
        access_token=cipher.decrypt(token["ciphertext"]) if token.get("ciphertext") else "",
        kind=str(token.get("kind") or "oauth2"),
        access_expires_at=token.get("expires_at"),
        refresh_token=cipher.decrypt(refresh) if refresh else None,
        refresh_expires_at=token.get("refresh_expires_at"),
        scopes=tuple(doc.get("scopes") or ()),
    )


def ref_of(doc: dict[str, Any], cipher: TokenCipher) -> AccountRef:
    return AccountRef(
        id=doc["_id"], tenant_id=doc["tenant_id"], platform=doc["platform"], login=doc.get("login", ""),
        external_id=doc["external_id"], credentials=credentials_of(doc, cipher),
        profile=doc.get("profile") or {}, extra=doc.get("extra") or {},
    )


async def find_by_external_id(store: Store, platform: str, external_id: str) -> list[dict[str, Any]]:
    """Every tenant's record of that platform account (webhooks name the user, not the tenant)."""
    return [d async for d in store.accounts.find({"platform": platform, "external_id": external_id})]


async def set_push_subscription(store: Store, account_id: str, now: datetime, state: dict[str, Any]) -> None:
    """The account's push subscription (YouTube's WebSub lease): status, lease, when to renew."""
    await store.accounts.update_one({"_id": account_id}, {"$set": {
        "push_subscription": {**state, "at": now}, "updated_at": now}})


async def push_due(store: Store, platforms: list[str], now: datetime, limit: int = 500) -> list[str]:
    cursor = store.accounts.find(
        {"platform": {"$in": platforms}, "status": "active", "push_subscription.renew_at": {"$lte": now}}, {"_id": 1},
    ).limit(limit)
    return [d["_id"] async for d in cursor]
