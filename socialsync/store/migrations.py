"""Start-up migrations of stored documents: idempotent, safe from many replicas at once.

Each step has a name recorded in ``migrations`` once done, so a start-up after it costs one
read. A step only fills what is missing (``$exists: false`` filters), so running it twice, or
from two replicas at the same time, changes nothing twice.

``platform_fields`` (issue 8): documents written before several platforms existed all belong to
Instagram: every account-scoped document gets ``platform: "instagram"``, every stored webhook
delivery ``source: "meta"`` and ``rejected: []``, and every active account a ``next_check_at``
(now: the token keeper looks at it on its next tick and decides when to look again).

``post_steps`` (issue 8): every platform's posts run on one machine (socialsync/publishing/
plugin_run.py), which keeps the platform's progress in ``step`` + ``platform_fields``. Posts of
the release before it (Instagram's own run) kept their container fields at the top level and
their step in ``state``: those fields move into ``platform_fields`` and ``step`` is derived from
the state (a post ``publishing`` had made its publish call: its step is ``reconcile``, which
reads the container back before anything else).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import OperationFailure

from socialsync.platforms.instagram import legacy
from socialsync.store import Store
from socialsync import clock

MIGRATIONS = "migrations"
LEGACY_PLATFORM = "instagram"
LEGACY_SOURCE = "meta"
# The Instagram-only release's post shape (its names live with the Instagram plugin).
LEGACY_POST_ACCOUNT_FIELD = legacy.POST_ACCOUNT_FIELD
LEGACY_POST_FIELDS = legacy.POST_FIELDS
LEGACY_POST_STEPS = legacy.POST_STEPS
def platform_of(doc: Mapping[str, Any]) -> str:
    """The platform of a stored document. Every one carries ``platform`` once ``platform_fields``
    has run (at start-up, ``open_store``); one without it is the previous release's: Instagram's.
    The one place the core names that default."""
    return str(doc.get("platform") or LEGACY_PLATFORM)


def legacy_step(state: str) -> str:
    """The platform step of a post stored without one (its core state names it)."""
    return LEGACY_POST_STEPS.get(state, state)


PLATFORM_SCOPED = ("accounts", "media", "comments", "mentions", "metrics", "audience", "sync_runs",
                   "publish_jobs", "comment_actions")


async def _platform_fields(store: Store, now: datetime) -> dict[str, int]:
    changed: dict[str, int] = {}
    for name in PLATFORM_SCOPED:
        result = await store[name].update_many({"platform": {"$exists": False}}, {"$set": {"platform": LEGACY_PLATFORM}})
        changed[name] = result.modified_count
    events = store["webhook_events"]
    changed["webhook_events"] = (await events.update_many(
        {"source": {"$exists": False}}, {"$set": {"source": LEGACY_SOURCE}})).modified_count
    await events.update_many({"rejected": {"$exists": False}}, {"$set": {"rejected": []}})
    changed["accounts.next_check_at"] = (await store.accounts.update_many(
        {"status": "active", "next_check_at": {"$exists": False}}, {"$set": {"next_check_at": now}})).modified_count
    return changed


async def _post_external_id(store: Store, now: datetime) -> dict[str, int]:
    """Posts name their platform account ``external_id`` (Instagram's own name before the core)."""
    posts, legacy = store["publish_jobs"], LEGACY_POST_ACCOUNT_FIELD
    updates = [UpdateOne({"_id": d["_id"]}, {"$set": {"external_id": d[legacy]}, "$unset": {legacy: ""}})
               async for d in posts.find({legacy: {"$exists": True}}, {legacy: 1})]
    for i in range(0, len(updates), 500):
        await posts.bulk_write(updates[i:i + 500], ordered=False)
    try:
        await posts.drop_index(f"{legacy}_1_published_at_1")
    except OperationFailure:
        pass  # never created, or already gone
    return {"publish_jobs.external_id": len(updates)}


def legacy_post_update(doc: dict) -> dict:
    """The update that gives a previous-release post the shape of today's run."""
    moved = {f"platform_fields.{name}": doc[name] for name in LEGACY_POST_FIELDS if name in doc}
    state = doc.get("state") or "scheduled"
    update: dict = {"$set": {**moved, "step": legacy_step(state), "step_in_flight": False}}
    if not moved and not doc.get("platform_fields"):
        update["$set"]["platform_fields"] = {}
    unset = {name: "" for name in LEGACY_POST_FIELDS if name in doc}
    if unset:
        update["$unset"] = unset
    return update


async def _post_steps(store: Store, now: datetime) -> dict[str, int]:
    posts = store["publish_jobs"]
    projection = {"state": 1, "platform_fields": 1, **{name: 1 for name in LEGACY_POST_FIELDS}}
    updates = [UpdateOne({"_id": d["_id"], "step": {"$exists": False}}, legacy_post_update(d))
               async for d in posts.find({"step": {"$exists": False}}, projection)]
    for i in range(0, len(updates), 500):
        await posts.bulk_write(updates[i:i + 500], ordered=False)
    return {"publish_jobs.step": len(updates)}


STEPS = (("platform_fields", _platform_fields), ("post_external_id", _post_external_id),
         ("post_steps", _post_steps))


async def migrate(store: Store, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Run the steps not yet recorded; returns what each step changed."""
    now = now or clock.now()
    done = {d["_id"] async for d in store[MIGRATIONS].find({}, {"_id": 1})}
    report: dict[str, dict[str, int]] = {}
    for name, step in STEPS:
        if name in done:
            continue
        report[name] = await step(store, now)
        await store[MIGRATIONS].update_one({"_id": name}, {"$setOnInsert": {"done_at": now}}, upsert=True)
    return report
