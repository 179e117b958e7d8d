"""The core's sync runner over the platform interface (docs/platforms.md): a plugin yields
records and checkpoints, the core stores them, resumes a deferred run from the last stored
checkpoint, carries cross-run state to the next run, and records a missing capability."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import monitoring

from socialsync.platforms.base import (
    AccountRef,
    Capability,
    ErrorKind,
    MediaRecord,
    MetricPoint,
    Platform,
    PlatformError,
    PlatformSpec,
    ProfileRecord,
    RateLimited,
    SyncBatch,
)
from socialsync.platforms.registry import Registry
from socialsync.store import sync_runs
from socialsync.sync import runner
from tests.conftest import Env

VIDEOS = [f"v{i}" for i in range(5)]


class ToySync:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        self.throttle_once = True

    async def stage(self, account: AccountRef, name: str, *, checkpoint: Mapping[str, Any],
                    state: Mapping[str, Any], now: datetime, view: Any = None) -> AsyncIterator[SyncBatch]:
        self.seen.append((name, dict(checkpoint), dict(state)))
        assert account.credentials.access_token == "toy-token"
        if name == "profile":
            yield SyncBatch([ProfileRecord({"followers_count": 42, "username": "toy"}),
                             MetricPoint("followers_count", datetime(2026, 12, 1, tzinfo=UTC), 42)], {"done": True})
        elif name == "videos":
            start = checkpoint.get("next", 0)
            newest = state.get("newest")
            for i in range(start, len(VIDEOS), 2):
                page = VIDEOS[i:i + 2]
                yield SyncBatch([MediaRecord(v, {"caption": v, "like_count": 1}) for v in page],
                                {"next": i + 2}, calls=1, state={"newest": VIDEOS[-1]})
                if self.throttle_once and i == 0:
                    self.throttle_once = False
                    raise RateLimited("toy:app", 5)
            assert newest in (None, VIDEOS[-1])
        else:
            raise PlatformError("scope not granted", kind=ErrorKind.CAPABILITY_MISSING, code="scope_not_authorized")
            yield  # pragma: no cover - an async generator


class Toy(Platform):
    spec = PlatformSpec(name="toy", display_name="Toy", hosts=(), logins=(),
                        capabilities=frozenset({Capability.SYNC}),
                        sync_kinds={"full": ("profile", "videos", "comments")})

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.sync = ToySync()


async def test_the_core_stores_records_resumes_from_checkpoints_and_carries_state(env: Env) -> None:
    toy = Toy(env.services)
    env.services.platforms = Registry({"toy": toy})
    tenant = await env.tenant()
    account = {"_id": "acc_toy1", "tenant_id": tenant.id, "platform": "toy", "login": "toy",
               "external_id": "toy-1", "status": "active", "profile": {},
               "token": {"ciphertext": env.services.cipher.encrypt("toy-token"), "kind": "oauth2"}}
    await env.services.store.accounts.insert_one(account)
    run, _ = await sync_runs.start_or_join(env.services.store, account, "full", "test")

    async def heartbeat() -> None:
        pass

    with pytest.raises(RateLimited):
        await runner.execute(env.services, toy, account, run, heartbeat)
    run = await sync_runs.get(env.services.store, run["_id"])
    assert run["checkpoint"]["videos"] == {"next": 2} and run["stages_done"] == ["profile"]
    status = await runner.execute(env.services, toy, account, run, heartbeat)  # the deferred job again
    assert status == "partial"  # comments: capability missing, recorded, run goes on
    assert [s[:2] for s in toy.sync.seen] == [
        ("profile", {}), ("videos", {}), ("videos", {"next": 2}), ("comments", {})]

    media = {d["external_id"]: d async for d in env.services.store["media"].find({"account_id": "acc_toy1"})}
    assert sorted(media) == VIDEOS and media["v0"]["platform"] == "toy"  # each stored once
    stored = await env.services.store.accounts.find_one({"_id": "acc_toy1"})
    assert stored["profile"]["followers_count"] == 42 and stored["username"] == "toy"
    assert stored["sync_state"]["videos"] == {"newest": "v4"}
    assert stored["capabilities"]["comments"]["available"] is False
    point = await env.services.store["metrics"].find_one({"account_id": "acc_toy1"})
    assert point["metric"] == "followers_count" and point["platform"] == "toy"
    done = await sync_runs.get(env.services.store, run["_id"])
    assert done["api_calls"] == 3 and done["items"]["media"] == 5
    assert done["errors"][0]["stage"] == "comments" and done["errors"][0]["code"] == "scope_not_authorized"

    # The next run starts each stage afresh, with the state the last one kept.
    stored = await env.services.store.accounts.find_one({"_id": "acc_toy1"})
    await sync_runs.finish(env.services.store, done, status)
    second, _ = await sync_runs.start_or_join(env.services.store, stored, "full", "test")
    toy.sync.seen.clear()
    await runner.execute(env.services, toy, stored, second, heartbeat)
    assert ("videos", {}, {"newest": "v4"}) in toy.sync.seen


class GoneSync:
    """A second run: v1 is gone at the platform, and the profile answer lacks the name."""

    async def stage(self, account: AccountRef, name: str, *, checkpoint: Mapping[str, Any],
                    state: Mapping[str, Any], now: datetime, view: Any = None) -> AsyncIterator[SyncBatch]:
        if name == "profile":
            yield SyncBatch([ProfileRecord({"followers_count": 43, "username": None})], {"done": True})
        elif name == "videos":
            yield SyncBatch([MediaRecord("v0", {"caption": "v0 again", "like_count": 2}),
                             MediaRecord("v1", {"deleted": True})], {"done": True}, calls=1)


async def test_a_media_record_reported_deleted_marks_the_stored_one_and_keeps_its_fields(env: Env) -> None:
    toy = Toy(env.services)
    toy.sync.throttle_once = False
    env.services.platforms = Registry({"toy": toy})
    tenant = await env.tenant()
    account = {"_id": "acc_toy2", "tenant_id": tenant.id, "platform": "toy", "login": "toy",
               "external_id": "toy-2", "status": "active", "profile": {},
               "token": {"ciphertext": env.services.cipher.encrypt("toy-token"), "kind": "oauth2"}}
    await env.services.store.accounts.insert_one(account)

    async def heartbeat() -> None:
        pass

    first, _ = await sync_runs.start_or_join(env.services.store, account, "full", "test")
    await runner.execute(env.services, toy, account, first, heartbeat)
    await sync_runs.finish(env.services.store, first, "partial")
    toy.sync = GoneSync()
    second, _ = await sync_runs.start_or_join(env.services.store, account, "full", "test")
    await runner.execute(env.services, toy, account, second, heartbeat)

    media = {d["external_id"]: d async for d in env.services.store["media"].find({"account_id": "acc_toy2"})}
    assert media["v1"]["deleted"] is True and media["v1"]["deleted_at"] is not None
    assert media["v1"]["caption"] == "v1" and media["v1"]["like_count"] == 1  # marked, never wiped
    assert media["v0"]["deleted"] is False and media["v0"]["caption"] == "v0 again"
    assert sorted(media) == VIDEOS  # nothing new made up for a gone id
    stored = await env.services.store.accounts.find_one({"_id": "acc_toy2"})
    assert stored["username"] == "toy" and stored["profile"]["followers_count"] == 43  # no name: kept


async def test_a_kind_the_platform_does_not_sync_is_a_400_and_starts_nothing(env: Env) -> None:
    from tests.sync_helpers import connected, runs  # noqa: PLC0415

    tenant, account_id = await connected(env)
    before = await runs(env, account_id)
    r = await env.http.post(f"/v1/accounts/{account_id}/sync", json={"kind": "counts"}, headers=env.auth(tenant))
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_sync_kind", r.text
    assert "Instagram syncs kinds: full, recent" in r.json()["error"]["message"]
    assert await runs(env, account_id) == before


class _AccountReads(monitoring.CommandListener):
    """Counts the finds of one account document (pymongo's public command monitoring)."""

    def __init__(self, account_id: str) -> None:
        self.account_id, self.reads, self.on = account_id, 0, True

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        cmd = event.command
        if self.on and event.command_name == "find" and cmd.get("find") == "accounts" \
                and (cmd.get("filter") or {}).get("_id") == self.account_id:
            self.reads += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...

    def failed(self, event: monitoring.CommandFailedEvent) -> None: ...


async def test_a_full_sync_reads_its_account_once_not_before_every_stage(env: Env) -> None:
    """The runner checks the account (still connected, token fresh) before a stage, but reads it
    again only when the plugin says the token is due, after a refusal, or after REREAD_SECONDS:
    an Instagram full sync's six stages cost one read of the account, not six."""
    from tests.sync_helpers import connected, runs, seed_media  # noqa: PLC0415

    await seed_media(env, count=5)
    _tenant, account_id = await connected(env)
    reads = _AccountReads(account_id)
    monitoring.register(reads)  # seen by the clients created from here on: the worker's
    try:
        await env.run_worker()
    finally:
        reads.on = False
    (run,) = await runs(env, account_id)
    assert run["kind"] == "full" and run["status"] == "success", run
    assert len(run["stages_done"]) == 6
    assert 1 <= reads.reads <= 3, reads.reads  # the job's load, the runner's one check (+ the lease's)
