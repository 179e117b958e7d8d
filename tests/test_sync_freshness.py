"""Freshness in the API: each media says when it was read (``synced_at``), each account says per
sync kind when it last ran and when the schedule runs it next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialsync.sync.schedule import interval_seconds, phase_seconds
from tests.conftest import Env
from tests.sync_helpers import connected, seed_media


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_media_and_accounts_say_when_they_were_read_and_will_be_next(env: Env) -> None:
    await seed_media(env, count=3, before_conversion=0)
    tenant, account_id = await connected(env)
    started = datetime.now(UTC)
    await env.run_worker()
    h = env.auth(tenant)
    media = (await env.http.get(f"/v1/accounts/{account_id}/media", headers=h)).json()["data"]
    assert len(media) == 3
    for item in media:
        assert started - timedelta(seconds=1) <= _dt(item["synced_at"]) <= datetime.now(UTC)
    account = (await env.http.get(f"/v1/accounts/{account_id}", headers=h)).json()
    sync = account["sync"]
    assert set(sync) == {"full", "recent", "media", "insights", "audience", "stories"}
    full = sync["full"]
    assert full["last_status"] == "success" and full["next_sync_at"] is None
    now = datetime.now(UTC)
    for kind in ("recent", "media", "insights", "audience", "stories"):
        # the full sync covered every kind; each is next due at its own spot of its next interval
        assert sync[kind]["last_sync_at"] == full["last_sync_at"] and sync[kind]["last_run_id"] == full["last_run_id"]
        interval = interval_seconds(env.settings, kind)
        nxt = _dt(sync[kind]["next_sync_at"])
        assert now < nxt <= now + timedelta(seconds=interval)
        assert (nxt.timestamp() - phase_seconds(account_id, kind, interval)) % interval == 0
    listed = (await env.http.get("/v1/accounts", headers=h)).json()["data"]
    assert listed[0]["sync"]["recent"]["next_sync_at"] == sync["recent"]["next_sync_at"]
    # a run of one kind moves that kind only
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", headers=h, json={"kind": "stories"})
    assert r.status_code == 202
    await env.run_worker()
    after = (await env.http.get(f"/v1/accounts/{account_id}", headers=h)).json()["sync"]
    assert _dt(after["stories"]["last_sync_at"]) > _dt(full["last_sync_at"])
    assert after["stories"]["last_run_id"] != full["last_run_id"]
    assert after["recent"]["last_run_id"] == full["last_run_id"]
