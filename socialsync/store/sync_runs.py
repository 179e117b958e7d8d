"""Sync runs: one document per run, and the one-run-per-account rule.

The account document holds ``sync_active_run`` (the run in progress). Starting a run is a
compare-and-set on it, so two requests (two web replicas, cron and the CRM) end up with one run:
the loser joins the winner's. The run document carries the checkpoint a resumed job continues
from, and the record the CRM reads: kind, status, items, calls, rate-limit waits, errors.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from socialsync.store import Store
from socialsync.store.migrations import platform_of
from socialsync import clock

COLLECTION = "sync_runs"
SyncKind = Literal["full", "recent", "media", "insights", "audience", "stories"]
RunStatus = Literal["queued", "running", "success", "partial", "failed", "skipped"]
MAX_ERRORS = 50


async def ensure_indexes(store: Store) -> None:
    await store[COLLECTION].create_index([("account_id", 1), ("created_at", -1)])
    await store[COLLECTION].create_index([("tenant_id", 1), ("created_at", -1)])


def new_run_id() -> str:
    """Time-ordered (milliseconds, hex) so ids sort by creation: the stable paging cursor."""
    return f"run_{int(time.time() * 1000):012x}{secrets.token_hex(4)}"


async def start_or_join(
    store: Store, account: dict[str, Any], kind: str, trigger: str
) -> tuple[dict[str, Any], bool]:
    """The account's running run (joined), or a new one. Returns (run, created)."""
    run_id = new_run_id()
    now = clock.now()
    claimed = await store.accounts.update_one(
        {"_id": account["_id"], "$or": [{"sync_active_run": None}, {"sync_active_run": {"$exists": False}}]},
        {"$set": {"sync_active_run": run_id}},
    )
    created = claimed.modified_count == 1
    if not created:
        current = await store.accounts.find_one({"_id": account["_id"]}, {"sync_active_run": 1})
        run_id = (current or {}).get("sync_active_run") or run_id
    # Upsert either way: a crash between the claim and this write leaves nothing half-made.
    await store[COLLECTION].update_one(
        {"_id": run_id},
        {"$setOnInsert": {
            "account_id": account["_id"], "tenant_id": account["tenant_id"], "kind": kind,
            "platform": platform_of(account),
            "trigger": trigger, "status": "queued", "created_at": now, "started_at": None,
            "finished_at": None, "items": {}, "api_calls": 0, "rate_limit_wait_seconds": 0.0,
            "deferrals": 0, "errors": [], "checkpoint": {}, "stages_done": [],
        }},
        upsert=True,
    )
    run = await store[COLLECTION].find_one({"_id": run_id})
    assert run is not None
    return run, created


async def get(store: Store, run_id: str) -> dict[str, Any] | None:
    return await store[COLLECTION].find_one({"_id": run_id})


async def update(store: Store, run_id: str, *, set_: dict[str, Any] | None = None, inc: dict[str, Any] | None = None) -> None:
    ops: dict[str, Any] = {}
    if set_:
        ops["$set"] = set_
    if inc:
        ops["$inc"] = inc
    if ops:
        await store[COLLECTION].update_one({"_id": run_id}, ops)


async def count_transient_attempt(store: Store, run_id: str) -> int:
    """Count one more transient failure of the run; returns how many there were."""
    fresh = await store[COLLECTION].find_one_and_update(
        {"_id": run_id}, {"$inc": {"transient_attempts": 1}}, return_document=True
    )
    return int((fresh or {}).get("transient_attempts", 1))


async def add_error(store: Store, run_id: str, error: dict[str, Any]) -> None:
    await store[COLLECTION].update_one(
        {"_id": run_id}, {"$push": {"errors": {"$each": [error], "$slice": MAX_ERRORS}}}
    )


async def finish(store: Store, run: dict[str, Any], status: str, *, reason: str | None = None) -> None:
    """Close the run and free the account for the next one (only if it is still ours)."""
    now = clock.now()
    await store[COLLECTION].update_one(
        {"_id": run["_id"]}, {"$set": {"status": status, "finished_at": now, "reason": reason}}
    )
    summary = {"run_id": run["_id"], "kind": run["kind"], "status": status, "reason": reason, "finished_at": now}
    await store.accounts.update_one(
        {"_id": run["account_id"], "sync_active_run": run["_id"]},
        {"$set": {"sync_active_run": None, "last_sync": summary, f"last_sync_by_kind.{run['kind']}": summary}},
    )


async def record_skip(store: Store, account: dict[str, Any], kind: str, trigger: str, reason: str) -> dict[str, Any]:
    """An account that cannot sync (needs reconnect, disconnected) says so in a run of its own."""
    now = clock.now()
    run = {
        "_id": new_run_id(), "account_id": account["_id"], "tenant_id": account["tenant_id"], "kind": kind,
        "platform": platform_of(account),
        "trigger": trigger, "status": "skipped", "reason": reason, "created_at": now, "started_at": None,
        "finished_at": now, "items": {}, "api_calls": 0, "rate_limit_wait_seconds": 0.0, "deferrals": 0,
        "errors": [], "checkpoint": {}, "stages_done": [],
    }
    await store[COLLECTION].insert_one(run)
    summary = {"run_id": run["_id"], "kind": kind, "status": "skipped", "reason": reason, "finished_at": now}
    await store.accounts.update_one({"_id": account["_id"]}, {"$set": {"last_sync": summary}})
    return run


async def list_for_account(
    store: Store, tenant_id: str, account_id: str, *, limit: int, after: str | None
) -> list[dict[str, Any]]:
    """Newest first; cursor = the last run id of the previous page (ids sort with creation)."""
    query: dict[str, Any] = {"tenant_id": tenant_id, "account_id": account_id}
    if after:
        query["_id"] = {"$lt": after}
    cursor = store[COLLECTION].find(query, {"checkpoint": 0}).sort("_id", -1).limit(limit)
    return [d async for d in cursor]


class SyncRunOut(BaseModel):
    id: str
    account_id: str
    kind: str
    trigger: str | None = None
    status: str
    reason: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    items: dict[str, int] = Field(default_factory=dict)
    api_calls: int = 0
    rate_limit_wait_seconds: float = 0.0
    deferrals: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> "SyncRunOut":
        return cls(id=doc["_id"], **{k: v for k, v in doc.items() if k in cls.model_fields and k != "id"})
