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
from socialsync.platforms.records import NewAccount
from socialsync.store import Store
from socialsync import clock

AccountStatus = Literal["active", "needs_reconnect", "disconnected"]


class StoredToken(BaseModel):
    """Encrypted credentials with their lifetimes (socialsync/credentials.py reads them).
    ``expires_at`` None: never expires (a Facebook page token). ``refresh_ciphertext``: the
    refresh token, for platforms that have one (TikTok rotates it, Google does not re-send it)."""

    ciphertext: str
    kind: str
    issued_at: datetime
    expires_at: datetime | None = None
    refresh_ciphertext: str | None = None
    refresh_expires_at: datetime | None = None


class ConnectedAccount(BaseModel):
    """A connected account in the stored shape (seeds: benches, scale tests). Connect flows hand
    the store a platform's `NewAccount` instead (``upsert_new``)."""

    tenant_id: str
    platform: str
    login: str
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
    next_check_at: datetime | None = Field(
        default=None, description="When the token keeper looks at the credentials (None: at once)."
    )


class AccountOut(BaseModel):
    """An account as the CRM sees it: never a token."""

    id: str
    platform: str
    login: str
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
        default=None, description="The platform's webhook subscription of the account (the plugin's `subscriptions`): "
        "status, fields, error, at."
    )
    sync: dict[str, Any] | None = Field(
        default=None,
        description="Per sync kind (full, recent, media, insights, audience, stories): last_sync_at, "
        "last_status, last_run_id, next_sync_at (socialsync/sync/freshness.py).",
    )

    @classmethod
    def from_doc(cls, doc: dict[str, Any], sync: dict[str, Any] | None = None) -> "AccountOut":
        """``sync``: the freshness block (socialsync/sync/freshness.py), when the caller has it."""
        token = doc.get("token") or {}
        return cls(
            id=doc["_id"],
            token_expires_at=token.get("expires_at"),
            sync=sync,
            **{k: v for k, v in doc.items() if k in cls.model_fields and k not in ("id", "sync")},
        )


async def ensure_indexes(store: Store) -> None:
    await store.accounts.create_index(
        [("tenant_id", 1), ("platform", 1), ("external_id", 1)], unique=True
    )
    await store.accounts.create_index([("tenant_id", 1), ("connected_at", -1)])
    await store.accounts.create_index([("status", 1), ("login", 1), ("token.expires_at", 1)])
    await store.accounts.create_index([("status", 1), ("next_check_at", 1)])
    await store.accounts.create_index([("platform", 1), ("external_id", 1)])


async def upsert_connected(store: Store, acc: ConnectedAccount) -> str:
    """Insert the account, or reactivate the tenant's existing record of the same platform
    account (history kept). Returns the account id. A single atomic upsert: no half state."""
    fields = acc.model_dump(exclude={"tenant_id", "platform", "external_id"})
    fields["next_check_at"] = acc.next_check_at or clock.now()
    return await _upsert(store, acc.tenant_id, acc.platform, acc.external_id, fields)


async def upsert_new(
    store: Store, cipher: TokenCipher, *, tenant_id: str, platform: str, new: NewAccount,
    user_ref: str | None, next_check_at: datetime,
) -> str:
    """Store what a platform's connect produced (`NewAccount`: tokens encrypted here), the same
    way: insert, or reactivate the tenant's record of that platform account. ``new.top_fields``
    are written at the top level of the document (Instagram's ``page_id``/``page_name``)."""
    creds = new.credentials
    token = StoredToken(
        ciphertext=cipher.encrypt(creds.access_token), kind=creds.kind,
        issued_at=creds.issued_at or clock.now(), expires_at=creds.access_expires_at,
        refresh_ciphertext=cipher.encrypt(creds.refresh_token) if creds.refresh_token else None,
        refresh_expires_at=creds.refresh_expires_at,
    )
    fields: dict[str, Any] = {
        **dict(new.top_fields),
        "login": new.login, "username": new.username, "name": new.name,
        "account_type": new.account_type, "profile_picture_url": new.profile_picture_url,
        "profile": dict(new.profile), "scopes": list(new.scopes), "user_ref": user_ref,
        "platform_user_id": new.platform_user_id, "extra": dict(new.extra),
        "token": token.model_dump(), "next_check_at": next_check_at,
    }
    return await _upsert(store, tenant_id, platform, new.external_id, fields)


