"""Child processes of `socialsync up`: one child's record, the orphan guard (the kernel stops a
child when the supervisor dies), and small probes of ports, listeners and HTTP readiness."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from socialsync import devservers

_PR_SET_PDEATHSIG = 1
# Run before a server binary we do not spawn ourselves (devservers owns the Popen call): ask the
# kernel to SIGTERM it when the supervisor dies, then exec the real server in the same process.
_ORPHAN_GUARD = (
    "import ctypes, os, signal, sys\n"
    f"ctypes.CDLL(None, use_errno=True).prctl({_PR_SET_PDEATHSIG}, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


@dataclass
class Child:
    """One `socialsync <role>` child process."""

    name: str
    argv: list[str]
    port: int | None = None
    role: str = ""
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def exit_code(self) -> int | None:
        return None if self.proc is None else self.proc.poll()


def die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn making the kernel SIGTERM the child when this process dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: nothing to import in the child
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)

    return preexec


def guard_orphans(server: devservers.ManagedProcess) -> devservers.ManagedProcess:
    if sys.platform.startswith("linux"):
        server.argv = [
            sys.executable, "-I", "-S", "-c", _ORPHAN_GUARD, str(os.getpid()), *server.argv,
        ]
    return server


def connect_host(host: str) -> str:
    """The address to reach a server bound to `host` from this machine."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((connect_host(host), port)) == 0


def listeners(port: int) -> int:
    """How many TCP sockets listen on `port` on this machine (Linux /proc/net; -1 elsewhere).
    With SO_REUSEPORT every web process has its own listening socket on the shared port."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        found += 1
        except OSError:
            return -1
    return found


def say(stream: TextIO, text: str) -> None:
    """Print for the person at the terminal; a closed terminal or pipe must not stop a shutdown."""
    try:
        print(text, file=stream, flush=True)
    except (OSError, ValueError, RuntimeError):  # RuntimeError: re-entered from a signal handler
        pass


def ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            pass
    return f"exited with code {returncode}"


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # noqa: S310 - our own URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False
