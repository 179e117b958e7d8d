"""`socialsync up --workers 3 --webs 2`: five service processes under one supervisor, the two web
processes on one port (SO_REUSEPORT), everything stopped by one Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socialsync.processes import listeners
from tests.test_cli_up import REPO_ROOT, _alive, _descendants, _distinct_free_ports, _status

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_up_with_three_workers_and_two_webs_on_one_port(tmp_path: Path) -> None:
    web, sandbox, redis, mongo = _distinct_free_ports(4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSYNC_")}
    env.update(
        SOCIALSYNC_WEB_PORT=str(web), SOCIALSYNC_PUBLIC_URL=f"http://127.0.0.1:{web}",
        SOCIALSYNC_SANDBOX_PORT=str(sandbox), SOCIALSYNC_LOCAL_REDIS_PORT=str(redis),
        SOCIALSYNC_LOCAL_MONGODB_PORT=str(mongo),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    out_path, err_path = tmp_path / "up.stdout", tmp_path / "up.stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "socialsync.cli", "up", "--data-dir", str(tmp_path / "data"),
             "--workers", "3", "--webs", "2"],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
        )

    def output() -> str:
        return out_path.read_text(errors="replace")[-3000:] + err_path.read_text(errors="replace")[-6000:]

    try:
        deadline = time.monotonic() + 90
        while _status(f"http://127.0.0.1:{web}/readyz") != 200 or "socialsync is up" not in out_path.read_text():
            assert proc.poll() is None, output()
            assert time.monotonic() < deadline, output()
            time.sleep(0.25)
        children = _descendants(proc.pid)
        roles = [cmd.split("socialsync.cli ", 1)[1].split()[0] for cmd in children.values() if "socialsync.cli " in cmd]
        assert sorted(roles) == ["sandbox", "web", "web", "worker", "worker", "worker"], children
        assert listeners(web) == 2  # both web processes listen on the one port
        assert "2 processes, one port" in out_path.read_text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(90) == 0, output()
        time.sleep(0.5)
        assert not [pid for pid in children if _alive(pid)], "children left running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