async def _upsert(store: Store, tenant_id: str, platform: str, external_id: str, fields: dict[str, Any]) -> str:
    now = clock.now()
    doc = await store.accounts.find_one_and_update(
        {"tenant_id": tenant_id, "platform": platform, "external_id": external_id},
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


async def owners_of(store: Store, platform: str, external_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Accounts (any tenant, not disconnected) that own each platform account id."""
    found = store.accounts.find(
        {"platform": platform, "external_id": {"$in": external_ids}, "status": {"$ne": "disconnected"}},
        {"_id": 1, "tenant_id": 1, "external_id": 1, "login": 1, "platform": 1},
    )
    owners: dict[str, list[dict[str, Any]]] = {}
    async for acc in found:
        owners.setdefault(acc["external_id"], []).append(acc)
    return owners


def schedulable(store: Store, platforms: list[str]) -> Any:
    """Active accounts of these platforms, with what the sync scheduler reads (an async cursor)."""
    return store.accounts.find(
        {"status": "active", "platform": {"$in": platforms}},
        {"_id": 1, "tenant_id": 1, "platform": 1, "sync_schedule": 1, "sync_active_run": 1},
    )


async def set_schedule_marks(store: Store, account_id: str, marks: dict[str, int]) -> None:
    await store.accounts.update_one({"_id": account_id}, {"$set": {f"sync_schedule.{k}": v for k, v in marks.items()}})


async def get_for_tenant(store: Store, tenant_id: str, account_id: str) -> dict[str, Any] | None:
    return await store.accounts.find_one({"_id": account_id, "tenant_id": tenant_id})


async def active_for_tenant(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    return [a async for a in store.accounts.find({"tenant_id": tenant_id, "status": "active"}).sort("_id", 1)]


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
    """Mark disconnected and drop the token in one write; history stays. None when there is no
    such account or it is already disconnected (nothing is written then)."""
    now = clock.now()
    return await store.accounts.find_one_and_update(
        {"_id": account_id, "tenant_id": tenant_id, "status": {"$ne": "disconnected"}},
        {
            "$set": {
                "status": "disconnected",
                "status_reason": "disconnected by the CRM",
                "disconnected_at": now,
                "updated_at": now,
            },
            "$unset": {"token": "", "refresh": ""},
        },
        return_document=ReturnDocument.AFTER,
    )


async def disconnect_platform_user(store: Store, platform_user_id: str, reason: str) -> list[str]:
    """Disconnect every connected account of one platform user, in any tenant (a platform's
    deauthorize callback), dropping the tokens; returns the ids this call disconnected."""
    found = store.accounts.find({"platform_user_id": platform_user_id, "status": {"$ne": "disconnected"}}, {"_id": 1})
    done: list[str] = []
    for account_id in [a["_id"] async for a in found]:
        now = clock.now()
        doc = await store.accounts.find_one_and_update(
            {"_id": account_id, "status": {"$ne": "disconnected"}},
            {"$set": {"status": "disconnected", "status_reason": reason, "disconnected_at": now, "updated_at": now},
             "$unset": {"token": "", "refresh": ""}},
            return_document=ReturnDocument.AFTER, projection={"_id": 1},
        )
        if doc is not None:
            done.append(account_id)
    return done


async def count_active(store: Store, platform: str) -> int:
    """Connected, working accounts of one platform (they share its daily budget)."""
    return await store.accounts.count_documents({"platform": platform, "status": "active"})


async def active_ids(store: Store, platforms: list[str]) -> list[str]:
    """Ids of the active accounts of these platforms (the comment backfill cron)."""
    found = store.accounts.find({"status": "active", "platform": {"$in": platforms}}, {"_id": 1})
    return [d["_id"] async for d in found]


async def ids_of(store: Store, tenant_id: str, platform: str) -> list[str]:
    """The ids of a tenant's accounts of one platform, whatever their status."""
    return [d["_id"] async for d in store.accounts.find({"tenant_id": tenant_id, "platform": platform}, {"_id": 1})]


async def get_public(store: Store, account_id: str) -> dict[str, Any] | None:
    """The account without its (encrypted) credentials, for pages and logs."""
    return await store.accounts.find_one({"_id": account_id}, {"token": 0, "refresh": 0})


async def status_of(store: Store, account_id: str) -> str | None:
    doc = await store.accounts.find_one({"_id": account_id}, {"status": 1})
    return None if doc is None else doc.get("status")


async def set_webhook_subscription(store: Store, account_id: str, state: dict[str, Any]) -> None:
    """The account's platform webhook subscription as last seen (``at`` = when)."""
    await store.accounts.update_one(
        {"_id": account_id}, {"$set": {"webhook_subscription": {**state, "at": clock.now()}}}
    )


async def mark_needs_reconnect(store: Store, account_id: str, reason: str) -> None:
    now = clock.now()
    await store.accounts.update_one(
        {"_id": account_id, "status": "active"},
        {"$set": {"status": "needs_reconnect", "status_reason": reason, "updated_at": now}},
    )


async def store_refreshed_credentials(
    store: Store, account_id: str, *, ciphertext: str, issued_at: datetime, expires_at: datetime | None,
    refresh_ciphertext: str | None, refresh_expires_at: datetime | None, next_check_at: datetime,
    used_ciphertext: str | None = None, scopes: list[str] | None = None,
) -> bool:
    """Store a refreshed pair before anything else can use the old one. A refresh token not
    re-sent (None) keeps the stored one: never overwritten with nothing. ``used_ciphertext``:
    only if the access token is still the one the refresh started from; ``scopes``: the granted
    scopes when the platform re-states them. True when written."""
    set_: dict[str, Any] = {
        "token.ciphertext": ciphertext, "token.issued_at": issued_at, "token.expires_at": expires_at,
        "token_checked_at": issued_at, "token_check_error": None, "next_check_at": next_check_at,
        "updated_at": issued_at,
    }
    if refresh_ciphertext:
        set_["token.refresh_ciphertext"] = refresh_ciphertext
        set_["token.refresh_expires_at"] = refresh_expires_at
    if scopes:
        set_["scopes"] = scopes
    query: dict[str, Any] = {"_id": account_id, "status": "active"}
    if used_ciphertext is not None:
        query["token.ciphertext"] = used_ciphertext
    result = await store.accounts.update_one(query, {"$set": set_})
    return result.modified_count == 1


async def record_token_check(
    store: Store, account_id: str, error: str | None, *, next_check_at: datetime | None = None
) -> None:
    now = clock.now()
    set_: dict[str, Any] = {"token_checked_at": now, "token_check_error": error, "updated_at": now}
    if next_check_at is not None:
        set_["next_check_at"] = next_check_at
    await store.accounts.update_one({"_id": account_id}, {"$set": set_})


async def due_for_token_work(store: Store, *, now: datetime, limit: int = 5000) -> list[str]:
    """Ids of active accounts whose credentials the platform wants looked at (``next_check_at``
    passed; the platform decides then whether to refresh, check or wait)."""
    found = store.accounts.find(
        {"status": "active", "next_check_at": {"$lte": now}}, {"_id": 1}
    ).sort("next_check_at", 1).limit(limit)
    return [d["_id"] async for d in found]


async def rotate_token_encryption(store: Store, cipher: TokenCipher) -> tuple[int, int]:
    """Re-encrypt every stored token under the cipher's first key. Returns (done, failed);
    each document is rewritten only if its ciphertext did not change meanwhile."""
    done = failed = 0
    async for doc in store.accounts.find(
        {"token.ciphertext": {"$exists": True}}, {"token.ciphertext": 1, "token.refresh_ciphertext": 1}
    ):
        old = doc["token"]["ciphertext"]
        old_refresh = doc["token"].get("refresh_ciphertext")
        try:
            set_ = {"token.ciphertext": cipher.rotate(old)}
            if old_refresh:
                set_["token.refresh_ciphertext"] = cipher.rotate(old_refresh)
        except TokenKeyError:
            failed += 1
            continue
        result = await store.accounts.update_one(
            {"_id": doc["_id"], "token.ciphertext": old, "token.refresh_ciphertext": old_refresh},
            {"$set": set_},
        )
        done += result.modified_count
    return done, failed
