"""Accounts of interface platforms (TikTok…): stored from a `NewAccount`, read as an `AccountRef`.

Same ``accounts`` collection and API shape as Instagram's (``AccountOut``): ``token`` holds the
encrypted access token with its expiry, ``token.refresh_ciphertext`` the encrypted refresh token with its own (the core's shape),
``next_check_at`` when the token keeper looks next, ``extra`` the platform's own fields. Refreshed
pairs are stored by the one token keeper (socialsync/tokens.py →
``accounts.store_refreshed_credentials``, compare-and-set on the pair it replaces).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from socialsync.crypto import TokenCipher
from socialsync.platforms.base import AccountRef, Credentials, NewAccount
from socialsync.store import Store
from socialsync import clock


async def upsert_new_account(
    store: Store, cipher: TokenCipher, *, tenant_id: str, platform: str, new: NewAccount,
    user_ref: str | None, next_check_at: datetime,
) -> str:
    now = clock.now()
    creds = new.credentials
    set_: dict[str, Any] = {
        "login": new.login, "username": new.username, "name": new.name,
        "account_type": new.account_type, "profile_picture_url": new.profile_picture_url,
        "profile": dict(new.profile), "scopes": list(new.scopes), "user_ref": user_ref,
        "platform_user_id": new.platform_user_id, "extra": dict(new.extra),
        "token": {"ciphertext": cipher.encrypt(creds.access_token), "kind": creds.kind,
                  "issued_at": now, "expires_at": creds.access_expires_at,
                  "refresh_ciphertext": cipher.encrypt(creds.refresh_token) if creds.refresh_token else None,
                  "refresh_expires_at": creds.refresh_expires_at},
        "next_check_at": next_check_at, "status": "active", "status_reason": None,
        "connected_at": now, "updated_at": now, "disconnected_at": None,
    }
    doc = await store.accounts.find_one_and_update(
        {"tenant_id": tenant_id, "platform": platform, "external_id": new.external_id},
        {"$set": set_, "$setOnInsert": {"_id": "acc_" + secrets.token_hex(8), "created_at": now}},
        upsert=True, return_document=ReturnDocument.AFTER, projection={"_id": 1},
    )
    return str(doc["_id"])


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
