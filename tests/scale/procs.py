"""Real `socialsync web` / `socialsync worker` OS processes for the scale-out tests, started the
way the Procfile starts them: the CLI, configured only through SOCIALSYNC_* variables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from socialsync.config import Settings
from socialsync.devservers import child_env

# The settings a child needs to join the test's system (same Redis, database, queues, sandbox).
FORWARDED = (
    "redis_url", "mongodb_url", "mongodb_db", "queue_name", "sandbox_url", "web_port", "public_url",
    "return_url_allowlist",
)


def service_env(settings: Settings, **extra: object) -> dict[str, str]:
    values: dict[str, str] = {f"SOCIALSYNC_{k.upper()}": str(getattr(settings, k)) for k in FORWARDED}
    values["SOCIALSYNC_SANDBOX"] = "true"
    values["SOCIALSYNC_TOKEN_KEYS"] = ",".join(k.get_secret_value() for k in settings.token_keys)
    assert settings.admin_token is not None
    values["SOCIALSYNC_ADMIN_TOKEN"] = settings.admin_token.get_secret_value()
    values["SOCIALSYNC_LOG_JSON"] = "true"
    values["PYTHONUNBUFFERED"] = "1"
    for key, value in extra.items():
        values[f"SOCIALSYNC_{key.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return child_env(**values)


@dataclass
class Proc:
    """One child process of the test; its output goes to a log file beside the test's tmp dir."""

    role: str
    env: dict[str, str]
    log_dir: Path
    popen: subprocess.Popen[bytes] | None = None
    generation: int = 0
    logs: list[Path] = field(default_factory=list)

    def start(self) -> "Proc":
        self.generation += 1
        path = self.log_dir / f"{self.role}-{id(self):x}-{self.generation}.log"
        self.logs.append(path)
        with open(path, "wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "socialsync.cli", self.role],
                env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait()

    def terminate(self, timeout: float) -> float:
        """SIGTERM, wait for the exit; returns the seconds it took (kills after `timeout`)."""
        assert self.popen is not None
        started = time.monotonic()
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise AssertionError(f"{self.role} did not exit within {timeout} s of SIGTERM") from None
        return time.monotonic() - started

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.logs if p.exists())


def stop_all(procs: list[Proc]) -> None:
    for proc in procs:
        if proc.alive():
            assert proc.popen is not None
            proc.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs:
        if proc.popen is None:
            continue
        try:
            proc.popen.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
