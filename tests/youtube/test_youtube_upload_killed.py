"""A process SIGKILLed mid-upload: the next one resumes from the acknowledged byte of the stored
session (no second session, no second video)."""

from __future__ import annotations

import asyncio
import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.youtube.platform_helpers import endpoints
from tests.youtube.sandbox_helpers import login

BLOCK = 256 * 1024
SIZE = 24 * BLOCK


@pytest.mark.slow
async def test_sigkilled_uploader_is_resumed_not_restarted(yts: httpx.AsyncClient, sandbox_url: str, tmp_path: Path) -> None:
    tokens = await login(yts)
    data = tmp_path / "clip.bin"
    data.write_bytes(hashlib.sha256(b"k").digest() * (SIZE // 32))
    sessions = tmp_path / "session.txt"
    init_url = endpoints(sandbox_url).api + "/upload/youtube/v3/videos"
    root = Path(__file__).resolve().parents[2]
    args = [sys.executable, "-m", "tests.youtube.upload_child", init_url, tokens.access_token, str(sessions), str(data)]
    child = subprocess.Popen([*args, "0.02"], cwd=root)
    try:
        received = 0
        for _ in range(600):
            await asyncio.sleep(0.05)
            listed = (await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]
            received = listed[0]["received"] if listed else 0
            if received >= SIZE * 0.4:
                break
        assert SIZE * 0.4 <= received < SIZE, received
        assert sessions.read_text()  # stored before the first byte
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    # the sandbox is served by this event loop: never block it
    again = await asyncio.create_subprocess_exec(*args, "0", cwd=root, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(again.communicate(), 60)
    assert again.returncode == 0, err.decode()
    video_id, _, rest = out.decode().strip().partition(" ")
    resumed_from = int(rest.split("]")[0].strip("[").split(",")[0])
    sent = int(rest.rsplit(" ", 1)[1])
    listed = (await yts.get("/_sandbox/youtube/uploads")).json()["sessions"]
    published = (await yts.get("/_sandbox/youtube/published")).json()["published"]
    assert len(listed) == 1 and len(published) == 1 and published[0]["video_id"] == video_id
    assert resumed_from >= received and sent == SIZE - resumed_from  # resumed, not restarted
    assert published[0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
