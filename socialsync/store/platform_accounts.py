"""Accounts of interface platforms (TikTok…): stored from a `NewAccount`, read as an `AccountRef`.

Same ``accounts`` collection and API shape as Instagram's (``AccountOut``): ``token`` holds the
encrypted access token with its expiry, ``token.refresh_ciphertext`` the encrypted refresh token with its own (the core's shape),
``next_check_at`` when the token keeper looks next, ``extra`` the platform's own fields. A new
pair is written in one update guarded by the pair it replaces (compare-and-set), so a refresh
that lost a race cannot overwrite the winner's tokens; an empty refresh token never overwrites
a stored one.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
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


async def store_credentials(
    store: Store, cipher: TokenCipher, doc: dict[str, Any], new: Credentials, next_check_at: datetime,
) -> bool:
    """Replace the pair ``doc`` holds by ``new`` (only if the stored pair is still ``doc``'s)."""
    now = clock.now()
    set_: dict[str, Any] = {
        "token.ciphertext": cipher.encrypt(new.access_token), "token.issued_at": now,
        "token.expires_at": new.access_expires_at, "next_check_at": next_check_at,
        "token_checked_at": now, "token_check_error": None, "updated_at": now,
    }
    if new.refresh_token:  # never overwrite a stored refresh token with an empty one
        set_["token.refresh_ciphertext"] = cipher.encrypt(new.refresh_token)
        set_["token.refresh_expires_at"] = new.refresh_expires_at
    if new.scopes:
        set_["scopes"] = list(new.scopes)
    result = await store.accounts.update_one(
        {"_id": doc["_id"], "status": "active", "token.ciphertext": (doc.get("token") or {}).get("ciphertext")},
        {"$set": set_},
    )
    return result.modified_count == 1


async def set_next_check(store: Store, account_id: str, at: datetime, error: str | None = None) -> None:
    now = clock.now()
    await store.accounts.update_one({"_id": account_id}, {"$set": {
        "next_check_at": at, "token_checked_at": now, "token_check_error": error, "updated_at": now}})


async def due_for_check(store: Store, platforms: list[str], now: datetime, limit: int = 500) -> list[str]:
    cursor = store.accounts.find(
        {"platform": {"$in": platforms}, "status": "active", "next_check_at": {"$lte": now}}, {"_id": 1},
    ).limit(limit)
    return [d["_id"] async for d in cursor]


async def find_by_external_id(store: Store, platform: str, external_id: str) -> list[dict[str, Any]]:
    """Every tenant's record of that platform account (webhooks name the user, not the tenant)."""
    return [d async for d in store.accounts.find({"platform": platform, "external_id": external_id})]


async def merge_profile(store: Store, account_id: str, fields: dict[str, Any]) -> None:
    top = {k: fields[k] for k in ("username", "name", "profile_picture_url") if fields.get(k) is not None}
    set_ = {**{f"profile.{k}": v for k, v in fields.items()}, **top, "updated_at": clock.now()}
    await store.accounts.update_one({"_id": account_id}, {"$set": set_})


async def set_sync_checkpoint(store: Store, account_id: str, stage: str, checkpoint: dict[str, Any]) -> None:
    await store.accounts.update_one({"_id": account_id}, {"$set": {f"sync_state.{stage}": checkpoint}})


async def set_push_subscription(store: Store, account_id: str, now: datetime, state: dict[str, Any]) -> None:
    """The account's push subscription (YouTube's WebSub lease): status, lease, when to renew."""
    await store.accounts.update_one({"_id": account_id}, {"$set": {
        "push_subscription": {**state, "at": now}, "updated_at": now}})


async def push_due(store: Store, platforms: list[str], now: datetime, limit: int = 500) -> list[str]:
    cursor = store.accounts.find(
        {"platform": {"$in": platforms}, "status": "active", "push_subscription.renew_at": {"$lte": now}}, {"_id": 1},
    ).limit(limit)
    return [d["_id"] async for d in cursor]
