"""CPU seconds a process has used (user + system), from /proc (Linux), for the scale-out
benchmarks: where the CPU of a run went (workers, sandbox, MongoDB-wire server, Redis, receiver).
Not a benchmark itself."""

from __future__ import annotations

import os
from collections.abc import Iterable

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / TICKS


class CpuMeter:
    """CPU used by named processes between ``start()`` and ``stop()``."""

    def __init__(self, pids: dict[str, Iterable[int]]) -> None:
        self.pids = {name: list(p) for name, p in pids.items()}
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: sum(cpu_seconds(p) for p in pids) for name, pids in self.pids.items()}

    def start(self) -> "CpuMeter":
        self.before = self._now()
        return self

    def stop(self) -> dict[str, float]:
        after = self._now()
        self.used = {name: after[name] - self.before.get(name, 0.0) for name in after}
        return self.used

    def line(self, wall: float) -> str:
        """'workers 41.2 s (0.93 core), sandbox …' for the figures; a core = CPU seconds / wall."""
        return ", ".join(f"{name} {s:.1f} s ({s / wall:.2f} core)" for name, s in self.used.items())


async def wait_idle(pids: Iterable[int], *, quiet: float = 0.05, window: float = 1.0, limit: float = 60.0) -> float:
    """Wait until every process uses less than ``quiet`` of a core over ``window`` seconds (a
    worker that finished importing and connecting only polls), at most ``limit`` seconds; returns
    the seconds waited. The benchmarks start their clocks after this, not after a fixed sleep."""
    import asyncio  # noqa: PLC0415
    import time  # noqa: PLC0415

    pids = list(pids)
    started = time.monotonic()
    before = [cpu_seconds(p) for p in pids]
    while time.monotonic() - started < limit:
        await asyncio.sleep(window)
        now = [cpu_seconds(p) for p in pids]
        if all(b - a < quiet * window for a, b in zip(before, now, strict=True)):
            break
        before = now
    return time.monotonic() - started
