"""`socialsync up`: the whole service on one machine, as a small tree of child processes.

What runs (each only when needed):

- Redis and the embedded MongoDB-wire server (``socialsync.devservers``), unless
  ``SOCIALSYNC_REDIS_URL`` / ``SOCIALSYNC_MONGODB_URL`` point at real servers;
- the platform emulator (``socialsync sandbox``) in sandbox mode, i.e. without Meta app credentials;
- the web receiver (``socialsync web``) and the worker (``socialsync worker``): one of each, or
  ``--webs N`` / ``--workers N`` of them. Several web processes share the one port
  (SO_REUSEPORT: each has its own listening socket and the kernel spreads new connections over
  them, so no proxy is needed on one machine); workers share the Redis queues.

The children are ordinary ``python -m socialsync.cli <role>`` processes that get every resolved
value (server URLs, the token key, the admin token) through ``SOCIALSYNC_*`` variables, exactly as
they would in production: nothing here is special-cased inside the web app or the worker.

Lifecycle: Ctrl-C, SIGTERM or SIGHUP stop the children first (web, then worker, then sandbox,
so nothing new is enqueued while the worker drains) and the servers last, and ``run`` returns 0.
If any process dies on its own, ``run`` names it, stops the rest and returns 1. A second Ctrl-C
while stopping kills whatever is still running. Every child is in its own session (a terminal's
Ctrl-C reaches only the supervisor, which then stops them in order) and, on Linux, is sent
SIGTERM by the kernel if the supervisor itself is killed, so no server is left holding its port.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from socialsync import devservers
from socialsync.config import Settings
from socialsync.logs import get_logger
from socialsync.processes import (
    Child, connect_host, die_with_parent, ended, guard_orphans, http_ok, listeners, port_in_use, say,
)
from socialsync.up_screen import Summary, sandbox_banner

log = get_logger("socialsync.supervisor")

TOKEN_KEY_FILE = "token.key"
ADMIN_TOKEN_FILE = "admin.token"

START_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.1
READY_POLL_SECONDS = 0.5
# How long each child gets between SIGTERM and SIGKILL, in stop order.
STOP_GRACE_SECONDS = {"web": 15.0, "worker": 30.0, "sandbox": 10.0}



class StartupError(RuntimeError):
    """Something `up` needs could not be prepared or did not start."""


class _Interrupted(Exception):
    """A stop signal arrived while starting: skip the remaining start-up steps."""


def read_or_create_secret(path: Path, make: Callable[[], str]) -> tuple[str, bool]:
    """The secret stored in `path`, created (mode 0600) on first use. Returns (value, created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
        if not value:
            raise StartupError(f"{path} is empty: delete it and a new one is created") from None
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return value, False
    value = make()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value, True


class Supervisor:
    """Starts, watches and stops everything `socialsync up` runs. One instance, one run."""

    def __init__(
        self, settings: Settings, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
        workers: int = 1, webs: int = 1,
    ) -> None:
        if workers < 1 or webs < 1:
            raise ValueError("at least one worker and one web process")
        self.settings = settings
        self.workers = workers
        self.webs = webs
        self.data_dir = Path(settings.data_dir).resolve()
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.servers: list[devservers.ManagedProcess] = []
        self.children: list[Child] = []
        self.redis_url = settings.redis_url
        self.mongodb_url = settings.mongodb_url
        self.token_keys = ",".join(k.get_secret_value() for k in settings.token_keys)
        self.admin_token = (
            settings.admin_token.get_secret_value() if settings.admin_token else None
        )
        self.created: list[Path] = []
        self._stop_reason: str | None = None
        self._force = False
        self._started_at = time.monotonic()

    # -- public ---------------------------------------------------------------------------

    def run(self) -> int:
        """Run until a signal (returns 0) or until a process dies (returns 1)."""
        previous = self._install_signal_handlers()
        code = 1
        try:
            code = self._run()
        except _Interrupted:
            code = 0
        except (StartupError, devservers.DevServerError, OSError) as exc:
            say(self.err, f"socialsync up: could not start: {exc}")
            code = 1
        finally:
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return code

    def stop(self) -> None:
        """Children first (in STOP order), then the servers. Safe to call more than once."""
        for child in sorted(self.children, key=_stop_rank):
            self._stop_child(child)
        for server in reversed(self.servers):
            if self._force:
                server.kill()
            else:
                server.stop()

    # -- phases ---------------------------------------------------------------------------

    def _run(self) -> int:
        s = self.settings
        self._check_ports_free()
        self._prepare_secrets()
        self._start_servers()
        self._checkpoint()
        if s.sandboxed_platforms:
            log.warning("SANDBOX MODE: starting the platform emulator", url=s.sandbox_base_url,
                        platforms=s.sandboxed_platforms)
            sandbox = self._spawn("sandbox", ["sandbox", "--host", s.sandbox_host,
                                              "--port", str(s.sandbox_port)], port=s.sandbox_port)
            self._wait_listening(sandbox, s.sandbox_host)
        webs = [
            self._spawn(_numbered("web", i, self.webs), ["web"], port=s.web_port, role="web")
            for i in range(self.webs)
        ]
        for i in range(self.workers):
            self._spawn(_numbered("worker", i, self.workers), ["worker"], role="worker")
        for web in webs:
            self._wait_listening(web, s.web_host)
        if self.webs > 1:
            self._wait_listeners(s.web_port, self.webs)
        self._checkpoint()
        if s.sandboxed_platforms:  # last, so that it is on screen after the start-up logs
            self._print_sandbox_banner()
        self._print_summary()
        return self._watch()

    def _check_ports_free(self) -> None:
        s = self.settings
        wanted = [("web receiver", s.web_host, s.web_port, "SOCIALSYNC_WEB_PORT")]
        if s.sandboxed_platforms:
            wanted.append(("sandbox", s.sandbox_host, s.sandbox_port, "SOCIALSYNC_SANDBOX_PORT"))
        if not s.redis_url:
            wanted.append(("Redis", "127.0.0.1", s.local_redis_port, "SOCIALSYNC_LOCAL_REDIS_PORT"))
        if not s.mongodb_url:
            wanted.append(
                ("MongoDB", "127.0.0.1", s.local_mongodb_port, "SOCIALSYNC_LOCAL_MONGODB_PORT")
            )
        for what, host, port, variable in wanted:
            if port_in_use(host, port):
                raise StartupError(
                    f"port {port} (for the {what}) is already in use - is another `socialsync up` "
                    f"running? Stop it, or choose another port with {variable}."
                )

    def _prepare_secrets(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.token_keys:
            from socialsync.crypto import generate_key  # noqa: PLC0415 - only when needed

            path = self.data_dir / TOKEN_KEY_FILE
            self.token_keys, created = read_or_create_secret(path, generate_key)
            if created:
                self.created.append(path)
        if not self.admin_token:
            path = self.data_dir / ADMIN_TOKEN_FILE
            self.admin_token, created = read_or_create_secret(
                path, lambda: secrets.token_urlsafe(32)
            )
            if created:
                self.created.append(path)

    def _start_servers(self) -> None:
        s = self.settings
        if not self.redis_url:
            redis = guard_orphans(
                devservers.redis_process(self.data_dir / "redis", port=s.local_redis_port)
            )
            self.servers.append(redis)
            redis.start()
            self.redis_url = redis.url
            log.info("local Redis started", url=redis.url, log_file=str(redis.log_path))
        if not self.mongodb_url:
            mongo = guard_orphans(
                devservers.mongo_process(self.data_dir, port=s.local_mongodb_port)
            )
            self.servers.append(mongo)
            mongo.start()
            self.mongodb_url = mongo.url
            log.info("local MongoDB started", url=mongo.url, log_file=str(mongo.log_path))

    def _child_env(self) -> dict[str, str]:
        s = self.settings
        env = {
            "SOCIALSYNC_REDIS_URL": self.redis_url or s.redis_dsn,
            "SOCIALSYNC_MONGODB_URL": self.mongodb_url or s.mongodb_dsn,
            "SOCIALSYNC_TOKEN_KEYS": self.token_keys,
            "SOCIALSYNC_ADMIN_TOKEN": self.admin_token or "",
            "SOCIALSYNC_DATA_DIR": str(self.data_dir),
            "SOCIALSYNC_LOG_JSON": "true" if s.log_json else "false",
            "PYTHONUNBUFFERED": "1",
        }
        # Sandbox mode is decided per platform (no credentials → its sandbox), by each child from
        # the same environment; SOCIALSYNC_SANDBOX, if the user set it, is inherited as it is.
        if self.webs > 1:  # every web process binds the same port; the kernel spreads connections
            env["SOCIALSYNC_WEB_REUSE_PORT"] = "true"
        if self._public_base() != s.public_base:
            env["SOCIALSYNC_PUBLIC_URL"] = self._public_base()
        return devservers.child_env(**env)

    def _spawn(self, name: str, args: list[str], *, port: int | None = None, role: str = "") -> Child:
        child = Child(name, [sys.executable, "-m", "socialsync.cli", *args], port=port, role=role or name)
        self.children.append(child)
        child.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            child.argv,
            env=self._child_env(),
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops us in order
            preexec_fn=die_with_parent(),  # noqa: PLW1509 - the supervisor has no threads
        )
        log.info("started", process=name, pid=child.proc.pid)
        return child

    def _wait_listening(self, child: Child, host: str) -> None:
        assert child.port is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not port_in_use(host, child.port):
            self._checkpoint()
            self._raise_if_dead()
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{child.name} did not listen on port {child.port} "
                    f"within {START_TIMEOUT_SECONDS:.0f}s"
                )
            time.sleep(POLL_SECONDS)

    def _wait_listeners(self, port: int, count: int) -> None:
        """Wait until `count` sockets listen on `port` (SO_REUSEPORT: one per web process)."""
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while listeners(port) < count and listeners(port) != -1:
            self._checkpoint()
            self._raise_if_dead()
            if time.monotonic() > deadline:
                raise StartupError(f"{count} web processes did not all listen on port {port}")
            time.sleep(POLL_SECONDS)

    def _raise_if_dead(self) -> None:
        dead = self._first_dead()
        if dead:
            raise StartupError(dead)

    def _first_dead(self) -> str | None:
        for child in self.children:
            if child.exit_code is not None:
                return f"{child.name} {ended(child.exit_code)} (its log is above)"
        for server in self.servers:
            if server.proc is not None and not server.running:
                return f"{server.name} {ended(server.proc.returncode)} (see {server.log_path})"
        return None

    def _watch(self) -> int:
        ready_url = f"{self._web_base()}/readyz"
        ready = False
        next_probe = 0.0
        while not self._stopping():
            dead = self._first_dead()
            if dead:
                say(self.err, f"socialsync up: {dead}; stopping everything.")
                return 1
            now = time.monotonic()
            if not ready and now >= next_probe:
                next_probe = now + READY_POLL_SECONDS
                if http_ok(ready_url):
                    ready = True
                    elapsed = now - self._started_at
                    log.info("ready", url=ready_url, seconds=round(elapsed, 2))
                    say(self.out, f"Ready ({ready_url} answers 200) after {elapsed:.1f}s.")
            time.sleep(POLL_SECONDS)
        log.info("stopping", signal=self._stop_reason)
        return 0

    # -- stopping -------------------------------------------------------------------------

    def _stop_child(self, child: Child) -> None:
        proc = child.proc
        if proc is None or proc.poll() is not None:
            return
        grace = STOP_GRACE_SECONDS.get(child.role, 10.0)
        if self._force:
            proc.kill()
        else:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while proc.poll() is None:
            if self._force or time.monotonic() > deadline:
                log.warning("did not stop in time; killing", process=child.name)
                proc.kill()
                proc.wait()
                break
            time.sleep(0.05)
        log.info("stopped", process=child.name, exit_code=proc.returncode)

    def _stopping(self) -> bool:
        return self._stop_reason is not None

    def _checkpoint(self) -> None:
        if self._stopping():
            raise _Interrupted

    def _install_signal_handlers(self) -> dict[int, object]:
        previous: dict[int, object] = {}
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._stop_reason is None:
            self._stop_reason = name
            say(self.err, f"\nsocialsync up: {name} received, stopping (again to kill)...")
        else:
            self._force = True

    # -- what the user sees ---------------------------------------------------------------

    def _web_base(self) -> str:
        s = self.settings
        return f"http://{connect_host(s.web_host)}:{s.web_port}"

    def _public_base(self) -> str:
        """SOCIALSYNC_PUBLIC_URL if set; else the local web URL (the default names port 8080,
        which would be wrong for OAuth redirects after SOCIALSYNC_WEB_PORT changed)."""
        s = self.settings
        return s.public_base if "public_url" in s.model_fields_set else self._web_base()

    def _print_sandbox_banner(self) -> None:
        say(self.err, sandbox_banner(self.settings, tty=self.err.isatty()))

    def _print_summary(self) -> None:
        summary = Summary(
            settings=self.settings, web=self._web_base(), public=self._public_base(), webs=self.webs,
            workers=self.workers, redis=self.redis_url or "", mongodb=self.mongodb_url or "",
            local=frozenset(server.name for server in self.servers), data_dir=self.data_dir,
            created=self.created, admin_token_file=ADMIN_TOKEN_FILE, token_key_file=TOKEN_KEY_FILE,
        )
        say(self.out, summary.text())


def _stop_rank(child: Child) -> int:
    order = list(STOP_GRACE_SECONDS)
    return order.index(child.role) if child.role in order else len(order)


def _numbered(role: str, index: int, count: int) -> str:
    return role if count == 1 else f"{role}-{index + 1}"








