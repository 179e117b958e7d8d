"""Serving the sandbox: ``sandbox.main.run`` and who may use the control API."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path
from unittest import mock

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from sandbox import SandboxConfig, build_sandbox_app
from sandbox.control_api import local_only_middleware

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
async def test_run_serves_and_logs_one_line() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from sandbox.main import run; run(port={port})"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=1.0) as http:
            for _ in range(600):  # up to 30 s: the sandbox starts slowly on a loaded machine
                try:
                    health = await http.get("/_sandbox/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("sandbox did not start")
            assert health.json() == {"ok": True}
            page = await http.get("/graph.instagram.com/v24.0/me", params={"access_token": "x"})
            assert page.json()["error"]["code"] == 190
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"http://127.0.0.1:{port}" in lines[0]


def _control_request(remote: str, config: SandboxConfig | None = None) -> web.Request:
    app = build_sandbox_app(config)
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (remote, 40000) if name == "peername" else default
    )
    return make_mocked_request("GET", "/_sandbox/stats", app=app, transport=transport)


async def test_control_api_refuses_remote_callers() -> None:
    handler = mock.AsyncMock(return_value="handled")
    remote = _control_request("10.1.2.3")
    try:
        await local_only_middleware(remote, handler)
    except Exception as exc:  # aiohttp raises the 403 as an HTTPException
        assert getattr(exc, "status", None) == 403
    else:
        raise AssertionError("a remote caller reached the control API")
    handler.assert_not_called()
    assert await local_only_middleware(_control_request("127.0.0.1"), handler) == "handled"
    allowed = _control_request("10.1.2.3", SandboxConfig(control_remote_access=True))
    assert await local_only_middleware(allowed, handler) == "handled"
