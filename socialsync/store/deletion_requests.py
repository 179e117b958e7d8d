"""Meta data-deletion requests: the confirmation code Meta shows the person, and its status."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel

from socialsync.store import Store
from socialsync import clock

COLLECTION = "deletion_requests"
Status = Literal["pending", "completed"]


class DeletionStatus(BaseModel):
    confirmation_code: str
    status: Status
    requested_at: datetime
    completed_at: datetime | None = None


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index("platform_user_id")


async def create(store: Store, platform_user_id: str) -> str:
    code = "del_" + secrets.token_hex(12)
    await store[COLLECTION].insert_one(
        {
            "_id": code,
            "platform_user_id": platform_user_id,
            "status": "pending",
            "requested_at": clock.now(),
        }
    )
    return code


async def get(store: Store, code: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": code})


async def complete(store: Store, code: str, erased: dict[str, int]) -> None:
    await store[COLLECTION].update_one(
        {"_id": code},
        {"$set": {"status": "completed", "completed_at": clock.now(), "erased": erased}},
    )
