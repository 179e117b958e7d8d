"""The start-up migration, on a database as the release before the platform core wrote it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from socialsync import queue
from socialsync.store import migrations
from socialsync.store.webhook_events import event_id
from tests.conftest import Env
from tests.webhooks_helpers import comment_change, connected, payload


async def _write_old_release_documents(env: Env, account_id: str, tenant_id: str, ig_id: str) -> str:
    """Documents in the shapes the previous release stored (no platform, no source, no next check)."""
    db = env.services.store
    now = datetime.now(UTC)
    await db.accounts.update_one({"_id": account_id}, {"$unset": {"next_check_at": ""}})
    await db["metrics"].insert_one({"_id": f"{account_id}:followers_count:{now.isoformat()}", "account_id": account_id,
                                    "tenant_id": tenant_id, "metric": "followers_count", "ts": now, "value": 10,
                                    "source": "profile"})
    await db["audience"].insert_one({"_id": f"{account_id}:follower_demographics:age:2026-11-30",
                                     "account_id": account_id, "tenant_id": tenant_id, "metric": "follower_demographics",
                                     "breakdown": "age", "timeframe": "this_month", "values": {"18-24": 3},
                                     "taken_at": now})
    await db["sync_runs"].insert_one({"_id": "run_old1", "account_id": account_id, "tenant_id": tenant_id,
                                      "kind": "full", "status": "success", "created_at": now - timedelta(days=1)})
    body = json.dumps(payload(ig_id, [comment_change("17900000000000501", "from before")])).encode()
    await db["webhook_events"].insert_one({
        "_id": event_id(body), "body": body.decode(), "accounts": [ig_id], "fields": {"comments": 1},
        "status": "pending", "received_at": now - timedelta(minutes=5), "expires_at": now + timedelta(days=14),
        "deliveries": 1,
    })
    return event_id(body)


async def test_old_documents_get_platform_source_and_next_check_once(env: Env) -> None:
    acc = await connected(env)
    await env.run_worker()
    await env.services.store[migrations.MIGRATIONS].delete_many({})  # as if never migrated
    eid = await _write_old_release_documents(env, acc.account_id, acc.tenant.id, acc.ig_id)

    report = await migrations.migrate(env.services.store)
    changed = report["platform_fields"]
    assert changed["metrics"] == 1 and changed["audience"] == 1 and changed["sync_runs"] == 1
    assert changed["webhook_events"] == 1 and changed["accounts.next_check_at"] == 1
    db = env.services.store
    assert await db["metrics"].count_documents({"platform": {"$exists": False}}) == 0
    assert (await db["sync_runs"].find_one({"_id": "run_old1"}))["platform"] == "instagram"
    event = await db["webhook_events"].find_one({"_id": eid})
    assert event["source"] == "meta" and event["rejected"] == []
    account = await db.accounts.find_one({"_id": acc.account_id})
    assert account["next_check_at"] <= datetime.now(UTC)

    assert await migrations.migrate(env.services.store) == {}  # recorded: not run again
    again = await migrations._platform_fields(db, datetime.now(UTC))  # and harmless if it were
    assert set(again.values()) == {0}

    # The migrated pending delivery is processed like a new one.
    await queue.enqueue(env.services.redis, queue.WEBHOOKS_DRAIN, job_id="drain-migrated")
    await env.run_worker()
    comment = await db["comments"].find_one({"account_id": acc.account_id, "comment_id": "17900000000000501"})
    assert comment is not None and comment["platform"] == "instagram"
    assert (await db["webhook_events"].find_one({"_id": eid}))["status"] == "processed"


async def test_old_posts_name_their_platform_account_external_id(env: Env) -> None:
    """Posts stored by the release before the core said ``ig_user_id``; after the migration the
    publishing quota (published_since) still counts them, under ``external_id``."""
    from socialsync.store import posts as post_store  # noqa: PLC0415

    acc = await connected(env)
    db = env.services.store
    await db[migrations.MIGRATIONS].delete_many({})
    published_at = datetime.now(UTC) - timedelta(hours=2)
    await db[post_store.COLLECTION].insert_one({
        "_id": "post_old1", "tenant_id": acc.tenant.id, "account_id": acc.account_id, "ig_user_id": acc.ig_id,
        "state": "published", "published_at": published_at, "tick": 1,
    })
    assert await post_store.published_since(db, acc.ig_id, published_at - timedelta(minutes=1)) == []

    report = await migrations.migrate(db)
    assert report["post_external_id"] == {"publish_jobs.external_id": 1}
    doc = await db[post_store.COLLECTION].find_one({"_id": "post_old1"})
    assert doc["external_id"] == acc.ig_id and "ig_user_id" not in doc
    since = await post_store.published_since(db, acc.ig_id, published_at - timedelta(minutes=1))
    assert [t.replace(tzinfo=UTC) for t in since] == [published_at.replace(microsecond=published_at.microsecond // 1000 * 1000)]
    assert await migrations.migrate(db) == {}
