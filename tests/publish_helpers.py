"""Helpers for the publishing tests: fast timings, posting, reading the sandbox's publish log."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from socialsync import queue
from socialsync.store import posts as post_store
from tests.conftest import Env
from tests.flows import connect
from worker.main import build_worker

IMAGE = "https://cdn.example.com/photo.jpg"
VIDEO = "https://cdn.example.com/clip.mp4"

BODIES: dict[str, dict[str, Any]] = {
    "image": {"type": "image", "caption": "Hello #sandbox", "media": [{"url": IMAGE, "kind": "image", "alt_text": "a cat"}]},
    "reel": {"type": "reel", "caption": "A reel", "media": [{"url": VIDEO, "kind": "video"}],
             "options": {"share_to_feed": True, "thumb_offset_ms": 1500}},
    "carousel": {"type": "carousel", "caption": "Three in one",
                 "media": [{"url": IMAGE, "kind": "image"}, {"url": VIDEO, "kind": "video"},
                           {"url": IMAGE + "?2", "kind": "image"}]},
    "story": {"type": "story", "media": [{"url": IMAGE, "kind": "image"}]},
}


def fast(env: Env, **overrides: object) -> None:
    """Short waits for tests (the worker reads these when it starts)."""
    values: dict[str, object] = {
        "publish_poll_first_seconds": 0.2, "publish_poll_growth": 1.5, "publish_poll_cap_seconds": 1.0,
        "publish_retry_base_seconds": 0.2, "publish_quota_recheck_seconds": 1.0,
        "publish_blocked_defer_seconds": 0.5, "http_timeout_seconds": 2.0,
    }
    values.update(overrides)
    for name, value in values.items():
        setattr(env.settings, name, value)


async def sandbox_knobs(env: Env, **knobs: object) -> None:
    r = await env.sandbox.post("/_sandbox/publishing", json=knobs)
    assert r.status_code == 200, r.text


async def connected(env: Env, login: str = "instagram", username: str | None = None) -> tuple[Any, str]:
    tenant = await env.tenant()
    who = username or ("sandbox_creator" if login == "instagram" else "fb_single")
    account_id = (await connect(env, tenant.api_key, who, login=login)).account_id
    return tenant, account_id


async def submit(env: Env, tenant: Any, account_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    return await env.http.post(
        f"/v1/accounts/{account_id}/posts", json=body,
        headers={**env.auth(tenant), "Idempotency-Key": key or uuid.uuid4().hex},
    )


async def post(env: Env, tenant: Any, account_id: str, body: dict[str, Any], key: str | None = None) -> str:
    r = await submit(env, tenant, account_id, body, key)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def read_post(env: Env, tenant: Any, post_id: str) -> dict[str, Any]:
    r = await env.http.get(f"/v1/posts/{post_id}", headers=env.auth(tenant))
    assert r.status_code == 200, r.text
    return r.json()


async def published_log(env: Env, ig_user_id: str | None = None) -> list[dict[str, Any]]:
    params = {"account": ig_user_id} if ig_user_id else {}
    r = await env.sandbox.get("/_sandbox/published", params=params)
    return r.json()["published"]


async def add_fault(env: Env, **spec: object) -> None:
    r = await env.sandbox.post("/_sandbox/faults", json=spec)
    assert r.status_code == 201, r.text


async def stored(env: Env, post_id: str) -> dict[str, Any]:
    doc = await post_store.get(env.services.store, post_id)
    assert doc is not None
    return doc


async def calls(env: Env) -> dict[str, int]:
    return (await env.sandbox.get("/_sandbox/stats")).json()["by_endpoint"]


def publish_queue(env: Env) -> str:
    """The arq queue (sorted set) holding the publishing jobs."""
    return queue.queue_name_for(env.settings.queue_name, queue.PUBLISH)


async def run_worker_until(env: Env, done: Callable[[], Awaitable[bool]], *, within: float,
                           **overrides: object) -> float:
    """Run the real worker (not burst: a dead worker's job ids stay in the queue until arq
    releases them, and a burst worker would wait for that) until ``done()``; seconds it took.
    Fails when ``done()`` is still false after ``within`` seconds."""
    group = build_worker(env.settings, poll_delay=0.05, handle_signals=False, **overrides)
    task = asyncio.ensure_future(group.main())
    started = time.monotonic()
    try:
        while not await done():
            assert not task.done(), task.exception() if task.done() else None
            if time.monotonic() - started > within:
                raise AssertionError(f"not done after {within} s")
            await asyncio.sleep(0.1)
        return time.monotonic() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await group.close()
