"""Cron: every interval a setting, accounts spread across it by a stable hash, one run per account."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from tests.conftest import Env
from tests.sync_helpers import connected, runs
from worker.jobs import sync as sync_jobs


def test_accounts_are_spread_across_the_interval_and_keep_their_spot() -> None:
    interval = 3600
    phases = [sync_jobs.phase_seconds(f"acc_{i:06d}", "recent", interval) for i in range(10_000)]
    assert phases == [sync_jobs.phase_seconds(f"acc_{i:06d}", "recent", interval) for i in range(10_000)]
    per_minute = Counter(p // 60 for p in phases)
    assert len(per_minute) == 60 and max(per_minute.values()) < 2 * 10_000 / 60
    assert sync_jobs.phase_seconds("acc_1", "recent", interval) != sync_jobs.phase_seconds("acc_1", "stories", interval)


def test_intervals_come_from_settings(env: Env) -> None:
    env.settings.sync_stories_minutes = 17
    env.settings.sync_profile_minutes = 45
    assert sync_jobs.interval_seconds(env.settings, "stories") == 17 * 60
    assert sync_jobs.interval_seconds(env.settings, "recent") == 45 * 60


async def test_the_schedule_starts_due_runs_one_per_account_and_skips_inactive_accounts(env: Env) -> None:
    tenant, account_id = await connected(env)
    await env.run_worker()  # the connect's full sync covers every schedule for now
    ctx = {"services": env.services}
    assert await sync_jobs.schedule(ctx) == 0
    await env.services.store.accounts.update_one({"_id": account_id}, {"$set": {"sync_schedule": {}}})
    assert await sync_jobs.schedule(ctx) == 1
    assert await sync_jobs.schedule(ctx) == 0  # busy: the other due kinds wait for a later tick
    await env.run_worker()
    kinds = [r["kind"] for r in await runs(env, account_id)]
    assert kinds == ["full", "recent"] and all(r["status"] == "success" for r in await runs(env, account_id))
    await env.services.store.accounts.update_one({"_id": account_id}, {"$set": {"status": "needs_reconnect"}})
    await env.services.store.accounts.update_one({"_id": account_id}, {"$set": {"sync_schedule": {}}})
    assert await sync_jobs.schedule(ctx) == 0


def test_a_bucket_changes_once_per_interval() -> None:
    interval = 600
    start = datetime(2026, 11, 22, tzinfo=UTC).timestamp()
    buckets = {sync_jobs.bucket("acc_x", "media", interval, datetime.fromtimestamp(start + s, UTC))
               for s in range(0, 6000, 30)}
    assert len(buckets) in (10, 11)
