"""The sync driver for interface platforms: walk a kind's stages, store each batch, then its
checkpoint (the run's progress, on the run) and the stage's cross-run ``state`` (on the account:
a platform's incremental high-water mark lives there), and record the run (``sync_runs``) with items and API calls.

Records → storage: `ProfileRecord` merged into the account's profile; `MetricPoint` → ``metrics``
(one point per metric and time); `MediaRecord` → ``media`` upserted by (account, platform id);
`ItemProblem` → the run's errors. ``counts``-style stages get the ids of stored media inside the
look-back in their checkpoint (``video_ids``). Errors: `RateLimited` ends the job deferred (the
run stays open and resumes from its checkpoints); ``token_invalid`` refreshes once, then the
account needs reconnect; ``permission`` is recorded and the run goes on.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne

from socialsync import lifecycle
from socialsync.platform_tokens import fresh_ref, refresh_account
from socialsync.platforms.base import (
    AudienceRecord, CommentRecord, ErrorKind, ItemProblem, MediaRecord, MetricPoint, PlatformError, ProfileRecord, SyncBatch,
)
from socialsync.plugins import plugin_for
from socialsync.store import accounts as account_store
from socialsync.store import media as media_store
from socialsync.store import metrics as metrics_store
from socialsync.store import platform_accounts as pstore
from socialsync.store import sync_records, sync_runs
from socialsync import clock


def _media_update(account: dict[str, Any], run_id: str, record: MediaRecord, now: datetime) -> UpdateOne:
    set_: dict[str, Any] = {
        **dict(record.fields), "account_id": account["_id"], "tenant_id": account["tenant_id"],
        "platform": account["platform"], "external_id": record.platform_id,
        "deleted": bool(record.fields.get("deleted", False)),  # a platform may report it gone
        "last_seen_run": run_id, "updated_at": now,
    }
    if record.insights:
        set_.update({f"insights.{k}": v for k, v in record.insights.items()})
        set_.update(insights_status="ok", insights_updated_at=now)
        followers = (account.get("profile") or {}).get("followers_count")
        set_["engagement_rate"] = media_store.engagement_rate(
            record.fields.get("like_count"), record.fields.get("comments_count"),
            {"shares": record.insights.get("shares")}, followers)
    return UpdateOne({"_id": media_store.doc_id(account["_id"], record.platform_id)},
                     {"$set": set_, "$setOnInsert": {"first_seen_at": now, "first_seen_run": run_id}}, upsert=True)


async def _store_batch(services: Any, account: dict[str, Any], run: dict[str, Any], batch: SyncBatch) -> dict[str, int]:
    now = clock.now()
    media, points, counts = [], [], {"media": 0, "metrics": 0}
    shared: list[CommentRecord | AudienceRecord] = []
    for record in batch.records:
        if isinstance(record, ProfileRecord):
            await pstore.merge_profile(services.store, account["_id"], dict(record.fields))
        elif isinstance(record, MetricPoint):
            points.append(metrics_store.point(account, record.metric, record.at, record.value, source="sync"))
        elif isinstance(record, MediaRecord):
            media.append(_media_update(account, run["_id"], record, now))
        elif isinstance(record, ItemProblem):
            await sync_runs.add_error(services.store, run["_id"], {"stage": record.stage, "message": record.message,
                                                                    "item_id": record.item_id})
        elif isinstance(record, CommentRecord | AudienceRecord):
            shared.append(record)
    if shared:  # comments (threaded, our ids) and audience snapshots: the core's stores
        counts.update(await sync_records.write_batch(services.store, account, run, shared, now=now))
    await media_store.write(services.store, media)
    await metrics_store.write(services.store, points)
    counts["media"], counts["metrics"] = len(media), len(points)
    return counts


async def _lookback_ids(services: Any, account: dict[str, Any], days: int) -> list[str]:
    since = clock.now() - timedelta(days=days)
    cursor = services.store[media_store.COLLECTION].find(
        {"account_id": account["_id"], "deleted": False, "timestamp": {"$gte": since}}, {"external_id": 1},
    ).sort("timestamp", -1)
    return [d["external_id"] async for d in cursor]


async def run_sync(services: Any, account_id: str, run_id: str) -> str:
    """Run (or resume) one sync run. Returns its final status; raises `RateLimited`/transient
    errors for the job to defer or retry (the run stays open and resumes)."""
    run = await sync_runs.get(services.store, run_id)
    account = await account_store.get(services.store, account_id)
    if run is None or account is None:
        return "missing"
    if account.get("status") != "active":
        await sync_runs.finish(services.store, run, "skipped", reason=f"account is {account.get('status')}")
        return "skipped"
    plugin = plugin_for(services, account["platform"])
    assert plugin.sync is not None
    await sync_runs.update(services.store, run_id, set_={"status": "running", "started_at": run.get("started_at") or clock.now()})
    done = list(run.get("stages_done") or [])
    # How many accounts share the platform's daily budget now (the policy's fair share).
    sharers = await account_store.count_active(services.store, account["platform"])

    def shared(ref: Any) -> Any:
        return replace(ref, extra={**ref.extra, "active_accounts": max(1, sharers)}) if ref is not None else None

    lookback = getattr(getattr(plugin, "settings", None), "lookback_days", 30)
    for stage in plugin.spec.sync_kinds.get(run["kind"], ()):
        if stage in done:
            continue
        ref = shared(await fresh_ref(services, account_id))
        if ref is None:
            await sync_runs.finish(services.store, run, "skipped", reason="account is not active")
            return "skipped"
        current = await sync_runs.get(services.store, run_id) or {}
        checkpoint = dict((current.get("checkpoint") or {}).get(stage) or {})
        state = dict(((await account_store.get(services.store, account_id)) or {}).get("sync_state", {}).get(stage) or {})
        if stage == "counts" and not checkpoint.get("video_ids"):
            checkpoint = {"video_ids": await _lookback_ids(services, account, lookback), "done": 0}
        try:
            for attempt in (1, 2):
                try:
                    async for batch in plugin.sync.stage(ref, stage, checkpoint=checkpoint, state=state,
                                                         now=clock.now()):
                        counts = await _store_batch(services, account, run, batch)
                        checkpoint = dict(batch.checkpoint)
                        await sync_runs.update(services.store, run_id, set_={f"checkpoint.{stage}": checkpoint})
                        if batch.state is not None:
                            state = dict(batch.state)
                            await pstore.set_sync_checkpoint(services.store, account_id, stage, state)
                        await sync_runs.update(services.store, run_id, inc={
                            "api_calls": batch.calls, **{f"items.{k}": v for k, v in counts.items()}})
                    break
                except PlatformError as exc:
                    if exc.kind is not ErrorKind.TOKEN_INVALID or attempt == 2:
                        raise
                    if await refresh_account(services, account_id, force=True,
                                             refused=ref.credentials.access_token) != "refreshed":
                        raise
                    ref = shared(await fresh_ref(services, account_id))
                    if ref is None:
                        raise
        except PlatformError as exc:
            if exc.kind is ErrorKind.TOKEN_INVALID:
                await lifecycle.account_needs_reconnect(services, account_id,
                                                        f"{plugin.spec.display_name} refused the token: reconnect the account.")
                await sync_runs.finish(services.store, run, "failed", reason="needs_reconnect")
                return "failed"
            if exc.kind is ErrorKind.CAPABILITY_MISSING:
                await sync_runs.add_error(services.store, run_id, {"stage": stage, **exc.describe()})
                await sync_records.record_capability_missing(  # the capability is off until a reconnect grants it
                    services.store, account_id, stage, code=exc.code, message=exc.message, at=clock.now())
            else:
                raise
        done.append(stage)
        await sync_runs.update(services.store, run_id, set_={"stages_done": done})
    await sync_runs.finish(services.store, run, "succeeded")
    return "succeeded"
