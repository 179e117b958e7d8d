"""A real worker process SIGKILLed in the middle of a TikTok upload (TikTok kept the first chunk,
the worker never recorded it): another worker's publish sweep takes the post over and it is
published exactly once, from one init, with the exact bytes."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_tiktok_publish import MB, post, publishes, quick_tiktok, ready_account, video  # noqa: F401 - fixture

from sandbox.tiktok.files import content_bytes
from tests.conftest import Env
from tests.publish_helpers import run_worker_until

REPO = Path(__file__).resolve().parents[2]

# Starts a worker OS process: slow.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def start_worker(env: Env) -> subprocess.Popen[bytes]:
    s = env.settings
    values = {
        "REDIS_URL": s.redis_url, "MONGODB_URL": s.mongodb_url, "MONGODB_DB": s.mongodb_db,
        "QUEUE_NAME": s.queue_name, "SANDBOX": "true", "SANDBOX_URL": s.sandbox_url,
        "TOKEN_KEYS": ",".join(k.get_secret_value() for k in s.token_keys), "LOG_LEVEL": "WARNING",
        "TIKTOK__APP_AUDITED": "true", "TIKTOK__UPLOAD_CHUNK_BYTES": str(5 * MB),
        "TIKTOK__POLL_FIRST_SECONDS": "0.2",
    }
    env_vars = {**os.environ, **{f"SOCIALSYNC_{k}": str(v) for k, v in values.items()}}
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "socialsync.cli", "worker"], cwd=REPO, env=env_vars,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


@pytest.mark.parametrize("killed_in", ["upload", "status"])
async def test_worker_killed_mid_step_publishes_once(env: Env, killed_in: str) -> None:
    """``upload``: the first chunk's answer comes 20 s late (TikTok has the bytes); ``status``: the
    upload is complete and the first status/fetch answer comes 20 s late. The worker is killed
    meanwhile."""
    tenant, account_id = await ready_account(env)
    path = ("/open-upload.tiktokapis.com/video/*" if killed_in == "upload"
            else "/open.tiktokapis.com/v2/post/publish/status/fetch/")
    r = await env.sandbox.post("/_sandbox/faults", json={
        "method": "PUT" if killed_in == "upload" else "POST", "path": path, "delay_seconds": 20, "phase": "after"})
    assert r.status_code == 201, r.text
    size = 16 * MB + 3
    post_id = (await post(env, tenant, account_id, video(env, size))).json()["id"]

    worker = start_worker(env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            logs = await publishes(env)
            if logs and logs[0]["uploaded_bytes"] >= (1 if killed_in == "upload" else size):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the worker never got that far")
        if killed_in == "status":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # until its status call is in flight (held by the fault)
                doc = await env.services.store["publish_jobs"].find_one({"_id": post_id})
                if doc["step"] == "processing" and doc.get("step_in_flight"):
                    break
                await asyncio.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    doc = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert doc["state"] == "publishing" and doc["step_in_flight"] is True, doc
    if killed_in == "upload":
        assert doc["step"] == "initialised" and doc["platform_fields"]["tiktok_next_chunk"] == 0  # never recorded
    else:
        assert doc["step"] == "processing"

    env.settings.publish_stuck_after_seconds = 2.0
    env.settings.publish_sweep_every_seconds = 1

    async def final() -> bool:
        got = await env.services.store["publish_jobs"].find_one({"_id": post_id})
        return got["state"] in ("published", "failed")

    await run_worker_until(env, final, within=90)
    done = await env.services.store["publish_jobs"].find_one({"_id": post_id})
    assert done["state"] == "published", done.get("error")
    assert done["platform_fields"]["tiktok_inits"] == 1
    assert any(a["step"] == "sweep" for a in done["attempts"])  # taken over under a new tick
    [log] = await publishes(env)
    assert log["uploaded_bytes"] == size
    assert log["sha256"] == hashlib.sha256(content_bytes("v.mp4", size)).hexdigest()
    events = [e async for e in env.services.store["crm_events"].find({"type": "post.published"})]
    assert len(events) == 1
