"""`socialsync up` end to end: a real process tree from a clean directory, stopped by a signal.

These start Redis, the embedded MongoDB, the sandbox, the web receiver and the worker as real
processes on free ports, so they take a few seconds each; select or skip them with `-m slow`.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from socialsync.devservers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 90.0


@dataclass
class Up:
    proc: subprocess.Popen[bytes]
    cwd: Path
    data_dir: Path
    ports: dict[str, int]

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def sandbox(self) -> str:
        return f"http://127.0.0.1:{self.ports['sandbox']}"

    def output(self) -> str:
        out = (self.cwd / "up.stdout").read_text(errors="replace")
        err = (self.cwd / "up.stderr").read_text(errors="replace")
        return f"--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-8000:]}"


def _distinct_free_ports(n: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


def _status(url: str) -> int | None:
    """The HTTP status of GET url, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local test URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every live descendant of pid (Linux /proc; empty elsewhere)."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] == "Z":  # a zombie holds nothing
            continue
        parents[int(entry.name)] = int(fields[1])
        commands[int(entry.name)] = cmdline.strip()
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = commands[child]
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def up(tmp_path: Path):
    """`socialsync up` running from an empty directory, with nothing configured but ports."""
    web, sandbox, redis, mongo = _distinct_free_ports(4)
    ports = {"web": web, "sandbox": sandbox, "redis": redis, "mongodb": mongo}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALSYNC_")}
    env.update(
        SOCIALSYNC_WEB_PORT=str(web),
        SOCIALSYNC_PUBLIC_URL=f"http://127.0.0.1:{web}",
        SOCIALSYNC_SANDBOX_PORT=str(sandbox),
        SOCIALSYNC_LOCAL_REDIS_PORT=str(redis),
        SOCIALSYNC_LOCAL_MONGODB_PORT=str(mongo),
        # Importable from the checkout even when it is not pip-installed.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    data_dir = tmp_path / "data"
    with open(cwd / "up.stdout", "wb") as out, open(cwd / "up.stderr", "wb") as err:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "socialsync.cli", "up", "--data-dir", str(data_dir)],
            cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
        )
    running = Up(proc, cwd, data_dir, ports)
    try:
        yield running
    finally:
        if proc.poll() is None:  # the test failed half-way: leave nothing behind
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(up: Up) -> float:
    started = time.monotonic()
    deadline = started + START_TIMEOUT
    while time.monotonic() < deadline:
        code = up.proc.poll()
        assert code is None, f"`socialsync up` exited with {code}\n{up.output()}"
        if _status(f"{up.web}/readyz") == 200:
            return time.monotonic() - started
        time.sleep(0.25)
    pytest.fail(f"/readyz did not answer 200 within {START_TIMEOUT:.0f}s\n{up.output()}")


def _wait_exit(up: Up) -> int:
    try:
        return up.proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`socialsync up` did not stop within {STOP_TIMEOUT:.0f}s\n{up.output()}")


def test_up_from_a_clean_directory_serves_then_stops_cleanly_on_ctrl_c(up: Up) -> None:
    _wait_ready(up)
    assert _status(up.sandbox) is not None, f"the sandbox does not answer\n{up.output()}"
    children = _descendants(up.proc.pid)
    assert len(children) >= 5, f"expected redis, mongodb, sandbox, web, worker: {children}"

    # Generated once, private to the user.
    for name in ("token.key", "admin.token"):
        secret = up.data_dir / name
        assert secret.read_text().strip(), name
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, name

    # The supervisor prints its summary once it has seen the ports itself (our /readyz poll can
    # win that race): wait for it before pressing Ctrl-C.
    deadline = time.monotonic() + START_TIMEOUT
    while "Ready (" not in (up.cwd / "up.stdout").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    up.proc.send_signal(signal.SIGINT)
    code = _wait_exit(up)

    assert code == 0, up.output()
    busy = [name for name, port in up.ports.items() if _listening(port)]
    assert not busy, f"still listening after exit: {busy}\n{up.output()}"
    left = {pid: cmd for pid, cmd in children.items() if _alive(pid)}
    assert not left, f"child processes left running: {left}"
    out = (up.cwd / "up.stdout").read_text()
    assert f"{up.web}/readyz" in out and f"{up.web}/v1/openapi.json" in out, out
    assert "SANDBOX MODE" in (up.cwd / "up.stderr").read_text()


def test_up_stops_everything_and_fails_when_a_child_dies(up: Up) -> None:
    _wait_ready(up)
    children = _descendants(up.proc.pid)
    worker = [pid for pid, cmd in children.items() if cmd.endswith("socialsync.cli worker")]
    assert worker, f"no worker among {children}"

    os.kill(worker[0], signal.SIGKILL)
    code = _wait_exit(up)

    assert code != 0, up.output()
    assert "worker was killed by SIGKILL" in (up.cwd / "up.stderr").read_text(), up.output()
    busy = [name for name, port in up.ports.items() if _listening(port)]
    assert not busy, f"still listening after exit: {busy}\n{up.output()}"
    left = {pid: cmd for pid, cmd in children.items() if _alive(pid)}
    assert not left, f"child processes left running: {left}"
