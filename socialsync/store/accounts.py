"""Connected platform accounts: one document per (tenant, platform, external id).

Tokens live only here, encrypted (see socialsync.crypto), under ``token``; every read meant for
the API goes through `AccountOut`, which has no token field at all.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from pymongo import ReturnDocument

from socialsync.crypto import TokenCipher, TokenKeyError
from socialsync.store import Store

AccountStatus = Literal["active", "needs_reconnect", "disconnected"]
LoginType = Literal["instagram", "facebook"]


class StoredToken(BaseModel):
    """An encrypted access token with its lifetime. ``expires_at`` None: never expires (page)."""

    ciphertext: str
    kind: Literal["ig_long_lived", "fb_page"]
    issued_at: datetime
    expires_at: datetime | None = None


class ConnectedAccount(BaseModel):
    """What a completed OAuth flow hands to the store."""

    tenant_id: str
    platform: Literal["instagram"] = "instagram"
    login: LoginType
    external_id: str
    username: str
    name: str | None = None
    account_type: str | None = None
    profile_picture_url: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict)
    scopes: list[str]
    user_ref: str | None = None
    token: StoredToken
    platform_user_id: str | None = Field(
        default=None, description="IG-login app-scoped user id, or the Facebook user id."
    )
    page_id: str | None = None
    page_name: str | None = None


class AccountOut(BaseModel):
    """An account as the CRM sees it: never a token."""

    id: str
    platform: str
    login: LoginType
    external_id: str
    username: str
    name: str | None = None
    account_type: str | None = None
    profile_picture_url: str | None = None
    profile: dict[str, Any] = Field(default_factory=dict)
    status: AccountStatus
    status_reason: str | None = None
    scopes: list[str] = Field(default_factory=list)
    user_ref: str | None = None
    page_id: str | None = None
    page_name: str | None = None
    token_expires_at: datetime | None = None
    connected_at: datetime
    updated_at: datetime
    disconnected_at: datetime | None = None
    webhook_subscription: dict[str, Any] | None = Field(
        default=None, description="Meta webhook subscription: status, fields, error, at (issue 4)."
    )

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "AccountOut":
        token = doc.get("token") or {}
        return cls(
            id=doc["_id"],
            token_expires_at=token.get("expires_at"),
            **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"},
        )


async def ensure_indexes(store: Store) -> None:
    await store.accounts.create_index(
        [("tenant_id", 1), ("platform", 1), ("external_id", 1)], unique=True
    )
    await store.accounts.create_index([("tenant_id", 1), ("connected_at", -1)])
    await store.accounts.create_index([("status", 1), ("login", 1), ("token.expires_at", 1)])
    await store.accounts.create_index([("platform", 1), ("external_id", 1)])


async def upsert_connected(store: Store, acc: ConnectedAccount) -> str:
    """Insert the account, or reactivate the tenant's existing record of the same platform
    account (history kept). Returns the account id. A single atomic upsert: no half state."""
    now = datetime.now(UTC)
    fields = acc.model_dump(exclude={"tenant_id", "platform", "external_id"})
    doc = await store.accounts.find_one_and_update(
        {"tenant_id": acc.tenant_id, "platform": acc.platform, "external_id": acc.external_id},
        {
            "$set": {
                **fields,
                "status": "active",
                "status_reason": None,
                "connected_at": now,
                "updated_at": now,
                "disconnected_at": None,
            },
            "$setOnInsert": {"_id": "acc_" + secrets.token_hex(8), "created_at": now},
        },
        upsert=True,
        return_document=ReturnDocument.AFTER,
        projection={"_id": 1},
    )
    return str(doc["_id"])


async def get_for_tenant(store: Store, tenant_id: str, account_id: str) -> dict[str, Any] | None:
    return await store.accounts.find_one({"_id": account_id, "tenant_id": tenant_id})


async def get(store: Store, account_id: str) -> dict[str, Any] | None:
    return await store.accounts.find_one({"_id": account_id})


async def list_for_tenant(
    store: Store, tenant_id: str, *, limit: int, after: str | None = None
) -> list[dict[str, Any]]:
    """Accounts ordered by id (stable cursor: the last id of the previous page)."""
    query: dict[str, Any] = {"tenant_id": tenant_id}
    if after:
        query["_id"] = {"$gt": after}
    cursor = store.accounts.find(query).sort("_id", 1).limit(limit)
    return [doc async for doc in cursor]


async def disconnect(store: Store, tenant_id: str, account_id: str) -> dict[str, Any] | None:
    """Mark disconnected and drop the token in one write; history stays."""
    now = datetime.now(UTC)
    return await store.accounts.find_one_and_update(
        {"_id": account_id, "tenant_id": tenant_id},
        {
            "$set": {
                "status": "disconnected",
                "status_reason": "disconnected by the CRM",
                "disconnected_at": now,
                "updated_at": now,
            },
            "$unset": {"token": ""},
        },
        return_document=ReturnDocument.AFTER,
    )


async def mark_needs_reconnect(store: Store, account_id: str, reason: str) -> None:
    now = datetime.now(UTC)
    await store.accounts.update_one(
        {"_id": account_id, "status": "active"},
        {"$set": {"status": "needs_reconnect", "status_reason": reason, "updated_at": now}},
    )


async def store_refreshed_token(
    store: Store, account_id: str, ciphertext: str, issued_at: datetime, expires_at: datetime
) -> None:
    await store.accounts.update_one(
        {"_id": account_id, "status": "active"},
        {
            "$set": {
                "token.ciphertext": ciphertext,
                "token.issued_at": issued_at,
                "token.expires_at": expires_at,
                "token_checked_at": issued_at,
                "token_check_error": None,
                "updated_at": issued_at,
            }
        },
    )


async def record_token_check(store: Store, account_id: str, error: str | None) -> None:
    now = datetime.now(UTC)
    await store.accounts.update_one(
        {"_id": account_id},
        {"$set": {"token_checked_at": now, "token_check_error": error, "updated_at": now}},
    )


async def due_for_token_work(
    store: Store, *, now: datetime, refresh_window: timedelta, page_check_every: timedelta
) -> list[str]:
    """Ids of active accounts whose token should be refreshed (IG login, at least 24 h old and
    within the window of expiry) or checked (page tokens, not checked recently)."""
    ig = store.accounts.find(
        {
            "status": "active",
            "login": "instagram",
            "token.issued_at": {"$lte": now - timedelta(hours=24)},
            "token.expires_at": {"$lte": now + refresh_window},
        },
        {"_id": 1},
    )
    fb = store.accounts.find(
        {
            "status": "active",
            "login": "facebook",
            "$or": [
                {"token_checked_at": {"$exists": False}},
                {"token_checked_at": None},
                {"token_checked_at": {"$lte": now - page_check_every}},
            ],
        },
        {"_id": 1},
    )
    return [d["_id"] async for d in ig] + [d["_id"] async for d in fb]


async def rotate_token_encryption(store: Store, cipher: TokenCipher) -> tuple[int, int]:
    """Re-encrypt every stored token under the cipher's first key. Returns (done, failed);
    each document is rewritten only if its ciphertext did not change meanwhile."""
    done = failed = 0
    async for doc in store.accounts.find({"token.ciphertext": {"$exists": True}}, {"token.ciphertext": 1}):
        old = doc["token"]["ciphertext"]
        try:
            new = cipher.rotate(old)
        except TokenKeyError:
            failed += 1
            continue
        result = await store.accounts.update_one(
            {"_id": doc["_id"], "token.ciphertext": old}, {"$set": {"token.ciphertext": new}}
        )
        done += result.modified_count
    return done, failed
