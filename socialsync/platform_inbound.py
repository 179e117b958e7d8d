"""Webhook deliveries of interface platforms (TikTok…): stored raw, then processed change by change.

The receiver verifies the signature on the raw bytes, stores the delivery in ``webhook_events``
(``source`` set, status ``queued``: a status the Meta drain never reads) and only then answers
200; a duplicate delivery (same bytes) is absorbed by the event id. The job normalizes it with the
platform's ``inbound`` and applies each change alone, recording rejected ones with their reason:

- ``deauthorized`` (TikTok ``authorization.removed``): every tenant's record of that account
  becomes ``needs_reconnect`` with the reason (the CRM gets ``account.needs_reconnect``); its
  jobs stop because they only run for active accounts;
- ``publish_status`` (``post.publish.*``): the post with that publish id, if it is waiting on
  TikTok's processing, polls its status now instead of at its next deferred time.
A sweeper re-enqueues deliveries still ``queued`` after a minute (a lost enqueue).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from socialsync import lifecycle
from socialsync.platforms.base import Change, RejectedChange
from socialsync.plugins import plugin_for
from socialsync.store import platform_accounts
from socialsync.store.webhook_events import COLLECTION, event_id
from socialsync import clock

QUEUED, PROCESSED = "queued", "processed"


async def record(services: Any, source: str, body: bytes, ttl: timedelta) -> tuple[str, bool]:
    """Store durably; (event id, needs processing). Raises PyMongoError when it cannot store."""
    eid = f"{source}:{event_id(body)}"
    now = clock.now()
    before = await services.store[COLLECTION].find_one_and_update(
        {"_id": eid},
        {"$setOnInsert": {"body": body.decode("utf-8", "replace"), "source": source, "status": QUEUED,
                          "received_at": now, "expires_at": now + ttl, "accounts": [], "fields": {}},
         "$inc": {"deliveries": 1}},
        upsert=True, projection={"status": 1},
    )
    return eid, before is None or before.get("status") != PROCESSED


async def _apply(services: Any, platform: str, change: Change) -> dict[str, Any]:
    accounts = await platform_accounts.find_by_external_id(services.store, platform, change.account_key)
    if change.kind == "deauthorized":
        reason = f"The creator removed the app's access ({change.data.get('reason')}); reconnect the account."
        for account in accounts:
            await lifecycle.account_needs_reconnect(services, account["_id"], reason)
        return {"applied": "needs_reconnect", "accounts": [a["_id"] for a in accounts]}
    if change.kind == "publish_status":
        from socialsync.publishing.plugin_run import nudge  # noqa: PLC0415 - publishing imports the store

        posts = await nudge(services, platform, str(change.data.get("publish_id")))
        return {"applied": "publish_status", "posts": posts}
    if change.kind == "media":
        return await _media_changed(services, platform, accounts, change)
    return {"applied": "ignored", "event": change.field}


async def _media_changed(services: Any, platform: str, accounts: list[dict[str, Any]], change: Change) -> dict[str, Any]:
    """A push that an account's media changed (YouTube's WebSub: a new or edited upload, or a
    tombstone). The push is only a trigger: a deleted item is marked at once, then the
    platform's ``push`` sync kind (incremental, a few units) re-reads the truth."""
    from socialsync.store import media as media_store  # noqa: PLC0415
    from worker.jobs.platforms import request_sync  # noqa: PLC0415 - the jobs import this module

    plugin = plugin_for(services, platform)
    kind = "push" if "push" in plugin.spec.sync_kinds else "recent"
    media_id, now = str(change.data.get("media_id") or ""), clock.now()
    runs = []
    for account in accounts:
        if account.get("status") != "active":
            continue
        if change.data.get("deleted") and media_id:
            await services.store[media_store.COLLECTION].update_one(
                {"_id": media_store.doc_id(account["_id"], media_id)},
                {"$set": {"deleted": True, "deleted_at": now, "updated_at": now}})
        run, _created = await request_sync(services, account, kind, "webhook")
        runs.append(run["_id"])
    return {"applied": "sync", "media_id": media_id, "deleted": bool(change.data.get("deleted")), "runs": runs}


async def process_event(services: Any, eid: str) -> str:
    doc = await services.store[COLLECTION].find_one({"_id": eid})
    if doc is None or doc.get("status") == PROCESSED:
        return "done"
    plugin = plugin_for(services, doc["source"])
    assert plugin.inbound is not None
    results: list[dict[str, Any]] = []
    for item in plugin.inbound.normalize(doc["body"].encode("utf-8")):
        if isinstance(item, RejectedChange):
            results.append({"rejected": item.reason, "field": item.field})
            continue
        try:
            results.append(await _apply(services, plugin.spec.name, item))
        except Exception as exc:  # noqa: BLE001 - one bad change never takes the others with it
            results.append({"rejected": f"{type(exc).__name__} while applying", "field": item.field})
    await services.store[COLLECTION].update_one(
        {"_id": eid}, {"$set": {"status": PROCESSED, "processed_at": clock.now(), "results": results}})
    return "processed"


async def stale_queued(services: Any, older_than: timedelta, limit: int = 500) -> list[str]:
    cutoff = clock.now() - older_than
    cursor = services.store[COLLECTION].find(
        {"status": QUEUED, "source": {"$exists": True}, "received_at": {"$lte": cutoff}}, {"_id": 1}).limit(limit)
    return [d["_id"] async for d in cursor]
