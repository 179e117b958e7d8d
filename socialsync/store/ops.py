"""Read models of the ops console (``/ops``): the overview's aggregates, filtered pages of each
collection, and the audit log of operator actions (``ops_audit``).

Every figure on the overview is one aggregation or one indexed count over the stored documents;
nothing here queries once per row. The collections are the ones the service writes anyway
(accounts, sync_runs, publish_jobs, webhook_events, crm_events, crm_deliveries): the console
adds only its audit collection and a few indexes for time-window reads.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from socialsync.store import Store
from socialsync import clock

AUDIT = "ops_audit"
SYNC_RUNS = "sync_runs"
POSTS = "publish_jobs"
WEBHOOK_EVENTS = "webhook_events"
CRM_EVENTS = "crm_events"
CRM_DELIVERIES = "crm_deliveries"
ACTIVE_POST_STATES = ("scheduled", "creating", "processing", "ready", "publishing")
# How the overview orders post states: the ones needing a person first.
POST_STATE_ORDER = ("failed", "publishing", "processing", "creating", "ready", "scheduled", "published", "cancelled")
MAX_PAGE = 10_000


async def ensure_indexes(store: Store) -> None:
    await store[SYNC_RUNS].create_index([("created_at", -1)])
    await store[SYNC_RUNS].create_index([("status", 1), ("created_at", -1)])
    await store[POSTS].create_index([("state", 1), ("updated_at", -1)])
    await store[WEBHOOK_EVENTS].create_index([("received_at", -1)])
    await store[CRM_DELIVERIES].create_index([("at", -1)])
    await store[AUDIT].create_index([("at", -1)])
    await store[AUDIT].create_index([("subject", 1), ("at", -1)])
    await store.accounts.create_index([("platform", 1), ("status", 1)])


# --- overview ------------------------------------------------------------------------------------
@dataclass
class Overview:
    """What the overview page shows; every number comes straight from the stored documents."""

    accounts: dict[tuple[str, str], int]  # (platform, status) -> count
    sync_runs_24h: dict[str, int]  # status -> runs created in the last 24 h
    sync_calls_24h: int
    posts: dict[str, int]  # state -> count
    stuck_posts: list[dict[str, Any]]  # active, silent past the stuck threshold; oldest first
    failed_posts: list[dict[str, Any]]  # newest first
    webhooks: dict[str, Any]
    crm: dict[str, Any]
    generated_at: datetime = field(default_factory=lambda: clock.now())

    @property
    def platforms(self) -> list[str]:
        return sorted({p for p, _ in self.accounts})

    @property
    def account_statuses(self) -> list[str]:
        order = ["active", "needs_reconnect", "disconnected"]
        seen = {s for _, s in self.accounts}
        return [s for s in order if s in seen] + sorted(seen - set(order))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(type(value).__name__)


def _decode(obj: dict[str, Any]) -> Any:
    return datetime.fromisoformat(obj["$dt"]) if set(obj) == {"$dt"} else obj


def overview_to_json(o: Overview) -> str:
    """The overview as JSON (for a snapshot kept in Redis); `overview_from_json` reads it back."""
    data = {**o.__dict__, "accounts": [[p, s, n] for (p, s), n in o.accounts.items()]}
    return json.dumps(data, default=_encode)


def overview_from_json(raw: str | bytes) -> Overview:
    data = json.loads(raw, object_hook=_decode)
    data["accounts"] = {(p, s): n for p, s, n in data["accounts"]}
    return Overview(**data)


def _count_map(rows: list[dict[str, Any]]) -> dict[Any, int]:
    return {row["_id"]: int(row["n"]) for row in rows}


async def _aggregate(store: Store, collection: str, pipeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cursor = await store[collection].aggregate(pipeline)
    return [row async for row in cursor]


async def accounts_by_platform_status(store: Store) -> dict[tuple[str, str], int]:
    rows = await _aggregate(store, "accounts", [
        {"$group": {"_id": {"p": {"$ifNull": ["$platform", "unknown"]}, "s": "$status"}, "n": {"$sum": 1}}},
    ])
    return {(row["_id"]["p"], row["_id"].get("s") or "unknown"): int(row["n"]) for row in rows}


async def sync_runs_since(store: Store, since: datetime) -> tuple[dict[str, int], int]:
    """Runs created since ``since`` by status, and the API calls they spent."""
    rows = await _aggregate(store, SYNC_RUNS, [
        {"$match": {"created_at": {"$gte": since}}},
        {"$group": {"_id": "$status", "n": {"$sum": 1}, "calls": {"$sum": {"$ifNull": ["$api_calls", 0]}}}},
    ])
    return {row["_id"]: int(row["n"]) for row in rows}, int(sum(row["calls"] for row in rows))


async def posts_by_state(store: Store) -> dict[str, int]:
    rows = await _aggregate(store, POSTS, [{"$group": {"_id": "$state", "n": {"$sum": 1}}}])
    counts = _count_map(rows)
    return {s: counts.get(s, 0) for s in POST_STATE_ORDER if counts.get(s)} | {
        s: n for s, n in counts.items() if s not in POST_STATE_ORDER
    }


POST_SUMMARY = {"account_id": 1, "tenant_id": 1, "state": 1, "state_reason": 1, "error": 1,
                "updated_at": 1, "next_check_at": 1, "created_at": 1, "request.type": 1, "platform": 1}


async def stuck_posts(store: Store, *, before: datetime, limit: int = 10) -> list[dict[str, Any]]:
    """Active posts whose next check is overdue since ``before`` (the publish sweep's rule)."""
    cursor = store[POSTS].find(
        {"state": {"$in": list(ACTIVE_POST_STATES)}, "next_check_at": {"$lt": before}}, POST_SUMMARY
    ).sort("next_check_at", 1).limit(limit)
    return [d async for d in cursor]


async def recent_failed_posts(store: Store, *, limit: int = 10) -> list[dict[str, Any]]:
    cursor = store[POSTS].find({"state": "failed"}, POST_SUMMARY).sort("updated_at", -1).limit(limit)
    return [d async for d in cursor]


async def webhook_intake(store: Store, *, since: datetime, now: datetime) -> dict[str, Any]:
    """Deliveries received since ``since`` by status (and their rejected changes), the backlog
    (all pending) and the age of the oldest unprocessed one."""
    col = store[WEBHOOK_EVENTS]
    rows, backlog, failed, oldest = await asyncio.gather(
        _aggregate(store, WEBHOOK_EVENTS, [
            {"$match": {"received_at": {"$gte": since}}},
            {"$group": {"_id": "$status", "n": {"$sum": 1},
                        "rejected": {"$sum": {"$ifNull": ["$result.rejected", 0]}}}},
        ]),
        col.count_documents({"status": "pending"}),
        col.count_documents({"status": "failed"}),
        col.find_one({"status": "pending"}, {"received_at": 1}, sort=[("received_at", 1)]),
    )
    by_status = {row["_id"]: int(row["n"]) for row in rows}
    return {
        "received": sum(by_status.values()),
        "processed": by_status.get("processed", 0),
        "failed": by_status.get("failed", 0),
        "rejected_changes": int(sum(row["rejected"] for row in rows)),
        "backlog": backlog,
        "failed_total": failed,
        "oldest_pending_seconds": (now - oldest["received_at"]).total_seconds() if oldest else None,
    }


async def crm_health(store: Store, *, since: datetime, limit: int = 10) -> dict[str, Any]:
    """Outbox events by delivery status, and the endpoints whose deliveries failed since ``since``."""
    statuses, failing = await asyncio.gather(
        _aggregate(store, CRM_EVENTS, [{"$group": {"_id": "$delivery.status", "n": {"$sum": 1}}}]),
        _aggregate(store, CRM_DELIVERIES, [
            {"$match": {"at": {"$gte": since}}},
            {"$group": {"_id": {"tenant": "$tenant_id", "url": "$url"},
                        "attempts": {"$sum": 1},
                        "failures": {"$sum": {"$cond": [{"$ne": [{"$ifNull": ["$error", None]}, None]}, 1, 0]}},
                        "last_at": {"$max": "$at"}}},
            {"$match": {"failures": {"$gt": 0}}},
            {"$sort": {"failures": -1}},
            {"$limit": limit},
        ]),
    )
    return {
        "by_status": _count_map(statuses),
        "failing_endpoints": [
            {"tenant_id": r["_id"]["tenant"], "url": r["_id"]["url"], "attempts": int(r["attempts"]),
             "failures": int(r["failures"]), "last_at": r["last_at"]}
            for r in failing
        ],
    }


async def overview(store: Store, *, now: datetime, stuck_after: timedelta) -> Overview:
    """All of the overview's aggregates, run concurrently."""
    since = now - timedelta(hours=24)
    accounts, (runs, calls), posts, stuck, failed, hooks, crm = await asyncio.gather(
        accounts_by_platform_status(store),
        sync_runs_since(store, since),
        posts_by_state(store),
        stuck_posts(store, before=now - stuck_after),
        recent_failed_posts(store),
        webhook_intake(store, since=since, now=now),
        crm_health(store, since=since),
    )
    return Overview(accounts, runs, calls, posts, stuck, failed, hooks, crm, generated_at=now)


# --- paged lists ----------------------------------------------------------------------------------
@dataclass
class Page:
    rows: list[dict[str, Any]]
    page: int
    per_page: int
    has_next: bool


async def _page(
    store: Store, collection: str, query: dict[str, Any], sort: list[tuple[str, int]], *,
    page: int, per_page: int, projection: dict[str, Any] | None = None,
) -> Page:
    page = max(1, min(page, MAX_PAGE))
    cursor = store[collection].find(query, projection).sort(sort).skip((page - 1) * per_page).limit(per_page + 1)
    rows = [d async for d in cursor]
    return Page(rows[:per_page], page, per_page, len(rows) > per_page)


async def list_accounts(store: Store, filters: dict[str, str], *, page: int, per_page: int) -> Page:
    query = {k: v for k, v in filters.items() if k in ("tenant_id", "platform", "status") and v}
    return await _page(store, "accounts", query, [("_id", 1)], page=page, per_page=per_page,
                       projection={"token.ciphertext": 0, "credentials": 0})


async def account(store: Store, account_id: str) -> dict[str, Any] | None:
    """The account without its token ciphertext; ``token_expires_at`` lifted out of it."""
    doc = await store.accounts.find_one({"_id": account_id})
    if doc is None:
        return None
    doc.pop("credentials", None)  # never a token, not even encrypted, leaves for the console
    token = doc.pop("token", None) or {}
    doc["token_expires_at"] = token.get("expires_at")
    doc["token_kind"] = token.get("kind")
    doc["token_issued_at"] = token.get("issued_at")
    return doc


async def list_sync_runs(store: Store, filters: dict[str, str], *, page: int, per_page: int) -> Page:
    query = {k: v for k, v in filters.items() if k in ("account_id", "tenant_id", "status", "kind") and v}
    return await _page(store, SYNC_RUNS, query, [("_id", -1)], page=page, per_page=per_page,
                       projection={"checkpoint": 0})


async def sync_run(store: Store, run_id: str) -> dict[str, Any] | None:
    return await store[SYNC_RUNS].find_one({"_id": run_id}, {"checkpoint": 0})


async def list_posts(store: Store, filters: dict[str, str], *, page: int, per_page: int) -> Page:
    query: dict[str, Any] = {k: v for k, v in filters.items() if k in ("account_id", "tenant_id", "state") and v}
    return await _page(store, POSTS, query, [("_id", -1)], page=page, per_page=per_page)


async def post(store: Store, post_id: str) -> dict[str, Any] | None:
    return await store[POSTS].find_one({"_id": post_id})


async def list_webhook_events(store: Store, filters: dict[str, str], *, page: int, per_page: int) -> Page:
    query: dict[str, Any] = {}
    if filters.get("status"):
        query["status"] = filters["status"]
    if filters.get("account_id"):
        query["accounts"] = filters["account_id"]
    return await _page(store, WEBHOOK_EVENTS, query, [("received_at", -1), ("_id", -1)],
                       page=page, per_page=per_page, projection={"body": 0})


async def webhook_event(store: Store, event_id: str) -> dict[str, Any] | None:
    return await store[WEBHOOK_EVENTS].find_one({"_id": event_id})


async def list_crm_events(store: Store, filters: dict[str, str], *, page: int, per_page: int) -> Page:
    query: dict[str, Any] = {}
    if filters.get("status"):
        query["delivery.status"] = filters["status"]
    if filters.get("tenant_id"):
        query["tenant_id"] = filters["tenant_id"]
    if filters.get("type"):
        query["type"] = filters["type"]
    return await _page(store, CRM_EVENTS, query, [("created_at", -1), ("_id", -1)], page=page, per_page=per_page)


async def crm_event(store: Store, event_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The outbox event and its delivery attempts (newest first)."""
    event = await store[CRM_EVENTS].find_one({"_id": event_id})
    if event is None:
        return None, []
    attempts = store[CRM_DELIVERIES].find({"event_id": event_id}).sort("attempt", -1).limit(50)
    return event, [d async for d in attempts]


# --- the account page -----------------------------------------------------------------------------
async def metric_series(
    store: Store, account_id: str, metrics: tuple[str, ...], *, since: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Points of several metrics of one account since ``since``, in one query."""
    found = store["metrics"].find(
        {"account_id": account_id, "metric": {"$in": list(metrics)}, "ts": {"$gte": since}},
        {"metric": 1, "ts": 1, "value": 1},
    ).sort([("metric", 1), ("ts", 1)]).limit(20_000)
    out: dict[str, list[tuple[datetime, float]]] = {m: [] for m in metrics}
    async for d in found:
        out[d["metric"]].append((d["ts"], float(d["value"])))
    return out


async def recent_comments(store: Store, account_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
    cursor = store["comments"].find({"account_id": account_id}).sort("timestamp", -1).limit(limit)
    return [d async for d in cursor]


async def account_activity(store: Store, account_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The account's last sync runs and posts, newest first."""
    runs = store[SYNC_RUNS].find({"account_id": account_id}, {"checkpoint": 0}).sort("_id", -1).limit(10)
    posts = store[POSTS].find({"account_id": account_id}).sort("_id", -1).limit(10)
    return [d async for d in runs], [d async for d in posts]


# --- audit ------------------------------------------------------------------------------------------
async def audit(
    store: Store, *, who: str, action: str, subject: str, outcome: str, detail: str | None = None,
    session: str | None = None, remote: str | None = None,
) -> dict[str, Any]:
    """Record an operator action (who, what, when, and how it went)."""
    doc = {
        "_id": "aud_" + secrets.token_hex(8), "at": clock.now(), "who": who, "action": action,
        "subject": subject, "outcome": outcome, "detail": detail, "session": session, "remote": remote,
    }
    await store[AUDIT].insert_one(doc)
    return doc


async def audit_log(store: Store, *, subject: str | None = None, page: int = 1, per_page: int = 50) -> Page:
    query = {"subject": subject} if subject else {}
    return await _page(store, AUDIT, query, [("at", -1), ("_id", -1)], page=page, per_page=per_page)
