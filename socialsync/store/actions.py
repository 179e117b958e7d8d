"""Moderation actions the CRM asked for (reply, hide, delete): the request, then its outcome.

The route writes the action (``pending``) and enqueues it; the worker performs it through the
API and records ``succeeded`` or ``failed`` with a specific error code. ``attempted_at`` is set
before the platform call, so a re-run after a crash knows the call may already have happened.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from socialsync.store import Store
from socialsync import clock

COLLECTION = "comment_actions"
ActionKind = Literal["reply", "hide", "delete"]
ActionStatus = Literal["pending", "succeeded", "failed"]


class ActionError(BaseModel):
    code: str
    message: str


class ActionOut(BaseModel):
    id: str
    kind: ActionKind
    status: ActionStatus
    account_id: str
    comment_id: str
    params: dict[str, Any]
    result: dict[str, Any] | None = None
    error: ActionError | None = None
    attempts: int = 0
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "ActionOut":
        return cls(id=doc["_id"], **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"})


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("tenant_id", 1), ("created_at", -1)])
    await store[COLLECTION].create_index("account_id")


async def create(
    store: Store, *, tenant_id: str, account_id: str, comment_id: str, kind: ActionKind,
    params: dict[str, Any], platform: str,
) -> dict[str, Any]:
    now = clock.now()
    doc = {
        "_id": "act_" + secrets.token_hex(10),
        "tenant_id": tenant_id,
        "platform": platform,
        "account_id": account_id,
        "comment_id": comment_id,
        "kind": kind,
        "params": params,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
    await store[COLLECTION].insert_one(doc)
    return doc


async def get(store: Store, action_id: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": action_id})


async def get_for_tenant(store: Store, tenant_id: str, action_id: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": action_id, "tenant_id": tenant_id})


async def mark_attempt(store: Store, action_id: str) -> None:
    now = clock.now()
    await store[COLLECTION].update_one(
        {"_id": action_id, "status": "pending"},
        {"$inc": {"attempts": 1}, "$set": {"attempted_at": now, "updated_at": now}},
    )


async def finish(
    store: Store, action_id: str, *, result: dict[str, Any] | None = None,
    error: ActionError | None = None,
) -> None:
    await store[COLLECTION].update_one(
        {"_id": action_id, "status": "pending"},
        {
            "$set": {
                "status": "failed" if error else "succeeded",
                "result": result,
                "error": error.model_dump() if error else None,
                "updated_at": clock.now(),
            }
        },
    )
